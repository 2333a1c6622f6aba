"""A 50 kW site of three simulated stations (one 1.6, two 2.0.1 with ISO 15118 cars), end to end
over real WebSockets: sessions start and stop with different priorities and EV limits, a station
comes back without its profiles, the site limit is lowered twice. At every sampled instant the
limits the stations hold, the power they draw and the power they metered (stored readings) stay
within the site limit; EV maximums, minChargingRate and priority are honoured."""

import math
import time
import uuid
from datetime import UTC, datetime

from csms.models import Command
from simulator.ev import EV
from smartcharging.models import Site, SiteAllocation
from tests.helpers import eventually
from tests.site_trace import LimitTimeline, StationSampler, metered_site_power, snapshot
from transactions.models import Transaction

SITE_W = 50_000.0
LOWER_W = 30_000.0
LOWEST_W = 8_000.0
RATING_W = 22_000.0           # every EVSE's rating (simulator) and evse_max_power (site member)
PER_AMP_W = 230.0 * 3         # W per A per phase, three phases
EV_MIN_W = 6 * PER_AMP_W      # an ISO 15118 car's evMinCurrent (6 A): its minChargingRate
SESSION_S = 600               # longer than the test: sessions end when the test stops them
METER_S = 0.5
# A lower site limit must be held by the stations within this many seconds of the API call.
HONOUR_S = 5.0


def amps_floor(watts):
    """What a share becomes on a station driven in A: 0.1 A steps, rounded down, in W."""
    return math.floor(watts / PER_AMP_W * 10 + 1e-9) / 10 * PER_AMP_W


def ev_max_w(car_w):
    """The maximum an ISO 15118 car reports (evMaxCurrent, whole A) in W."""
    return int(car_w / PER_AMP_W) * PER_AMP_W


def new_token(api, priority):
    token = f"SITE{uuid.uuid4().hex[:12].upper()}"
    created = api.post("/id-tokens/", json={"id_token": token, "type": "ISO14443",
                                            "charging_priority": priority})
    assert created.status_code == 201, created.text
    return token


def held(simulator, stations):
    """{identity: W the station's EVSE holds now}."""
    return {identity: value[0] for (identity, _), value in simulator.call(snapshot, stations).items()}


def site_settled(site_pk):
    """No round due or running, and every allocation answered."""
    site = Site.objects.get(pk=site_pk)
    return (site.reallocation_due_at is None and site.round_lease_until is None
            and not SiteAllocation.objects.filter(site_id=site_pk,
                                                  state=SiteAllocation.State.PENDING).exists())


def settle(simulator, stations, site_pk, expected, timeout=30, steady=0.8):
    """Wait until every station holds its expected W (±1 W) with the site settled, for `steady`
    s on end (longer than a meter interval, so a reading that would start a round is in)."""
    since = None
    deadline = time.monotonic() + timeout
    while True:
        now = held(simulator, stations)
        if all(abs(now[identity] - watts) <= 1.0 for identity, watts in expected.items()) \
                and site_settled(site_pk):
            since = since or time.monotonic()
            if time.monotonic() - since >= steady:
                return now
        else:
            since = None
        if time.monotonic() > deadline:
            rows = list(SiteAllocation.objects.filter(site_id=site_pk).values(
                "station__identity", "priority", "target", "held", "measured", "state"))
            raise AssertionError(f"stations hold {now}, expected {expected} "
                                 f"(settled: {site_settled(site_pk)}); allocations {rows}; "
                                 f"last round {Site.objects.get(pk=site_pk).last_round}")
        time.sleep(0.05)


def start_session(simulator, station, token, car):
    evse = station.evses[0]
    simulator.call(lambda: station.spawn(station.charge(evse, token, duration=SESSION_S, ev=car)))
    return eventually(lambda: Transaction.objects.filter(
        station__identity=station.identity, state=Transaction.State.ACTIVE).first())


def allocations(api, site_pk):
    rows = api.get(f"/sites/{site_pk}/allocation/").json()["allocations"]
    return {row["station"]: row for row in rows}


def lower_limit(api, site_pk, watts, timeline):
    response = api.patch(f"/sites/{site_pk}/", json={
        "limit_periods": [{"startPeriod": 0, "limit": watts}]})
    assert response.status_code == 200, response.text
    timeline.set(datetime.now(UTC), watts)


