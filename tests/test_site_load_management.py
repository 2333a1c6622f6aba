"""Central load management over real WebSockets: the fallback TxDefaultProfile on every member,
decreases answered before increases are sent, refusing and silent stations counted at their
maximum, the limit lowered, sessions ending, priorities and minimums, 1.6 and A-only stations."""
from tests.helpers import eventually
from tests.site_helpers import (
    SiteLedger, add_member, allocation_of, create_site, live, quiet, start_session, stop_session,
)
from tests.transactions_helpers import new_token

LIMIT = 22080.0  # 32 A × 3 phases × 230 V


def joined(api, connect_station, ledger, site, identity, version="2.0.1", answer="Accepted",
           maximum=LIMIT, **member):
    client = ledger.attach(connect_station(identity, version), maximum=maximum, answer=answer)
    add_member(api, site, identity, evse_max_power=maximum, **member)
    return client


def fallback_frames(ledger, mark, identity):
    return [frame for frame in ledger.since(mark, "TxDefaultProfile") if frame[1] == identity]


def tx_frames(ledger, mark, identity=None):
    return [frame for frame in ledger.since(mark, "TxProfile") if identity in (None, frame[1])]


def test_fallback_installed_on_join_and_after_reboot(api, connect_station, identity):
    ledger = SiteLedger()
    site = create_site(api, LIMIT)
    a = joined(api, connect_station, ledger, site, f"{identity}-a")
    b = joined(api, connect_station, ledger, site, f"{identity}-b", version="1.6")
    # Two EVSEs share the limit: 11040 W each; the 1.6 station takes A (16.0 A per phase).
    eventually(lambda: fallback_frames(ledger, 0, a.identity)
               and fallback_frames(ledger, 0, a.identity)[-1][4] == 11040.0
               and fallback_frames(ledger, 0, b.identity)
               and fallback_frames(ledger, 0, b.identity)[-1][6] == 16.0)
    assert fallback_frames(ledger, 0, b.identity)[-1][5] == "A"
    eventually(lambda: all(row["state"] == "held" and row["held"] == 11040.0
                           for row in live(api, site)["allocations"]))

    mark = ledger.mark()
    a.boot(reason="PowerUp")  # a reboot: the station may have lost its profiles
    eventually(lambda: fallback_frames(ledger, mark, a.identity))
    assert fallback_frames(ledger, mark, a.identity)[0][4] == 11040.0
    assert not fallback_frames(ledger, mark, b.identity)
    eventually(lambda: allocation_of(api, site, a.identity)["state"] == "held")


def test_second_session_lowers_the_first_before_raising_the_second(api, connect_station,
                                                                     identity):
    ledger = SiteLedger()
    site = create_site(api, LIMIT, fallback_limit=4000)
    a = joined(api, connect_station, ledger, site, f"{identity}-a")
    b = joined(api, connect_station, ledger, site, f"{identity}-b")
    eventually(lambda: len(fallback_frames(ledger, 0, a.identity)) and
               len(fallback_frames(ledger, 0, b.identity)))
    quiet(api, site)
    mark = ledger.mark()

    start_session(ledger, a)
    # Alone, A gets the limit less what idle B may draw on its fallback.
    eventually(lambda: tx_frames(ledger, mark, a.identity))
    assert tx_frames(ledger, mark, a.identity)[-1][4] == LIMIT - 4000
    quiet(api, site)
    second = ledger.mark()
    start_session(ledger, b)
    eventually(lambda: tx_frames(ledger, second, b.identity))
    frames = tx_frames(ledger, second)
    # A is lowered to half and has answered before B is raised to half.
    assert [(frame[1], frame[4]) for frame in frames] == [(a.identity, LIMIT / 2),
                                                         (b.identity, LIMIT / 2)]
    assert ledger.highest_sum() <= LIMIT
    quiet(api, site)
    summary = live(api, site)["last_round"]
    assert [frame["phase"] for frame in summary["frames"]] == ["decrease", "increase"], summary
    assert summary["held_sum"] <= summary["limit"] == LIMIT


