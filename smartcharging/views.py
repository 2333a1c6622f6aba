"""Dashboard pages of smart charging: the station page's panel (profiles and composite schedules as
charts, the station's own composite beside the computed one), the profile editor, and sites."""
from datetime import datetime, timedelta, timezone as dt_timezone

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Case, Count, Q, Sum, When
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from csms.models import Command
from csms.ocpp import outbound
from csms.ocpp.framing import OCPP16
from stations.models import Station

from . import actions, commands, composite
from .actions.schedules import compare_composites, computed_composite, reported_composite
from .forms import (
    MAX_SCHEDULES, ChargingProfileForm, ScheduleEditor, profile_data, schedule_editors,
)
from .models import ChargingProfile, EVChargingNeeds, EVChargingSchedule, Site, SiteAllocation

# A command's answer usually arrives within this; later ones show up on the station page.
COMMAND_WAIT_SECONDS = 1.5
# The station's own composite is worth a longer wait: the operator asked for it and is looking.
STATION_COMPOSITE_WAIT_SECONDS = 10
COMPOSITE_SECONDS = 24 * 3600
PANEL_PROFILES = 20
PANEL_EVSES = 8


def _iso(moment):
    return moment.astimezone(dt_timezone.utc).isoformat().replace("+00:00", "Z") if moment else None


def _source(request):
    return f"dashboard:{request.user.username}"


def _station_panel_url(station):
    return reverse("stations:detail", args=[station.identity]) + "#smart-charging"


# --- the station page's panel -------------------------------------------------------------------

def station_evse_ids(station, profile_evse_ids=()):
    """EVSE 0 (the station) and every EVSE (1.6: connector) the CSMS knows of or holds profiles
    for, in order."""
    # The station page prefetched these (no query then); elsewhere they are read.
    if station.ocpp_version == OCPP16:
        connectors = getattr(station, "station_connectors", None)
        known = ([connector.connector_id for connector in connectors] if connectors is not None
                 else station.connectors.values_list("connector_id", flat=True))
    else:
        known = [evse.evse_id for evse in station.evses.all()]
    ids = {0, *known, *profile_evse_ids}
    return sorted(ids)[:PANEL_EVSES + 1]


def profile_chart(profile):
    """One profile's schedules as chart input: periods in seconds from each schedule's start."""
    return {
        "id": profile.pk,
        "label": f"#{profile.charging_profile_id} {profile.purpose} level {profile.stack_level}",
        "schedules": [{
            "unit": schedule.get("chargingRateUnit"),
            "start": schedule.get("startSchedule"),
            "duration": schedule.get("duration"),
            "periods": [[period.get("startPeriod"), period.get("limit")]
                        for period in schedule.get("chargingSchedulePeriod") or []],
        } for schedule in profile.schedules if isinstance(schedule, dict)],
    }


def station_panel(station):
    """What the station page's smart-charging panel shows, with the charts' data."""
    # The live ones first, then the newest of the others; shown by EVSE.
    is_live = Case(When(state__in=ChargingProfile.LIVE_STATES, then=0), default=1)
    shown = sorted(ChargingProfile.objects.filter(station=station).select_related("transaction")
                   .order_by(is_live, "-id")[:PANEL_PROFILES],
                   key=lambda p: (p.evse_id, p.state not in ChargingProfile.LIVE_STATES, -p.pk))
    return {
        "station": station,
        "profiles": shown,
        "evse_ids": station_evse_ids(station, [profile.evse_id for profile in shown]),
        "can_send": bool(station.ocpp_version),
        "chart_data": {"profiles": [profile_chart(profile) for profile in shown]},
    }


@login_required
@require_GET
def station_composites(request, identity):
    """The computed composite of every EVSE of the station for the next 24 h (JSON), in `unit`
    (A or W; none: the station's). The panel reads it after the page loads: each EVSE costs a few
    queries the page itself should not."""
    station = get_object_or_404(Station, identity=identity)
    if not station.ocpp_version:
        return JsonResponse({"detail": f"{station.identity} has never connected; its OCPP "
                                       "version is unknown", "composites": []}, status=409)
    unit = request.GET.get("unit") or None
    if unit not in (None, "A", "W"):
        return JsonResponse({"detail": "unit must be A or W", "composites": []}, status=400)
    start = timezone.now()
    profiled = ChargingProfile.objects.filter(station=station).order_by().values_list(
        "evse_id", flat=True).distinct()
    chosen = ev_schedules(station, start)
    evse_ids = station_evse_ids(station, [*profiled, *(ev["evse_id"] for ev in chosen)])
    return JsonResponse({
        "composites": [computed_composite(station, evse_id, start, COMPOSITE_SECONDS, unit)
                       for evse_id in evse_ids],
        "ev_schedules": chosen,
        "ev_needs": ev_needs(station),
    })


def _latest_per_evse(rows):
    latest = {}
    for row in rows:  # newest first
        latest.setdefault(row.evse_id, row)
    return [latest[evse_id] for evse_id in sorted(latest)]


