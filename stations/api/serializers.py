from rest_framework import serializers

from csms.api.serializers import INTEGER_MAX, ModelSerializer
from csms.ocpp.identity import identity_problem
from stations.models import SECURITY_PROFILE_CHOICES, Connector, Evse, Station


class ConnectorSerializer(ModelSerializer):
    class Meta:
        model = Connector
        fields = ["connector_id", "status", "error_code", "info", "vendor_error_code", "status_at",
                  "updated_at"]


class EvseSerializer(ModelSerializer):
    connectors = ConnectorSerializer(many=True, read_only=True)

    class Meta:
        model = Evse
        fields = ["evse_id", "connectors"]


class StationSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="api:station-detail", lookup_field="identity"
    )
    password = serializers.CharField(
        write_only=True, required=False, allow_blank=True, min_length=16, max_length=40,
        help_text="HTTP Basic auth password the station must present (16-40 characters; "
                  "blank removes it).",
    )
    has_password = serializers.SerializerMethodField()
    security_profile = serializers.ChoiceField(
        choices=SECURITY_PROFILE_CHOICES, required=False,
        help_text="1: Basic auth over ws, 2: Basic auth over TLS, 3: mutual TLS. Chosen at "
                  "registration (default OCPP_DEFAULT_SECURITY_PROFILE); afterwards it is raised "
                  "only through /api/v1/security-profile-upgrades/ and never lowered.",
    )

    class Meta:
        model = Station
        fields = [
            "url", "identity", "description", "password", "has_password", "security_profile",
            "registration_policy",
            "registration_status", "ocpp_version", "online", "connection_changed_at",
            "last_message_at", "remote_address", "vendor_name", "model", "serial_number",
            "firmware_version", "modem_iccid", "modem_imsi", "boot_reason", "last_boot_at",
            "status", "error_code", "created_at",
        ]
        read_only_fields = [
            "registration_status", "ocpp_version", "online", "connection_changed_at",
            "last_message_at", "remote_address", "vendor_name", "model", "serial_number",
            "firmware_version", "modem_iccid", "modem_imsi", "boot_reason", "last_boot_at",
            "status", "error_code", "created_at",
        ]

    def get_has_password(self, station) -> bool:
        return bool(station.password_hash)

    def validate_security_profile(self, value):
        current = self.instance.security_profile if self.instance is not None else None
        if current is None or value == current:
            return value
        if value < current:
            raise serializers.ValidationError(
                f"Downgrade refused: the station has security profile {current}, and a profile "
                "is never lowered.")
        # Raised here, the next connection would need TLS the station was never told about.
        raise serializers.ValidationError(
            "Raise a station's security profile with POST /api/v1/security-profile-upgrades/: "
            "the station is told first, and the profile changes when it reconnects with it.")

    def validate_identity(self, value):
        problem = identity_problem(value)  # the rule the WebSocket upgrade applies too
        if problem:
            raise serializers.ValidationError(problem)
        if self.instance is not None and value != self.instance.identity:
            raise serializers.ValidationError("A station's identity cannot change.")
        return value


class StationDetailSerializer(StationSerializer):
    evses = EvseSerializer(many=True, read_only=True)
    connectors = serializers.SerializerMethodField(
        help_text="Connectors directly under the station (OCPP 1.6)."
    )

    class Meta(StationSerializer.Meta):
        fields = StationSerializer.Meta.fields + ["evses", "connectors"]

    def get_connectors(self, station) -> list[dict]:
        return ConnectorSerializer(
            [c for c in station.connectors.all() if c.evse_id is None], many=True
        ).data


class ResetSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["Immediate", "OnIdle", "Hard", "Soft"], default="Immediate")
    evse_id = serializers.IntegerField(required=False, min_value=0, max_value=INTEGER_MAX)
    wait = serializers.FloatField(required=False, default=0, min_value=0)


class TriggerMessageSerializer(serializers.Serializer):
    requested_message = serializers.CharField(max_length=64)
    evse_id = serializers.IntegerField(required=False, min_value=0, max_value=INTEGER_MAX)
    connector_id = serializers.IntegerField(required=False, min_value=0, max_value=INTEGER_MAX)
    wait = serializers.FloatField(required=False, default=0, min_value=0)
