"""The pure rules of a reallocation round: the site limit over time (W, looked ahead, less the
margin), limits in the station's unit never above the share, and increases cut to the room left."""
from datetime import datetime, timedelta, timezone

from django.test import override_settings
from hypothesis import given, settings, strategies as st

from smartcharging.actions.reallocation import _cut
from smartcharging.actions.site_inputs import fallback_watts, in_station_unit, site_limit
from smartcharging.models import Site

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def site(**fields):
    fields.setdefault("limit_unit", "W")
    return Site(name="s", **fields)


@override_settings(SMARTCHARGING_SITE_LOOKAHEAD_SECONDS=60)
def test_limit_in_amperes_less_the_margin():
    amperes = site(limit_unit="A", limit_periods=[{"startPeriod": 0, "limit": 32}],
                   number_phases=3, voltage=230, safety_margin_percent=10)
    assert site_limit(amperes, NOW) == (22080 * 0.9, None)


@override_settings(SMARTCHARGING_SITE_LOOKAHEAD_SECONDS=60)
def test_a_lower_period_counts_a_lookahead_early_and_a_higher_one_once_begun():
    schedule = site(limit_start=NOW, limit_periods=[{"startPeriod": 0, "limit": 50000},
                                                    {"startPeriod": 3600, "limit": 20000},
                                                    {"startPeriod": 7200, "limit": 40000}])
    assert site_limit(schedule, NOW) == (50000, NOW + timedelta(seconds=3540))
    assert site_limit(schedule, NOW + timedelta(seconds=3550)) == (
        20000, NOW + timedelta(seconds=7200))
    assert site_limit(schedule, NOW + timedelta(seconds=7200))[0] == 40000
    # Before the schedule starts there is no limit to share: 0.
    assert site_limit(schedule, NOW - timedelta(hours=2))[0] == 0


@override_settings(SMARTCHARGING_SITE_LOOKAHEAD_SECONDS=0)
def test_daily_recurrence_and_a_schedule_without_start():
    daily = site(limit_start=NOW.replace(hour=0), limit_recurrency="Daily",
                 limit_periods=[{"startPeriod": 0, "limit": 10000},
                                {"startPeriod": 18 * 3600, "limit": 5000}])
    assert site_limit(daily, NOW + timedelta(days=3))[0] == 10000
    assert site_limit(daily, NOW + timedelta(days=3, hours=7))[0] == 5000
    constant = site(limit_periods=[{"startPeriod": 0, "limit": 7000},
                                   {"startPeriod": 10, "limit": 1}])
    assert site_limit(constant, NOW) == (7000, None)


def test_fallback_is_the_lowest_limit_shared_or_the_site_setting():
    schedule = site(limit_start=NOW, limit_periods=[{"startPeriod": 0, "limit": 50000},
                                                    {"startPeriod": 60, "limit": 20000}])
    assert fallback_watts(schedule, 4) == 5000
    assert fallback_watts(site(limit_unit="A", fallback_limit=6, number_phases=3, voltage=230,
                               limit_periods=[{"startPeriod": 0, "limit": 32}]), 4) == 4140


def test_units_round_down():
    three_phase = site(number_phases=3, voltage=230)
    assert in_station_unit(11040, "A", three_phase) == (16.0, 11040.0)
    assert in_station_unit(2000, "A", three_phase) == (2.8, 2.8 * 690)
    assert in_station_unit(1999.9, "W", three_phase) == (1999.0, 1999.0)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(watts=st.floats(min_value=0, max_value=1e6, allow_nan=False),
       phases=st.integers(min_value=1, max_value=3),
       voltage=st.floats(min_value=100, max_value=500, allow_nan=False),
       unit=st.sampled_from(["A", "W"]))
def test_a_limit_sent_is_never_above_the_share(watts, phases, voltage, unit):
    limit, held = in_station_unit(watts, unit, site(number_phases=phases, voltage=voltage))
    assert held <= watts + 1e-6
    assert limit >= 0 and round(limit, 1) == limit
    # At most one step (0.1 A or 1 W) below the share.
    assert watts - held <= (0.1 * phases * voltage if unit == "A" else 1) + 1e-6


@settings(max_examples=300, deadline=None, derandomize=True)
@given(wanted=st.lists(st.tuples(st.integers(-2, 3), st.floats(0, 50000, allow_nan=False)),
                       max_size=12),
       room=st.floats(-10000, 200000, allow_nan=False))
def test_increases_never_exceed_the_room(wanted, room):
    increases = [(priority, index, amount) for index, (priority, amount) in enumerate(wanted)]
    granted = _cut(increases, room)
    assert sum(granted.values()) <= max(room, 0.0) + 1e-6 * (1 + len(wanted))
    for priority, key, amount in increases:
        assert 0 <= granted[key] <= amount + 1e-9
        # Strict priorities: a priority cut leaves nothing to lower ones, and one cut but given
        # something leaves every higher one whole.
        if granted[key] < amount - 1e-6:
            for other_priority, other, other_amount in increases:
                if other_priority > priority and granted[key] > 1e-6:
                    assert granted[other] >= other_amount - 1e-6
                elif other_priority < priority:
                    assert granted[other] <= 1e-6
    if sum(amount for _, _, amount in increases) <= room:
        assert all(granted[key] == amount for _, key, amount in increases)
