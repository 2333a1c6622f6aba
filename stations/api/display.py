"""/api/v1/display-messages/ (2.0.1 block O): list and filter messages, push one
(SetDisplayMessage), clear one (DELETE: ClearDisplayMessage), ask a station what it shows
(`get/`: GetDisplayMessages); /api/v1/display-message-reports/ follows those requests."""
import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from csms.api.errors import Conflict
from csms.api.serializers import INTEGER_MAX, CommandSerializer, ModelSerializer
from csms.ocpp import outbound
from stations import commands as station_commands
from stations.actions import display as actions
from stations.commands import display as commands
from stations.models import DisplayMessage, DisplayMessageReport, Station

WAIT_HELP = "Seconds to wait for the station's answer (0: return at once)."
STATION_FIELD = {"slug_field": "identity", "read_only": True}


class DisplayMessageSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:display-message-detail")
    station = serializers.SlugRelatedField(**STATION_FIELD)
    command = CommandSerializer(read_only=True, allow_null=True)
    clear_command = CommandSerializer(read_only=True, allow_null=True)

    class Meta:
        model = DisplayMessage
        fields = ["id", "url", "station", "message_id", "priority", "state", "start_time",
                  "end_time", "transaction_id", "format", "language", "content", "display",
                  "status", "rejection_reason", "reported", "command", "clear_command",
                  "created_at", "updated_at", "cleared_at"]
        read_only_fields = fields


class DisplayMessageCreateSerializer(serializers.Serializer):
    station = serializers.SlugRelatedField(slug_field="identity", queryset=Station.objects.all(),
                                           help_text="The station's identity (OCPP 2.0.1).")
    message_id = serializers.IntegerField(
        min_value=1, max_value=INTEGER_MAX, required=False,
        help_text="The message's OCPP id (default: the new row's id). The same id replaces.")
    priority = serializers.ChoiceField(choices=DisplayMessage.Priority.choices)
    state = serializers.ChoiceField(choices=DisplayMessage.State.choices, required=False,
                                    allow_blank=True, help_text="Shown only in this state.")
    start_time = serializers.DateTimeField(required=False, allow_null=True)
    end_time = serializers.DateTimeField(required=False, allow_null=True)
    transaction_id = serializers.CharField(max_length=36, required=False, allow_blank=True,
                                           help_text="Shown during this transaction only.")
    format = serializers.ChoiceField(choices=DisplayMessage.Format.choices, default="UTF8")
    language = serializers.CharField(max_length=8, required=False, allow_blank=True)
    content = serializers.CharField(max_length=512)
    display = serializers.DictField(required=False, allow_null=True,
                                    help_text="2.0.1 ComponentType: {name, instance?, evse?}.")
    wait = serializers.FloatField(required=False, default=0, min_value=0, help_text=WAIT_HELP)


class WaitSerializer(serializers.Serializer):
    wait = serializers.FloatField(required=False, default=0, min_value=0, help_text=WAIT_HELP)


class GetDisplayMessagesSerializer(WaitSerializer):
    station = serializers.SlugRelatedField(slug_field="identity", queryset=Station.objects.all())
    ids = serializers.ListField(child=serializers.IntegerField(min_value=0, max_value=INTEGER_MAX),
                                required=False, help_text="Only these message ids.")
    priority = serializers.ChoiceField(choices=DisplayMessage.Priority.choices, required=False)
    state = serializers.ChoiceField(choices=DisplayMessage.State.choices, required=False)


class DisplayMessageReportSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:display-message-report-detail")
    station = serializers.SlugRelatedField(**STATION_FIELD)
    request_id = serializers.IntegerField(source="pk", read_only=True)
    command = CommandSerializer(read_only=True, allow_null=True)

    class Meta:
        model = DisplayMessageReport
        fields = ["id", "url", "station", "request_id", "criteria", "status", "parts", "messages",
                  "command", "created_at", "completed_at"]
        read_only_fields = fields


class DisplayMessageFilter(django_filters.FilterSet):
    station = django_filters.CharFilter(field_name="station__identity")
    live = django_filters.BooleanFilter(method="filter_live", label="Pending or shown")

    class Meta:
        model = DisplayMessage
        fields = ["station", "transaction_id", "status", "priority", "state", "message_id",
                  "reported", "live"]

    def filter_live(self, queryset, name, value):
        live = {"status__in": DisplayMessage.LIVE_STATUSES}
        return queryset.filter(**live) if value else queryset.exclude(**live)