def honoured_after(sampler, since, watts):
    """Seconds from `since` until the held sum was ≤ `watts` for good."""
    sums = [(when, total) for when, total in sampler.held_sums() if when >= since]
    last_over = max((when for when, total in sums if total > watts + 1.0), default=None)
    held_from = next(when for when, _ in sums if last_over is None or when > last_over)
    return max((held_from - since).total_seconds(), 0.0)


def test_a_site_never_exceeds_its_limit(api, simulator, simulated_station):
    tag = uuid.uuid4().hex[:6].upper()
    common = {"meter_interval": METER_S, "max_power_w": RATING_W, "reconnect_min": 0.2,
              "reconnect_max": 1.0}
    old = simulated_station(f"E2E-{tag}-16", "1.6", keep_profiles_on_reboot=False, **common)
    small = simulated_station(f"E2E-{tag}-A", "2.0.1", **common)
    big = simulated_station(f"E2E-{tag}-B", "2.0.1", **common)
    stations = [old, small, big]
    high_token = new_token(api, 2)
    small_token, old_token = new_token(api, 0), new_token(api, 0)

    started = datetime.now(UTC)
    site = api.post("/sites/", json={"name": f"e2e-{tag}", "limit_unit": "W",
                                     "limit_periods": [{"startPeriod": 0, "limit": SITE_W}]})
    assert site.status_code == 201, site.text
    site_pk = site.json()["id"]
    for station, unit in ((old, "A"), (small, "W"), (big, "W")):
        member = api.post(f"/sites/{site_pk}/members/", json={
            "station": station.identity, "evse_max_power": RATING_W, "charging_rate_unit": unit})
        assert member.status_code == 201, member.text
    timeline = LimitTimeline()
    timeline.set(started, SITE_W)

    # Idle, each EVSE holds the fallback TxDefaultProfile: the limit over the three EVSEs.
    fallback = math.floor(SITE_W / 3)
    settle(simulator, stations, site_pk, {old.identity: amps_floor(fallback),
                                          small.identity: fallback, big.identity: fallback})
    sampler = StationSampler(simulator, stations).start()
    try:
        # 1. Two sessions of the same priority: the small ISO 15118 car gets its own maximum
        # (11 kW car: 15 A), the 1.6 station its rating; the idle EVSE keeps its fallback.
        small_max = ev_max_w(11_000)
        small_tx = start_session(simulator, small, small_token, EV(max_power_w=11_000, iso15118=True))
        old_tx = start_session(simulator, old, old_token, EV(max_power_w=RATING_W))
        settle(simulator, stations, site_pk, {small.identity: small_max,
                                              old.identity: amps_floor(RATING_W),
                                              big.identity: fallback})

        # 2. The 1.6 station drops its connection and boots again without its profiles: it gets
        # the fallback and its TxProfile back.
        boots = simulator.call(lambda: old.boot_count)
        simulator.call(lambda: setattr(old, "boot_on_reconnect", True))
        dropped_at = datetime.now(UTC)
        simulator.call(lambda: old.spawn(old.ws.close()))
        eventually(lambda: simulator.call(lambda: old.boot_count) > boots)
        # Its connector's own fallback TxDefaultProfile and the session's TxProfile.
        restored = eventually(lambda: (lambda held: held if len(held.get(1, [])) == 2 else None)(
            simulator.call(old.smart.profiles_by_evse)))
        by_purpose = {profile["chargingProfilePurpose"]: profile for profile in restored[1]}
        assert sorted(by_purpose) == ["TxDefaultProfile", "TxProfile"]
        assert not restored.get(0)
        assert str(by_purpose["TxProfile"]["transactionId"]) == old_tx.transaction_id
        # In between it held nothing: its whole rating (22 kW, its share was 31.8 A).
        assert RATING_W in [values[(old.identity, 1)][0] for when, values in list(sampler.samples)
                            if when >= dropped_at]

        def resent():
            commands = Command.objects.filter(identity=old.identity, action="SetChargingProfile",
                                              created_at__gte=dropped_at, status="accepted")
            return sorted(command.payload["csChargingProfiles"]["chargingProfilePurpose"]
                          for command in commands) == ["TxDefaultProfile", "TxProfile"]
        eventually(resent)
        settle(simulator, stations, site_pk, {small.identity: small_max,
                                              old.identity: amps_floor(RATING_W),
                                              big.identity: fallback})

        # 3. A priority-2 car (22 kW: 31 A) arrives: it gets its maximum; the small car keeps
        # its own; the 1.6 station (priority 0) takes what is left of 50 kW.
        big_max = ev_max_w(RATING_W)
        big_tx = start_session(simulator, big, high_token, EV(max_power_w=RATING_W, iso15118=True))
        settle(simulator, stations, site_pk, {
            big.identity: big_max, small.identity: small_max,
            old.identity: amps_floor(SITE_W - big_max - small_max)})
        rows = allocations(api, site_pk)
        assert rows[big.identity]["priority"] == 2 and rows[old.identity]["priority"] == 0
        assert rows[big.identity]["transaction_id"] == big_tx.transaction_id

        # 4. The site limit is lowered to 30 kW through the API: priority 2 keeps its maximum,
        # the two priority-0 sessions share the rest evenly.
        lowered_at = datetime.now(UTC)
        lower_limit(api, site_pk, LOWER_W, timeline)
        share = (LOWER_W - big_max) / 2
        settle(simulator, stations, site_pk, {big.identity: big_max, small.identity: share,
                                              old.identity: amps_floor(share)})
        honour_30 = honoured_after(sampler, lowered_at, LOWER_W)
        assert honour_30 <= HONOUR_S, honour_30

        # 5. Lowered to 8 kW: minimums first, in priority order: the priority-2 car's minimum
        # (6 A) fits and it takes the rest; the small car's minimum no longer fits beside it, so
        # it is paused (0 W), never given a share below its minChargingRate; the 1.6 station too.
        lowered_again_at = datetime.now(UTC)
        lower_limit(api, site_pk, LOWEST_W, timeline)
        settle(simulator, stations, site_pk, {big.identity: LOWEST_W, small.identity: 0.0,
                                              old.identity: 0.0})
        honour_8 = honoured_after(sampler, lowered_again_at, LOWEST_W)
        assert honour_8 <= HONOUR_S, honour_8
        assert allocations(api, site_pk)[small.identity]["target"] == 0.0

        # 6. The priority-2 session ends: its EVSE is back on the fallback (a third of 8 kW),
        # the small car's minimum fits again and it resumes at exactly its minChargingRate; the
        # 1.6 station gets what is left.
        simulator.call(lambda: big.evses[0].session.request_stop("Local"))
        idle = math.floor(LOWEST_W / 3)
        settle(simulator, stations, site_pk, {big.identity: idle, small.identity: EV_MIN_W,
                                              old.identity: amps_floor(LOWEST_W - idle - EV_MIN_W)})
        assert Transaction.objects.get(pk=big_tx.pk).state == Transaction.State.ENDED
        rows = allocations(api, site_pk)
        assert rows[big.identity]["transaction_id"] is None
        assert rows[small.identity]["target"] == EV_MIN_W
        assert rows[small.identity]["transaction_id"] == small_tx.transaction_id
    finally:
        samples = sampler.stop()

    # What the stations held and drew, sampled every 50 ms on the simulator's loop.
    assert len(samples) > 100, len(samples)
    assert timeline.violations(sampler.held_sums(), grace=HONOUR_S) == []
    assert timeline.violations(sampler.drawn_sums(), grace=HONOUR_S) == []
    # What they metered: the stored Power.Active.Import readings, each transaction's latest
    # reading summed over the site (a reading no longer counts once its station accepted a
    # new profile; the new limit stands in until the next reading).
    identities = [station.identity for station in stations]
    metered, transactions = metered_site_power(identities, started)
    assert len(transactions) == 3
    assert all(len(t.readings) >= 5 for t in transactions), [len(t.readings) for t in transactions]
    assert metered and max(watts for _, watts in metered) > LOWER_W  # it did charge hard
    assert timeline.violations(metered, grace=HONOUR_S + METER_S) == []
    # The metered power followed each lowering within seconds.
    for lowered, watts in ((lowered_at, LOWER_W), (lowered_again_at, LOWEST_W)):
        after = [(when, total) for when, total in metered if when >= lowered]
        last_over = max((when for when, total in after if total > watts + 1.0), default=lowered)
        assert (last_over - lowered).total_seconds() <= HONOUR_S + METER_S, (lowered, last_over)
