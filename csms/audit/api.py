"""The audit trail API (/api/v1/audit/): read only, filtered by user, kind, station and time."""
import django_filters
from rest_framework import viewsets

from csms.api.serializers import ModelSerializer

from .models import AuditEntry


class AuditEntrySerializer(ModelSerializer):
    class Meta:
        model = AuditEntry
        fields = ["id", "created_at", "username", "via", "ip_address", "kind", "method", "path",
                  "status_code", "identity", "summary", "details"]
        read_only_fields = fields


class AuditEntryFilter(django_filters.FilterSet):
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    username = django_filters.CharFilter()
    identity = django_filters.CharFilter(help_text="Station identity")

    class Meta:
        model = AuditEntry
        fields = ["username", "kind", "identity"]


class AuditEntryViewSet(viewsets.ReadOnlyModelViewSet):
    """Who changed what, when and from where: every state-changing request of a person or an
    integration, with the commands and model changes it made."""

    serializer_class = AuditEntrySerializer
    queryset = AuditEntry.objects.order_by("-id")
    filterset_class = AuditEntryFilter
    ordering_fields = ["id", "created_at"]
