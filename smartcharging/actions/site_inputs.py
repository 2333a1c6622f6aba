"""What a site's reallocation round reads: the site limit over time (in W, less the margin), its
member EVSEs, their maximums and units, and the demand of each running transaction."""
import logging
import math
from datetime import timedelta

from django.conf import settings
from django.utils.dateparse import parse_datetime

from csms.ocpp.framing import OCPP16
from devicemodel.models import (
    CONFIGURATION_COMPONENT, AttributeType, VariableAttribute, VariableCharacteristics,
)
from transactions.models import Transaction

from .. import composite
from ..allocation import Demand
from ..models import ChargingLimit, EVChargingNeeds, Site
from .profiles import station_limits

logger = logging.getLogger(__name__)
POWER_MEASURAND = "Power.Active.Import"
# The limit schedule is searched this far ahead for its next change (a weekly recurrence repeats).
HORIZON = timedelta(days=8)


def _watts(value, unit, site):
    return value if unit == Site.Unit.WATTS else value * site.voltage * site.number_phases


def _margin(site, watts):
    return max(0.0, watts * (1.0 - (site.safety_margin_percent or 0.0) / 100.0))


def _limit_schedule(site, now):
    """The site's limit as a composite schedule in W over [now, now + HORIZON)."""
    periods = [composite.Period(int(p["startPeriod"]), float(p["limit"]))
               for p in site.limit_periods]
    if site.limit_start is None:
        # No start: the schedule begins whenever it is read, so only its first period ever applies.
        periods = periods[:1]
    profile = composite.ChargingProfile(
        id=0, stack_level=0, purpose=composite.STATION_MAX,
        kind="Recurring" if site.limit_recurrency else "Absolute",
        recurrency_kind=site.limit_recurrency or None,
        schedules=[composite.ChargingSchedule(start_schedule=site.limit_start or now,
                                              duration=None, unit=site.limit_unit,
                                              periods=periods)])
    return composite.compute_composite_schedule(
        [profile], evse_id=0, window_start=now, duration=int(HORIZON.total_seconds()), unit="W",
        voltage=site.voltage, default_number_phases=site.number_phases)


def site_limit(site, now):
    """(limit W less the margin, when it next changes or None). The limit is the lowest over the
    next SMARTCHARGING_SITE_LOOKAHEAD_SECONDS, so a lower period is honoured before it begins;
    outside the schedule (before its start, after an Absolute one's last period) it is 0."""
    if not site.limit_periods:
        return 0.0, None
    try:
        schedule = _limit_schedule(site, now)
    except (ValueError, TypeError, KeyError, OverflowError) as error:
        # A schedule the API would have refused (set in the admin or the database): share nothing.
        logger.error("site %s: unusable limit schedule (%s); its limit counts as 0", site.pk, error)
        return 0.0, None
    lookahead = timedelta(seconds=settings.SMARTCHARGING_SITE_LOOKAHEAD_SECONDS)
    spans = []  # (begins, ends or None, W)
    for index, period in enumerate(schedule.periods):
        begins = schedule.schedule_start + timedelta(seconds=period.start_period)
        ends = (schedule.schedule_start + timedelta(seconds=schedule.periods[index + 1].start_period)
                if index + 1 < len(schedule.periods) else None)
        spans.append((begins, ends, 0.0 if period.limit is None else period.limit))

    def lowest_from(moment):
        return min((limit for begins, ends, limit in spans
                    if begins <= moment + lookahead and (ends is None or ends > moment)),
                   default=0.0)

    low = lowest_from(now)
    # The looked-ahead minimum can only change where a period enters the window or leaves it.
    moments = sorted({moment for begins, ends, _ in spans for moment in (begins - lookahead, ends)
                      if moment is not None and moment > now})
    next_change = next((moment for moment in moments if lowest_from(moment) != low), None)
    return _margin(site, low), next_change


def lowest_limit(site):
    """The lowest limit the schedule ever sets (W, less the margin): what the fallback must hold
    under, since stations keep it while the CSMS is away, across period changes."""
    if not site.limit_periods:
        return 0.0
    periods = site.limit_periods if site.limit_start else site.limit_periods[:1]
    try:
        return _margin(site, min(_watts(float(p["limit"]), site.limit_unit, site) for p in periods))
    except (ValueError, TypeError, KeyError):
        return 0.0


