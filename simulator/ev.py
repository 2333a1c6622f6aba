"""The car behind a simulated EVSE: its own maximum power and, for an ISO 15118 car on a 2.0.1
station, the charging needs it reports and the schedule it picks from the profile it is given."""

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .charging import in_unit, iso

AC_VOLTAGE_MAX = 400
DC_VOLTAGE_MAX = 800
EV_MIN_CURRENT = 6  # A per phase: IEC 61851 lowest charging current


@dataclass
class EV:
    """max_power_w: what the car takes at most (None: 40-100 % of the charger's rating);
    iso15118: it talks to the station (2.0.1 NotifyEVChargingNeeds/Schedule);
    energy_transfer: AC_three_phase or DC; max_schedule_tuples: periods it accepts."""

    max_power_w: float | None = None
    iso15118: bool = False
    energy_transfer: str = "AC_three_phase"
    max_schedule_tuples: int = 12


def charging_needs(evse_id, ev_max_w, duration_s, energy_transfer, max_schedule_tuples):
    """The NotifyEVChargingNeeds request of a car that wants to charge for `duration_s`."""
    energy_wh = int(ev_max_w * duration_s / 3600) or 1
    needs = {
        "requestedEnergyTransfer": energy_transfer,
        "departureTime": iso(datetime.now(UTC) + timedelta(seconds=duration_s)),
    }
    if energy_transfer == "DC":
        needs["dcChargingParameters"] = {
            "evMaxCurrent": max(1, int(ev_max_w / DC_VOLTAGE_MAX)),
            "evMaxVoltage": DC_VOLTAGE_MAX,
            "evMaxPower": int(ev_max_w),
            "energyAmount": energy_wh,
        }
    else:
        needs["acChargingParameters"] = {
            "energyAmount": energy_wh,
            "evMinCurrent": EV_MIN_CURRENT,
            "evMaxCurrent": max(EV_MIN_CURRENT, int(in_unit(ev_max_w, "A"))),
            "evMaxVoltage": AC_VOLTAGE_MAX,
        }
    return {"evseId": evse_id, "maxScheduleTuples": max_schedule_tuples, "chargingNeeds": needs}


def pick_schedule(composite_periods, unit, ev_max_w, duration_s, max_tuples, schedule_id=1):
    """The schedule the car chooses: the EVSE's composite (what the profiles allow, periods of
    {startPeriod, limit, numberPhases?} in `unit`) capped by its own maximum, in at most
    `max_tuples` periods (neighbours merged at the lower limit, so it stays within the profile)."""
    periods = []
    for period in composite_periods:
        own_max = in_unit(ev_max_w, unit, period.get("numberPhases"))
        limit = math.floor(min(period["limit"], own_max) * 10) / 10
        if periods and periods[-1]["limit"] == limit:
            continue
        periods.append({"startPeriod": period["startPeriod"], "limit": limit})
    while len(periods) > max(1, max_tuples):
        # Merge the pair whose limits differ least; the merged period takes the lower limit.
        index = min(range(len(periods) - 1), key=lambda i: abs(periods[i]["limit"] - periods[i + 1]["limit"]))
        periods[index] = {"startPeriod": periods[index]["startPeriod"],
                          "limit": min(periods[index]["limit"], periods[index + 1]["limit"])}
        del periods[index + 1]
    return {"id": schedule_id, "chargingRateUnit": unit, "duration": int(duration_s), "chargingSchedulePeriod": periods}
