from django.db import transaction as db_transaction
from rest_framework import serializers

from csms.api.serializers import INTEGER_MAX, CommandSerializer, ModelSerializer

from stations.models import Station
from transactions.models import (
    IdToken, IdTokenType, LocalList, MeterValue, RemoteStart, Reservation, StationTariff, Tariff,
    Transaction, TransactionEvent,
)


# What a typed operation answers: 201 with the outcome, or 202 while the station has not answered.
COMMAND_RESPONSES = {201: CommandSerializer, 202: CommandSerializer}


class GroupTokenField(serializers.SlugRelatedField):
    """A group named by its token value."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="id_token", queryset=IdToken.objects.all(), **kwargs)

    def to_internal_value(self, data):
        found = IdToken.objects.filter(id_token=data).order_by("id").first()
        if found is None:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return found


class IdTokenSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:id-token-detail")
    group = GroupTokenField(required=False, allow_null=True,
                            help_text="The group token's value (parentIdTag / groupIdToken).")
    allowed_stations = serializers.SlugRelatedField(
        slug_field="identity", queryset=Station.objects.all(), many=True, required=False,
        help_text="Identities of the stations it may charge at (empty: all).")
    allowed_evse_ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=INTEGER_MAX),
                                             required=False)

    class Meta:
        model = IdToken
        fields = ["id", "url", "id_token", "type", "status", "expires_at", "group",
                  "allowed_stations", "allowed_evse_ids", "language", "personal_message",
                  "personal_message_format", "charging_priority", "allow_concurrent_transactions",
                  "spending_limit", "seen_first_at_station", "description", "created_at",
                  "updated_at"]
        read_only_fields = ["seen_first_at_station", "created_at", "updated_at"]
        extra_kwargs = {"charging_priority": {"min_value": -9, "max_value": 9}}

    def validate(self, data):
        group = data.get("group")
        if group is not None and self.instance is not None and group.pk == self.instance.pk:
            raise serializers.ValidationError({"group": "A token cannot be its own group."})
        return data


class IdTokenImportSerializer(serializers.Serializer):
    file = serializers.FileField(required=False, help_text="CSV with an id_token header column.")
    csv = serializers.CharField(required=False, help_text="The CSV as text, instead of a file.")

    def validate(self, data):
        if not data.get("file") and not data.get("csv"):
            raise serializers.ValidationError("Send the CSV as `file` (multipart) or `csv` (text).")
        return data


class TariffSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:tariff-detail")
    stations = serializers.SlugRelatedField(
        slug_field="identity", queryset=Station.objects.all(), many=True, required=False,
        help_text="Identities of the stations this tariff applies to (moved from their old one).")

    class Meta:
        model = Tariff
        fields = ["id", "url", "name", "currency", "price_per_kwh", "price_per_minute",
                  "price_per_session", "idle_fee_per_minute", "idle_grace_minutes", "vat_percent",
                  "is_default", "cost_update_interval", "stations", "created_at"]
        read_only_fields = ["created_at"]

    def to_representation(self, tariff):
        data = super().to_representation(tariff)
        data["stations"] = sorted(a.station.identity for a in tariff.assignments.select_related("station"))
        return data

    def validate_currency(self, value):
        if len(value) != 3 or not value.isalpha():
            raise serializers.ValidationError("An ISO 4217 code such as EUR.")
        return value.upper()

    def validate_is_default(self, value):
        if value and Tariff.objects.filter(is_default=True).exclude(
                pk=getattr(self.instance, "pk", None)).exists():
            raise serializers.ValidationError("Another tariff is the default already.")
        return value

    def validate(self, data):
        for field in ("price_per_kwh", "price_per_minute", "price_per_session",
                      "idle_fee_per_minute", "vat_percent"):
            if field in data and data[field] < 0:
                raise serializers.ValidationError({field: "Must not be negative."})
        return data

    @db_transaction.atomic
    def create(self, validated_data):
        stations = validated_data.pop("stations", None)
        tariff = super().create(validated_data)
        self._assign(tariff, stations)
        return tariff

    @db_transaction.atomic
    def update(self, tariff, validated_data):
        stations = validated_data.pop("stations", None)
        tariff = super().update(tariff, validated_data)
        self._assign(tariff, stations)
        return tariff

    def _assign(self, tariff, stations):
        if stations is None:
            return
        tariff.assignments.exclude(station__in=stations).delete()
        for station in stations:
            StationTariff.objects.update_or_create(station=station, defaults={"tariff": tariff})


class TransactionEventSerializer(ModelSerializer):
    class Meta:
        model = TransactionEvent
        fields = ["seq_no", "event_type", "timestamp", "trigger_reason", "offline", "payload",
                  "answer", "received_at"]


class MeterValueSerializer(ModelSerializer):
    class Meta:
        model = MeterValue
        fields = ["timestamp", "measurand", "phase", "location", "context", "raw_value", "unit",
                  "multiplier", "value", "base_unit", "evse_id", "connector_id",
                  "signed_meter_value", "after_end"]


class TransactionSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:transaction-detail")
    station = serializers.SlugRelatedField(slug_field="identity", read_only=True)
    energy_kwh = serializers.DecimalField(max_digits=20, decimal_places=4, read_only=True)
    tariff = serializers.SlugRelatedField(slug_field="name", read_only=True)
    refused = serializers.BooleanField(read_only=True, help_text=(
        "The start token was not accepted (authorization_status): the station may charge "
        "anyway, but it never blocks the token (ConcurrentTx)."))
    closed_by_csms = serializers.BooleanField(read_only=True, help_text=(
        "Ended by the CSMS's settlement (stopped_reason says which), not by the station."))

    class Meta:
        model = Transaction
        fields = ["id", "url", "station", "transaction_id", "ocpp_version", "state", "started_at",
                  "ended_at", "evse_id", "connector_id", "id_token_value", "id_token_type",
                  "stop_id_token_value", "charging_state", "stopped_reason", "remote_start_id",
                  "reservation", "offline", "last_seq_no", "event_count", "meter_start_wh",
                  "meter_stop_wh", "energy_wh", "energy_kwh", "charging_seconds",
                  "time_spent_charging", "number_of_phases_used", "tariff", "total_cost",
                  "currency", "cost_breakdown", "authorization_status", "refused", "anomaly",
                  "closed_by_csms", "last_news_at", "settle_due_at", "settle_reason",
                  "settlement", "settled_at", "settled_by", "settlement_note", "updated_at"]
        read_only_fields = fields


class TransactionDetailSerializer(TransactionSerializer):
    events = TransactionEventSerializer(many=True, read_only=True)
    power_curve = serializers.SerializerMethodField()

    class Meta(TransactionSerializer.Meta):
        fields = TransactionSerializer.Meta.fields + ["events", "power_curve"]
        read_only_fields = fields

    def get_power_curve(self, transaction) -> list[list]:
        from transactions import metering

        samples = transaction.meter_values.values_list("timestamp", "measurand", "phase", "value")
        return [[timestamp.isoformat(), float(watts)]
                for timestamp, watts in metering.power_curve(list(samples))]


class TransactionCloseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text=(
        "Why the transaction is closed (kept with who closed it and when)."))


class ReservationSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:reservation-detail")
    station = serializers.SlugRelatedField(slug_field="identity", queryset=Station.objects.all())
    id_token = serializers.CharField(source="id_token.id_token", read_only=True)
    transactions = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Reservation
        fields = ["id", "url", "station", "evse_id", "connector_type", "id_token", "expires_at",
                  "status", "command", "cancel_command", "transactions", "created_at",
                  "updated_at"]
        read_only_fields = fields


CONNECTOR_TYPES = ["cCCS1", "cCCS2", "cG105", "cTesla", "cType1", "cType2", "s309-1P-16A",
                   "s309-1P-32A", "s309-3P-16A", "s309-3P-32A", "sBS1361", "sCEE-7-7", "sType2",
                   "sType3", "Other1PhMax16A", "Other1PhOver16A", "Other3Ph", "Pan", "wInductive",
                   "wResonant", "Undetermined", "Unknown"]


class TokenReferenceMixin(serializers.Serializer):
    id_token = serializers.CharField(max_length=36, help_text="The token's value (or its id).")
    id_token_type = serializers.ChoiceField(choices=IdTokenType.choices, required=False,
                                            help_text="Needed only when the value has several types.")


class ReserveSerializer(TokenReferenceMixin):
    expires_at = serializers.DateTimeField()
    evse_id = serializers.IntegerField(required=False, min_value=1, max_value=INTEGER_MAX,
                                       help_text="2.0.1 EVSE / 1.6 connector; omit for any.")
    connector_type = serializers.ChoiceField(choices=CONNECTOR_TYPES, required=False)
    wait = serializers.FloatField(required=False, default=0, min_value=0)


class ReservationCreateSerializer(ReserveSerializer):
    station = serializers.SlugRelatedField(slug_field="identity", queryset=Station.objects.all())


class RemoteStartProfileSerializer(serializers.Serializer):
    """A TxProfile sent with the remote start (K05), in the fields of /charging-profiles/."""
    charging_profile_id = serializers.IntegerField(
        min_value=1, max_value=INTEGER_MAX, required=False,
        help_text="The profile's OCPP id (default: the tracked row's id).")
    stack_level = serializers.IntegerField(min_value=0, max_value=INTEGER_MAX)
    kind = serializers.ChoiceField(choices=["Absolute", "Recurring", "Relative"])
    recurrency_kind = serializers.ChoiceField(choices=["Daily", "Weekly"], required=False,
                                              allow_blank=True)
    valid_from = serializers.DateTimeField(required=False, allow_null=True)
    valid_to = serializers.DateTimeField(required=False, allow_null=True)
    schedules = serializers.ListField(
        child=serializers.DictField(), allow_empty=True,
        help_text="OCPP charging schedules (1.6: one; 2.0.1: up to three): {id?, startSchedule?, "
                  "duration?, chargingRateUnit A|W, minChargingRate?, chargingSchedulePeriod: "
                  "[{startPeriod, limit, numberPhases?, phaseToUse?}]}.")


class StartTransactionSerializer(TokenReferenceMixin):
    evse_id = serializers.IntegerField(
        required=False, min_value=1, max_value=INTEGER_MAX,
        help_text="2.0.1 EVSE / 1.6 connector; omit to let the station choose.")
    charging_profile = RemoteStartProfileSerializer(
        required=False, help_text="A TxProfile for the transaction (needs evse_id); tracked as a "
                                  "charging profile: installed when the station accepts the start.")
    wait = serializers.FloatField(required=False, default=0, min_value=0)


class StopTransactionSerializer(serializers.Serializer):
    transaction_id = serializers.CharField(
        max_length=36, required=False,
        help_text="The station's transaction id; omit when exactly one is running there.")
    wait = serializers.FloatField(required=False, default=0, min_value=0)


class UnlockSerializer(serializers.Serializer):
    evse_id = serializers.IntegerField(required=False, min_value=1, max_value=INTEGER_MAX,
                                       help_text="Required on 2.0.1.")
    connector_id = serializers.IntegerField(min_value=1, max_value=INTEGER_MAX)
    wait = serializers.FloatField(required=False, default=0, min_value=0)


class ChangeAvailabilitySerializer(serializers.Serializer):
    operational_status = serializers.ChoiceField(choices=["Operative", "Inoperative"])
    evse_id = serializers.IntegerField(required=False, min_value=0, max_value=INTEGER_MAX)
    connector_id = serializers.IntegerField(required=False, min_value=0, max_value=INTEGER_MAX)
    wait = serializers.FloatField(required=False, default=0, min_value=0)


class SendLocalListSerializer(serializers.Serializer):
    update_type = serializers.ChoiceField(choices=["Full", "Differential"], default="Full")
    id_tokens = serializers.ListField(
        child=serializers.CharField(max_length=36), required=False,
        help_text="Token values to put on the list (omit: all tokens).")
    wait = serializers.FloatField(required=False, default=0, min_value=0)


class WaitSerializer(serializers.Serializer):
    wait = serializers.FloatField(required=False, default=0, min_value=0)


class LocalListSerializer(ModelSerializer):
    station = serializers.SlugRelatedField(slug_field="identity", read_only=True)

    class Meta:
        model = LocalList
        fields = ["station", "version_number", "reported_version", "reported_at", "entries",
                  "selection", "updated_at"]
        read_only_fields = fields


class RemoteStartSerializer(ModelSerializer):
    class Meta:
        model = RemoteStart
        fields = ["id", "station", "id_token_value", "evse_id", "status", "command", "transaction",
                  "created_at"]
