"""Filters of the device-model lists: the component tree, events, monitors and value history."""
import django_filters
from django.db.models import Q

from .models import Event, Mutability, Variable, VariableMonitor, VariableValueChange


class VariableFilter(django_filters.FilterSet):
    component = django_filters.CharFilter(field_name="component__name")
    component_instance = django_filters.CharFilter(field_name="component__instance")
    evse_id = django_filters.NumberFilter(field_name="component__evse_id")
    connector_id = django_filters.NumberFilter(field_name="component__connector_id")
    tier = django_filters.ChoiceFilter(
        choices=[("station", "station"), ("evse", "EVSE"), ("connector", "connector")],
        method="filter_tier", help_text="Only components at this tier of the 3-tier model.")
    variable = django_filters.CharFilter(field_name="name")
    variable_instance = django_filters.CharFilter(field_name="instance")
    search = django_filters.CharFilter(method="filter_search",
                                       help_text="Part of a component or variable name.")
    writable = django_filters.BooleanFilter(method="filter_writable")
    supports_monitoring = django_filters.BooleanFilter(
        field_name="characteristics__supports_monitoring")

    class Meta:
        model = Variable
        fields = []

    def filter_tier(self, queryset, name, value):
        if value == "station":
            return queryset.filter(component__evse_id__isnull=True)
        if value == "evse":
            return queryset.filter(component__evse_id__isnull=False,
                                   component__connector_id__isnull=True)
        return queryset.filter(component__connector_id__isnull=False)

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(component__name__icontains=value))

    def filter_writable(self, queryset, name, value):
        writable = Q(attributes__mutability__in=[Mutability.READ_WRITE, Mutability.WRITE_ONLY],
                     attributes__constant=False)
        return (queryset.filter(writable) if value else queryset.exclude(writable)).distinct()


class EventFilter(django_filters.FilterSet):
    station = django_filters.CharFilter(field_name="station__identity")
    severity = django_filters.NumberFilter()
    severity_max = django_filters.NumberFilter(
        field_name="severity", lookup_expr="lte",
        help_text="At most this severity number (0 Danger is the most severe).")
    cleared = django_filters.BooleanFilter(
        method="filter_cleared",
        help_text="true: returned to normal (or a clearing event); false: not (yet) cleared.")
    active = django_filters.BooleanFilter(method="filter_active",
                                          help_text="Alerts that are still active.")
    component = django_filters.CharFilter(field_name="variable__component__name")
    variable = django_filters.CharFilter(field_name="variable__name")
    evse_id = django_filters.NumberFilter(field_name="variable__component__evse_id")
    since = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="lt")

    class Meta:
        model = Event
        fields = ["trigger", "event_notification_type", "variable_monitoring_id"]

    def filter_cleared(self, queryset, name, value):
        cleared = Q(cleared=True) | Q(cleared_at__isnull=False)
        return queryset.filter(cleared) if value else queryset.exclude(cleared)

    def filter_active(self, queryset, name, value):
        active = Q(trigger=Event.Trigger.ALERTING, cleared=False, cleared_at__isnull=True)
        return queryset.filter(active) if value else queryset.exclude(active)


class MonitorFilter(django_filters.FilterSet):
    component = django_filters.CharFilter(field_name="variable__component__name")
    variable = django_filters.CharFilter(field_name="variable__name")
    severity_max = django_filters.NumberFilter(field_name="severity", lookup_expr="lte")

    class Meta:
        model = VariableMonitor
        fields = ["type", "severity"]


class ValueChangeFilter(django_filters.FilterSet):
    component = django_filters.CharFilter(field_name="attribute__variable__component__name")
    variable = django_filters.CharFilter(field_name="attribute__variable__name")
    since = django_filters.IsoDateTimeFilter(field_name="changed_at", lookup_expr="gte")

    class Meta:
        model = VariableValueChange
        fields = ["source"]
