"""The composite schedule the CSMS computes for a station's EVSE from what it tracks (installed
profiles, external limits, the running transaction), the station's own answer, and how they differ."""
from datetime import timedelta, timezone as dt_timezone

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from transactions.actions.common import iso, parse_time

from .. import composite
from ..models import ChargingLimit, ChargingProfile, SiteMember
from .profiles import running_transaction, station_limits

State = ChargingProfile.State
# Two limits closer than this (in the compared unit) are the same: stations round.
LIMIT_TOLERANCE = 0.05


def voltage_of(station):
    """Volts for A↔W: the site's when the station is in one, else SMARTCHARGING_VOLTAGE."""
    member = SiteMember.objects.filter(station=station).select_related("site").first()
    return float(member.site.voltage) if member else float(settings.SMARTCHARGING_VOLTAGE)


def default_unit(station):
    """The unit the station takes when it names exactly one, else A."""
    units = station_limits(station)["rate_unit"]
    return next(iter(units)) if units and len(units) == 1 else "A"


def _schedule(data, fallback_start=None):
    return composite.ChargingSchedule(
        start_schedule=parse_time(data.get("startSchedule")) or fallback_start,
        duration=data.get("duration"), unit=data["chargingRateUnit"],
        min_charging_rate=data.get("minChargingRate"),
        periods=[composite.Period(period["startPeriod"], float(period["limit"]),
                                  period.get("numberPhases"), period.get("phaseToUse"))
                 for period in data["chargingSchedulePeriod"]])


def _from_profile(row):
    return composite.ChargingProfile(
        id=row.charging_profile_id, stack_level=row.stack_level, purpose=row.purpose,
        kind=row.kind, recurrency_kind=row.recurrency_kind or None, valid_from=row.valid_from,
        valid_to=row.valid_to,
        transaction_id=row.transaction.transaction_id if row.transaction_id else None,
        schedules=[_schedule(row.schedules[0])], evse_id=row.evse_id)


def _from_limit(row):
    """An external limit as a ChargingStationExternalConstraints profile; a schedule without
    startSchedule runs from when the station notified it."""
    return composite.ChargingProfile(
        id=-row.pk, stack_level=0, purpose=composite.EXTERNAL, kind="Absolute",
        schedules=[_schedule(row.schedules[0], fallback_start=row.notified_at)],
        evse_id=row.evse_id or 0)


def computed_composite(station, evse_id, start=None, duration=86400, unit=None, purposes=None):
    """The composite schedule of `evse_id` (0: the station) over [start, start + duration s) from
    the profiles the CSMS knows installed (pending ones are listed, not applied: the station has
    not taken them yet), the external limits not cleared and the running transaction. JSON-ready.
    `purposes`: only profiles of these purposes (default: all)."""
    start = (start or timezone.now()).astimezone(dt_timezone.utc).replace(microsecond=0)
    unit = unit or default_unit(station)
    voltage = voltage_of(station)
    evses = {0, evse_id}
    installed = ChargingProfile.objects.filter(
        station=station, state=State.INSTALLED, evse_id__in=evses).select_related("transaction")
    if purposes is not None:
        installed = installed.filter(purpose__in=purposes)
    installed = list(installed)
    pending = list(ChargingProfile.objects.filter(
        station=station, state=State.PENDING, evse_id__in=evses).values_list("pk", flat=True))
    # A limit without an EVSE (or on EVSE 0) is the station's; an EVSE's own applies to it only.
    limits = list(ChargingLimit.objects.filter(station=station, cleared_at__isnull=True).filter(
        Q(evse_id__isnull=True) | Q(evse_id__in=evses)))
    transaction = running_transaction(station, evse_id) if evse_id else None
    inputs, used, used_limits, skipped = [], [], [], []
    for rows, convert, kept in ((installed, _from_profile, used), (limits, _from_limit, used_limits)):
        for row in rows:
            if not row.schedules:
                continue  # NotifyChargingLimit without a schedule: a notice, no limit to apply
            try:
                inputs.append(convert(row))
                kept.append(row.pk)
            except (KeyError, IndexError, TypeError, ValueError) as error:
                # What a station reported may break the rules; show it, do not fail on it.
                skipped.append({"kind": "profile" if convert is _from_profile else "charging_limit",
                                "id": row.pk, "reason": str(error) or type(error).__name__})
    result = composite.compute_composite_schedule(
        inputs, evse_id=evse_id, window_start=start, duration=duration, unit=unit,
        transaction_id=transaction.transaction_id if transaction else None,
        transaction_start=transaction.started_at if transaction else None, voltage=voltage,
        tz=timezone.get_default_timezone())
    return {
        "identity": station.identity,
        "evse_id": evse_id,
        "schedule_start": iso(start),
        "duration": duration,
        "charging_rate_unit": unit,
        "voltage": voltage,
        "transaction": {"transaction_id": transaction.transaction_id,
                        "started_at": iso(transaction.started_at) if transaction.started_at
                        else None} if transaction else None,
        "periods": [{"start_period": period.start_period, "limit": period.limit,
                     "number_phases": period.number_phases,
                     "min_charging_rate": period.min_charging_rate}
                    for period in result.periods],
        "profiles": sorted(used),
        "pending_profiles": sorted(pending),
        "charging_limits": sorted(used_limits),
        "skipped": skipped,
    }


