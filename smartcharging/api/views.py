"""The charging-profile API: list and follow profiles, push (validate + SetChargingProfile), clear
(by id or criteria), ask a station what it holds and for its composite schedule."""
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from csms.api.errors import Conflict
from csms.api.serializers import CommandSerializer
from csms.ocpp import outbound
from smartcharging import actions, commands
from smartcharging.filters import (
    ChargingLimitFilter, ChargingProfileFilter, EVChargingNeedsFilter, EVChargingScheduleFilter,
    ProfileReportFilter,
)
from smartcharging.models import (
    ChargingLimit, ChargingProfile, EVChargingNeeds, EVChargingSchedule, ProfileReport,
)

from .serializers import (
    ChargingLimitSerializer, ChargingProfileCreateSerializer, ChargingProfileSerializer,
    ClearCriteriaSerializer, CompositeScheduleRequestSerializer, EVChargingNeedsSerializer,
    EVChargingScheduleSerializer, GetProfilesSerializer, ProfileReportSerializer, WaitSerializer,
)

COMMAND_RESPONSES = {201: CommandSerializer, 202: CommandSerializer}


def _operate(build):
    try:
        return build()
    except commands.StationNotReady as error:
        raise Conflict(str(error))


def _invalid(error):
    return Response({"detail": str(error), "errors": error.reasons},
                    status=status.HTTP_400_BAD_REQUEST)


def _source(request):
    return f"api:{request.user.username}"


def _parse(serializer_class, request):
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    return body.validated_data


def _waited(command, wait):
    return outbound.wait_for_outcome(command, wait) if wait else command


def _command_response(request, command, finished_status=status.HTTP_201_CREATED, **extra):
    data = CommandSerializer(command, context={"request": request}).data
    code = finished_status if command.is_finished else status.HTTP_202_ACCEPTED
    return Response({**data, **extra}, status=code, headers={"Location": data["url"]})


class ChargingProfileViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                             viewsets.GenericViewSet):
    """Charging profiles of both OCPP versions: what was pushed and what each station holds
    (state pending → installed / rejected / replaced / cleared / error)."""

    queryset = ChargingProfile.objects.select_related("station", "transaction", "command",
                                                      "clear_command")
    serializer_class = ChargingProfileSerializer
    filterset_class = ChargingProfileFilter
    ordering_fields = ["id", "created_at", "updated_at", "stack_level"]

    @extend_schema(request=ChargingProfileCreateSerializer,
                   responses={201: ChargingProfileSerializer})
    def create(self, request):
        """Validate the profile (every reason in a 400) and send SetChargingProfile; 201 with the
        profile (pending until the station answers, or its outcome when `wait` allowed)."""
        data = dict(_parse(ChargingProfileCreateSerializer, request))
        station, wait = data.pop("station"), data.pop("wait")
        try:
            profile, command = _operate(lambda: commands.set_charging_profile(
                station, data, source=_source(request)))
        except actions.InvalidProfile as error:
            return _invalid(error)
        if wait:
            command = _waited(command, wait)
            if command.is_finished:
                actions.settle_set_profile(command)
        profile = self.get_queryset().get(pk=profile.pk)
        body = ChargingProfileSerializer(profile, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": body["url"]})

    @extend_schema(request=WaitSerializer, responses={200: CommandSerializer,
                                                      202: CommandSerializer})
    def destroy(self, request, pk=None):
        """ClearChargingProfile of this profile by its id; the row becomes cleared when the
        station accepts (200 with the answered command, or 202 while it has not answered)."""
        profile = self.get_object()
        data = _parse(WaitSerializer, request) if request.data else {"wait": 0}
        try:
            command = _operate(lambda: commands.clear_profile(profile, source=_source(request)))
        except actions.InvalidProfile as error:
            return _invalid(error)
        command = _waited(command, data["wait"])
        if command.is_finished:
            actions.settle_clear(command)
        return _command_response(request, command, status.HTTP_200_OK)

    @extend_schema(request=ClearCriteriaSerializer, responses=COMMAND_RESPONSES)
    @action(detail=False, methods=["post"])
    def clear(self, request):
        """ClearChargingProfile on a station by id or by criteria (evse_id, purpose, stack_level;
        none: all but external constraints). Matching profiles become cleared on Accepted."""
        data = _parse(ClearCriteriaSerializer, request)
        command = _operate(lambda: commands.clear_charging_profile(
            data["station"], data.get("charging_profile_id"), data.get("evse_id"),
            data.get("purpose"), data.get("stack_level"), source=_source(request)))
        command = _waited(command, data["wait"])
        if command.is_finished:
            actions.settle_clear(command)
        return _command_response(request, command)

    @extend_schema(request=GetProfilesSerializer, responses={201: ProfileReportSerializer,
                                                             202: ProfileReportSerializer})
    @action(detail=False, methods=["post"])
    def report(self, request):
        """GetChargingProfiles (2.0.1): the station reports what it holds in
        ReportChargingProfiles parts; once complete, the tracked profiles are reconciled."""
        data = _parse(GetProfilesSerializer, request)
        report, command = _operate(lambda: commands.get_charging_profiles(
            data["station"], data.get("evse_id"), data.get("purpose"), data.get("stack_level"),
            source=_source(request)))
        command = _waited(command, data["wait"])
        if command.is_finished:
            actions.settle_report_request(command)
        report.refresh_from_db()
        code = status.HTTP_201_CREATED if command.is_finished else status.HTTP_202_ACCEPTED
        return Response(ProfileReportSerializer(report, context={"request": request}).data,
                        status=code)

    @extend_schema(request=CompositeScheduleRequestSerializer, responses=COMMAND_RESPONSES)
    @action(detail=False, methods=["post"], url_path="composite-schedule")
    def composite_schedule(self, request):
        """GetCompositeSchedule: the station's own composite for an EVSE (0: the station) over
        `duration` seconds, kept in the command's response."""
        data = _parse(CompositeScheduleRequestSerializer, request)
        command = _operate(lambda: commands.get_composite_schedule(
            data["station"], data["evse_id"], data["duration"], data.get("charging_rate_unit"),
            source=_source(request)))
        return _command_response(request, _waited(command, data["wait"]))


class ProfileReportViewSet(viewsets.ReadOnlyModelViewSet):
    """GetChargingProfiles requests and the profiles stations reported for them."""

    queryset = ProfileReport.objects.select_related("station", "command")
    serializer_class = ProfileReportSerializer
    filterset_class = ProfileReportFilter


class ChargingLimitViewSet(viewsets.ReadOnlyModelViewSet):
    """External limits stations reported (NotifyChargingLimit), per EVSE and source."""

    queryset = ChargingLimit.objects.select_related("station")
    serializer_class = ChargingLimitSerializer
    filterset_class = ChargingLimitFilter


class EVChargingNeedsViewSet(viewsets.ReadOnlyModelViewSet):
    """EV charging needs (ISO 15118, NotifyEVChargingNeeds) and the CSMS's answer."""

    queryset = EVChargingNeeds.objects.select_related("station")
    serializer_class = EVChargingNeedsSerializer
    filterset_class = EVChargingNeedsFilter


class EVChargingScheduleViewSet(viewsets.ReadOnlyModelViewSet):
    """Schedules EVs chose (NotifyEVChargingSchedule)."""

    queryset = EVChargingSchedule.objects.select_related("station")
    serializer_class = EVChargingScheduleSerializer
    filterset_class = EVChargingScheduleFilter
