"""Pure metering and cost arithmetic: sampled values to base units, energy and charging time of a
transaction, its power curve, and the price of a session under a tariff."""
from dataclasses import asdict, dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

ENERGY_REGISTER = "Energy.Active.Import.Register"
ENERGY_INTERVAL = "Energy.Active.Import.Interval"
POWER_IMPORT = "Power.Active.Import"
# Unit prefixes stations use, to the factor of the base unit (kWh -> Wh x 1000).
KILO_UNITS = {"kWh": "Wh", "kW": "W", "kvarh": "varh", "kvar": "var", "kVA": "VA", "kVAh": "VAh"}
# OCPP: unitOfMeasure defaults to Wh; only meaningful for energy, so other measurands keep none.
DEFAULT_UNITS = {"Energy": "Wh", "Power": "W"}
CENT = Decimal("0.01")
FINE = Decimal("0.0001")


def default_unit(measurand):
    return DEFAULT_UNITS.get(measurand.split(".", 1)[0], "")


def normalize(raw_value, unit, multiplier=0):
    """(value in the base unit as Decimal or None, base unit) for one sampled value."""
    try:
        value = Decimal(str(raw_value).strip())
    except (InvalidOperation, ValueError):
        return None, unit
    if not value.is_finite():
        return None, unit
    value = value.scaleb(multiplier or 0)
    if unit in KILO_UNITS:
        return value * 1000, KILO_UNITS[unit]
    return value, unit


@dataclass(frozen=True)
class Reading:
    timestamp: object  # datetime
    value: Decimal


def register_readings(samples):
    """Energy register readings (Wh) from (timestamp, measurand, phase, value) tuples: the
    phase-less register, or the sum over phases per timestamp when only phases are sent."""
    overall, per_phase = [], {}
    for timestamp, measurand, phase, value in samples:
        if measurand != ENERGY_REGISTER or value is None:
            continue
        if phase:
            per_phase[timestamp] = per_phase.get(timestamp, Decimal(0)) + value
        else:
            overall.append(Reading(timestamp, value))
    if not overall:
        overall = [Reading(timestamp, value) for timestamp, value in per_phase.items()]
    return sorted(overall, key=lambda reading: (reading.timestamp, reading.value))


def energy_mode(samples):
    """Which readings a transaction's energy comes from: "registers" (phase-less register
    readings), "phases" (per-phase registers summed), "intervals", or "none" yet."""
    kinds = {(measurand, bool(phase)) for _, measurand, phase, value in samples if value is not None}
    if (ENERGY_REGISTER, False) in kinds:
        return "registers"
    if (ENERGY_REGISTER, True) in kinds:
        return "phases"
    if (ENERGY_INTERVAL, False) in kinds:
        return "intervals"
    return "none"


def energy_wh(samples):
    """Energy = last minus first register reading; else the sum of Interval values.

    Registers only count up, so at equal timestamps the lowest value is the first and the
    highest the last, whatever order the readings arrived in."""
    readings = register_readings(samples)
    if readings:
        return readings[-1].value - readings[0].value, readings[0].value, readings[-1].value
    intervals = [value for _, measurand, phase, value in samples
                 if measurand == ENERGY_INTERVAL and not phase and value is not None]
    return (sum(intervals, Decimal(0)), None, None)


def rising_time(readings, previous=None):
    """Time between consecutive register readings (in order, after `previous` if given) over
    which energy flowed: the charging time of stations that report no charging state (1.6)."""
    total = timedelta(0)
    for current in readings:
        if previous is not None and current.value > previous.value:
            total += current.timestamp - previous.timestamp
        previous = current
    return total


def charging_seconds_from_energy(samples):
    return int(rising_time(register_readings(samples)).total_seconds())


def fold_charging_states(states, closed=timedelta(0), charging_since=None):
    """Fold (timestamp, state) pairs in event order into (time of the closed Charging spells,
    start of the open one or None)."""
    for timestamp, state in states:
        if state == "Charging" and charging_since is None:
            charging_since = timestamp
        elif state != "Charging" and charging_since is not None:
            closed += max(timestamp - charging_since, timedelta(0))
            charging_since = None
    return closed, charging_since


def charging_seconds(closed, charging_since, until):
    """Seconds in chargingState Charging: the closed spells plus the open one up to `until`."""
    if charging_since is not None and until is not None:
        closed += max(until - charging_since, timedelta(0))
    return int(closed.total_seconds())


def charging_seconds_from_states(states, until):
    """Seconds spent in chargingState Charging, from (timestamp, state) pairs in event order."""
    return charging_seconds(*fold_charging_states(states), until)


def power_curve(samples):
    """[(timestamp, W)]: Power.Active.Import as sent, else derived from energy between readings."""
    overall, per_phase = {}, {}
    for timestamp, measurand, phase, value in samples:
        if measurand != POWER_IMPORT or value is None:
            continue
        if phase:
            per_phase[timestamp] = per_phase.get(timestamp, Decimal(0)) + value
        else:
            overall[timestamp] = value
    points = overall or per_phase
    if points:
        return sorted(points.items())
    readings = register_readings(samples)
    curve = []
    for previous, current in zip(readings, readings[1:]):
        hours = Decimal((current.timestamp - previous.timestamp).total_seconds()) / 3600
        if hours > 0:
            curve.append((current.timestamp, (current.value - previous.value) / hours))
    return curve


@dataclass(frozen=True)
class Cost:
    currency: str
    energy: Decimal
    time: Decimal
    session: Decimal
    idle: Decimal
    subtotal: Decimal
    vat: Decimal
    total: Decimal
    idle_minutes: Decimal

    def as_dict(self):
        return {key: (str(value) if isinstance(value, Decimal) else value)
                for key, value in asdict(self).items()}


def compute_cost(tariff, energy_wh_value, charging_seconds, duration_seconds):
    """The price of a session: energy, charging minutes, a session fee and an idle fee for the
    minutes connected without charging beyond the grace period; VAT on top, total to the cent."""
    energy = (Decimal(energy_wh_value) / 1000) * tariff.price_per_kwh
    charging_minutes = Decimal(charging_seconds) / 60
    time = charging_minutes * tariff.price_per_minute
    session = tariff.price_per_session
    idle_minutes = max(
        Decimal(max(duration_seconds - charging_seconds, 0)) / 60 - tariff.idle_grace_minutes,
        Decimal(0),
    )
    idle = idle_minutes * tariff.idle_fee_per_minute
    subtotal = energy + time + session + idle
    vat = subtotal * tariff.vat_percent / 100
    return Cost(
        currency=tariff.currency,
        energy=energy.quantize(FINE, ROUND_HALF_UP),
        time=time.quantize(FINE, ROUND_HALF_UP),
        session=session.quantize(FINE, ROUND_HALF_UP),
        idle=idle.quantize(FINE, ROUND_HALF_UP),
        subtotal=subtotal.quantize(FINE, ROUND_HALF_UP),
        vat=vat.quantize(FINE, ROUND_HALF_UP),
        total=(subtotal + vat).quantize(CENT, ROUND_HALF_UP),
        idle_minutes=idle_minutes.quantize(FINE, ROUND_HALF_UP),
    )