def reported_composite(response, ocpp_version):
    """The station's GetCompositeSchedule answer in computed_composite's terms (None when it gave
    no schedule): 2.0.1 `schedule`, 1.6 `chargingSchedule` + `scheduleStart`."""
    response = response or {}
    if ocpp_version == "1.6":
        schedule = response.get("chargingSchedule")
        if not schedule:
            return None
        started = response.get("scheduleStart") or schedule.get("startSchedule")
        evse_id = response.get("connectorId")
    else:
        schedule = response.get("schedule")
        if not schedule:
            return None
        started = schedule.get("scheduleStart")
        evse_id = schedule.get("evseId")
    started = parse_time(started)
    return {
        "evse_id": evse_id,
        "schedule_start": iso(started) if started else None,
        "duration": schedule.get("duration"),
        "charging_rate_unit": schedule.get("chargingRateUnit"),
        "periods": [{"start_period": period.get("startPeriod", 0), "limit": period.get("limit"),
                     "number_phases": period.get("numberPhases"), "min_charging_rate": None}
                    for period in schedule.get("chargingSchedulePeriod") or []],
    }


def _steps(schedule, unit, voltage):
    """[(start, end, limit in `unit`)] of a composite dict, in absolute time."""
    started = parse_time(schedule["schedule_start"])
    periods = sorted(schedule["periods"], key=lambda period: period["start_period"])
    window_end = started + timedelta(seconds=schedule["duration"]) if schedule.get("duration") \
        else None
    steps = []
    for index, period in enumerate(periods):
        begin = started + timedelta(seconds=period["start_period"])
        end = started + timedelta(seconds=periods[index + 1]["start_period"]) \
            if index + 1 < len(periods) else window_end
        limit = period["limit"]
        if limit is not None and schedule["charging_rate_unit"] != unit:
            phases = period.get("number_phases") or composite.DEFAULT_NUMBER_PHASES
            limit = composite._to_unit(limit, schedule["charging_rate_unit"], unit, voltage, phases)
        steps.append((begin, end, limit))
    return steps


def _limit_at(steps, instant):
    for begin, end, limit in steps:
        if begin <= instant and (end is None or instant < end):
            return True, limit
    return False, None


def _same(a, b):
    if a is None or b is None:
        return a is b
    # Stations round limits (and W↔A conversions): within 0.05 or 0.1 % is the same.
    return abs(a - b) <= max(LIMIT_TOLERANCE, 0.001 * max(abs(a), abs(b)))


def compare_composites(computed, reported):
    """The stretches where the two composites' limits differ, both in the computed one's unit,
    over the time both cover: [{start, end, start_period, end_period (s from the computed start),
    computed_limit, reported_limit}]. None limits mean unlimited."""
    if not reported or not reported.get("schedule_start") or not reported.get("charging_rate_unit"):
        return []
    unit, voltage = computed["charging_rate_unit"], computed.get("voltage") or \
        float(settings.SMARTCHARGING_VOLTAGE)
    ours, theirs = _steps(computed, unit, voltage), _steps(reported, unit, voltage)
    origin = parse_time(computed["schedule_start"])
    edges = sorted({moment for steps in (ours, theirs) for begin, end, _ in steps
                    for moment in (begin, end) if moment is not None})
    differences = []
    for begin, end in zip(edges, edges[1:]):
        known_ours, mine = _limit_at(ours, begin)
        known_theirs, station_limit = _limit_at(theirs, begin)
        if not (known_ours and known_theirs) or _same(mine, station_limit):
            continue
        last = differences[-1] if differences else None
        if last and last["end"] == iso(begin) and last["computed_limit"] == mine \
                and last["reported_limit"] == station_limit:
            last["end"] = iso(end)
            last["end_period"] = int((end - origin).total_seconds())
            continue
        differences.append({
            "start": iso(begin), "end": iso(end),
            "start_period": int((begin - origin).total_seconds()),
            "end_period": int((end - origin).total_seconds()),
            "computed_limit": mine, "reported_limit": station_limit,
        })
    return differences
