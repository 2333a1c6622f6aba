"""Site load allocation: share a site's power budget (W) between its running transactions.
Pure: no Django, no ORM, no I/O; the caller reads the database and sends the profiles.

The rules, which are the product's promise:

1. **Never above the budget.** The shares always sum to at most `budget`, float rounding
   included: every share is a whole multiple of `resolution` (1 W by default), budgets are rounded
   down and minimums up to that grid. A budget ≤ 0 (or NaN) gives every demand 0.
2. **0 or within [min_power, max_power].** A demand never gets a share below its minimum
   (minChargingRate) or above its maximum. One whose minimum exceeds its maximum, or whose maximum
   is ≤ 0 or NaN, gets 0. An infinite maximum means "no limit of its own".
   (Caller errors raise ValueError: a key given twice, an infinite budget, a bad option.)
3. **Minimums first.** In priority order (highest first, ties by the order given), each demand
   whose minimum still fits in what is left gets it; one whose minimum does not fit is paused
   (0) — a later, smaller minimum may still fit.
4. **Then strict priority tiers, fair within a tier.** What is left goes to the highest priority
   first, and within a priority by water-filling: everyone rises to the same level, each stopped
   at its maximum, one held at a minimum above the level keeps its minimum, and what a capped
   demand leaves goes to the others. Units left over by the grid go one each, in the order given,
   so two uncapped demands of a tier differ by at most one `resolution` step.
5. **Unused allocation is handed on.** A demand whose `measured` draw is below
   `reclaim_ratio` × its `previous` share (0.9 by default) is capped at measured +
   `ramp_headroom` (1,000 W by default; never below its minimum). An EV that takes less than it
   was given frees the rest for the others this round, and can still rise by the headroom by
   the next; once it draws close to its share again (≥ the ratio) the cap is gone. Pass
   `measured` only once the EV has had time to take its last share (not in a session's first
   seconds, nor just after a raise), or a slow ramp is read as unused allocation.
6. **Deterministic.** The same input, in the same order, always gives the same output.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Hashable, Iterable

DEFAULT_RESOLUTION = 1.0  # W
DEFAULT_RECLAIM_RATIO = 0.9
DEFAULT_RAMP_HEADROOM = 1000.0  # W


@dataclass(frozen=True)
class Demand:
    key: Hashable                  # the caller's id for this EVSE/transaction
    max_power: float               # the most it can take now (EVSE rating, EV maximum, other limits)
    min_power: float = 0.0         # minChargingRate: it gets 0 or at least this
    priority: int = 0              # higher is served first (token/transaction charging priority)
    measured: float | None = None  # W it draws now (Power.Active.Import), if known
    previous: float | None = None  # W it was allocated last round, if any


# Why a share is what it is (see `explain`).
NO_BUDGET = "no budget"
INVALID = "max power ≤ 0 or below min power"
PAUSED = "paused: its minimum does not fit in what is left"
AT_MAXIMUM = "at its maximum"
AT_RECLAIM_CAP = "capped at measured + headroom (draws less than it was given)"
NOTHING_LEFT = "at its minimum: nothing left for its priority"
MINIMUM_ABOVE_SHARE = "at its minimum, which is above its tier's fair share"
FAIR_SHARE = "fair share of its priority tier"


@dataclass(frozen=True)
class Share:
    power: float        # W allocated
    cap: float          # W it could have taken: max_power, or lower when reclaimed
    reason: str         # one of the reasons above


@dataclass
class _Entry:
    demand: Demand
    order: int
    low: int = 0        # minimum in grid units (rounded up)
    high: int = 0       # cap in grid units (rounded down)
    units: int = 0      # share in grid units
    reclaimed: bool = False
    reason: str = ""


def allocate(budget: float, demands: Iterable[Demand], **options) -> dict[Hashable, float]:
    """Share `budget` W between the demands; returns a share for every key.

    Options: `resolution` (W, > 0), `reclaim_ratio` (0 turns reclaiming off), `ramp_headroom` (W).
    """
    return {key: share.power for key, share in explain(budget, demands, **options).items()}


def explain(budget: float, demands: Iterable[Demand], *, resolution: float = DEFAULT_RESOLUTION,
            reclaim_ratio: float = DEFAULT_RECLAIM_RATIO,
            ramp_headroom: float = DEFAULT_RAMP_HEADROOM) -> dict[Hashable, Share]:
    """The same allocation as `allocate`, with each share's cap and the reason for its value."""
    if not resolution > 0 or not math.isfinite(resolution):
        raise ValueError("resolution must be a positive number of W")
    if budget == math.inf:
        raise ValueError("budget must be a finite number of W")
    if not reclaim_ratio >= 0 or not ramp_headroom >= 0:
        raise ValueError("reclaim_ratio and ramp_headroom must be ≥ 0")
    entries = _entries(demands)
    budget_units = _floor_units(budget, resolution) if budget > 0 else 0  # NaN > 0 is False
    active = []
    for entry in entries:
        if budget_units <= 0:
            entry.reason = NO_BUDGET
            continue
        _bound(entry, budget_units, resolution, reclaim_ratio, ramp_headroom)
        if entry.high <= 0 or entry.low > entry.high:
            entry.reason = INVALID
        else:
            active.append(entry)
    left = _grant_minimums(active, budget_units)
    _fill_tiers(active, left)
    _stay_within(entries, budget, resolution)
    return {entry.demand.key: Share(entry.units * resolution, _cap(entry, resolution),
                                    entry.reason) for entry in entries}


