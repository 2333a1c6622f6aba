"""Property: for random profiles over a random window, the composite equals, second by second, a
plain reference (the prevailing stack per purpose, minimum over purposes) and never exceeds it."""
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcharging.composite import (
    ChargingProfile, ChargingSchedule, Period, compute_composite_schedule,
)

UTC = timezone.utc
ORIGIN = datetime(2026, 6, 1, tzinfo=UTC)
DAY = 86400
VOLTAGE = 230.0
# Tx purposes drawn more often: their interplay (override, EVSE 0 replacement) has most rules.
PURPOSES = ["ChargingStationMaxProfile", "ChargePointMaxProfile", "TxDefaultProfile",
            "TxDefaultProfile", "TxProfile", "TxProfile", "ChargingStationExternalConstraints"]
EVSE = 1


def moment(seconds):
    return ORIGIN + timedelta(seconds=seconds)


@st.composite
def schedules(draw):
    gaps = draw(st.lists(st.integers(min_value=1, max_value=DAY // 2), min_size=0, max_size=4))
    starts = [0]
    for gap in gaps:
        starts.append(starts[-1] + gap)
    unit = draw(st.sampled_from(["A", "W"]))
    top = 64 if unit == "A" else 44000
    periods = [Period(start, draw(st.integers(min_value=0, max_value=top)),
                      draw(st.sampled_from([None, 1, 2, 3]))) for start in starts]
    return ChargingSchedule(
        moment(draw(st.integers(min_value=-3 * DAY, max_value=3 * DAY))),
        draw(st.one_of(st.none(), st.integers(min_value=1, max_value=4 * DAY))), unit,
        draw(st.one_of(st.none(), st.integers(min_value=0, max_value=10))), periods)


@st.composite
def profiles(draw):
    kind = draw(st.sampled_from(["Absolute", "Recurring", "Relative"]))
    bound = st.one_of(st.none(), st.integers(min_value=-2 * DAY, max_value=4 * DAY).map(moment))
    return {"purpose": draw(st.sampled_from(PURPOSES)), "kind": kind,
            "recurrency_kind": draw(st.sampled_from(["Daily", "Weekly"]))
            if kind == "Recurring" else None,
            "evse_id": draw(st.sampled_from([0, EVSE, EVSE, 2])),
            "stack_level": draw(st.integers(min_value=0, max_value=2)),
            "valid_from": draw(bound), "valid_to": draw(bound),
            "transaction_id": draw(st.sampled_from([None, "tx-1", "tx-1", "tx-2"])),
            "schedule": draw(schedules())}


def build(specs):
    built = []
    for number, spec in enumerate(specs):
        profile = ChargingProfile(number + 1, spec["stack_level"], spec["purpose"], spec["kind"],
                                  spec["recurrency_kind"], spec["valid_from"], spec["valid_to"],
                                  spec["transaction_id"], [spec["schedule"]], spec["evse_id"])
        # Same purpose + stackLevel + EVSE replaces (1.6 §3.13.2): the station holds the last one.
        key = (profile.purpose, profile.stack_level, profile.evse_id)
        built = [p for p in built if (p.purpose, p.stack_level, p.evse_id) != key] + [profile]
    return built


def in_force(profile, t, transaction_start, unit, default_phases):
    """(limit, phases, min rate) of profile at second t, by direct arithmetic; None if not in force."""
    if profile.valid_from is not None and t < profile.valid_from:
        return None
    if profile.valid_to is not None and t >= profile.valid_to:
        return None
    schedule = profile.schedules[0]
    if profile.kind == "Recurring":
        step = DAY if profile.recurrency_kind == "Daily" else 7 * DAY
        since = int((t - schedule.start_schedule).total_seconds())
        if since < 0:
            return None
        offset = since % step
    else:
        anchor = transaction_start if profile.kind == "Relative" else schedule.start_schedule
        if anchor is None:
            return None
        offset = int((t - anchor).total_seconds())
        if offset < 0:
            return None
    if schedule.duration is not None and offset >= schedule.duration:
        return None
    period = [p for p in schedule.periods if p.start_period <= offset][-1]
    phases = period.number_phases or default_phases

    def convert(value):
        if value is None or schedule.unit == unit:
            return value
        return value * VOLTAGE * phases if unit == "W" else value / (VOLTAGE * phases)

    return convert(period.limit), phases, convert(schedule.min_charging_rate)


def prevailing(stack, t, transaction_start, unit, default_phases):
    """The highest stack level in force at t wins within a purpose."""
    candidates = [(p.stack_level, in_force(p, t, transaction_start, unit, default_phases))
                  for p in stack]
    candidates = [c for c in candidates if c[1] is not None]
    return max(candidates, key=lambda c: c[0])[1] if candidates else None


def reference(profiles, t, transaction_id, transaction_start, unit, default_phases):
    """(limit, phases, min rate, each prevailing limit) at t, the rules written out plainly."""
    def of(purpose, evse_id):
        return [p for p in profiles if p.purpose == purpose and p.evse_id == evse_id]

    has_transaction = transaction_id is not None or transaction_start is not None
    tx = [p for p in of("TxProfile", EVSE)
          if has_transaction and p.transaction_id in (None, transaction_id)]
    own_levels = {p.stack_level for p in of("TxDefaultProfile", EVSE)}
    tx_default = of("TxDefaultProfile", EVSE) + [
        p for p in of("TxDefaultProfile", 0) if p.stack_level not in own_levels]
    args = (t, transaction_start, unit, default_phases)
    transaction = prevailing(tx, *args) or prevailing(tx_default, *args)
    winners = [prevailing(of("ChargingStationMaxProfile", 0), *args),
               prevailing(of("ChargingStationExternalConstraints", 0), *args),
               prevailing(of("ChargingStationExternalConstraints", EVSE), *args), transaction]
    winners = [w for w in winners if w is not None]
    if not winners:
        return None, None, None, []
    return (min(w[0] for w in winners), min(w[1] for w in winners),
            transaction[2] if transaction else None, [w[0] for w in winners])


@settings(max_examples=300, deadline=None, derandomize=True)
@given(specs=st.lists(profiles(), min_size=0, max_size=8),
       window_start=st.integers(min_value=-2 * DAY, max_value=2 * DAY),
       duration=st.integers(min_value=1, max_value=3 * DAY),
       transaction=st.sampled_from([(None, None), ("tx-1", -DAY), ("tx-1", 3600), ("tx-1", 0),
                                    ("tx-2", 0)]),
       unit=st.sampled_from(["A", "W"]), default_phases=st.sampled_from([1, 3]),
       samples=st.lists(st.integers(min_value=0, max_value=3 * DAY - 1), min_size=1,
                        max_size=60),
       twins=st.lists(schedules(), max_size=2))
def test_composite_matches_reference_at_every_sampled_second(
        specs, window_start, duration, transaction, unit, default_phases, samples, twins):
    profiles_held = build(specs)
    # EVSE 0 TxDefaultProfiles at the stack levels of EVSE 1's own: the replacement rule at work.
    own = [p for p in profiles_held if p.purpose == "TxDefaultProfile" and p.evse_id == EVSE]
    profiles_held = build(specs + [
        {"purpose": "TxDefaultProfile", "kind": p.kind, "recurrency_kind": p.recurrency_kind,
         "evse_id": 0, "stack_level": p.stack_level, "valid_from": None, "valid_to": None,
         "transaction_id": None, "schedule": twin} for p, twin in zip(own, twins)])
    transaction_id, transaction_offset = transaction
    transaction_start = None if transaction_offset is None else moment(transaction_offset)
    start = moment(window_start)
    composite = compute_composite_schedule(
        profiles_held, evse_id=EVSE, window_start=start, duration=duration, unit=unit,
        transaction_id=transaction_id, transaction_start=transaction_start, voltage=VOLTAGE,
        default_number_phases=default_phases)

    offsets = [period.start_period for period in composite.periods]
    assert offsets[0] == 0 and offsets == sorted(set(offsets)) and offsets[-1] < duration
    pairs = list(zip(composite.periods, composite.periods[1:]))
    assert all((a.limit, a.number_phases, a.min_charging_rate)
               != (b.limit, b.number_phases, b.min_charging_rate) for a, b in pairs)

    # Every period's first and last second, plus random seconds of the window.
    seconds = {s % duration for s in samples} | set(offsets) | {o - 1 for o in offsets[1:]}
    seconds.add(duration - 1)
    for second in sorted(seconds):
        t = start + timedelta(seconds=second)
        limit, phases, min_rate, limits = reference(profiles_held, t, transaction_id,
                                                    transaction_start, unit, default_phases)
        period = composite.period_at(t)
        assert all(period.limit <= each + 1e-9 for each in limits), (second, period, limits)
        assert period.limit == pytest.approx(limit), (second, period, limit)
        assert period.number_phases == phases, (second, period, phases)
        assert period.min_charging_rate == pytest.approx(min_rate), (second, period, min_rate)
