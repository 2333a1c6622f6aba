"""/api/v1/data-transfers/ (both directions: list, and POST sends one to a station) and
/api/v1/network-profiles/ (POST: SetNetworkProfile, 2.0.1 B09, validated before sending)."""
import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from csms.api.errors import Conflict
from csms.api.serializers import INTEGER_MAX, CommandSerializer, ModelSerializer
from csms.ocpp import outbound
from stations import commands as station_commands
from stations.actions import datatransfer as exchange_actions
from stations.commands import datatransfer as datatransfer_commands
from stations.commands import network as network_commands
from stations.models import DataTransferExchange, Station

WAIT_HELP = "Seconds to wait for the station's answer (0: return at once)."


def _source(request):
    return f"api:{request.user.username}"


def _invalid(reasons):
    return Response({"detail": "; ".join(reasons), "errors": reasons},
                    status=status.HTTP_400_BAD_REQUEST)


# --- DataTransfer ------------------------------------------------------------------------------

class DataTransferExchangeSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:data-transfer-detail")
    station = serializers.SlugRelatedField(slug_field="identity", read_only=True)
    data = serializers.JSONField(read_only=True, allow_null=True)
    answer_data = serializers.JSONField(read_only=True, allow_null=True)
    command = CommandSerializer(read_only=True, allow_null=True)

    class Meta:
        model = DataTransferExchange
        fields = ["id", "url", "station", "direction", "vendor_id", "message_id", "data", "status",
                  "answer_data", "command", "source", "created_at", "answered_at"]
        read_only_fields = fields


class DataTransferCreateSerializer(serializers.Serializer):
    station = serializers.SlugRelatedField(slug_field="identity", queryset=Station.objects.all(),
                                           help_text="The station's identity.")
    vendor_id = serializers.CharField(max_length=255)
    message_id = serializers.CharField(max_length=50, required=False, allow_blank=True)
    data = serializers.JSONField(required=False, allow_null=True,
                                 help_text="Any JSON on OCPP 2.0.1; a string on 1.6.")
    wait = serializers.FloatField(required=False, default=0, min_value=0, help_text=WAIT_HELP)


class DataTransferFilter(django_filters.FilterSet):
    station = django_filters.CharFilter(field_name="station__identity")

    class Meta:
        model = DataTransferExchange
        fields = ["station", "direction", "vendor_id", "message_id", "status"]


class DataTransferViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          viewsets.GenericViewSet):
    """DataTransfer exchanges with stations, both directions, newest first: the request's
    vendorId, messageId and data, the answer's status and data (an outbound call without an
    answer: its outcome, offline / timeout / error; blank while waiting)."""

    queryset = DataTransferExchange.objects.select_related("station", "command")
    serializer_class = DataTransferExchangeSerializer
    filterset_class = DataTransferFilter
    ordering_fields = ["id", "created_at"]

    @extend_schema(request=DataTransferCreateSerializer,
                   responses={201: DataTransferExchangeSerializer,
                              202: DataTransferExchangeSerializer})
    def create(self, request):
        """Send a DataTransfer: 201 with the answer when it came within `wait`, else 202 (the
        exchange is settled when the answer arrives). 400 for data a 1.6 station cannot take
        (not a string) or what the schema refuses; 409 for a station that never connected."""
        body = DataTransferCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            exchange, command = datatransfer_commands.data_transfer(
                data["station"], data["vendor_id"], data.get("message_id", ""), data.get("data"),
                source=_source(request))
        except station_commands.StationNotReady as error:
            raise Conflict(str(error))
        except outbound.InvalidCommand as error:
            return _invalid(error.errors)
        if data["wait"]:
            command = outbound.wait_for_outcome(command, data["wait"])
        exchange_actions.settle_command(command)  # idempotent; the receiver may be first
        exchange = self.get_queryset().get(pk=exchange.pk)
        payload = self.get_serializer(exchange).data
        return Response(payload, headers={"Location": payload["url"]},
                        status=status.HTTP_201_CREATED if command.is_finished
                        else status.HTTP_202_ACCEPTED)


# --- SetNetworkProfile -------------------------------------------------------------------------

class NetworkProfileSerializer(serializers.Serializer):
    station = serializers.SlugRelatedField(slug_field="identity", queryset=Station.objects.all(),
                                           help_text="The station's identity (OCPP 2.0.1).")
    configuration_slot = serializers.IntegerField(
        max_value=INTEGER_MAX, help_text="The slot the station stores the profile in (0 or more; "
        "one of its NetworkConfigurationPriority slots when its device model lists them).")
    connection_data = serializers.JSONField(
        help_text="2.0.1 NetworkConnectionProfileType, in OCPP field names: ocppVersion, "
                  "ocppTransport (JSON), ocppCsmsUrl (ws:// or wss://), messageTimeout, "
                  "securityProfile (0-3), ocppInterface, apn?, vpn?")
    wait = serializers.FloatField(required=False, default=0, min_value=0, help_text=WAIT_HELP)


class NetworkProfileViewSet(viewsets.GenericViewSet):
    """SetNetworkProfile (2.0.1 B09). Moving a station to a new endpoint: this, then
    SetVariables OCPPCommCtrlr.NetworkConfigurationPriority with the slot first, then Reset."""

    serializer_class = NetworkProfileSerializer
    queryset = Station.objects.none()

    @extend_schema(request=NetworkProfileSerializer,
                   responses={201: CommandSerializer, 202: CommandSerializer})
    def create(self, request):
        """Validate and send: every reason in one 400; 409 for a station that never connected.
        The command's `response.status` is the station's answer: Accepted, Rejected or Failed."""
        body = NetworkProfileSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            command = network_commands.set_network_profile(
                data["station"], data["configuration_slot"], data["connection_data"],
                source=_source(request))
        except station_commands.StationNotReady as error:
            raise Conflict(str(error))
        except (network_commands.InvalidNetworkProfile, outbound.InvalidCommand) as error:
            return _invalid(getattr(error, "reasons", None) or error.errors)
        if data["wait"]:
            command = outbound.wait_for_outcome(command, data["wait"])
        payload = CommandSerializer(command, context={"request": request}).data
        return Response(payload, headers={"Location": payload["url"]},
                        status=status.HTTP_201_CREATED if command.is_finished
                        else status.HTTP_202_ACCEPTED)
