"""Properties of the site load allocator over random sites (hypothesis, derandomized): never above
the budget, 0 or within [min, max], strict priority, fair within a tier, monotone in the budget,
and equal to the rules played out one grid step at a time."""
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from smartcharging.allocation import DEFAULT_RAMP_HEADROOM, DEFAULT_RECLAIM_RATIO, Demand, allocate

# Whole watts, the default resolution; a step of the grid is the rounding allowed.
STEP = 1.0
EXAMPLES = settings(max_examples=100, deadline=None, derandomize=True)

watts = st.one_of(st.integers(min_value=0, max_value=44000).map(float),
                  st.floats(min_value=0, max_value=44000, allow_nan=False))


@st.composite
def demand_lists(draw):
    count = draw(st.integers(min_value=0, max_value=12))
    demands = []
    for index in range(count):
        max_power = draw(st.one_of(watts, watts, watts, st.sampled_from([math.inf, -500.0])))
        min_power = draw(st.one_of(st.just(0.0), st.integers(min_value=0, max_value=12000).map(float),
                                   watts))
        previous = draw(st.one_of(st.none(), watts))
        measured = draw(st.one_of(st.none(), watts))
        demands.append(Demand(f"evse-{index}", max_power, min_power,
                              draw(st.integers(min_value=0, max_value=3)), measured, previous))
    return demands


budgets = st.one_of(st.floats(min_value=-1000, max_value=250000, allow_nan=False),
                    st.integers(min_value=0, max_value=120000).map(float))


def bounds(demand, budget):
    """(lowest share, highest share) on the grid if it can be served at all, else None; written
    from the documented rules, not from the module's code."""
    whole_budget = math.floor(budget) if budget > 0 else 0
    cap = demand.max_power
    if (demand.measured is not None and demand.previous is not None and demand.previous > 0
            and demand.measured < DEFAULT_RECLAIM_RATIO * demand.previous):
        cap = min(cap, max(demand.measured + DEFAULT_RAMP_HEADROOM, demand.min_power))
    low = math.ceil(demand.min_power)
    high = min(math.floor(cap) if cap != math.inf else whole_budget, whole_budget)
    return (low, high) if high > 0 and low <= high else None


def served_order(demands):
    return sorted(range(len(demands)), key=lambda index: (-demands[index].priority, index))


@EXAMPLES
@given(budgets, demand_lists())
def test_never_above_the_budget_and_every_share_is_zero_or_within_its_bounds(budget, demands):
    shares = allocate(budget, demands)
    assert list(shares) == [demand.key for demand in demands]
    assert sum(shares.values()) <= max(budget, 0) and math.fsum(shares.values()) <= max(budget, 0)
    for demand in demands:
        share = shares[demand.key]
        limits = bounds(demand, budget)
        if share != 0:
            assert limits is not None
            assert demand.min_power <= share <= demand.max_power
            assert limits[0] <= share <= limits[1]
            assert share == math.floor(share)  # on the grid


@EXAMPLES
@given(budgets, demand_lists())
def test_strict_priority_and_pauses_only_when_a_minimum_does_not_fit(budget, demands):
    shares = allocate(budget, demands)
    whole_budget = math.floor(budget) if budget > 0 else 0
    limits = [bounds(demand, budget) for demand in demands]
    granted_minimums = 0
    for index in served_order(demands):
        if limits[index] is None:
            continue
        low, high = limits[index]
        share = shares[demands[index].key]
        if share == 0 and low > 0:
            # Paused: its minimum did not fit in what the minimums before it left.
            assert low > whole_budget - granted_minimums
            continue
        granted_minimums += low
        if share < high:
            # Not at its cap: no lower priority may have more than its minimum.
            for other, demand in enumerate(demands):
                if demand.priority < demands[index].priority and limits[other] is not None:
                    assert shares[demand.key] in (0, limits[other][0])


@EXAMPLES
@given(budgets, demand_lists())
def test_within_a_tier_no_two_uncapped_demands_differ_by_more_than_rounding(budget, demands):
    shares = allocate(budget, demands)
    limits = {demand.key: bounds(demand, budget) for demand in demands}
    for first in demands:
        for second in demands:
            if first.priority != second.priority or None in (limits[first.key], limits[second.key]):
                continue
            first_share, second_share = shares[first.key], shares[second.key]
            paused = first_share == 0 < limits[first.key][0] or second_share == 0 < limits[second.key][0]
            # first below its cap, second above its minimum: second got no more than first + a step.
            if (not paused and first_share < limits[first.key][1]
                    and second_share > limits[second.key][0]):
                assert second_share - first_share <= STEP