def test_refusing_and_silent_stations_count_at_their_maximum(api, connect_station, identity):
    ledger = SiteLedger()
    site = create_site(api, LIMIT, fallback_limit=4000)
    a = joined(api, connect_station, ledger, site, f"{identity}-a")
    joined(api, connect_station, ledger, site, f"{identity}-r", answer="Rejected", maximum=11000)
    joined(api, connect_station, ledger, site, f"{identity}-s", answer=None, maximum=9000)
    eventually(lambda: fallback_frames(ledger, 0, a.identity))
    quiet(api, site)
    mark = ledger.mark()
    start_session(ledger, a)
    # The others are counted at 11000 and 9000 W (they hold no fallback): A gets what is left.
    eventually(lambda: tx_frames(ledger, mark, a.identity))
    assert tx_frames(ledger, mark, a.identity)[-1][4] == LIMIT - 11000 - 9000
    quiet(api, site)
    rows = {row["station"]: row for row in live(api, site)["allocations"]}
    assert rows[f"{identity}-r"]["held"] == 11000 and rows[f"{identity}-s"]["held"] == 9000
    assert rows[a.identity]["held"] == LIMIT - 20000
    assert sum(row["held"] for row in rows.values()) <= LIMIT


def test_lower_limit_and_session_end(api, connect_station, identity):
    ledger = SiteLedger()
    site = create_site(api, LIMIT, fallback_limit=2000)
    a = joined(api, connect_station, ledger, site, f"{identity}-a")
    b = joined(api, connect_station, ledger, site, f"{identity}-b", version="1.6")
    eventually(lambda: fallback_frames(ledger, 0, b.identity))
    quiet(api, site)
    start_session(ledger, a)
    transaction_b = start_session(ledger, b)
    eventually(lambda: tx_frames(ledger, 0, a.identity) and tx_frames(ledger, 0, b.identity))
    quiet(api, site)
    eventually(lambda: allocation_of(api, site, a.identity)["held"] == LIMIT / 2)
    mark = ledger.mark()

    # The limit lowered: both are lowered, nothing rises.
    response = api.patch(f"/sites/{site['id']}/",
                         json={"limit_periods": [{"startPeriod": 0, "limit": 13800}]})
    assert response.status_code == 200, response.text
    eventually(lambda: len(tx_frames(ledger, mark)) >= 2)
    quiet(api, site)
    lowered = tx_frames(ledger, mark)
    assert {frame[1]: frame[4] for frame in lowered} == {a.identity: 6900.0, b.identity: 6900.0}
    assert lowered[[frame[1] for frame in lowered].index(b.identity)][6] == 10.0  # A on 1.6
    assert ledger.highest_sum() <= LIMIT
    assert live(api, site)["last_round"]["held_sum"] <= 13800

    # B's session ends: A gets B's share, less what idle B may draw on its fallback (2000 W is
    # 2.8 A on the 1.6 station, rounded down: 1932 W).
    end = ledger.mark()
    stop_session(ledger, b, transaction_b)
    eventually(lambda: tx_frames(ledger, end, a.identity))
    assert tx_frames(ledger, end, a.identity)[-1][4] == 13800 - 1932
    assert ledger.highest_sum() <= 13800


