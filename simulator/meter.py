"""An energy meter and the power curve of a car charging behind it."""

import time
from dataclasses import dataclass

NOMINAL_VOLTAGE = 230.0


def amps_to_watts(limit, phases=3):
    return limit * NOMINAL_VOLTAGE * (phases or 3)


@dataclass
class PowerCurve:
    """A car's draw over a session: ramps up, holds, then tapers as the battery fills (CC-CV)."""

    peak_w: float
    duration_s: float
    ramp_s: float = 5.0

    def power_at(self, elapsed):
        elapsed = max(elapsed, 1e-3)  # plugged in: the car draws from the first instant
        ramp = min(self.ramp_s, self.duration_s * 0.1) or 1e-9
        if elapsed < ramp:
            return self.peak_w * (0.2 + 0.8 * elapsed / ramp)
        taper_from = self.duration_s * 0.8
        if elapsed > taper_from and self.duration_s > taper_from:
            left = max(0.0, 1 - (elapsed - taper_from) / (self.duration_s - taper_from))
            return self.peak_w * (0.4 + 0.6 * left)
        return self.peak_w


class Meter:
    """A cumulative energy register (Wh) integrated from the power drawn over time."""

    def __init__(self, register_wh=0.0, clock=time.monotonic):
        self.register_wh = float(register_wh)
        self.power_w = 0.0
        self._clock = clock
        self._last = clock()

    def reading_wh(self):
        """The register as the meter shows it: whole Wh (what the station reports)."""
        return int(self.register_wh)

    def advance(self, power_w):
        """Account the energy drawn since the last call at the power drawn then, and switch: the
        power holds between two calls, so the register never shows more than was allowed."""
        now = self._clock()
        elapsed = now - self._last
        self._last = now
        self.register_wh += self.power_w * elapsed / 3600.0
        self.power_w = power_w
        return self.reading_wh()
