from rest_framework import serializers

from csms.api.serializers import INTEGER_MAX, CommandSerializer, ModelSerializer
from stations.models import Station
from smartcharging.models import (
    ChargingLimit, ChargingProfile, EVChargingNeeds, EVChargingSchedule, ProfileReport,
)

STATION_FIELD = {"slug_field": "identity", "read_only": True}
WAIT_HELP = "Seconds to wait for the station's answer (0: return at once)."


class ChargingProfileSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:charging-profile-detail")
    station = serializers.SlugRelatedField(**STATION_FIELD)
    transaction_id = serializers.CharField(source="transaction.transaction_id", read_only=True,
                                           allow_null=True, default=None)
    command = CommandSerializer(read_only=True, allow_null=True)
    clear_command = CommandSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ChargingProfile
        fields = ["id", "url", "station", "evse_id", "charging_profile_id", "stack_level",
                  "purpose", "kind", "recurrency_kind", "valid_from", "valid_to", "transaction",
                  "transaction_id", "schedules", "state", "reported", "charging_limit_source",
                  "replaced_by", "command", "clear_command", "restore_attempts", "created_at",
                  "updated_at"]
        read_only_fields = fields


class ChargingProfileCreateSerializer(serializers.Serializer):
    station = serializers.SlugRelatedField(slug_field="identity", queryset=Station.objects.all(),
                                           help_text="The station's identity.")
    evse_id = serializers.IntegerField(min_value=0, max_value=INTEGER_MAX, default=0,
                                       help_text="EVSE (1.6: connector); 0 is the whole station.")
    charging_profile_id = serializers.IntegerField(
        min_value=1, max_value=INTEGER_MAX, required=False,
        help_text="The profile's OCPP id (default: the new row's id). The same id replaces.")
    stack_level = serializers.IntegerField(min_value=0, max_value=INTEGER_MAX)
    purpose = serializers.ChoiceField(choices=ChargingProfile.Purpose.choices)
    kind = serializers.ChoiceField(choices=ChargingProfile.Kind.choices)
    recurrency_kind = serializers.ChoiceField(choices=ChargingProfile.RecurrencyKind.choices,
                                              required=False, allow_blank=True)
    valid_from = serializers.DateTimeField(required=False, allow_null=True)
    valid_to = serializers.DateTimeField(required=False, allow_null=True)
    schedules = serializers.ListField(
        child=serializers.DictField(), allow_empty=True,
        help_text="OCPP charging schedules (1.6: one; 2.0.1: up to three): {id?, startSchedule?, "
                  "duration?, chargingRateUnit A|W, minChargingRate?, chargingSchedulePeriod: "
                  "[{startPeriod, limit, numberPhases?, phaseToUse?}]}.")
    wait = serializers.FloatField(required=False, default=0, min_value=0, help_text=WAIT_HELP)


class WaitSerializer(serializers.Serializer):
    wait = serializers.FloatField(required=False, default=0, min_value=0, help_text=WAIT_HELP)


class ClearCriteriaSerializer(WaitSerializer):
    station = serializers.SlugRelatedField(slug_field="identity", queryset=Station.objects.all())
    charging_profile_id = serializers.IntegerField(min_value=1, max_value=INTEGER_MAX,
                                                   required=False)
    evse_id = serializers.IntegerField(min_value=0, max_value=INTEGER_MAX, required=False)
    purpose = serializers.ChoiceField(choices=ChargingProfile.Purpose.choices, required=False)
    stack_level = serializers.IntegerField(min_value=0, max_value=INTEGER_MAX, required=False)


class GetProfilesSerializer(WaitSerializer):
    station = serializers.SlugRelatedField(slug_field="identity", queryset=Station.objects.all())
    evse_id = serializers.IntegerField(min_value=0, max_value=INTEGER_MAX, required=False)
    purpose = serializers.ChoiceField(choices=ChargingProfile.Purpose.choices, required=False)
    stack_level = serializers.IntegerField(min_value=0, max_value=INTEGER_MAX, required=False)


class CompositeScheduleRequestSerializer(WaitSerializer):
    station = serializers.SlugRelatedField(slug_field="identity", queryset=Station.objects.all())
    evse_id = serializers.IntegerField(min_value=0, max_value=INTEGER_MAX, default=0)
    duration = serializers.IntegerField(min_value=0, max_value=INTEGER_MAX,
                                        help_text="Seconds from now.")
    charging_rate_unit = serializers.ChoiceField(choices=["A", "W"], required=False)


class ProfileReportSerializer(ModelSerializer):
    station = serializers.SlugRelatedField(**STATION_FIELD)
    command = CommandSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ProfileReport
        fields = ["id", "station", "evse_id", "criteria", "status", "parts", "profiles",
                  "command", "created_at", "completed_at"]
        read_only_fields = fields


class ChargingLimitSerializer(ModelSerializer):
    station = serializers.SlugRelatedField(**STATION_FIELD)

    class Meta:
        model = ChargingLimit
        fields = ["id", "station", "evse_id", "charging_limit_source", "is_grid_critical",
                  "schedules", "notified_at", "cleared_at"]
        read_only_fields = fields


class EVChargingNeedsSerializer(ModelSerializer):
    station = serializers.SlugRelatedField(**STATION_FIELD)

    class Meta:
        model = EVChargingNeeds
        fields = ["id", "station", "evse_id", "requested_energy_transfer", "departure_time",
                  "max_schedule_tuples", "charging_needs", "answer_status", "received_at"]
        read_only_fields = fields


class EVChargingScheduleSerializer(ModelSerializer):
    station = serializers.SlugRelatedField(**STATION_FIELD)

    class Meta:
        model = EVChargingSchedule
        fields = ["id", "station", "evse_id", "time_base", "charging_schedule", "received_at"]
        read_only_fields = fields