class DisplayMessageReportFilter(django_filters.FilterSet):
    station = django_filters.CharFilter(field_name="station__identity")

    class Meta:
        model = DisplayMessageReport
        fields = ["station", "status"]


def _operate(build):
    """Run an operation, turning refusals into 400 (with every reason) or 409 (never connected)."""
    try:
        return build(), None
    except station_commands.StationNotReady as error:
        raise Conflict(str(error))
    except actions.InvalidDisplayMessage as error:
        return None, Response({"detail": str(error), "errors": error.reasons},
                              status=status.HTTP_400_BAD_REQUEST)


def _parse(serializer_class, request):
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    return body.validated_data


def _source(request):
    return f"api:{request.user.username}"


def _waited(command, wait, settle):
    if wait:
        command = outbound.wait_for_outcome(command, wait)
    if command.is_finished:
        settle(command)  # idempotent: the receiver may have applied it already
    return command


class DisplayMessageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                            viewsets.GenericViewSet):
    """Display messages of 2.0.1 stations: pushed ones (pending → accepted / rejected with the
    station's reason / failed; replaced; cleared) and those stations reported."""

    queryset = DisplayMessage.objects.select_related("station", "command", "clear_command")
    serializer_class = DisplayMessageSerializer
    filterset_class = DisplayMessageFilter
    ordering_fields = ["id", "message_id", "created_at", "updated_at"]

    @extend_schema(request=DisplayMessageCreateSerializer,
                   responses={201: DisplayMessageSerializer})
    def create(self, request):
        """Validate (times ascending, lengths, the transaction exists at the station) and send
        SetDisplayMessage; 201 with the message (pending, or its outcome when `wait` allowed)."""
        data = dict(_parse(DisplayMessageCreateSerializer, request))
        station, wait = data.pop("station"), data.pop("wait")
        result, refused = _operate(lambda: commands.set_display_message(
            station, data, source=_source(request)))
        if refused:
            return refused
        message, command = result
        _waited(command, wait, actions.settle_set_message)
        body = self.get_serializer(self.get_queryset().get(pk=message.pk)).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": body["url"]})

    @extend_schema(request=WaitSerializer, responses={200: DisplayMessageSerializer,
                                                      202: DisplayMessageSerializer})
    def destroy(self, request, pk=None):
        """ClearDisplayMessage by the message's id: cleared once the station answers Accepted or
        Unknown (200), 202 while it has not answered."""
        message = self.get_object()
        wait = _parse(WaitSerializer, request)["wait"] if request.data else 0
        command, refused = _operate(lambda: commands.clear_display_message(
            message, source=_source(request)))
        if refused:
            return refused
        command = _waited(command, wait, actions.settle_clear_message)
        body = self.get_serializer(self.get_queryset().get(pk=message.pk)).data
        return Response(body, status=status.HTTP_200_OK if command.is_finished
                        else status.HTTP_202_ACCEPTED)

    @extend_schema(request=GetDisplayMessagesSerializer,
                   responses={201: DisplayMessageReportSerializer,
                              202: DisplayMessageReportSerializer})
    @action(detail=False, methods=["post"], url_path="get")
    def get_from_station(self, request):
        """GetDisplayMessages (by ids, priority, state): the station reports in
        NotifyDisplayMessages parts; once complete, messages it no longer shows are cleared and
        ones the CSMS did not know are stored as reported."""
        data = _parse(GetDisplayMessagesSerializer, request)
        result, refused = _operate(lambda: commands.get_display_messages(
            data["station"], data.get("ids"), data.get("priority"), data.get("state"),
            source=_source(request)))
        if refused:
            return refused
        report, command = result
        command = _waited(command, data["wait"], actions.settle_report_request)
        report.refresh_from_db()
        return Response(DisplayMessageReportSerializer(report, context={"request": request}).data,
                        status=status.HTTP_201_CREATED if command.is_finished
                        else status.HTTP_202_ACCEPTED)


class DisplayMessageReportViewSet(viewsets.ReadOnlyModelViewSet):
    """GetDisplayMessages requests and the messages stations reported for them."""

    queryset = DisplayMessageReport.objects.select_related("station", "command")
    serializer_class = DisplayMessageReportSerializer
    filterset_class = DisplayMessageReportFilter
