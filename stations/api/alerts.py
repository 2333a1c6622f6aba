"""The alerts API: operational alerts (station offline, connector Faulted, boot Rejected,
transaction without news, commands timing out), filtered, and acknowledged by an operator."""
import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from csms.api.serializers import ModelSerializer

from ..actions import alerts as alert_actions
from ..models import Alert

ORDERING = ["id", "raised_at", "updated_at", "cleared_at", "acknowledged_at"]


class AlertSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:alert-detail")
    station = serializers.SlugRelatedField(slug_field="identity", read_only=True)
    acknowledged = serializers.BooleanField(read_only=True)

    class Meta:
        model = Alert
        fields = ["id", "url", "kind", "station", "subject", "state", "message", "details",
                  "raised_at", "updated_at", "raise_count", "cleared_at", "acknowledged",
                  "acknowledged_at", "acknowledged_by"]
        read_only_fields = fields


class AlertFilter(django_filters.FilterSet):
    station = django_filters.CharFilter(field_name="station__identity")
    acknowledged = django_filters.BooleanFilter(field_name="acknowledged_at", lookup_expr="isnull",
                                                exclude=True, label="An operator acknowledged it")
    raised_after = django_filters.IsoDateTimeFilter(field_name="raised_at", lookup_expr="gte")

    class Meta:
        model = Alert
        fields = ["station", "kind", "state", "subject", "acknowledged", "raised_after"]


class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Operational alerts, newest first. One Active alert per (kind, station, subject): raised
    again it is updated (raise_count, updated_at); it becomes Cleared by itself when its
    condition ends. Acknowledging records who saw it and when; it does not clear it."""

    queryset = Alert.objects.select_related("station")
    serializer_class = AlertSerializer
    filterset_class = AlertFilter
    ordering_fields = ORDERING

    @extend_schema(request=None, responses={200: AlertSerializer})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """Acknowledge the alert as the calling user (a second acknowledgement keeps the first)."""
        alert = alert_actions.acknowledge(self.get_object(), request.user.get_username())
        return Response(self.get_serializer(alert).data)