def test_priorities_minimums_and_units(api, connect_station, identity):
    ledger = SiteLedger()
    site = create_site(api, 18000, fallback_limit=2000)
    high = joined(api, connect_station, ledger, site, f"{identity}-h")
    low = joined(api, connect_station, ledger, site, f"{identity}-l", charging_rate_unit="A")
    eventually(lambda: fallback_frames(ledger, 0, low.identity)
               and fallback_frames(ledger, 0, high.identity))
    quiet(api, site)
    ledger.mark()
    start_session(ledger, high, token=new_token(charging_priority=5))
    start_session(ledger, low, token=new_token())
    # The low-priority EV needs at least 6 A per phase (4140 W).
    low.call("NotifyEVChargingNeeds", {"evseId": 1, "chargingNeeds": {
        "requestedEnergyTransfer": "AC_three_phase",
        "acChargingParameters": {"energyAmount": 20000, "evMinCurrent": 6, "evMaxCurrent": 32,
                                 "evMaxVoltage": 400}}})
    quiet(api, site)
    response = api.post(f"/sites/{site['id']}/reallocate/")
    assert response.status_code == 200, response.text
    rows = {row["station"]: row for row in live(api, site)["allocations"]}
    assert rows[low.identity]["target"] == 4140.0 and rows[low.identity]["sent_unit"] == "A"
    assert rows[low.identity]["sent_limit"] == 6.0
    assert rows[high.identity]["target"] == 18000 - 4140
    assert rows[high.identity]["priority"] == 5
    eventually(lambda: tx_frames(ledger, 0, low.identity)
               and tx_frames(ledger, 0, low.identity)[-1][6] == 6.0)
    assert tx_frames(ledger, 0, low.identity)[-1][5] == "A"
    assert ledger.highest_sum() <= 18000


def test_a_lower_limit_period_is_in_force_before_it_begins(api, connect_station, identity):
    from datetime import datetime, timedelta, timezone

    ledger = SiteLedger()
    start = datetime.now(timezone.utc).replace(microsecond=0)
    # The lower period begins 66 s from now; rounds look 60 s ahead, so the beat lowers the
    # session about 6 s from now, a minute before the period begins.
    site = create_site(api, LIMIT, fallback_limit=2000, limit_start=start.isoformat(),
                       limit_periods=[{"startPeriod": 0, "limit": LIMIT},
                                      {"startPeriod": 66, "limit": LIMIT / 2}])
    a = joined(api, connect_station, ledger, site, f"{identity}-a")
    eventually(lambda: fallback_frames(ledger, 0, a.identity))
    start_session(ledger, a)
    eventually(lambda: tx_frames(ledger, 0, a.identity))
    if datetime.now(timezone.utc) < start + timedelta(seconds=5):  # not on a slow machine
        assert tx_frames(ledger, 0, a.identity)[0][4] == LIMIT
        assert live(api, site)["next_change_at"] == (start + timedelta(seconds=6)).isoformat(
        ).replace("+00:00", "Z")
    eventually(lambda: tx_frames(ledger, 0, a.identity)[-1][4] == LIMIT / 2, timeout=40)
    assert datetime.now(timezone.utc) < start + timedelta(seconds=66)


def test_an_ev_drawing_less_leaves_its_share_to_the_others(api, connect_station, identity):
    ledger = SiteLedger()
    site = create_site(api, LIMIT, fallback_limit=2000)
    a = joined(api, connect_station, ledger, site, f"{identity}-a")
    b = joined(api, connect_station, ledger, site, f"{identity}-b")
    eventually(lambda: fallback_frames(ledger, 0, b.identity))
    quiet(api, site)
    start_session(ledger, a)
    transaction_b = start_session(ledger, b)
    eventually(lambda: allocation_of(api, site, b.identity)["held"] == LIMIT / 2
               and allocation_of(api, site, a.identity)["held"] == LIMIT / 2)
    quiet(api, site)
    mark = ledger.mark()
    # B's EV draws 1 kW of its 11 kW: a reading well under its share (taken after B accepted
    # it) makes a round that caps it at its draw plus the allocator's 1 kW headroom, and A gets
    # the rest.
    from datetime import timedelta

    from django.utils import timezone

    taken = (timezone.now() + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    b.call("TransactionEvent", {
        "eventType": "Updated", "timestamp": taken, "seqNo": 1,
        "triggerReason": "MeterValuePeriodic", "transactionInfo": {"transactionId": transaction_b},
        "meterValue": [{"timestamp": taken, "sampledValue": [
            {"value": 1000, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "W"}}]}]})
    eventually(lambda: tx_frames(ledger, mark, a.identity))
    quiet(api, site)
    assert [(frame[1], frame[4]) for frame in tx_frames(ledger, mark)] == [
        (b.identity, 2000.0), (a.identity, LIMIT - 2000)]
    assert allocation_of(api, site, b.identity)["measured"] == 1000
    assert ledger.highest_sum() <= LIMIT


