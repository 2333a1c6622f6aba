"""Serializers of the sites API: a site with its limit schedule, its members and the live
allocation."""
from rest_framework import serializers

from csms.api.serializers import INTEGER_MAX, ModelSerializer
from stations.models import Station
from smartcharging.models import Site, SiteAllocation, SiteMember


class LimitPeriodSerializer(serializers.Serializer):
    startPeriod = serializers.IntegerField(min_value=0, max_value=INTEGER_MAX,
                                           help_text="Seconds from the schedule's start.")
    limit = serializers.FloatField(min_value=0, max_value=1e9,
                                   help_text="The site limit from then on (limit_unit).")


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
    fallback_held = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = SiteMember
        fields = ["station", "evse_max_power", "charging_rate_unit", "fallback_held",
                  "fallback_stale", "added_at"]
        read_only_fields = ["fallback_held", "fallback_stale", "added_at"]

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
        read_only_fields = ["station", "fallback_held", "fallback_stale", "added_at"]


class SiteSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:site-detail")
    limit_periods = LimitPeriodSerializer(
        many=True, help_text="The limit over time: periods ascending from startPeriod 0.")
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

    def validate(self, data):
        reasons = []
        periods = data.get("limit_periods", self.instance.limit_periods if self.instance else None)
        if periods is not None:
            if not periods:
                reasons.append("limit_periods must list at least one period")
            starts = [period["startPeriod"] for period in periods]
            if starts and starts[0] != 0:
                reasons.append(f"the first period must start at 0, not {starts[0]}")
            for previous, start in zip(starts, starts[1:]):
                if start <= previous:
                    reasons.append(f"startPeriod {start} does not come after {previous}")
        recurrency = data.get("limit_recurrency",
                              self.instance.limit_recurrency if self.instance else "")
        start = data.get("limit_start", self.instance.limit_start if self.instance else None)
        if recurrency and start is None:
            reasons.append("a recurring limit needs limit_start (when the first day or week begins)")
        if reasons:
            raise serializers.ValidationError({"limit_periods": reasons})
        return data

    def _periods(self, data):
        if "limit_periods" in data:
            data["limit_periods"] = [{"startPeriod": p["startPeriod"], "limit": p["limit"]}
                                     for p in data["limit_periods"]]
        return data

    def create(self, validated_data):
        return super().create(self._periods(validated_data))

    def update(self, instance, validated_data):
        return super().update(instance, self._periods(validated_data))


class SiteAllocationSerializer(ModelSerializer):
    station = serializers.SlugRelatedField(slug_field="identity", read_only=True)
    transaction_id = serializers.CharField(source="transaction.transaction_id", read_only=True,
                                           allow_null=True, default=None)
    charging_profile_id = serializers.IntegerField(source="profile.charging_profile_id",
                                                   read_only=True, allow_null=True, default=None)

    class Meta:
        model = SiteAllocation
        fields = ["station", "evse_id", "transaction_id", "priority", "target", "held", "maximum",
                  "measured", "state", "sent_limit", "sent_unit", "charging_profile_id",
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
