"""The log-request API: ask a station for a log (GetLog, 1.6 GetDiagnostics), follow the request
and download the file it uploaded."""
import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from csms.api.errors import Conflict
from csms.api.serializers import CommandSerializer, ModelSerializer
from csms.ocpp import outbound

from ..commands import StationNotReady
from ..commands import logs as log_commands
from ..models import LogRequest, Station
from ..views.logs import file_response

ORDERING = ["id", "created_at", "status_at", "uploaded_at"]


class LogRequestSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:log-request-detail")
    station = serializers.SlugRelatedField(slug_field="identity", read_only=True)
    download_url = serializers.SerializerMethodField()
    upload_url = serializers.SerializerMethodField()
    command = CommandSerializer(read_only=True, allow_null=True)

    class Meta:
        model = LogRequest
        fields = ["id", "url", "station", "request_id", "kind", "oldest_timestamp",
                  "latest_timestamp", "retries", "retry_interval", "status", "station_status",
                  "status_at", "expires_at", "max_bytes", "file_name", "size", "sha256",
                  "uploaded_at", "download_url", "upload_url", "command", "source", "created_at",
                  "updated_at"]
        read_only_fields = fields

    def get_download_url(self, log_request) -> str | None:
        if not log_request.file:
            return None
        return self.context["request"].build_absolute_uri(
            f"/api/v1/log-requests/{log_request.pk}/download/")

    def get_upload_url(self, log_request) -> str:
        """Where the station was told to upload (one-time; it works until expires_at)."""
        return log_commands.log_actions.upload_url(log_request)


class LogRequestCreateSerializer(serializers.Serializer):
    station = serializers.SlugRelatedField(slug_field="identity", queryset=Station.objects.all())
    kind = serializers.ChoiceField(
        choices=LogRequest.Kind.choices, default=LogRequest.Kind.DIAGNOSTICS_LOG,
        help_text="DiagnosticsLog / SecurityLog: GetLog (2.0.1; 1.6 security extension); "
                  "Diagnostics: 1.6 GetDiagnostics.")
    oldest_timestamp = serializers.DateTimeField(required=False, allow_null=True)
    latest_timestamp = serializers.DateTimeField(required=False, allow_null=True)
    retries = serializers.IntegerField(required=False, allow_null=True, min_value=0,
                                       max_value=1000)
    retry_interval = serializers.IntegerField(required=False, allow_null=True, min_value=0,
                                              max_value=86400)
    wait = serializers.FloatField(
        default=0, min_value=0, max_value=60,
        help_text="Seconds to wait for the station's answer (bounded by OCPP_COMMAND_MAX_WAIT).")


class LogRequestFilter(django_filters.FilterSet):
    station = django_filters.CharFilter(field_name="station__identity")
    uploaded = django_filters.BooleanFilter(field_name="uploaded_at", lookup_expr="isnull",
                                            exclude=True, label="A file has been received")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = LogRequest
        fields = ["station", "kind", "status", "request_id", "uploaded", "created_after"]


class BinaryRenderer(renderers.BaseRenderer):
    """Lets a client ask the download for application/octet-stream; errors still come as JSON."""

    media_type = "application/octet-stream"
    format = "bin"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return renderers.JSONRenderer().render(data)


class LogRequestViewSet(mixins.CreateModelMixin, mixins.ListModelMixin,
                        mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Log and diagnostics requests of both OCPP versions: status Requested → Accepted /
    Rejected / NotDelivered → Uploading → Received / Uploaded (the file is here), or the
    station's failure, or Expired when no file came before expires_at."""

    queryset = LogRequest.objects.select_related("station", "command")
    serializer_class = LogRequestSerializer
    filterset_class = LogRequestFilter
    ordering_fields = ORDERING

    @extend_schema(request=LogRequestCreateSerializer,
                   responses={201: LogRequestSerializer, 202: LogRequestSerializer})
    def create(self, request):
        """Send GetLog (or 1.6 GetDiagnostics) with a one-time upload URL on this CSMS; 201 once
        the station answered (within `wait`), 202 while it has not."""
        body = LogRequestCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            log_request, command = log_commands.request_log(
                data["station"], data["kind"], data.get("oldest_timestamp"),
                data.get("latest_timestamp"), data.get("retries"), data.get("retry_interval"),
                source=f"api:{request.user.username}")
        except StationNotReady as error:
            raise Conflict(str(error))
        except outbound.InvalidCommand as error:
            return Response({"detail": str(error), "errors": error.errors},
                            status=status.HTTP_400_BAD_REQUEST)
        if data["wait"]:
            command = outbound.wait_for_outcome(command, data["wait"])
            if command.is_finished:
                log_commands.log_actions.settle_command(command)
        log_request = self.get_queryset().get(pk=log_request.pk)
        answer = LogRequestSerializer(log_request, context={"request": request}).data
        code = status.HTTP_201_CREATED if command.is_finished else status.HTTP_202_ACCEPTED
        return Response(answer, status=code, headers={"Location": answer["url"]})

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(
        OpenApiTypes.BINARY, description="The uploaded file, as an attachment.")})
    @action(detail=True, methods=["get"],
            renderer_classes=[renderers.JSONRenderer, BinaryRenderer])
    def download(self, request, pk=None):
        """The file the station uploaded, byte for byte (404 while none has arrived)."""
        log_request = self.get_object()
        if not log_request.file:
            raise NotFound("No file has been uploaded for this request yet.")
        return file_response(log_request)
