"""/api/v1/security-events/ (every station's security log, filtered), /api/v1/login-failures/
(refused station logins) and /api/v1/password-rotations/ (A01: POST rotates a station's password)."""
import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from csms.api.serializers import ModelSerializer
from csms.ocpp import outbound

from ..actions import password_rotation
from ..models import LoginFailure, PasswordRotation, SecurityEvent, Station
from .operations import WAIT_HELP, Conflict


class SecurityEventSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:security-event-detail")
    station = serializers.SlugRelatedField(slug_field="identity", read_only=True)

    class Meta:
        model = SecurityEvent
        fields = ["id", "url", "station", "type", "timestamp", "tech_info", "critical",
                  "received_at"]
        read_only_fields = fields


class SecurityEventFilter(django_filters.FilterSet):
    station = django_filters.CharFilter(field_name="station__identity")
    since = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="gte",
                                             label="Events at or after this time (ISO 8601)")
    until = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="lt",
                                             label="Events before this time (ISO 8601)")

    class Meta:
        model = SecurityEvent
        fields = ["station", "type", "critical", "since", "until"]


class SecurityEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           viewsets.GenericViewSet):
    """Security events the stations reported (SecurityEventNotification), newest first. The
    critical types of the OCPP security event list also raise an alert (kind SecurityEvent)."""

    queryset = SecurityEvent.objects.select_related("station")
    serializer_class = SecurityEventSerializer
    filterset_class = SecurityEventFilter
    ordering_fields = ["id", "timestamp", "received_at"]


class LoginFailureSerializer(ModelSerializer):
    station = serializers.SlugRelatedField(slug_field="identity", read_only=True)

    class Meta:
        model = LoginFailure
        fields = ["id", "station", "remote_address", "reason", "at"]
        read_only_fields = fields


class LoginFailureFilter(django_filters.FilterSet):
    station = django_filters.CharFilter(field_name="station__identity")
    since = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte")

    class Meta:
        model = LoginFailure
        fields = ["station", "reason", "remote_address", "since"]


class LoginFailureViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Refused Basic-auth logins of registered stations, newest first (the password tried is
    never recorded). Attempts refused by the throttle are counted, not listed."""

    queryset = LoginFailure.objects.select_related("station")
    serializer_class = LoginFailureSerializer
    filterset_class = LoginFailureFilter
    ordering_fields = ["id", "at"]


class PasswordRotationSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:password-rotation-detail")
    station = serializers.SlugRelatedField(slug_field="identity", read_only=True)
    # The command's id and outcome only: its payload carries the new password until answered.
    command = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    command_status = serializers.CharField(source="command.status", read_only=True,
                                           allow_null=True, default=None)

    class Meta:
        model = PasswordRotation
        fields = ["id", "url", "station", "state", "detail", "source", "command",
                  "command_status", "created_at", "accepted_at", "finished_at"]
        read_only_fields = fields


class PasswordRotationCreateSerializer(serializers.Serializer):
    station = serializers.SlugRelatedField(slug_field="identity", queryset=Station.objects.all(),
                                           help_text="The station's identity.")
    wait = serializers.FloatField(required=False, default=0, min_value=0, help_text=WAIT_HELP)


class PasswordRotationFilter(django_filters.FilterSet):
    station = django_filters.CharFilter(field_name="station__identity")

    class Meta:
        model = PasswordRotation
        fields = ["station", "state"]


class PasswordRotationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                              viewsets.GenericViewSet):
    """Basic-auth password rotations (A01). The new password is made by the CSMS, sent to the
    station and never shown: 2.0.1 SetVariables SecurityCtrlr.BasicAuthPassword, 1.6
    ChangeConfiguration AuthorizationKey (40 hex digits). States: Sent, Accepted (the station
    took it; the old password still works until it logs in with the new), Completed,
    Rejected / Failed (nothing changed), Superseded."""

    queryset = PasswordRotation.objects.select_related("station", "command")
    serializer_class = PasswordRotationSerializer
    filterset_class = PasswordRotationFilter
    ordering_fields = ["id", "created_at"]

    @extend_schema(request=PasswordRotationCreateSerializer,
                   responses={201: PasswordRotationSerializer, 202: PasswordRotationSerializer})
    def create(self, request):
        """Rotate the station's password: 201 once the station answered within `wait`, else
        202. 409 for a station that never connected."""
        body = PasswordRotationCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            rotation = password_rotation.rotate_password(
                data["station"], source=f"api:{request.user.username}")
        except password_rotation.RotationRefused as error:
            raise Conflict(str(error))
        command = rotation.command
        if data["wait"] and command is not None:
            command = outbound.wait_for_outcome(command, data["wait"])
            password_rotation.settle_command(command)  # idempotent; the receiver may be first
        rotation = self.get_queryset().get(pk=rotation.pk)
        payload = self.get_serializer(rotation).data
        finished = rotation.state != PasswordRotation.State.SENT
        return Response(payload, headers={"Location": payload["url"]},
                        status=status.HTTP_201_CREATED if finished else status.HTTP_202_ACCEPTED)
