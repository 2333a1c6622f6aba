import django_filters

from .models import ChargingLimit, ChargingProfile, EVChargingNeeds, EVChargingSchedule, ProfileReport


class ChargingProfileFilter(django_filters.FilterSet):
    station = django_filters.CharFilter(field_name="station__identity")

    class Meta:
        model = ChargingProfile
        fields = ["station", "evse_id", "purpose", "state", "kind", "stack_level",
                  "charging_profile_id", "reported"]


class StationRowFilter(django_filters.FilterSet):
    station = django_filters.CharFilter(field_name="station__identity")


class ProfileReportFilter(StationRowFilter):
    class Meta:
        model = ProfileReport
        fields = ["station", "evse_id", "status"]


class ChargingLimitFilter(StationRowFilter):
    active = django_filters.BooleanFilter(field_name="cleared_at", lookup_expr="isnull",
                                          label="Not cleared yet")

    class Meta:
        model = ChargingLimit
        fields = ["station", "evse_id", "charging_limit_source", "active"]


class EVChargingNeedsFilter(StationRowFilter):
    class Meta:
        model = EVChargingNeeds
        fields = ["station", "evse_id"]


class EVChargingScheduleFilter(StationRowFilter):
    class Meta:
        model = EVChargingSchedule
        fields = ["station", "evse_id"]