def ev_schedules(station, now):
    """The latest schedule each EV chose (NotifyEVChargingSchedule) in the last day, per EVSE."""
    rows = EVChargingSchedule.objects.filter(
        station=station, time_base__gte=now - timedelta(days=1)).order_by("-id")[:50]
    schedules = []
    for row in _latest_per_evse(rows):
        schedule = row.charging_schedule or {}
        schedules.append({
            "evse_id": row.evse_id, "schedule_start": _iso(row.time_base),
            "duration": schedule.get("duration"),
            "charging_rate_unit": schedule.get("chargingRateUnit"),
            "periods": [{"start_period": period.get("startPeriod", 0), "limit": period.get("limit")}
                        for period in schedule.get("chargingSchedulePeriod") or []],
        })
    return schedules


def ev_needs(station):
    """What the EV on each EVSE last asked for (NotifyEVChargingNeeds) and the answer."""
    rows = EVChargingNeeds.objects.filter(station=station).order_by("-id")[:50]
    return [{"evse_id": row.evse_id, "requested_energy_transfer": row.requested_energy_transfer,
             "departure_time": _iso(row.departure_time), "answer_status": row.answer_status,
             "received_at": _iso(row.received_at)} for row in _latest_per_evse(rows)]


@login_required
@require_POST
def station_composite(request, identity):
    """Ask the station for its composite of one EVSE (GetCompositeSchedule) and answer it beside
    the one the CSMS computes, with the stretches where they differ. JSON for the panel."""
    station = get_object_or_404(Station, identity=identity)
    try:
        evse_id = int(request.POST.get("evse_id", "0"))
        duration = int(request.POST.get("duration", COMPOSITE_SECONDS))
        if evse_id < 0 or not 0 < duration <= 7 * 24 * 3600:
            raise ValueError
    except ValueError:
        return JsonResponse({"detail": "evse_id must be ≥ 0 and duration between 1 s and 7 days"},
                            status=400)
    unit = request.POST.get("unit") or None
    if unit not in (None, "A", "W"):
        return JsonResponse({"detail": "unit must be A or W"}, status=400)
    try:
        command = commands.get_composite_schedule(station, evse_id, duration, unit,
                                                  source=_source(request))
    except commands.StationNotReady as error:
        return JsonResponse({"detail": str(error)}, status=409)
    except outbound.InvalidCommand as error:
        return JsonResponse({"detail": str(error), "errors": error.errors}, status=400)
    command = outbound.wait_for_outcome(command, STATION_COMPOSITE_WAIT_SECONDS)
    reported = None
    if command.status == Command.Status.ACCEPTED:
        reported = reported_composite(command.response, station.ocpp_version)
    # Computed for the window the station answered for, so the two line up.
    start = (datetime.fromisoformat(reported["schedule_start"].replace("Z", "+00:00"))
             if reported and reported.get("schedule_start") else timezone.now())
    computed = computed_composite(station, evse_id, start, duration,
                                  (reported or {}).get("charging_rate_unit") or unit)
    return JsonResponse({
        "evse_id": evse_id,
        "command": {"id": command.pk, "status": command.status, "response": command.response,
                    "error": " ".join(filter(None, (command.error_code,
                                                    command.error_description)))},
        "computed": computed,
        "reported": reported,
        "differences": compare_composites(computed, reported) if reported else [],
    })


# --- the profile editor ---------------------------------------------------------------------------

def _editor_page(request, station, form, schedules, reasons=(), status=200):
    errors = [*reasons, *(f"{field.label}: {error}" for field in form for error in field.errors),
              *form.non_field_errors()]
    for schedule in schedules:
        errors.extend(schedule.error_lines())
    return render(request, "smartcharging/profile_editor.html", {
        "station": station, "form": form, "schedules": schedules, "errors": errors,
        # The blank schedule the page's script copies when the operator adds one.
        "schedule_template": ScheduleEditor("__prefix__", rows=0),
        "max_schedules": 1 if station.ocpp_version == OCPP16 else MAX_SCHEDULES,
    }, status=status)


@login_required
def profile_editor(request, identity):
    station = get_object_or_404(Station, identity=identity)
    if request.method != "POST":
        form = ChargingProfileForm(initial={"evse_id": request.GET.get("evse") or 0})
        return _editor_page(request, station, form, schedule_editors())
    form, schedules = ChargingProfileForm(request.POST), schedule_editors(request.POST)
    reasons, status = [], 400
    # Every part is checked, so every error is listed at once.
    if all([form.is_valid(), *(schedule.is_valid() for schedule in schedules)]):
        try:
            profile, command = commands.set_charging_profile(
                station, profile_data(form, schedules), source=_source(request))
        except actions.InvalidProfile as error:
            reasons = error.reasons
        except commands.StationNotReady as error:
            reasons, status = [str(error)], 409
        else:
            command = outbound.wait_for_outcome(command, COMMAND_WAIT_SECONDS)
            profile.refresh_from_db()
            _tell_outcome(request, f"Profile #{profile.charging_profile_id} "
                                   f"({profile.purpose}, EVSE {profile.evse_id})", command)
            return redirect(_station_panel_url(station))
    return _editor_page(request, station, form, schedules, reasons, status)


