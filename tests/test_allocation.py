"""Worked examples of the site load allocator: fair share, caps, priorities, minimums that pause the
lowest priority, unused allocation handed on, empty and zero budgets, rounding to the grid."""
import math

import pytest

from smartcharging.allocation import (
    AT_MAXIMUM, AT_RECLAIM_CAP, FAIR_SHARE, INVALID, MINIMUM_ABOVE_SHARE, NO_BUDGET, NOTHING_LEFT,
    PAUSED, Demand, allocate, explain,
)

# A three-phase 16 A EVSE and a 32 A one, in W at 230 V.
KW11 = 11040.0
KW22 = 22080.0
# minChargingRate of 6 A on three phases.
MIN_6A = 4140.0


def test_fair_share_splits_equally_and_rounds_down_to_whole_watts():
    shares = allocate(22000, [Demand("a", KW11), Demand("b", KW11), Demand("c", KW11)])
    # 22000 / 3 = 7333.33: the spare watt goes to the first in the order given.
    assert shares == {"a": 7334.0, "b": 7333.0, "c": 7333.0}
    assert sum(shares.values()) == 22000


def test_what_a_capped_demand_leaves_goes_to_the_others():
    # The EV on b takes at most 3.7 kW (one phase, 16 A): a and c share the rest.
    shares = allocate(30000, [Demand("a", KW22), Demand("b", 3680), Demand("c", KW22)])
    assert shares == {"a": 13160.0, "b": 3680.0, "c": 13160.0}


def test_a_budget_that_covers_everyone_gives_every_maximum():
    shares = allocate(50000, [Demand("a", KW11), Demand("b", KW22), Demand("c", 7400)])
    assert shares == {"a": KW11, "b": KW22, "c": 7400.0}
    assert 50000 - sum(shares.values()) == pytest.approx(9480)


def test_higher_priority_is_served_to_its_maximum_first():
    shares = allocate(30000, [
        Demand("fleet", KW22, priority=0), Demand("vip", KW22, priority=5),
        Demand("guest", KW22, priority=0),
    ])
    assert shares == {"vip": KW22, "fleet": 3960.0, "guest": 3960.0}


def test_within_a_priority_the_tier_is_water_filled():
    shares = allocate(40000, [
        Demand("vip-slow", 7400, priority=2), Demand("vip-fast", KW22, priority=2),
        Demand("low", KW22, priority=1),
    ])
    # The tier of priority 2 wants 29.48 kW: all of it; priority 1 gets the rest.
    assert shares == {"vip-slow": 7400.0, "vip-fast": KW22, "low": 10520.0}


def test_minimums_come_first_and_the_lowest_priority_is_paused():
    # 10 kW for three EVs that each need at least 4.14 kW: only two can charge.
    demands = [Demand("low", KW11, MIN_6A, priority=0), Demand("mid", KW11, MIN_6A, priority=1),
               Demand("high", KW11, MIN_6A, priority=2)]
    shares = allocate(10000, demands)
    assert shares["low"] == 0
    assert shares["mid"] == 4140.0  # its minimum; nothing more below "high"'s maximum
    assert shares["high"] == 10000 - 4140.0
    reasons = {key: share.reason for key, share in explain(10000, demands).items()}
    assert reasons == {"low": PAUSED, "mid": NOTHING_LEFT, "high": FAIR_SHARE}


def test_never_a_share_between_zero_and_the_minimum():
    # Two equal-priority EVs with 6 A minimums, 7 kW: 3.5 kW each would break both minimums.
    shares = allocate(7000, [Demand("a", KW11, MIN_6A), Demand("b", KW11, MIN_6A)])
    assert shares == {"a": 7000.0, "b": 0.0}


def test_a_smaller_minimum_further_down_still_fits():
    shares = allocate(6000, [
        Demand("big-min", KW22, 5000, priority=2), Demand("too-big", KW22, 4000, priority=1),
        Demand("small-min", KW11, 1000, priority=0),
    ])
    assert shares == {"big-min": 5000.0, "too-big": 0.0, "small-min": 1000.0}


def test_a_minimum_above_the_fair_share_is_kept():
    demands = [Demand("a", KW22, 9000), Demand("b", KW22), Demand("c", KW22)]
    shares = allocate(21000, demands)
    assert shares == {"a": 9000.0, "b": 6000.0, "c": 6000.0}
    assert explain(21000, demands)["a"].reason == MINIMUM_ABOVE_SHARE


def test_unused_allocation_is_handed_on_with_headroom_to_ramp_up():
    # Last round each got 11 kW; "a" draws only 3 kW (its battery is nearly full).
    demands = [Demand("a", KW22, previous=11000, measured=3000),
               Demand("b", KW22, previous=11000, measured=10950)]
    shares = allocate(22000, demands)
    assert shares == {"a": 4000.0, "b": 18000.0}
    explained = explain(22000, demands)
    assert explained["a"].reason == AT_RECLAIM_CAP and explained["a"].cap == 4000.0
    assert explained["b"].reason == FAIR_SHARE


