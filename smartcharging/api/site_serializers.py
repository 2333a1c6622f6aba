"""Serializers of the sites API: a site with its limit schedule, its members and the live
allocation."""
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from csms.api.serializers import INTEGER_MAX, ModelSerializer
from stations.models import Station
from smartcharging.models import Site, SiteAllocation, SiteMember


class LimitPeriodSerializer(serializers.Serializer):
    startPeriod = serializers.IntegerField(min_value=0, max_value=INTEGER_MAX,
                                           help_text="Seconds from the schedule's start.")
    limit = serializers.FloatField(min_value=0, max_value=1e9,
                                   help_text="The site limit from then on (limit_unit).")


def period_reasons(periods):
    """Every reason a limit schedule's periods are unusable (empty when they are fine)."""
    if not isinstance(periods, list) or not periods:
        return ["limit_periods must list at least one period"]
    reasons, previous = [], None
    for index, period in enumerate(periods, 1):
        if not isinstance(period, dict):
            reasons.append(f"period {index}: must be an object with startPeriod and limit")
            continue
        start, limit = period.get("startPeriod"), period.get("limit")
        if isinstance(start, bool) or not isinstance(start, int) or not 0 <= start <= INTEGER_MAX:
            reasons.append(f"period {index}: startPeriod must be a whole number of seconds ≥ 0")
        else:
            if index == 1 and start != 0:
                reasons.append(f"the first period must start at 0, not {start}")
            if previous is not None and start <= previous:
                reasons.append(f"period {index}: startPeriod {start} does not come after {previous}")
            previous = start
        if isinstance(limit, bool) or not isinstance(limit, (int, float)):
            reasons.append(f"period {index}: limit must be a number")
        elif not 0 <= limit <= 1e9:
            reasons.append(f"period {index}: limit must be ≥ 0 (and at most 1e9), not {limit}")
        unknown = set(period) - {"startPeriod", "limit"}
        if unknown:
            reasons.append(f"period {index}: unknown field(s) {', '.join(sorted(unknown))}")
    return reasons


@extend_schema_field(LimitPeriodSerializer(many=True))
class LimitPeriodsField(serializers.JSONField):
    """[{startPeriod, limit}], checked as a whole so that every reason is listed."""

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        reasons = period_reasons(data)
        if reasons:
            raise serializers.ValidationError(reasons)
        return [{"startPeriod": p["startPeriod"], "limit": p["limit"]} for p in data]


class SiteMemberSerializer(ModelSerializer):
    station = serializers.SlugRelatedField(slug_field="identity", queryset=Station.objects.all(),
                                           help_text="The station's identity.")
    evse_max_power = serializers.FloatField(
        min_value=0, max_value=1e9, required=False, allow_null=True,
        help_text="What one EVSE can deliver (W); none: the device model's, else the fallback.")
    charging_rate_unit = serializers.ChoiceField(
        choices=["A", "W"], required=False, allow_blank=True,
        help_text="Unit of the profiles sent to it (blank: what the station says it takes, "
                  "else A for 1.6 and W for 2.0.1).")

    class Meta:
        model = SiteMember
        fields = ["station", "evse_max_power", "charging_rate_unit", "added_at"]
        read_only_fields = ["added_at"]

    def validate_station(self, station):
        site = self.context.get("site")
        membership = SiteMember.objects.filter(station=station).select_related("site").first()
        if membership is not None and self.instance is None:
            if site is not None and membership.site_id == site.pk:
                raise serializers.ValidationError(f"{station.identity} is already in this site")
            raise serializers.ValidationError(
                f"{station.identity} is already in site {membership.site.name!r} "
                f"(id {membership.site_id}); a station belongs to one site at most")
        return station


class SiteMemberUpdateSerializer(SiteMemberSerializer):
    class Meta(SiteMemberSerializer.Meta):
        read_only_fields = ["station", "added_at"]


class SiteSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:site-detail")
    limit_periods = LimitPeriodsField(
        help_text="The limit over time (limit_unit): periods ascending from startPeriod 0.")
    number_phases = serializers.IntegerField(min_value=1, max_value=3, default=3)
    voltage = serializers.FloatField(min_value=1, max_value=100000, default=230.0)
    safety_margin_percent = serializers.FloatField(min_value=0, max_value=99, default=0.0)
    fallback_limit = serializers.FloatField(min_value=0, max_value=1e9, required=False,
                                            allow_null=True)
    members = SiteMemberSerializer(many=True, read_only=True)

    class Meta:
        model = Site
        fields = ["id", "url", "name", "enabled", "limit_unit", "limit_periods", "limit_start",
                  "limit_recurrency", "number_phases", "voltage", "safety_margin_percent",
                  "fallback_limit", "members", "rounds", "last_round_at", "created_at",
                  "updated_at"]
        read_only_fields = ["rounds", "last_round_at", "created_at", "updated_at"]

    def validate_limit_start(self, value):
        if value is not None and not 2000 <= value.year <= 2200:
            raise serializers.ValidationError("limit_start must lie between the years 2000 and 2200")
        return value

    def validate(self, data):
        recurrency = data.get("limit_recurrency",
                              self.instance.limit_recurrency if self.instance else "")
        start = data.get("limit_start", self.instance.limit_start if self.instance else None)
        if recurrency and start is None:
            raise serializers.ValidationError({"limit_start": [
                "a recurring limit needs limit_start (when the first day or week begins)"]})
        return data


class SiteAllocationSerializer(ModelSerializer):
    station = serializers.SlugRelatedField(slug_field="identity", read_only=True)
    transaction_id = serializers.CharField(source="transaction.transaction_id", read_only=True,
                                           allow_null=True, default=None)
    charging_profile_id = serializers.IntegerField(source="profile.charging_profile_id",
                                                   read_only=True, allow_null=True, default=None)
    tx_held = serializers.FloatField(
        read_only=True, allow_null=True,
        help_text="W the EVSE's TxProfile allows (accepted, or a raise in flight); null: none.")
    fallback_held = serializers.FloatField(
        read_only=True, allow_null=True,
        help_text="W the EVSE's own fallback TxDefaultProfile allows once accepted; null: none "
                  "accepted since it joined or its station booted (counted at its maximum).")
    fallback_charging_profile_id = serializers.IntegerField(
        source="fallback_profile.charging_profile_id", read_only=True, allow_null=True,
        default=None)

    class Meta:
        model = SiteAllocation
        fields = ["station", "evse_id", "transaction_id", "priority", "target", "held", "maximum",
                  "measured", "state", "sent_limit", "sent_unit", "charging_profile_id",
                  "tx_held", "fallback_held", "fallback_stale", "fallback_charging_profile_id",
                  "updated_at"]
        read_only_fields = fields


class SiteLiveSerializer(serializers.Serializer):
    """The site now: its limit (W, looked ahead, less the margin), what idle EVSEs are counted
    at, the budget left for running transactions, and each EVSE's allocation."""
    site = serializers.IntegerField()
    limit = serializers.FloatField(help_text="W the stations may hold together now.")
    next_change_at = serializers.DateTimeField(allow_null=True)
    fallback = serializers.FloatField(help_text="W of the fallback TxDefaultProfile per EVSE.")
    idle_held = serializers.FloatField(help_text="W the idle EVSEs are counted at together.")
    budget = serializers.FloatField(help_text="limit − idle_held: W for running transactions.")
    held_sum = serializers.FloatField(help_text="W every EVSE is counted at together.")
    rounds = serializers.IntegerField()
    last_round_at = serializers.DateTimeField(allow_null=True)
    last_round = serializers.JSONField()
    allocations = SiteAllocationSerializer(many=True)


class RoundSummarySerializer(serializers.Serializer):
    round = serializers.IntegerField()
    at = serializers.DateTimeField()
    limit = serializers.FloatField()
    budget = serializers.FloatField()
    fallback = serializers.FloatField()
    held_sum = serializers.FloatField()
    over_limit = serializers.BooleanField()
    next_change_at = serializers.DateTimeField(allow_null=True)
    transactions = serializers.IntegerField()
    idle_evses = serializers.IntegerField()
    frames = serializers.JSONField(help_text="Every SetChargingProfile of the round, in order: "
                                             "station, evse_id, purpose, limit, unit, watts, "
                                             "phase (decrease/increase), status.")
    timings = serializers.JSONField(help_text="compute_ms, decreases_ms, increases_ms, total_ms.")