def test_units_follow_what_each_station_takes(api, connect_station, identity):
    from tests.devicemodel_helpers import report_item, seed_inventory

    ledger = SiteLedger()
    site = create_site(api, LIMIT)
    # A 1.6 station that takes only W (ChargingScheduleAllowedChargingRateUnit "Power").
    old = ledger.attach(connect_station(f"{identity}-16", "1.6"))
    old.answers["GetConfiguration"] = {"configurationKey": [
        {"key": "ChargingScheduleAllowedChargingRateUnit", "value": "Power", "readonly": True}]}
    read = api.post(f"/stations/{old.identity}/reports/",
                    json={"kind": "ConfigurationInventory", "wait": 20})
    assert read.status_code == 201, read.text
    # A 2.0.1 station whose SmartChargingCtrlr.RateUnit is A only.
    new = ledger.attach(connect_station(f"{identity}-201"))
    seed_inventory(api, new, [report_item("SmartChargingCtrlr", "RateUnit", "A",
                                          data_type="MemberList")])
    add_member(api, site, old.identity, evse_max_power=LIMIT)
    add_member(api, site, new.identity, evse_max_power=LIMIT)
    eventually(lambda: fallback_frames(ledger, 0, old.identity)
               and fallback_frames(ledger, 0, new.identity))
    assert fallback_frames(ledger, 0, old.identity)[-1][5:7] == ("W", 11040.0)
    assert fallback_frames(ledger, 0, new.identity)[-1][5:7] == ("A", 16.0)


def test_a_reading_taken_before_a_raise_does_not_undo_it(api, connect_station, identity):
    from datetime import timedelta

    from django.utils import timezone

    def reading(client, transaction_id, seq_no, watts, taken_at):
        stamp = taken_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        client.call("TransactionEvent", {
            "eventType": "Updated", "timestamp": stamp, "seqNo": seq_no,
            "triggerReason": "MeterValuePeriodic", "transactionInfo": {"transactionId": transaction_id},
            "meterValue": [{"timestamp": stamp, "sampledValue": [
                {"value": watts, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "W"}}]}]})

    ledger = SiteLedger()
    site = create_site(api, LIMIT, fallback_limit=2000)
    a = joined(api, connect_station, ledger, site, f"{identity}-a")
    b = joined(api, connect_station, ledger, site, f"{identity}-b")
    eventually(lambda: fallback_frames(ledger, 0, b.identity))
    quiet(api, site)
    transaction_a = start_session(ledger, a)
    transaction_b = start_session(ledger, b)
    eventually(lambda: allocation_of(api, site, a.identity)["held"] == LIMIT / 2
               and allocation_of(api, site, b.identity)["held"] == LIMIT / 2)
    quiet(api, site)
    before_raise = timezone.now() - timedelta(seconds=1)
    # B draws 1 kW (a reading after B accepted its share): A is raised to the rest.
    reading(b, transaction_b, 1, 1000, timezone.now() + timedelta(seconds=1))
    eventually(lambda: allocation_of(api, site, a.identity)["held"] == LIMIT - 2000)
    quiet(api, site)
    mark = ledger.mark()
    # A's reading from before its raise shows the old share: not power A leaves unused.
    reading(a, transaction_a, 1, LIMIT / 2, before_raise)
    # A reading after the raise that draws it all changes nothing either.
    reading(a, transaction_a, 2, LIMIT - 2000, timezone.now() + timedelta(seconds=1))
    eventually(lambda: allocation_of(api, site, a.identity)["measured"] == LIMIT - 2000)
    quiet(api, site)
    assert tx_frames(ledger, mark) == []
    assert allocation_of(api, site, a.identity)["held"] == LIMIT - 2000
    assert ledger.highest_sum() <= LIMIT