@EXAMPLES
@given(budgets, demand_lists())
def test_nothing_is_held_back_a_served_demand_could_take(budget, demands):
    shares = allocate(budget, demands)
    whole_budget = math.floor(budget) if budget > 0 else 0
    if sum(shares.values()) < whole_budget:
        for demand in demands:
            limits = bounds(demand, budget)
            if limits is not None and shares[demand.key] > 0:
                assert shares[demand.key] == limits[1]


@EXAMPLES
@given(demand_lists(), st.floats(min_value=0, max_value=50000, allow_nan=False))
def test_a_budget_that_covers_every_cap_gives_every_cap(demands, spare):
    demands = [demand for demand in demands if demand.max_power != math.inf]
    caps = [bounds(demand, 1e9) for demand in demands]
    budget = sum(limits[1] for limits in caps if limits is not None) + spare
    shares = allocate(budget, demands)
    for demand, limits in zip(demands, caps):
        assert shares[demand.key] == (limits[1] if limits is not None else 0)
        if limits is not None and not (
                demand.measured is not None and demand.previous is not None
                and demand.measured < DEFAULT_RECLAIM_RATIO * demand.previous):
            assert shares[demand.key] == math.floor(demand.max_power)  # not reclaimed: its max


@EXAMPLES
@given(budgets, st.floats(min_value=0, max_value=60000, allow_nan=False), demand_lists())
def test_more_budget_never_lowers_the_total_and_the_result_is_deterministic(budget, extra, demands):
    before = allocate(budget, demands)
    assert allocate(budget, list(demands)) == before
    assert sum(allocate(budget + extra, demands).values()) >= sum(before.values())


def reference_allocation(budget, demands, resolution):
    """The rules played out one grid step at a time: minimums in priority order, then each step to
    the lowest share of the highest priority still below its cap (ties: the order given)."""
    whole_budget = math.floor(budget / resolution) if budget > 0 else 0
    units, limits = {}, {}
    for demand in demands:
        cap = demand.max_power
        if (demand.measured is not None and demand.previous is not None and demand.previous > 0
                and demand.measured < DEFAULT_RECLAIM_RATIO * demand.previous):
            cap = min(cap, max(demand.measured + DEFAULT_RAMP_HEADROOM, demand.min_power))
        low = math.ceil(demand.min_power / resolution)
        high = min(math.floor(cap / resolution) if cap != math.inf else whole_budget, whole_budget)
        units[demand.key] = 0
        if high > 0 and low <= high:
            limits[demand.key] = (low, high)
    left = whole_budget
    order = [demands[index] for index in served_order(demands)]
    for demand in order:
        if demand.key in limits and limits[demand.key][0] <= left:
            units[demand.key] = limits[demand.key][0]
            left -= units[demand.key]
        else:
            limits.pop(demand.key, None)
    while left > 0:
        open_demands = [demand for demand in order
                        if demand.key in limits and units[demand.key] < limits[demand.key][1]]
        if not open_demands:
            break
        top = open_demands[0].priority
        lowest = min(units[demand.key] for demand in open_demands if demand.priority == top)
        chosen = next(demand for demand in demands  # the order given breaks ties within a tier
                      if demand in open_demands and demand.priority == top
                      and units[demand.key] == lowest)
        units[chosen.key] += 1
        left -= 1
    return {key: count * resolution for key, count in units.items()}


@EXAMPLES
@given(st.floats(min_value=-100, max_value=60000, allow_nan=False), demand_lists())
def test_equals_the_rules_played_out_one_step_at_a_time(budget, demands):
    # A coarse 100 W grid keeps the step-by-step reference short; whole W keep divisions exact.
    def whole(watts):
        return watts if watts is None or watts == math.inf else math.floor(watts)

    demands = [Demand(demand.key, whole(demand.max_power), whole(demand.min_power), demand.priority,
                      whole(demand.measured), whole(demand.previous)) for demand in demands]
    assert allocate(budget, demands, resolution=100) == reference_allocation(budget, demands, 100)
