"""EV charging needs (ISO 15118, K15–K17): the answer, the signal, and for a station in no site a
TxProfile fitted to the EV's maximum within the EVSE's other limits, until its departure."""
import logging
import math

from django.db import transaction as db_transaction
from django.utils import timezone

from transactions.actions.common import iso
from transactions.models import Transaction

from ..models import ChargingProfile, EVChargingNeeds, SiteMember
from ..signals import ev_charging_needs_received
from .profiles import InvalidProfile, station_limits
from .schedules import computed_composite, default_unit

logger = logging.getLogger(__name__)
# The command source of the profiles fitted here: it shows in the command log.
EV_NEEDS_SOURCE = "ev-charging-needs"
# Without a departure time the fitted schedule looks this far ahead (its last period then holds).
HORIZON_SECONDS = 86400
PHASES = {"AC_single_phase": 1, "AC_two_phase": 2, "AC_three_phase": 3}
Purpose = ChargingProfile.Purpose
# What a TxProfile cannot override: the caps the fitted limit stays under (1.6 §3.13.3).
CAP_PURPOSES = (Purpose.CHARGING_STATION_MAX, Purpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS)


def _rejected(reason_code, info):
    return {"status": "Rejected", "statusInfo": {"reasonCode": reason_code, "additionalInfo": info}}


def answer_for(station_pk, evse_id, charging_needs):
    """Accepted when a schedule will follow: from the site allocator for a site member, else
    fitted here for the transaction running on that EVSE."""
    if SiteMember.objects.filter(station_id=station_pk).exists():
        return {"status": "Accepted"}
    if not (charging_needs.get("acChargingParameters") or charging_needs.get("dcChargingParameters")):
        return _rejected("NoEVParameters", "The needs name no AC or DC charging parameters to fit")
    if _running(station_pk, evse_id) is None:
        return _rejected("NoChargingProfile",
                         f"No transaction runs on EVSE {evse_id}: no TxProfile to send")
    return {"status": "Accepted"}


def _running(station_pk, evse_id):
    return Transaction.objects.filter(station_id=station_pk, evse_id=evse_id,
                                      state=Transaction.State.ACTIVE).order_by("-id").first()


def needs_recorded(row, answer):
    """Once stored: tell who listens (load management), and fit a profile when this CSMS will."""
    db_transaction.on_commit(lambda: ev_charging_needs_received.send(
        sender=row, needs=row))
    if answer["status"] == "Accepted" and not SiteMember.objects.filter(
            station_id=row.station_id).exists():
        db_transaction.on_commit(lambda: _fit_later(row.pk))


def _fit_later(needs_pk):
    from ..tasks import fit_ev_charging_needs

    try:
        fit_ev_charging_needs.delay(needs_pk)
    except Exception:
        logger.exception("no TxProfile fitted for EV charging needs %s", needs_pk)


def ev_maximum(charging_needs, unit, voltage):
    """The EV's maximum in `unit`: AC evMaxCurrent per phase (W with the phases it asks for), DC
    evMaxPower (or evMaxCurrent × evMaxVoltage; A: evMaxCurrent)."""
    ac = charging_needs.get("acChargingParameters")
    if ac:
        phases = PHASES.get(charging_needs["requestedEnergyTransfer"], 3)
        return float(ac["evMaxCurrent"]) if unit == "A" else \
            float(ac["evMaxCurrent"]) * voltage * phases
    dc = charging_needs.get("dcChargingParameters") or {}
    if unit == "A":
        return float(dc["evMaxCurrent"])
    return float(dc.get("evMaxPower") or dc["evMaxCurrent"] * dc["evMaxVoltage"])


def fewest_periods(periods, end, max_count):
    """At most `max_count` [start, limit] periods, merging the neighbours that give up least
    (limit difference × time); a merge keeps the lower limit, so no cap is ever exceeded."""
    periods = [list(period) for period in periods]
    while len(periods) > max(1, max_count):
        best, best_loss = None, None
        for index in range(len(periods) - 1):
            (start, limit), (next_start, next_limit) = periods[index], periods[index + 1]
            after = periods[index + 2][0] if index + 2 < len(periods) else end
            higher = (next_start - start) if limit > next_limit else (after - next_start)
            loss = abs(limit - next_limit) * higher
            if best_loss is None or loss < best_loss:
                best, best_loss = index, loss
        periods[best][1] = min(periods[best][1], periods[best + 1][1])
        del periods[best + 1]
    return [tuple(period) for period in periods]


def fitted_profile(needs, station, now=None):
    """The profile data (create_profile's fields) that gives the EV min(its maximum, the caps of
    the EVSE) from now until departure, in the station's unit and its number of periods."""
    now = (now or timezone.now()).replace(microsecond=0)
    unit = default_unit(station)
    departure = needs.departure_time
    duration = int((departure - now).total_seconds()) if departure and departure > now else None
    caps = computed_composite(station, needs.evse_id, now, duration or HORIZON_SECONDS, unit,
                              purposes=CAP_PURPOSES)
    ev_max = ev_maximum(needs.charging_needs, unit, caps["voltage"])
    periods = []
    for period in caps["periods"]:
        cap = period["limit"]
        # 2.0.1 limits are multiples of 0.1: round down, never above the cap.
        limit = math.floor((ev_max if cap is None else min(ev_max, cap)) * 10) / 10
        if not periods or periods[-1][1] != limit:
            periods.append((period["start_period"], limit))
    counts = [count for count in (needs.max_schedule_tuples, station_limits(station)["periods"])
              if count]
    periods = fewest_periods(periods, caps["duration"], min(counts) if counts else len(periods))
    phases = PHASES.get(needs.requested_energy_transfer)
    schedule = {"startSchedule": iso(now), "chargingRateUnit": unit, "chargingSchedulePeriod": [
        {"startPeriod": start, "limit": limit, **({"numberPhases": phases} if phases else {})}
        for start, limit in periods]}
    if duration:
        schedule["duration"] = duration
    # Take the place of this EVSE's TxProfile with the highest stackLevel (it replaces it).
    levels = ChargingProfile.objects.filter(
        station=station, evse_id=needs.evse_id, purpose=Purpose.TX,
        state__in=ChargingProfile.LIVE_STATES).values_list("stack_level", flat=True)
    return {"evse_id": needs.evse_id, "stack_level": max(levels, default=0), "purpose": Purpose.TX,
            "kind": ChargingProfile.Kind.ABSOLUTE, "schedules": [schedule]}


def fit(needs_pk):
    """Send the fitted TxProfile for the needs' transaction: (profile, command), or None."""
    from ..commands import set_charging_profile

    needs = EVChargingNeeds.objects.select_related("station").filter(pk=needs_pk).first()
    if needs is None or _running(needs.station_id, needs.evse_id) is None:
        return None
    if SiteMember.objects.filter(station_id=needs.station_id).exists():
        return None  # joined a site meanwhile: the allocator fits it
    try:
        return set_charging_profile(needs.station, fitted_profile(needs, needs.station),
                                    source=EV_NEEDS_SOURCE)
    except InvalidProfile as error:
        logger.warning("no TxProfile for EV charging needs %s: %s", needs_pk, error)
        return None