def test_a_demand_drawing_close_to_its_share_is_not_reclaimed():
    # 10 kW of 11 kW is above 0.9 × 11 kW: it is taking what it was given.
    shares = allocate(22000, [Demand("a", KW22, previous=11000, measured=10000),
                              Demand("b", KW22)])
    assert shares == {"a": 11000.0, "b": 11000.0}


def test_reclaim_options_and_the_minimum_under_a_reclaim():
    demand = Demand("a", KW22, MIN_6A, previous=10000, measured=0)
    # Drawing nothing: capped at its minimum, not below (it may start drawing next round).
    assert allocate(22000, [demand]) == {"a": MIN_6A}
    assert allocate(22000, [demand], ramp_headroom=5000) == {"a": 5000.0}
    assert allocate(22000, [demand], reclaim_ratio=0) == {"a": 22000.0}


def test_reclaim_needs_both_a_measurement_and_a_previous_share():
    assert allocate(20000, [Demand("a", KW22, measured=0)]) == {"a": 20000.0}
    assert allocate(20000, [Demand("a", KW22, previous=10000)]) == {"a": 20000.0}
    assert allocate(20000, [Demand("a", KW22, previous=10000, measured=math.nan)]) == {"a": 20000.0}


@pytest.mark.parametrize("budget", [0, -5000, math.nan, 0.4])
def test_no_budget_gives_everyone_zero(budget):
    demands = [Demand("a", KW11), Demand("b", KW11, MIN_6A, priority=3)]
    assert allocate(budget, demands) == {"a": 0.0, "b": 0.0}
    assert {share.reason for share in explain(budget, demands).values()} == {NO_BUDGET}


def test_empty_input_gives_an_empty_allocation():
    assert allocate(50000, []) == {}


def test_one_demand_gets_the_lesser_of_its_maximum_and_the_budget():
    assert allocate(50000, [Demand("a", KW22)]) == {"a": KW22}
    assert allocate(7000.9, [Demand("a", KW22)]) == {"a": 7000.0}
    assert allocate(7000, [Demand("a", math.inf)]) == {"a": 7000.0}
    assert explain(50000, [Demand("a", KW22)])["a"].reason == AT_MAXIMUM


@pytest.mark.parametrize("demand", [
    Demand("a", 3000, min_power=4000), Demand("a", 3000, 4000, previous=10000, measured=0),
    Demand("a", 0), Demand("a", math.inf, min_power=math.inf), Demand("a", -100), Demand("a", math.nan),
    Demand("a", 1000.5, min_power=1000.2),  # no whole watt between them
])
def test_a_demand_that_cannot_be_served_gets_zero(demand):
    explained = explain(50000, [demand, Demand("b", 1000)])
    assert explained["a"].power == 0 and explained["a"].reason == INVALID
    assert explained["b"].power == 1000


def test_minimums_are_rounded_up_and_maximums_down_to_the_grid():
    shares = allocate(10000, [Demand("a", 2500.7, 1380.2), Demand("b", 9999)])
    assert shares["a"] == 2500.0
    assert allocate(1380.5, [Demand("a", 2500, 1380.2)]) == {"a": 0.0}  # 1381 does not fit


def test_a_finer_resolution_never_lets_float_sums_pass_the_budget():
    shares = allocate(0.7, [Demand("a", 1), Demand("b", 1), Demand("c", 1)], resolution=0.1)
    assert sum(shares.values()) <= 0.7
    assert all(share >= 0.2 - 1e-9 for share in shares.values())
    shares = allocate(1000.05, [Demand(index, 400) for index in range(3)], resolution=0.1)
    assert sum(shares.values()) <= 1000.05 and max(shares.values()) - min(shares.values()) < 0.2


def test_the_same_input_gives_the_same_output_and_order_breaks_ties():
    demands = [Demand(f"evse-{index}", KW11, MIN_6A, priority=index % 3) for index in range(7)]
    assert allocate(23456, demands) == allocate(23456, list(demands))
    # Same priority and minimum, only one fits: the one given first is served.
    assert allocate(5000, [Demand("x", KW11, MIN_6A), Demand("y", KW11, MIN_6A)]) == {
        "x": 5000.0, "y": 0.0}
    assert allocate(5000, [Demand("y", KW11, MIN_6A), Demand("x", KW11, MIN_6A)]) == {
        "y": 5000.0, "x": 0.0}


def test_caller_errors_are_named():
    with pytest.raises(ValueError, match="given twice"):
        allocate(1000, [Demand("a", 10), Demand("a", 20)])
    with pytest.raises(ValueError, match="finite"):
        allocate(math.inf, [Demand("a", 10)])
    with pytest.raises(ValueError, match="resolution"):
        allocate(1000, [Demand("a", 10)], resolution=0)
    with pytest.raises(ValueError, match="ramp_headroom"):
        allocate(1000, [Demand("a", 10)], ramp_headroom=-1)