def _entries(demands):
    entries, keys = [], set()
    for order, demand in enumerate(demands):
        if demand.key in keys:
            raise ValueError(f"demand key {demand.key!r} given twice")
        keys.add(demand.key)
        entries.append(_Entry(demand, order))
    return entries


def _known(value):
    return value is not None and not math.isnan(value)


def _bound(entry, budget_units, resolution, reclaim_ratio, ramp_headroom):
    """The entry's minimum and cap in grid units; no cap above the budget (it could not be used)."""
    demand = entry.demand
    minimum = demand.min_power if _known(demand.min_power) and demand.min_power > 0 else 0.0
    maximum = demand.max_power if _known(demand.max_power) else 0.0
    if (_known(demand.measured) and _known(demand.previous) and demand.previous > 0
            and demand.measured < reclaim_ratio * demand.previous):
        reclaim_cap = max(demand.measured, 0.0) + ramp_headroom
        if reclaim_cap < maximum:
            # Never below its minimum: a paused-by-reclaim EV could not start drawing again.
            maximum = min(maximum, max(reclaim_cap, minimum))
            entry.reclaimed = True
    if minimum == math.inf:
        entry.low, entry.high = 1, 0  # no maximum reaches it
        return
    entry.low = _ceil_units(minimum, resolution)
    entry.high = min(_floor_units(maximum, resolution), budget_units) if maximum > 0 else 0


def _floor_units(watts, resolution):
    if watts == math.inf:
        return math.inf
    units = math.floor(watts / resolution)
    # The division may be off by an ulp either way: settle on the grid.
    while units * resolution > watts:
        units -= 1
    while (units + 1) * resolution <= watts:
        units += 1
    return units


def _ceil_units(watts, resolution):
    units = math.ceil(watts / resolution)
    while units * resolution < watts:
        units += 1
    while units > 0 and (units - 1) * resolution >= watts:
        units -= 1
    return units


def _priority_order(entries):
    return sorted(entries, key=lambda entry: (-entry.demand.priority, entry.order))


def _grant_minimums(active, budget_units):
    """Rule 3; pauses (removes from `active`) the demands whose minimum does not fit."""
    left = budget_units
    for entry in _priority_order(active):
        if entry.low <= left:
            entry.units = entry.low
            left -= entry.low
        else:
            entry.reason = PAUSED
    active[:] = [entry for entry in active if entry.reason != PAUSED]
    return left


def _fill_tiers(active, left):
    """Rule 4: strict priority tiers, water-filling within each."""
    tiers = {}
    for entry in active:
        tiers.setdefault(entry.demand.priority, []).append(entry)
    for priority in sorted(tiers, reverse=True):
        tier = tiers[priority]
        level = _water_fill(tier, left) if left > 0 else None
        for entry in tier:
            left -= entry.units - entry.low
            if entry.units == entry.high:
                entry.reason = AT_RECLAIM_CAP if entry.reclaimed else AT_MAXIMUM
            elif level is None:
                entry.reason = NOTHING_LEFT
            elif entry.units == entry.low and entry.low > level:
                entry.reason = MINIMUM_ABOVE_SHARE
            else:
                entry.reason = FAIR_SHARE


def _water_fill(tier, left):
    """Raise the tier (whose minimums are granted) towards a common level with up to `left` more
    units; returns that level (None when every one reached its cap)."""
    granted = sum(entry.units for entry in tier)
    wanted = sum(entry.high for entry in tier)
    if wanted - granted <= left:
        for entry in tier:
            entry.units = entry.high
        return None
    target = granted + left
    level = _level(tier, target)
    for entry in tier:
        entry.units = min(max(level, entry.low), entry.high)
    spare = target - sum(entry.units for entry in tier)
    # The grid's remainder, one unit each in the order given (deterministic).
    for entry in sorted(tier, key=lambda entry: entry.order):
        if spare == 0:
            break
        if entry.low <= level < entry.high:
            entry.units += 1
            spare -= 1
    return level


def _level(tier, target):
    """The highest integer level L with sum(clamp(L, low, high)) ≤ target, walking the sorted
    breakpoints of that piecewise-linear sum: O(n log n)."""
    changes = {}
    for entry in tier:
        changes[entry.low] = changes.get(entry.low, 0) + 1
        changes[entry.high] = changes.get(entry.high, 0) - 1
    points = sorted(changes)
    level = points[0]
    total = sum(entry.low for entry in tier)  # the sum at the lowest minimum: every one at low
    rising = 0                                 # how many rise with the level
    for point, following in zip(points, points[1:] + [None]):
        rising += changes[point]
        level = point
        if following is None or rising <= 0:
            if following is None:
                break
            continue
        step_total = total + rising * (following - point)
        if step_total > target:
            return point + (target - total) // rising
        total = step_total
    return level


def _stay_within(entries, budget, resolution):
    """Rule 1 against float sums: with a fractional resolution, n × step can round past the
    budget by an ulp; take units off the last served until the sum is within it."""
    def over():
        shares = [entry.units * resolution for entry in entries]
        return max(math.fsum(shares), sum(shares)) > budget and any(shares)

    served = [entry for entry in _priority_order(entries) if entry.units > 0]
    while served and over():
        entry = served[-1]
        entry.units -= 1
        if entry.units < entry.low or entry.units == 0:
            entry.units = 0
            entry.reason = PAUSED
            served.pop()


def _cap(entry, resolution):
    if entry.high == math.inf:
        return math.inf
    return entry.high * resolution