def _tell_outcome(request, what, command):
    text = f"{what}: {command.action} #{command.pk} {command.status}"
    if command.response and "status" in command.response:
        text += f" (the station answered {command.response['status']})"
    elif command.error_code:
        text += f" ({command.error_code})"
    if not command.is_finished:
        messages.info(request, text + "; its outcome will appear on the station page")
    elif command.status == Command.Status.ACCEPTED:
        messages.success(request, text)
    else:
        messages.error(request, text)


@login_required
@require_POST
def profile_clear(request, identity, pk):
    """ClearChargingProfile of one tracked profile, by its id."""
    station = get_object_or_404(Station, identity=identity)
    profile = get_object_or_404(ChargingProfile, pk=pk, station=station)
    try:
        command = commands.clear_profile(profile, source=_source(request))
    except (actions.InvalidProfile, commands.StationNotReady, outbound.InvalidCommand) as error:
        messages.error(request, str(error))
        return redirect(_station_panel_url(station))
    command = outbound.wait_for_outcome(command, COMMAND_WAIT_SECONDS)
    if command.is_finished:
        actions.settle_clear(command)
    _tell_outcome(request, f"Clear profile #{profile.charging_profile_id}", command)
    return redirect(_station_panel_url(station))


# --- sites ----------------------------------------------------------------------------------------

def limit_schedule(site, start, duration):
    """The site's limit schedule over [start, +duration s) in W, as written (no margin, no
    look-ahead): [{start_period, limit}]. As the allocator reads it: without limit_start only
    the first period applies, and outside the schedule the limit is 0."""
    periods = site.limit_periods if site.limit_start else site.limit_periods[:1]
    try:
        schedule = composite.ChargingSchedule(
            start_schedule=site.limit_start or start, duration=None, unit=site.limit_unit,
            periods=[composite.Period(int(period["startPeriod"]), float(period["limit"]),
                                      site.number_phases) for period in periods])
        profile = composite.ChargingProfile(
            id=0, stack_level=0, purpose=composite.STATION_MAX,
            kind="Recurring" if site.limit_recurrency else "Absolute",
            recurrency_kind=site.limit_recurrency or None, schedules=[schedule])
        result = composite.compute_composite_schedule(
            [profile], evse_id=0, window_start=start, duration=duration, unit="W",
            voltage=site.voltage, default_number_phases=site.number_phases,
            tz=timezone.get_default_timezone())
    except (KeyError, TypeError, ValueError):
        return [{"start_period": 0, "limit": 0.0}]  # no usable schedule: the allocator gives 0
    return [{"start_period": period.start_period,
             "limit": 0.0 if period.limit is None else period.limit} for period in result.periods]


def _limit_now(site, now):
    return limit_schedule(site, now, 1)[0]["limit"]


@login_required
@require_GET
def site_list(request):
    now = timezone.now()
    sites = list(Site.objects.annotate(member_count=Count("members")))
    # Separate from the member count: one query joining both would multiply the sums.
    shares = {row["site"]: row for row in SiteAllocation.objects.order_by().values("site").annotate(
        sessions=Count("id", filter=Q(transaction__isnull=False)), allocated=Sum("held"))}
    for site in sites:
        site.limit_now = _limit_now(site, now)
        site.session_count = shares.get(site.pk, {}).get("sessions", 0)
        site.allocated = shares.get(site.pk, {}).get("allocated")
    return render(request, "smartcharging/site_list.html", {"sites": sites})


@login_required
@require_GET
def site_detail(request, pk):
    site = get_object_or_404(Site, pk=pk)
    now = timezone.now()
    live = actions.site_live(site)
    allocations = sorted(live["allocations"], key=lambda row: (row.station.identity, row.evse_id))
    limit = limit_schedule(site, now, COMPOSITE_SECONDS)
    members = site.members.select_related("station").order_by("station__identity")
    return render(request, "smartcharging/site_detail.html", {
        "site": site, "allocations": allocations, "members": members, "live": live,
        "limit_now": limit[0]["limit"],
        "sessions": sum(1 for allocation in allocations if allocation.transaction_id),
        "chart_data": {
            "site": site.pk,
            "limit": {"start": _iso(now), "duration": COMPOSITE_SECONDS, "periods": limit},
            "limit_now": limit[0]["limit"],
            # What the allocator shares out now: less the margin, the lowest looked ahead.
            "usable_now": live["limit"],
            "allocations": [{
                "label": f"{allocation.station.identity} / {allocation.evse_id}",
                "held": allocation.held, "target": allocation.target,
                "transaction": allocation.transaction.transaction_id
                if allocation.transaction_id else None,
            } for allocation in allocations],
        },
    })