def fallback_watts(site, evse_count):
    """What each idle member EVSE may draw on its fallback TxDefaultProfile (W)."""
    even_share = lowest_limit(site) / max(evse_count, 1)
    if site.fallback_limit is not None:
        # Never more than an even share: every EVSE may fall back to it at once.
        return min(_watts(site.fallback_limit, site.limit_unit, site), even_share)
    return even_share


def member_evse_ids(station):
    """The EVSEs of a station (1.6: its connectors); one when it has reported none yet."""
    if station.ocpp_version == OCPP16:
        ids = sorted({c.connector_id for c in station.connectors.all()
                      if c.evse_id is None and c.connector_id > 0})
    else:
        ids = sorted({evse.evse_id for evse in station.evses.all() if evse.evse_id > 0})
    return ids or [1]


def evse_maximum(member, evse_id, fallback_w):
    """What one EVSE can deliver (W): the member's setting, else the device model's EVSE Power
    maxLimit (2.0.1), else the fallback."""
    if member.evse_max_power is not None:
        return float(member.evse_max_power)
    if member.station.ocpp_version != OCPP16:
        reported = VariableCharacteristics.objects.filter(
            variable__station=member.station, variable__component__name="EVSE",
            variable__component__evse_id=evse_id, variable__name="Power",
            max_limit__isnull=False).values_list("max_limit", flat=True).first()
        if reported:
            return float(reported)
    return fallback_w


def station_unit(member, limits=None):
    """A or W for the profiles of this station: the member's setting, else what the station
    says it takes (W when it takes both; `limits`: its station_limits when read already), else
    A for 1.6 (which many 1.6 stations only take) and W for 2.0.1."""
    if member.charging_rate_unit:
        return member.charging_rate_unit
    units = (limits or station_limits(member.station))["rate_unit"]
    if member.station.ocpp_version == OCPP16:
        units = _allowed_units_16(member.station) or units
    if units:
        return Site.Unit.WATTS if Site.Unit.WATTS in units else Site.Unit.AMPERES
    return Site.Unit.AMPERES if member.station.ocpp_version == OCPP16 else Site.Unit.WATTS


def _allowed_units_16(station):
    """1.6 ChargingScheduleAllowedChargingRateUnit ("Current", "Power" or both) as A/W."""
    value = VariableAttribute.objects.filter(
        variable__station=station, variable__component__name=CONFIGURATION_COMPONENT,
        variable__name="ChargingScheduleAllowedChargingRateUnit", type=AttributeType.ACTUAL,
    ).values_list("value", flat=True).first()
    words = {word.strip().lower() for word in (value or "").split(",")}
    return {unit for word, unit in (("current", "A"), ("power", "W")) if word in words} or None


def in_station_unit(watts, unit, site):
    """(limit to send, its exact W): A = W / (phases × voltage), both rounded down (0.1 A, 1 W)
    so that what the station holds is never above the share."""
    if unit == Site.Unit.AMPERES:
        amperes = math.floor(max(watts, 0.0) / (site.number_phases * site.voltage) * 10 + 1e-9) / 10
        return amperes, amperes * site.number_phases * site.voltage
    whole = float(math.floor(max(watts, 0.0) + 1e-9))
    return whole, whole


def to_watts(limit, unit, site):
    return _watts(limit, unit, site)


def running_transactions(stations):
    """{(station pk, EVSE/connector id): the running transaction there} for these stations."""
    found = {}
    rows = (Transaction.objects.filter(station__in=stations, state=Transaction.State.ACTIVE)
            .select_related("id_token").order_by("id"))
    for transaction in rows:
        place = transaction.evse_id if transaction.evse_id is not None else transaction.connector_id
        if place:
            found[(transaction.station_id, place)] = transaction  # the newest wins
    return found


def latest_ev_needs(transactions):
    """{(station pk, EVSE id): the latest NotifyEVChargingNeeds sent during that EVSE's running
    transaction} for these transactions, in one query."""
    if not transactions:
        return {}
    places = {}
    for transaction in transactions:
        place = transaction.evse_id if transaction.evse_id is not None else transaction.connector_id
        places[(transaction.station_id, place)] = (transaction.started_at
                                                   or transaction.created_at)
    since = min(places.values()) - timedelta(seconds=5)
    found = {}
    for needs in EVChargingNeeds.objects.filter(
            station_id__in={station for station, _ in places}, received_at__gte=since,
    ).order_by("-id"):
        key = (needs.station_id, needs.evse_id)
        began = places.get(key)
        if key not in found and began is not None \
                and needs.received_at >= began - timedelta(seconds=5):
            found[key] = needs
    return found


