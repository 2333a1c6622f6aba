"""The transaction page's energy and power over time, as chart data the browser draws (Chart.js,
vendored in static/vendor/); the meter-values table below the chart is its no-JS version."""
from . import metering


def _ms(moment):
    return int(moment.timestamp() * 1000)


def energy_and_power(transaction):
    """{'energy': [[epoch ms, kWh since the first reading]], 'power': [[epoch ms, kW]], 'max_kwh',
    'max_kw', 'start', 'end'} or None before any reading."""
    samples = list(transaction.meter_values.values_list("timestamp", "measurand", "phase", "value"))
    readings = metering.register_readings(samples)
    curve = metering.power_curve(samples)
    times = [reading.timestamp for reading in readings] + [t for t, _ in curve]
    if not times:
        return None
    base = readings[0].value if readings else 0
    energy = [[_ms(r.timestamp), round(float(r.value - base) / 1000, 4)] for r in readings]
    power = [[_ms(timestamp), round(float(value) / 1000, 4)] for timestamp, value in curve]
    return {
        "energy": energy, "power": power,
        "max_kwh": max((value for _, value in energy), default=0),
        "max_kw": max((value for _, value in power), default=0),
        "start": min(times), "end": max(times),
    }
