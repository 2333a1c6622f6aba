from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError

from csms.api.command_responses import command_response
from csms.api.errors import Conflict
from csms.api.filters import MessageLogFilter
from csms.api.serializers import (
    CommandRequestSerializer, CommandSerializer, MessageLogEntrySerializer,
)
from csms.models import Command, MessageLogEntry
from stations import actions, commands
from stations.models import Connector, Evse, Station
from transactions.api import operations as charging_operations
from transactions.api import serializers as charging

from .serializers import (
    ResetSerializer, StationDetailSerializer, StationSerializer, TriggerMessageSerializer,
)


class StationViewSet(viewsets.ModelViewSet):
    """Charging stations: registration, state, EVSEs and connectors, commands and message log."""

    lookup_field = "identity"
    lookup_value_regex = "[^/]+"
    filterset_fields = ["online", "ocpp_version", "registration_status", "vendor_name", "model"]
    search_fields = ["identity", "description", "serial_number"]
    ordering_fields = ["identity", "last_message_at", "created_at"]

    def get_queryset(self):
        queryset = Station.objects.all()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                Prefetch("evses", queryset=Evse.objects.prefetch_related("connectors")),
                Prefetch("connectors", queryset=Connector.objects.filter(evse__isnull=True)),
            )
        return queryset

    def filter_queryset(self, queryset):
        # The list's filters are for the list: a station's own routes find it by identity alone
        # (building the filter form was an eighth of the cost of posting a command).
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def get_serializer_class(self):
        return StationDetailSerializer if self.action == "retrieve" else StationSerializer

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = actions.register_station(
            data["identity"], password=data.get("password", ""),
            registration_policy=data.get("registration_policy", Station.RegistrationStatus.ACCEPTED),
            description=data.get("description", ""),
        )
        if "security_profile" in data:  # chosen at registration; later only raised (A05)
            serializer.instance.security_profile = data["security_profile"]
            serializer.instance.save(update_fields=["security_profile"])

    def perform_update(self, serializer):
        password = serializer.validated_data.pop("password", None)
        station = serializer.save()
        if password is not None:
            actions.set_password(station, password)
        actions.publish_station(station.pk)

    def _send(self, request, station, build):
        try:
            command = build()
        except commands.StationNotReady as error:
            raise Conflict(str(error))
        return command

    @extend_schema(methods=["GET"], responses=CommandSerializer(many=True))
    @extend_schema(methods=["POST"], request=CommandRequestSerializer,
                   responses={201: CommandSerializer, 202: CommandSerializer})
    @action(detail=True, methods=["get", "post"], url_path="commands")
    def commands(self, request, identity=None):
        """GET: the commands sent to this station. POST: send any CSMS -> station action of the
        station's OCPP version; `wait` seconds for the answer, or 0 to return at once."""
        station = self.get_object()
        if request.method == "GET":
            queryset = Command.objects.filter(identity=station.identity)
            page = self.paginate_queryset(queryset)
            data = CommandSerializer(page, many=True, context={"request": request}).data
            return self.get_paginated_response(data)
        body = CommandRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        command = self._send(request, station, lambda: commands.send(
            station, body.validated_data["action"], body.validated_data["payload"],
            source=f"api:{request.user.username}",
        ))
        return command_response(request, command, body.validated_data["wait"])

    @extend_schema(request=ResetSerializer, responses={201: CommandSerializer, 202: CommandSerializer})
    @action(detail=True, methods=["post"])
    def reset(self, request, identity=None):
        """Reset the station (or one EVSE on 2.0.1); Hard/Soft and Immediate/OnIdle both work."""
        station = self.get_object()
        body = ResetSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        command = self._send(request, station, lambda: commands.reset(
            station, data["type"], data.get("evse_id"), source=f"api:{request.user.username}"
        ))
        return command_response(request, command, data["wait"])

    @extend_schema(request=TriggerMessageSerializer, responses={201: CommandSerializer, 202: CommandSerializer})
    @action(detail=True, methods=["post"], url_path="trigger-message")
    def trigger_message(self, request, identity=None):
        """Ask the station to send a message now (BootNotification, Heartbeat, StatusNotification...)."""
        station = self.get_object()
        body = TriggerMessageSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        command = self._send(request, station, lambda: commands.trigger_message(
            station, data["requested_message"], data.get("evse_id"), data.get("connector_id"),
            source=f"api:{request.user.username}",
        ))
        return command_response(request, command, data["wait"])

    @extend_schema(
        responses=MessageLogEntrySerializer(many=True),
        parameters=[OpenApiParameter("direction", str, enum=["in", "out"]),
                    OpenApiParameter("action", str), OpenApiParameter("since", str),
                    OpenApiParameter("until", str)],
    )
    @action(detail=True, methods=["get"])
    def messages(self, request, identity=None):
        """The message log of this station: every frame in and out, newest first."""
        station = self.get_object()
        filterset = MessageLogFilter(
            request.query_params, MessageLogEntry.objects.filter(identity=station.identity)
        )
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        queryset = filterset.qs
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(MessageLogEntrySerializer(page, many=True).data)

    # --- charging operations (transactions app) -------------------------------------------------

    @extend_schema(request=charging.StartTransactionSerializer, responses=charging.COMMAND_RESPONSES)
    @action(detail=True, methods=["post"], url_path="start-transaction")
    def start_transaction(self, request, identity=None):
        """Remote start: RequestStartTransaction (2.0.1, linked by remoteStartId) or
        RemoteStartTransaction (1.6), optionally with a TxProfile (`charging_profile`)."""
        return charging_operations.start_transaction(request, self.get_object())

    @extend_schema(request=charging.StopTransactionSerializer, responses=charging.COMMAND_RESPONSES)
    @action(detail=True, methods=["post"], url_path="stop-transaction")
    def stop_transaction(self, request, identity=None):
        """Remote stop: RequestStopTransaction (2.0.1) or RemoteStopTransaction (1.6)."""
        return charging_operations.stop_transaction(request, self.get_object())

    @extend_schema(request=charging.UnlockSerializer, responses=charging.COMMAND_RESPONSES)
    @action(detail=True, methods=["post"])
    def unlock(self, request, identity=None):
        """UnlockConnector (2.0.1 needs evse_id too)."""
        return charging_operations.unlock(request, self.get_object())

    @extend_schema(request=charging.ChangeAvailabilitySerializer, responses=charging.COMMAND_RESPONSES)
    @action(detail=True, methods=["post"], url_path="change-availability")
    def change_availability(self, request, identity=None):
        """ChangeAvailability Operative/Inoperative of the station, an EVSE or a connector."""
        return charging_operations.change_availability(request, self.get_object())

    @extend_schema(request=charging.ReserveSerializer, responses=charging.COMMAND_RESPONSES)
    @action(detail=True, methods=["post"])
    def reserve(self, request, identity=None):
        """ReserveNow an EVSE (or any) for a token until expires_at."""
        return charging_operations.reserve(request, self.get_object())

    @extend_schema(request=charging.SendLocalListSerializer, responses=charging.COMMAND_RESPONSES)
    @action(detail=True, methods=["post"], url_path="send-local-list")
    def send_local_list(self, request, identity=None):
        """SendLocalList Full or Differential (versions tracked per station)."""
        return charging_operations.send_local_list(request, self.get_object())
