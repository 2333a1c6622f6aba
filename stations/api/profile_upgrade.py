"""/api/v1/security-profile-upgrades/ (A05): POST raises a station's security profile; the
station's own `security_profile` field is read-only once it exists."""
import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from csms.api.serializers import ModelSerializer

from ..actions import profile_upgrade
from ..commands import StationNotReady
from ..models import SecurityProfileUpgrade, Station
from .operations import Conflict, _invalid, _source


class SecurityProfileUpgradeSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:security-profile-upgrade-detail")
    station = serializers.SlugRelatedField(slug_field="identity", read_only=True)
    command = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    command_action = serializers.CharField(source="command.action", read_only=True,
                                           allow_null=True, default=None)
    command_status = serializers.CharField(source="command.status", read_only=True,
                                           allow_null=True, default=None)

    class Meta:
        model = SecurityProfileUpgrade
        fields = ["id", "url", "station", "from_profile", "to_profile", "state", "step", "command",
                  "command_action", "command_status", "configuration_slot", "ocpp_csms_url",
                  "detail", "source", "created_at", "finished_at"]
        read_only_fields = fields


class SecurityProfileUpgradeCreateSerializer(serializers.Serializer):
    station = serializers.SlugRelatedField(slug_field="identity", queryset=Station.objects.all(),
                                           help_text="The station's identity.")
    security_profile = serializers.ChoiceField(
        choices=[2, 3], help_text="The new profile: 2 (Basic auth over TLS) or 3 (mutual TLS); "
                                  "higher than the station's.")
    configuration_slot = serializers.IntegerField(
        required=False, min_value=0, max_value=2**31 - 1,
        help_text="2.0.1: the network profile slot to write (default: the highest the station "
                  "offers, or 2).")
    ocpp_csms_url = serializers.CharField(
        required=False, max_length=512,
        help_text="2.0.1: the wss:// URL to give the station (default: PUBLIC_OCPP_TLS_URL).")
    ocpp_interface = serializers.ChoiceField(
        required=False, default="Wired0",
        choices=["Wired0", "Wired1", "Wired2", "Wired3", "Wireless0", "Wireless1", "Wireless2",
                 "Wireless3"], help_text="2.0.1: the network interface of the new profile.")


class SecurityProfileUpgradeFilter(django_filters.FilterSet):
    station = django_filters.CharFilter(field_name="station__identity")

    class Meta:
        model = SecurityProfileUpgrade
        fields = ["station", "state"]


class SecurityProfileUpgradeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                                    viewsets.GenericViewSet):
    """Security profile upgrades (A05), newest first. 2.0.1: SetNetworkProfile, SetVariables
    OCPPCommCtrlr.NetworkConfigurationPriority, Reset OnIdle; 1.6: ChangeConfiguration
    SecurityProfile. States: InProgress, AwaitingReconnect (every step accepted), Completed (the
    station came back over the new profile's transport: its profile is raised), Rejected /
    Failed (nothing changed), Superseded. Downgrades are refused (400)."""

    queryset = SecurityProfileUpgrade.objects.select_related("station", "command")
    serializer_class = SecurityProfileUpgradeSerializer
    filterset_class = SecurityProfileUpgradeFilter
    ordering_fields = ["id", "created_at"]

    @extend_schema(request=SecurityProfileUpgradeCreateSerializer,
                   responses={202: SecurityProfileUpgradeSerializer})
    def create(self, request):
        """Start the upgrade: 202 with its state (Failed at once when the station is offline).
        400 with every reason for a downgrade, the same profile or a bad network profile; 409
        for a station that never connected."""
        body = SecurityProfileUpgradeCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            upgrade = profile_upgrade.start_upgrade(
                data["station"], data["security_profile"],
                configuration_slot=data.get("configuration_slot"),
                ocpp_csms_url=data.get("ocpp_csms_url", ""),
                ocpp_interface=data["ocpp_interface"], source=_source(request))
        except profile_upgrade.UpgradeRefused as error:
            return _invalid(error.reasons)
        except StationNotReady as error:
            raise Conflict(str(error))
        upgrade = self.get_queryset().get(pk=upgrade.pk)
        payload = self.get_serializer(upgrade).data
        return Response(payload, headers={"Location": payload["url"]},
                        status=status.HTTP_202_ACCEPTED)
