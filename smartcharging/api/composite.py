"""GET /api/v1/stations/<identity>/composite-schedule/: the composite schedule the CSMS computes
for an EVSE, and on request the station's own (GetCompositeSchedule) beside it with the differences."""
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from csms.api.serializers import INTEGER_MAX
from csms.models import Command
from csms.ocpp import outbound
from smartcharging import commands
from smartcharging.actions.profiles import station_has_evse
from smartcharging.actions.schedules import (
    compare_composites, computed_composite, reported_composite,
)
from stations.models import Station

# A month: enough for any recurring profile, bounded so one request cannot ask for years.
MAX_DURATION = 31 * 86400
DEFAULT_WAIT = 10.0
Status = Command.Status
# The station's answer to GetCompositeSchedule, as the `reported.status` of the answer.
REPORTED_STATUS = {Status.ACCEPTED: "answered", Status.REJECTED: "rejected",
                   Status.OFFLINE: "offline", Status.TIMEOUT: "timeout", Status.ERROR: "error"}
REPORTED_DETAIL = {
    "answered": "The station answered with its composite schedule.",
    "rejected": "The station rejected GetCompositeSchedule (e.g. it does not know that EVSE).",
    "offline": "The station is not connected; only the computed schedule is shown.",
    "timeout": "The station did not answer in time.",
    "error": "The station answered with an error.",
    "pending": "The station has not answered yet; follow the command.",
}


class CompositeQuerySerializer(serializers.Serializer):
    evse = serializers.IntegerField(min_value=0, max_value=INTEGER_MAX, default=0,
                                    help_text="EVSE (1.6: connector); 0 is the whole station.")
    duration = serializers.IntegerField(min_value=1, max_value=MAX_DURATION, default=86400,
                                        help_text="Seconds from `start`.")
    unit = serializers.ChoiceField(
        choices=["A", "W"], required=False,
        help_text="Unit of the limits (default: the unit the station takes when it names one, "
                  "else A). A↔W uses the phases and SMARTCHARGING_VOLTAGE (a site's voltage).")
    start = serializers.DateTimeField(required=False,
                                      help_text="Start of the window (default: now).")
    ask_station = serializers.BooleanField(
        default=False, help_text="Also ask the station (GetCompositeSchedule over `duration` "
                                 "from its own now) and list where the two differ.")
    wait = serializers.FloatField(
        min_value=0, default=DEFAULT_WAIT,
        help_text="Seconds to wait for the station's answer (bounded by OCPP_COMMAND_MAX_WAIT).")


class CompositePeriodSerializer(serializers.Serializer):
    start_period = serializers.IntegerField(help_text="Seconds from schedule_start.")
    limit = serializers.FloatField(allow_null=True, help_text="null: nothing limits this stretch.")
    number_phases = serializers.IntegerField(allow_null=True)
    min_charging_rate = serializers.FloatField(allow_null=True)


class CompositeTransactionSerializer(serializers.Serializer):
    transaction_id = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)


class SkippedInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["profile", "charging_limit"])
    id = serializers.IntegerField()
    reason = serializers.CharField()


class ReportedScheduleSerializer(serializers.Serializer):
    evse_id = serializers.IntegerField(allow_null=True)
    schedule_start = serializers.DateTimeField(allow_null=True)
    duration = serializers.IntegerField(allow_null=True)
    charging_rate_unit = serializers.CharField(allow_null=True)
    periods = CompositePeriodSerializer(many=True)


class ReportedCompositeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=list(REPORTED_DETAIL))
    detail = serializers.CharField()
    command = serializers.IntegerField(allow_null=True, help_text="The GetCompositeSchedule command.")
    schedule = ReportedScheduleSerializer(allow_null=True)


class DifferenceSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    start_period = serializers.IntegerField()
    end_period = serializers.IntegerField()
    computed_limit = serializers.FloatField(allow_null=True)
    reported_limit = serializers.FloatField(allow_null=True)


class CompositeScheduleSerializer(serializers.Serializer):
    identity = serializers.CharField()
    evse_id = serializers.IntegerField()
    schedule_start = serializers.DateTimeField()
    duration = serializers.IntegerField()
    charging_rate_unit = serializers.ChoiceField(choices=["A", "W"])
    voltage = serializers.FloatField()
    transaction = CompositeTransactionSerializer(allow_null=True)
    periods = CompositePeriodSerializer(many=True)
    profiles = serializers.ListField(child=serializers.IntegerField(),
                                     help_text="Installed charging profiles applied.")
    pending_profiles = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Profiles sent but not yet answered: not applied until the station takes them.")
    charging_limits = serializers.ListField(child=serializers.IntegerField(),
                                            help_text="External limits applied.")
    skipped = SkippedInputSerializer(many=True)
    reported = ReportedCompositeSerializer(required=False)
    differences = DifferenceSerializer(many=True, required=False)


def ask_station(station, evse_id, duration, unit, wait, source):
    """GetCompositeSchedule, waited for up to `wait` s: the `reported` part of the answer."""
    try:
        command = commands.get_composite_schedule(station, evse_id, duration, unit, source=source)
    except commands.StationNotReady:
        return {"status": "offline", "detail": REPORTED_DETAIL["offline"], "command": None,
                "schedule": None}
    if wait and not command.is_finished:
        command = outbound.wait_for_outcome(command, wait)
    status = REPORTED_STATUS.get(command.status, "pending")
    return {"status": status, "detail": command.error_description or REPORTED_DETAIL[status],
            "command": command.pk,
            "schedule": reported_composite(command.response, command.ocpp_version)
            if status == "answered" else None}


class StationCompositeScheduleView(APIView):
    """The composite schedule of one EVSE as the CSMS computes it from what it tracks: installed
    profiles (pending ones listed, not applied), external limits not cleared and the running
    transaction (relative profiles from its start, its TxProfile). With `ask_station` the station
    is asked too, and `differences` lists where the two limits differ, in the computed unit."""

    @extend_schema(parameters=[CompositeQuerySerializer],
                   responses=CompositeScheduleSerializer)
    def get(self, request, identity):
        station = get_object_or_404(Station, identity=identity)
        query = CompositeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        evse_id = data["evse"]
        if evse_id and station.ocpp_version and not station_has_evse(station, evse_id):
            raise ValidationError({"evse": [f"{station.identity} has no EVSE {evse_id}"]})
        body = computed_composite(station, evse_id, data.get("start"), data["duration"],
                                  data.get("unit"))
        if data["ask_station"]:
            body["reported"] = ask_station(station, evse_id, data["duration"],
                                           body["charging_rate_unit"], data["wait"],
                                           f"api:{request.user.username}")
            body["differences"] = compare_composites(body, body["reported"]["schedule"])
        return Response(body)
