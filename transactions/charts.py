"""Server-drawn SVG polylines for the transaction page (no chart library, no network)."""
from . import metering

WIDTH, HEIGHT = 600, 180


def _polyline(points, start, span, top):
    if not points or span <= 0 or top <= 0:
        return ""
    coordinates = []
    for timestamp, value in points:
        x = (timestamp - start).total_seconds() / span * WIDTH
        y = HEIGHT - float(value) / top * HEIGHT
        coordinates.append(f"{x:.1f},{y:.1f}")
    return " ".join(coordinates)


def energy_and_power(transaction):
    """{'energy': points, 'power': points, 'max_kwh', 'max_kw'} scaled to the SVG viewBox."""
    samples = list(transaction.meter_values.values_list("timestamp", "measurand", "phase", "value"))
    readings = metering.register_readings(samples)
    curve = metering.power_curve(samples)
    times = [reading.timestamp for reading in readings] + [t for t, _ in curve]
    if not times:
        return None
    start, end = min(times), max(times)
    span = (end - start).total_seconds()
    base = readings[0].value if readings else 0
    energy = [(r.timestamp, r.value - base) for r in readings]
    top_energy = max((float(v) for _, v in energy), default=0)
    top_power = max((float(v) for _, v in curve), default=0)
    return {
        "width": WIDTH, "height": HEIGHT,
        "energy": _polyline(energy, start, span, top_energy),
        "power": _polyline(curve, start, span, top_power),
        "max_kwh": top_energy / 1000, "max_kw": top_power / 1000,
        "start": start, "end": end,
    }