def ev_limits(needs, site):
    """(EV max W or None, EV min W) from an EV's NotifyEVChargingNeeds (or None): AC
    evMaxCurrent/evMinCurrent × phases × voltage, DC evMaxPower (else current × voltage)."""
    if needs is None:
        return None, 0.0
    charging_needs = needs.charging_needs or {}
    ac, dc = charging_needs.get("acChargingParameters"), charging_needs.get("dcChargingParameters")
    per_amp = site.number_phases * site.voltage
    if ac:
        maximum = ac.get("evMaxCurrent")
        return (None if maximum is None else float(maximum) * per_amp,
                float(ac.get("evMinCurrent") or 0) * per_amp)
    if dc:
        if dc.get("evMaxPower") is not None:
            return float(dc["evMaxPower"]), 0.0
        if dc.get("evMaxCurrent") is not None and dc.get("evMaxVoltage") is not None:
            return float(dc["evMaxCurrent"]) * float(dc["evMaxVoltage"]), 0.0
    return None, 0.0


def power_of(rows):
    """Power from readings of one instant ({phase, value}): the total if sent, else L1+L2+L3."""
    total = [float(row["value"]) for row in rows if not row["phase"]]
    if total:
        return total[-1]
    phases = [float(row["value"]) for row in rows if row["phase"] in ("L1", "L2", "L3",
                                                                        "L1-N", "L2-N", "L3-N")]
    return sum(phases) if phases else None


def _limit_in_force(schedule, began, now, site):
    """W a reported external charging schedule sets at `now` (None: none in force)."""
    start = began
    if schedule.get("startSchedule"):
        start = parse_datetime(schedule["startSchedule"]) or began
    elapsed = (now - start).total_seconds()
    if elapsed < 0 or (schedule.get("duration") is not None and elapsed >= schedule["duration"]):
        return None
    periods = [period for period in schedule.get("chargingSchedulePeriod", [])
               if period["startPeriod"] <= elapsed]
    if not periods:
        return None
    period = max(periods, key=lambda item: item["startPeriod"])
    if schedule.get("chargingRateUnit") == Site.Unit.WATTS:
        return float(period["limit"])
    phases = period.get("numberPhases") or site.number_phases
    return float(period["limit"]) * phases * site.voltage


def external_limits(running, site, now):
    """{(station pk, EVSE id): W} the stations' own external limits (NotifyChargingLimit, not
    cleared) allow the running sessions: an EVSE's own, and a station-wide one shared evenly
    between that station's running sessions. The allocator gives no EVSE more, so what a limited
    station cannot take goes to the others."""
    stations = {station_pk for station_pk, _ in running}
    if not stations:
        return {}
    sessions = {}
    for station_pk, evse_id in running:
        sessions.setdefault(station_pk, []).append(evse_id)
    caps = {}
    for limit in ChargingLimit.objects.filter(station_id__in=stations, cleared_at__isnull=True):
        watts = [value for value in (_limit_in_force(schedule, limit.notified_at, now, site)
                                     for schedule in limit.schedules or []) if value is not None]
        if not watts:
            continue
        evse_ids = sessions.get(limit.station_id, [])
        if limit.evse_id:
            targets, cap = [limit.evse_id], min(watts)
        else:
            targets, cap = evse_ids, min(watts) / max(len(evse_ids), 1)
        for evse_id in targets:
            key = (limit.station_id, evse_id)
            caps[key] = min(caps.get(key, cap), cap)
    return caps


def demand_of(row, transaction, needs, previous, site, external=None):
    """The allocator's Demand for the running transaction on an allocation row: the EVSE's
    maximum, the EV's limits (`needs`) and the station's external limit (`external`, W), the
    token's priority, the power last measured (kept on the row by the meter-value trigger) and
    `previous`, its share last round (None when new)."""
    ev_max, ev_min = ev_limits(needs, site)
    max_power = row.maximum if ev_max is None else min(row.maximum, ev_max)
    if external is not None:
        max_power = max(min(max_power, external), 0.0)
    priority = transaction.id_token.charging_priority if transaction.id_token_id else 0
    return Demand(key=row.pk, max_power=max_power, min_power=min(ev_min, max_power),
                  priority=priority, measured=row.measured, previous=previous)