def test_a_session_ending_below_its_fallback_never_lifts_the_sum_over_the_limit(
        api, connect_station, identity):
    ledger = SiteLedger()
    site = create_site(api, LIMIT)  # fallback: 11040 W per EVSE
    high = joined(api, connect_station, ledger, site, f"{identity}-h")
    low = joined(api, connect_station, ledger, site, f"{identity}-l")
    eventually(lambda: fallback_frames(ledger, 0, low.identity)
               and fallback_frames(ledger, 0, high.identity))
    quiet(api, site)
    ledger.mark()
    start_session(ledger, high, token=new_token(charging_priority=5))
    low_transaction = start_session(ledger, low, token=new_token())
    # The priority session takes the whole limit: the other's share is 0, and its own fallback
    # is lowered with it, so that ending the session cannot bring back 11040 W.
    eventually(lambda: tx_frames(ledger, 0, high.identity)
               and tx_frames(ledger, 0, high.identity)[-1][4] == LIMIT)
    assert fallback_frames(ledger, 0, low.identity)[-1][2:5] == (1, "TxDefaultProfile", 0.0)
    quiet(api, site)
    ended = ledger.mark()
    stop_session(ledger, low, low_transaction)
    # Idle again: the priority session is lowered to make room, then the fallback is raised.
    eventually(lambda: fallback_frames(ledger, ended, low.identity)
               and fallback_frames(ledger, ended, low.identity)[-1][4] == 11040.0)
    assert tx_frames(ledger, ended, high.identity)[-1][4] == LIMIT - 11040.0
    assert ledger.highest_sum() <= LIMIT
    quiet(api, site)
    assert live(api, site)["held_sum"] <= LIMIT


def test_a_stations_external_limit_caps_its_share_and_frees_the_rest(api, connect_station,
                                                                      identity):
    ledger = SiteLedger()
    site = create_site(api, LIMIT, fallback_limit=2000)
    a = joined(api, connect_station, ledger, site, f"{identity}-a")
    b = joined(api, connect_station, ledger, site, f"{identity}-b")
    eventually(lambda: fallback_frames(ledger, 0, a.identity)
               and fallback_frames(ledger, 0, b.identity))
    start_session(ledger, a)
    start_session(ledger, b)
    eventually(lambda: allocation_of(api, site, a.identity)["target"] == LIMIT / 2
               and allocation_of(api, site, b.identity)["target"] == LIMIT / 2)
    quiet(api, site)
    limited = ledger.mark()
    # The station's energy manager holds EVSE 1 at 5 kW: the site gives it no more, and the
    # other session gets what it cannot take.
    a.call("NotifyChargingLimit", {
        "evseId": 1, "chargingLimit": {"chargingLimitSource": "EMS", "isGridCritical": False},
        "chargingSchedule": [{"id": 1, "chargingRateUnit": "W",
                              "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 5000}]}]})
    eventually(lambda: tx_frames(ledger, limited, b.identity)
               and tx_frames(ledger, limited, b.identity)[-1][4] == LIMIT - 5000)
    assert tx_frames(ledger, limited, a.identity)[-1][4] == 5000
    assert ledger.highest_sum() <= LIMIT
    quiet(api, site)
    cleared = ledger.mark()
    a.call("ClearedChargingLimit", {"chargingLimitSource": "EMS", "evseId": 1})
    eventually(lambda: tx_frames(ledger, cleared, a.identity)
               and tx_frames(ledger, cleared, a.identity)[-1][4] == LIMIT / 2)
    assert tx_frames(ledger, cleared, b.identity)[-1][4] == LIMIT / 2
    assert ledger.highest_sum() <= LIMIT
