"""Worked examples of the composite schedule: the seed's weekday/holiday stacking, midnight and DST
recurrences, validity edges, relative profiles, units, TxProfile over TxDefault, purposes' minimum."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from smartcharging.composite import (
    ChargingProfile, ChargingSchedule, CompositePeriod, Period, compute_composite_schedule,
    effective_limit,
)

UTC = timezone.utc
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
HOUR = 3600
DAY = 24 * HOUR
MONDAY = datetime(2026, 6, 1, tzinfo=UTC)  # a Monday


def profile(purpose="TxDefaultProfile", *, periods, stack_level=0, kind="Absolute",
            recurrency_kind=None, start=MONDAY, duration=None, unit="A", evse_id=1, id=1,
            min_charging_rate=None, **fields):
    schedule = ChargingSchedule(start, duration, unit, min_charging_rate,
                                [Period(*period) for period in periods])
    return ChargingProfile(id, stack_level, purpose, kind, recurrency_kind,
                           schedules=[schedule], evse_id=evse_id, **fields)


def shape(composite):
    """(start offset, limit) of each period: what an operator would read off the chart."""
    return [(period.start_period, period.limit) for period in composite.periods]


def compose(profiles, start=MONDAY, duration=DAY, **options):
    options.setdefault("evse_id", 1)
    return compute_composite_schedule(profiles, window_start=start, duration=duration, **options)


def weekly_off_peak(full=32, reduced=10):
    """Seed §3.13.2: full power weekdays 23:00–06:00 and all weekend, reduced at other times."""
    periods = [(0, full)]
    for day in range(5):  # Monday..Friday
        periods.append((day * DAY + 6 * HOUR, reduced))
        periods.append((day * DAY + 23 * HOUR, full))
    return profile(periods=periods, kind="Recurring", recurrency_kind="Weekly",
                   duration=7 * DAY, stack_level=0, id=1)


def test_weekday_profile_with_holiday_exception_on_top():
    # Wednesday is a holiday: an Absolute stack-1 profile allows full power that whole day.
    holiday = profile(periods=[(0, 32)], start=MONDAY + timedelta(days=2), duration=DAY,
                      stack_level=1, id=2)
    composite = compose([weekly_off_peak(), holiday], duration=7 * DAY)
    assert shape(composite) == [
        (0, 32), (6 * HOUR, 10), (23 * HOUR, 32),                   # Monday
        (DAY + 6 * HOUR, 10), (DAY + 23 * HOUR, 32),                # Tuesday night, the holiday
        (3 * DAY + 6 * HOUR, 10), (3 * DAY + 23 * HOUR, 32),        # back to stack 0 on Thursday
        (4 * DAY + 6 * HOUR, 10), (4 * DAY + 23 * HOUR, 32),        # Friday night into the weekend
    ]
    wednesday_noon = MONDAY + timedelta(days=2, hours=12)
    assert composite.limit_at(wednesday_noon) == 32
    assert effective_limit([weekly_off_peak()], wednesday_noon, evse_id=1) == 10
    # The next week the holiday is gone and the weekly profile repeats as it was.
    next_week = compose([weekly_off_peak(), holiday], start=MONDAY + timedelta(days=9))
    assert shape(next_week) == [(0, 32), (6 * HOUR, 10), (23 * HOUR, 32)]


def test_highest_stack_without_duration_never_falls_back():
    # Seed §3.13.2: stacking without a duration on the highest level never falls back.
    holiday = profile(periods=[(0, 16)], start=MONDAY + timedelta(days=2), stack_level=1, id=2)
    composite = compose([weekly_off_peak(), holiday], duration=14 * DAY)
    assert shape(composite)[-1] == (2 * DAY, 16)


def test_lower_limit_on_top_of_stack_wins_even_when_lower():
    # Stacking is precedence, not a minimum: a higher stack with a higher limit still prevails.
    base = profile(periods=[(0, 10)], stack_level=0, id=1)
    top = profile(periods=[(0, 20)], stack_level=3, id=2, start=MONDAY + timedelta(hours=1),
                  duration=HOUR)
    assert shape(compose([base, top])) == [(0, 10), (HOUR, 20), (2 * HOUR, 10)]


def test_daily_recurrence_crosses_midnight():
    # Starts each day at 20:00: 16 A until midnight, 32 A until 06:00, then 8 A.
    daily = profile(periods=[(0, 16), (4 * HOUR, 32), (10 * HOUR, 8)], kind="Recurring",
                    recurrency_kind="Daily", start=MONDAY.replace(hour=20), duration=DAY)
    composite = compose([daily], start=MONDAY.replace(hour=18), duration=DAY + 4 * HOUR)
    assert shape(composite) == [(0, None), (2 * HOUR, 16), (6 * HOUR, 32), (12 * HOUR, 8),
                                (DAY + 2 * HOUR, 16)]
    # Before the first occurrence (startSchedule) nothing applies; the day after it repeats.
    assert effective_limit([daily], MONDAY.replace(hour=19), evse_id=1) is None
    assert effective_limit([daily], MONDAY + timedelta(days=6, hours=1), evse_id=1) == 32


def test_daily_recurrence_shorter_than_a_day_leaves_lower_stack_in_force():
    base = profile(periods=[(0, 6)], stack_level=0, id=1)
    evening = profile(periods=[(0, 20)], kind="Recurring", recurrency_kind="Daily",
                      start=MONDAY.replace(hour=22), duration=4 * HOUR, stack_level=1, id=2)
    composite = compose([base, evening], start=MONDAY + timedelta(days=1), duration=DAY)
    assert shape(composite) == [(0, 20), (2 * HOUR, 6), (22 * HOUR, 20)]


@pytest.mark.parametrize("day, length", [(datetime(2026, 3, 29), 23), (datetime(2026, 10, 25), 25)])
def test_daily_recurrence_keeps_local_time_across_dst(day, length):
    # 00:00 local: 10 A until 07:00 local, then 32 A; the DST day lasts 23 or 25 hours.
    first = datetime(2026, 3, 1, tzinfo=AMSTERDAM)
    daily = profile(periods=[(0, 10), (7 * HOUR, 32)], kind="Recurring", recurrency_kind="Daily",
                    start=first, duration=DAY)
    # In UTC: Python subtracts datetimes of one zone by their wall clocks.
    midnight = day.replace(tzinfo=AMSTERDAM).astimezone(UTC)
    next_midnight = (day + timedelta(days=1)).replace(tzinfo=AMSTERDAM).astimezone(UTC)
    assert (next_midnight - midnight).total_seconds() == length * HOUR
    seven = day.replace(hour=7, tzinfo=AMSTERDAM).astimezone(UTC)
    next_seven = (day + timedelta(days=1)).replace(hour=7, tzinfo=AMSTERDAM).astimezone(UTC)

    def offset(moment):
        return int((moment - midnight).total_seconds())

    composite = compose([daily], start=midnight, duration=offset(next_seven) + HOUR, tz=AMSTERDAM)
    assert shape(composite) == [(0, 10), (offset(seven), 32), (offset(next_midnight), 10),
                                (offset(next_seven), 32)]
    # The wall clock says 07:00 on the DST day, whatever the elapsed time since midnight.
    assert offset(seven) == (length - 17) * HOUR
    assert composite.limit_at(seven - timedelta(seconds=1)) == 10
    assert composite.limit_at(seven) == 32


def test_wall_clock_times_skipped_by_dst_follow_the_clock():
    # 29 March 2026 in Amsterdam goes from 02:00 straight to 03:00: the 02:00 and 02:30 periods
    # never start; at 03:00 the clock says the 03:00 period is in force.
    daily = profile(periods=[(0, 10), (2 * HOUR, 20), (150 * 60, 30), (3 * HOUR, 40),
                             (4 * HOUR, 16)],
                    kind="Recurring", recurrency_kind="Daily",
                    start=datetime(2026, 3, 1, tzinfo=AMSTERDAM), duration=DAY)
    midnight = datetime(2026, 3, 29, tzinfo=AMSTERDAM)
    composite = compose([daily], start=midnight, duration=6 * HOUR, tz=AMSTERDAM)
    # Local midnight is 23:00 UTC; 02:00 winter time (01:00 UTC) is 03:00 summer time, 2 h later.
    assert shape(composite) == [(0, 10), (2 * HOUR, 40), (3 * HOUR, 16)]
    # A skipped time with no later period moves forward by the gap: 02:30 is read as 03:30.
    skipped = profile(periods=[(0, 10), (150 * 60, 30)], kind="Recurring", recurrency_kind="Daily",
                      start=datetime(2026, 3, 1, tzinfo=AMSTERDAM), duration=DAY)
    assert shape(compose([skipped], start=midnight, duration=6 * HOUR, tz=AMSTERDAM)) == \
        [(0, 10), (150 * 60, 30)]


def test_daily_recurrence_in_utc_ignores_dst():
    daily = profile(periods=[(0, 10), (7 * HOUR, 32)], kind="Recurring", recurrency_kind="Daily",
                    start=datetime(2026, 3, 1, tzinfo=UTC), duration=DAY)
    composite = compose([daily], start=datetime(2026, 3, 29, tzinfo=UTC), duration=DAY)
    assert shape(composite) == [(0, 10), (7 * HOUR, 32)]


def test_valid_from_and_valid_to_bound_a_profile():
    base = profile(periods=[(0, 6)], stack_level=0, id=1)
    bounded = profile(periods=[(0, 25)], stack_level=1, id=2,
                      valid_from=MONDAY + timedelta(hours=2),
                      valid_to=MONDAY + timedelta(hours=5))
    composite = compose([base, bounded])
    assert shape(composite) == [(0, 6), (2 * HOUR, 25), (5 * HOUR, 6)]
    # validFrom is included, validTo is not.
    assert composite.limit_at(MONDAY + timedelta(hours=2) - timedelta(seconds=1)) == 6
    assert composite.limit_at(MONDAY + timedelta(hours=2)) == 25
    assert composite.limit_at(MONDAY + timedelta(hours=5) - timedelta(seconds=1)) == 25
    assert composite.limit_at(MONDAY + timedelta(hours=5)) == 6


def test_profile_valid_only_outside_the_window_does_not_apply():
    expired = profile(periods=[(0, 3)], valid_to=MONDAY)
    future = profile(periods=[(0, 3)], id=2, stack_level=1, valid_from=MONDAY + timedelta(days=1))
    assert shape(compose([expired, future])) == [(0, None)]


def test_relative_profile_runs_from_the_transaction_start():
    relative = profile(periods=[(0, 32), (HOUR, 16)], kind="Relative", start=None,
                       duration=2 * HOUR)
    assert shape(compose([relative])) == [(0, None)]
    started = MONDAY + timedelta(minutes=30)
    composite = compose([relative], transaction_id="tx-1", transaction_start=started)
    assert shape(composite) == [(0, None), (30 * 60, 32), (90 * 60, 16), (150 * 60, None)]


def test_relative_tx_profile_without_duration_holds_its_last_limit():
    relative = profile("TxProfile", periods=[(0, 32), (HOUR, 16)], kind="Relative", start=None,
                       transaction_id="tx-1")
    composite = compose([relative], transaction_id="tx-1", transaction_start=MONDAY)
    assert shape(composite) == [(0, 32), (HOUR, 16)]


def test_absolute_schedule_without_start_runs_from_the_transaction_start():
    # 2.0.1 startSchedule: "If absent the schedule will be relative to start of charging."
    unanchored = profile(periods=[(0, 20), (HOUR, 12)], start=None)
    assert shape(compose([unanchored])) == [(0, None)]
    composite = compose([unanchored], transaction_id="tx-1", transaction_start=MONDAY)
    assert shape(composite) == [(0, 20), (HOUR, 12)]


def test_amperes_convert_to_watts_with_each_periods_phases():
    amperes = profile(periods=[(0, 16), (HOUR, 16, 1), (2 * HOUR, 10, 2)])
    composite = compose([amperes], unit="W", voltage=230)
    assert composite.periods == (
        CompositePeriod(0, 16 * 230 * 3, 3), CompositePeriod(HOUR, 16 * 230, 1),
        CompositePeriod(2 * HOUR, 10 * 230 * 2, 2))
    # A missing numberPhases takes the given default.
    assert shape(compose([amperes], unit="W", voltage=230, default_number_phases=1))[0] == \
        (0, 16 * 230)


def test_watts_convert_to_amperes_and_the_minimum_is_taken_in_one_unit():
    station_max = profile("ChargingStationMaxProfile", periods=[(0, 22080)], unit="W", evse_id=0)
    default = profile(periods=[(0, 40), (HOUR, 20)], id=2)
    composite = compose([station_max, default], unit="A", voltage=230)
    # 22 080 W over 3 phases at 230 V is 32 A per phase: below 40 A, above 20 A.
    assert shape(composite) == [(0, 32), (HOUR, 20)]
    watts = compose([station_max, default], unit="W", voltage=230)
    assert shape(watts) == [(0, 22080), (HOUR, 20 * 230 * 3)]


def test_tx_profile_replaces_tx_default_while_in_force():
    default = profile(periods=[(0, 10)], stack_level=5, id=1)
    tx = profile("TxProfile", periods=[(0, 24)], transaction_id="tx-1", id=2,
                 start=MONDAY + timedelta(hours=1), duration=HOUR)
    running = compose([default, tx], transaction_id="tx-1", transaction_start=MONDAY)
    # The TxProfile overrules the default even where it allows more; after it, the default holds.
    assert shape(running) == [(0, 10), (HOUR, 24), (2 * HOUR, 10)]
    # Another transaction's TxProfile, or none running, leaves the default alone.
    other = compose([default, tx], transaction_id="tx-2", transaction_start=MONDAY)
    assert shape(other) == [(0, 10)]
    assert shape(compose([default, tx])) == [(0, 10)]


def test_tx_profiles_stack_among_themselves():
    low = profile("TxProfile", periods=[(0, 12)], transaction_id="tx-1", id=1, stack_level=0)
    high = profile("TxProfile", periods=[(0, 30)], transaction_id="tx-1", id=2, stack_level=1,
                   start=MONDAY + timedelta(hours=3), duration=HOUR)
    composite = compose([low, high], transaction_id="tx-1", transaction_start=MONDAY)
    assert shape(composite) == [(0, 12), (3 * HOUR, 30), (4 * HOUR, 12)]


def test_composite_is_the_minimum_over_purposes():
    station_max = profile("ChargingStationMaxProfile", periods=[(0, 40), (2 * HOUR, 15)],
                          evse_id=0, id=1)
    external = profile("ChargingStationExternalConstraints",
                       periods=[(0, 30), (HOUR, 50), (3 * HOUR, 5)], evse_id=0, id=2)
    default = profile(periods=[(0, 20), (90 * 60, 45)], id=3)
    composite = compose([station_max, external, default], duration=4 * HOUR)
    assert shape(composite) == [(0, 20), (90 * 60, 40), (2 * HOUR, 15), (3 * HOUR, 5)]


def test_evse_external_constraint_and_station_one_both_apply():
    station = profile("ChargingStationExternalConstraints", periods=[(0, 30)], evse_id=0, id=1)
    own = profile("ChargingStationExternalConstraints", periods=[(0, 50), (HOUR, 20)], id=2,
                  stack_level=4)
    assert shape(compose([station, own])) == [(0, 30), (HOUR, 20)]


def test_charge_point_max_profile_is_the_station_max_purpose():
    station_max = profile("ChargePointMaxProfile", periods=[(0, 11)], evse_id=0)
    assert station_max.purpose == "ChargingStationMaxProfile"
    assert shape(compose([station_max, profile(periods=[(0, 20)], id=2)])) == [(0, 11)]


def test_evse_tx_default_replaces_the_station_one_of_its_stack_level_only():
    station_default = profile(periods=[(0, 16)], evse_id=0, stack_level=0, id=1)
    station_evening = profile(periods=[(0, 6)], evse_id=0, stack_level=2, id=2,
                              start=MONDAY + timedelta(hours=18), duration=2 * HOUR)
    own_default = profile(periods=[(0, 25)], evse_id=1, stack_level=0, id=3)
    # EVSE 1 has its own level-0 default; EVSE 2 keeps the station's.
    profiles = [station_default, station_evening, own_default]
    assert shape(compose(profiles, evse_id=1)) == [(0, 25), (18 * HOUR, 6), (20 * HOUR, 25)]
    assert shape(compose(profiles, evse_id=2)) == [(0, 16), (18 * HOUR, 6), (20 * HOUR, 16)]


def test_evse_tx_default_on_a_lower_level_stays_under_the_station_one():
    station_default = profile(periods=[(0, 16)], evse_id=0, stack_level=1, id=1,
                              start=MONDAY + timedelta(hours=1), duration=HOUR)
    own_default = profile(periods=[(0, 25)], evse_id=1, stack_level=0, id=2)
    assert shape(compose([station_default, own_default])) == [(0, 25), (HOUR, 16), (2 * HOUR, 25)]


def test_station_composite_combines_station_wide_limits_only():
    station_max = profile("ChargingStationMaxProfile", periods=[(0, 63)], evse_id=0, id=1)
    station_default = profile(periods=[(0, 16)], evse_id=0, id=2)
    evse_default = profile(periods=[(0, 8)], evse_id=1, id=3)
    composite = compose([station_max, station_default, evse_default], evse_id=0)
    assert shape(composite) == [(0, 63)]


def test_profiles_on_other_evses_do_not_apply():
    other = profile(periods=[(0, 8)], evse_id=2)
    assert shape(compose([other], evse_id=1)) == [(0, None)]


def test_min_charging_rate_is_reported_not_applied():
    default = profile(periods=[(0, 4), (HOUR, 16)], min_charging_rate=6)
    composite = compose([default])
    assert composite.periods == (CompositePeriod(0, 4, 3, 6), CompositePeriod(HOUR, 16, 3, 6))
    in_watts = compose([default], unit="W", voltage=230)
    assert in_watts.periods[0].min_charging_rate == 6 * 230 * 3


def test_fewest_phases_of_the_prevailing_profiles_is_reported():
    station_max = profile("ChargingStationMaxProfile", periods=[(0, 32, 1)], evse_id=0)
    default = profile(periods=[(0, 20)], id=2)
    assert compose([station_max, default]).periods == (CompositePeriod(0, 20, 1),)


def test_equal_neighbouring_periods_are_merged():
    default = profile(periods=[(0, 16), (HOUR, 16), (2 * HOUR, 10)])
    assert shape(compose([default])) == [(0, 16), (2 * HOUR, 10)]


def test_limit_at_and_effective_limit_agree_and_outside_window_is_none():
    default = profile(periods=[(0, 16), (HOUR, 10)])
    composite = compose([default], duration=2 * HOUR)
    assert composite.limit_at(MONDAY + timedelta(minutes=59, seconds=59)) == 16
    assert composite.limit_at(MONDAY + timedelta(hours=1)) == 10
    assert composite.limit_at(MONDAY - timedelta(seconds=1)) is None
    assert composite.limit_at(MONDAY + timedelta(hours=2)) is None
    assert effective_limit([default], MONDAY + timedelta(hours=1, seconds=5), evse_id=1) == 10


@pytest.mark.parametrize("build, message", [
    (lambda: Period(-1, 10), "start_period"),
    (lambda: Period(0, -1), "limit"),
    (lambda: Period(0, 10, 4), "number_phases"),
    (lambda: ChargingSchedule(MONDAY, None, "kW", None, [Period(0, 1)]), "unit"),
    (lambda: ChargingSchedule(MONDAY, None, "A", None, []), "at least one period"),
    (lambda: ChargingSchedule(MONDAY, None, "A", None, [Period(5, 1)]), "start at 0"),
    (lambda: ChargingSchedule(MONDAY, None, "A", None, [Period(0, 1), Period(0, 2)]),
     "ascend"),
    (lambda: ChargingSchedule(datetime(2026, 6, 1), None, "A", None, [Period(0, 1)]),
     "timezone-aware"),
    (lambda: profile("FleetProfile", periods=[(0, 1)]), "purpose"),
    (lambda: profile(periods=[(0, 1)], kind="Recurring"), "recurrency_kind"),
    (lambda: profile(periods=[(0, 1)], kind="Recurring", recurrency_kind="Daily", start=None),
     "start_schedule"),
    (lambda: compose([], duration=0), "duration"),
    (lambda: compose([], unit="VA"), "unit"),
])
def test_invalid_input_is_refused_with_a_reason(build, message):
    with pytest.raises(ValueError, match=message):
        build()
