"""Simulated stations honour the charging profiles the CSMS sends (both versions): the metered power
stays under the composite limit, recurring and relative profiles take effect on time, clearing lifts
the cap, their own composite equals the CSMS's, GetChargingProfiles reports reconcile, a reboot may
lose them, and an ISO 15118 car reports its needs and picks a schedule."""

import argparse
import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csms.models import MessageLogEntry
from csms.ocpp.schemas import REQUEST, describe_errors
from simulator.charging import fair_share
from simulator.cli import add_arguments, profile_from
from simulator.ev import charging_needs, pick_schedule
from smartcharging.composite import ChargingProfile as CompositeProfile
from smartcharging.composite import ChargingSchedule, Period, compute_composite_schedule
from smartcharging.models import ChargingProfile, EVChargingNeeds, EVChargingSchedule, ProfileReport
from transactions.models import MeterValue
from tests.helpers import eventually, send_command

VERSIONS = ["2.0.1", "1.6"]
CAR_W = 11_000.0


@pytest.fixture
def id_token(api):
    token = f"SC{uuid.uuid4().hex[:12].upper()}"
    created = api.post("/id-tokens/", json={"id_token": token, "type": "ISO14443"})
    assert created.status_code == 201, created.text
    return token


def iso(moment):
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def whole_now():
    return datetime.now(UTC).replace(microsecond=0)


def remote_start(api, simulator, station, identity, version, token):
    """Start a session on EVSE 1 through the CSMS; the station's transaction id once it runs."""
    if version == "2.0.1":
        action, payload = "RequestStartTransaction", {
            "idToken": {"idToken": token, "type": "ISO14443"}, "remoteStartId": 7, "evseId": 1}
    else:
        action, payload = "RemoteStartTransaction", {"idTag": token, "connectorId": 1}
    answer = send_command(api, identity, action, payload).json()
    assert answer["response"]["status"] == "Accepted", answer
    running = eventually(lambda: simulator.call(
        lambda: [s.transaction_id for s in station.sessions() if s.charging]))
    # The CSMS knows the transaction (a TxProfile needs it there).
    eventually(lambda: api.get("/transactions/", params={
        "station": identity, "transaction_id": str(running[0]), "state": "Active"}).json()["results"])
    return running[0]


def push(api, identity, purpose, evse_id, periods, unit="W", kind="Absolute", stack_level=0,
         start=None, duration=None, **extra):
    """A profile through the API, answered by the station; the row as the API shows it."""
    schedule = {"chargingRateUnit": unit, "chargingSchedulePeriod": [
        {"startPeriod": p[0], "limit": p[1], **({"numberPhases": p[2]} if len(p) > 2 else {})}
        for p in periods]}
    if start is not None:
        schedule["startSchedule"] = iso(start)
    if duration is not None:
        schedule["duration"] = duration
    body = {"station": identity, "evse_id": evse_id, "stack_level": stack_level, "purpose": purpose,
            "kind": kind, "schedules": [schedule], "wait": 20, **extra}
    response = api.post("/charging-profiles/", json=body)
    assert response.status_code == 201, response.text
    row = response.json()
    assert row["state"] == "installed", row
    return row


def held_state(simulator, station, evse_id=1):
    """(limit W, phases, power W) of an EVSE, read on the simulator's loop."""
    def read():
        evse = station.evse(evse_id)
        return evse.limit_w, evse.phases, evse.meter.power_w
    return simulator.call(read)


def stored(identity, measurand, after):
    """(timestamp, value) of the stored readings of a measurand taken after `after`."""
    rows = MeterValue.objects.filter(station__identity=identity, measurand=measurand,
                                     timestamp__gt=after).order_by("timestamp", "id")
    return [(row.timestamp, row.value) for row in rows]


@pytest.mark.parametrize("version", VERSIONS)
def test_a_profile_caps_the_metered_power_and_clearing_lifts_it(api, simulator, simulated_station,
                                                                identity, id_token, version):
    station = simulated_station(identity, version, meter_interval=0.4, ev_max_power_w=CAR_W,
                                session_seconds=(120, 120), meter_current=True)
    remote_start(api, simulator, station, identity, version, id_token)
    # The car ramps from 20 % of its 11 kW: it draws more than 1.5 kW from the start.
    assert held_state(simulator, station)[2] > 1500
    row = push(api, identity, "TxDefaultProfile", 1, [(0, 1500)], start=whole_now() - timedelta(hours=1))
    capped_at = datetime.now(UTC)
    limit, _, power = held_state(simulator, station)
    assert limit == 1500 and power <= 1500  # at once, not at the next meter tick
    powers = eventually(lambda: (lambda found: found if len(found) >= 5 else None)(
        stored(identity, "Power.Active.Import", capped_at)))
    assert all(value <= Decimal(1500) for _, value in powers), powers
    energy = stored(identity, "Energy.Active.Import.Register", capped_at)
    (first_at, first), (last_at, last) = energy[0], energy[-1]
    hours = Decimal((last_at - first_at).total_seconds() / 3600)
    # The register integrates what was drawn: within the cap (+1 Wh for whole-Wh readings).
    assert last - first <= Decimal(1500) * hours + 1, energy
    currents = stored(identity, "Current.Import", capped_at)
    assert currents and all(value <= Decimal("2.2") for _, value in currents)  # 1500 W / 690 V

    cleared = api.request("DELETE", f"/charging-profiles/{row['id']}/", json={"wait": 20})
    assert cleared.status_code == 200 and cleared.json()["response"] == {"status": "Accepted"}
    assert ChargingProfile.objects.get(pk=row["id"]).state == "cleared"
    limit, _, power = held_state(simulator, station)
    assert limit is None and power > 1500
    lifted_at = datetime.now(UTC)
    eventually(lambda: any(value > 1500 for _, value in stored(identity, "Power.Active.Import", lifted_at)))


@pytest.mark.parametrize("version", VERSIONS)
def test_a_recurring_period_boundary_takes_effect_at_once(api, simulator, simulated_station, identity,
                                                         id_token, version):
    # Meter values every 30 s: any change seen sooner comes from the boundary, not a meter tick.
    station = simulated_station(identity, version, meter_interval=30, ev_max_power_w=CAR_W,
                                session_seconds=(120, 120))
    remote_start(api, simulator, station, identity, version, id_token)
    started = whole_now() - timedelta(seconds=60)
    # Daily from a minute ago: 9 kW, then 1 kW from 3 s from now; a station-wide maximum.
    row = push(api, identity, "ChargingStationMaxProfile", 0, [(0, 9000), (63, 1000)], kind="Recurring",
               recurrency_kind="Daily", start=started)
    boundary = started + timedelta(seconds=63)
    limit, _, power = held_state(simulator, station)
    assert limit == 9000 and 1000 < power <= 9000
    held = simulator.call(station.smart.snapshot)
    assert [p["id"] for p in held[0]["profiles"]] == [row["charging_profile_id"]] and held[1]["profiles"] == []
    assert held[0]["limit_w"] == 9000 and held[0]["power_w"] == held[1]["power_w"]
    eventually(lambda: held_state(simulator, station)[0] == 1000, timeout=10)
    late = (datetime.now(UTC) - boundary).total_seconds()
    assert late < 2.0, late  # a timer at the boundary, not the next meter value (30 s)
    assert held_state(simulator, station)[2] <= 1000


@pytest.mark.parametrize("version", VERSIONS)
def test_a_relative_profile_counts_from_the_transaction_start_in_amperes_and_phases(
        api, simulator, simulated_station, identity, id_token, version):
    station = simulated_station(identity, version, meter_interval=0.5, ev_max_power_w=CAR_W,
                                session_seconds=(120, 120))
    # 16 A on three phases for 2 s, then 6 A on one phase (1380 W at 230 V).
    push(api, identity, "TxDefaultProfile", 1, [(0, 16, 3), (2, 6, 1)], unit="A", kind="Relative")
    assert held_state(simulator, station)[0] is None  # relative: nothing to count from while idle
    remote_start(api, simulator, station, identity, version, id_token)
    started_at = simulator.call(lambda: station.evse(1).session.transaction_started_at)
    limit, phases, power = eventually(lambda: (lambda state: state if state[0] == 1380 else None)(
        held_state(simulator, station)), timeout=10)
    assert phases == 1 and power <= 1380
    assert datetime.now(UTC) - started_at >= timedelta(seconds=1)
    after = started_at.replace(microsecond=0) + timedelta(seconds=2.5)
    powers = eventually(lambda: stored(identity, "Power.Active.Import", after))
    assert all(value <= 1380 for _, value in powers), powers


def composite_of(profiles, evse_id, start, duration, unit):
    return compute_composite_schedule(profiles, evse_id=evse_id, window_start=start, duration=duration,
                                      unit=unit)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_station_composite_equals_the_csms_composite(api, simulated_station, identity, version):
    simulated_station(identity, version)
    now = whole_now()
    push(api, identity, "ChargingStationMaxProfile", 0, [(0, 32), (200, 20, 1)], unit="A", start=now)
    push(api, identity, "TxDefaultProfile", 1, [(0, 15000), (60, 9000), (300, 4000)], start=now,
         duration=900, stack_level=1)
    push(api, identity, "TxDefaultProfile", 1, [(0, 7000)], start=now + timedelta(seconds=100),
         stack_level=2, valid_to=iso(now + timedelta(seconds=150)))
    profiles = [
        CompositeProfile(1, 0, "ChargingStationMaxProfile", "Absolute", evse_id=0, schedules=[
            ChargingSchedule(now, None, "A", periods=[Period(0, 32), Period(200, 20, 1)])]),
        CompositeProfile(2, 1, "TxDefaultProfile", "Absolute", evse_id=1, schedules=[
            ChargingSchedule(now, 900, "W", periods=[Period(0, 15000), Period(60, 9000), Period(300, 4000)])]),
        CompositeProfile(3, 2, "TxDefaultProfile", "Absolute", evse_id=1,
                         valid_to=now + timedelta(seconds=150), schedules=[
                             ChargingSchedule(now + timedelta(seconds=100), None, "W", periods=[Period(0, 7000)])]),
    ]
    for evse_id, unit in ((1, "W"), (1, "A"), (0, "W")):
        response = api.post("/charging-profiles/composite-schedule/", json={
            "station": identity, "evse_id": evse_id, "duration": 600, "charging_rate_unit": unit, "wait": 20})
        assert response.status_code == 201, response.text
        answer = response.json()["response"]
        assert answer["status"] == "Accepted", answer
        schedule = answer["schedule"] if version == "2.0.1" else answer["chargingSchedule"]
        start = datetime.fromisoformat((answer["schedule"] if version == "2.0.1" else answer)["scheduleStart"])
        expected = composite_of(profiles, evse_id, start, 600, unit)
        got = [(p["startPeriod"], p["limit"], p.get("numberPhases")) for p in schedule["chargingSchedulePeriod"]]
        want = [(p.start_period, p.limit, p.number_phases) for p in expected.periods]
        assert [g[0] for g in got] == [w[0] for w in want], (got, want)
        for (_, limit, phases), (_, wanted, wanted_phases) in zip(got, want, strict=True):
            assert wanted - 0.1 <= limit <= wanted, (got, want)  # one decimal, rounded down
            assert phases == wanted_phases
    unknown = send_command(api, identity, "GetCompositeSchedule",
                           {"duration": 60, "evseId" if version == "2.0.1" else "connectorId": 9}).json()
    assert unknown["response"]["status"] == "Rejected"


def test_charging_profiles_report_arrives_in_parts_and_is_reconciled(api, simulator, simulated_station,
                                                                      identity):
    station = simulated_station(identity, "2.0.1")
    start = whole_now() - timedelta(hours=1)
    kept = [push(api, identity, "ChargingStationMaxProfile", 0, [(0, 20000)], start=start),
            push(api, identity, "TxDefaultProfile", 1, [(0, 9000)], start=start)]
    lost = push(api, identity, "TxDefaultProfile", 1, [(0, 8000)], start=start, stack_level=1)
    # The station drops one behind the CSMS's back.
    assert simulator.call(lambda: station.smart.clear(profile_ids={lost["charging_profile_id"]})) == 1
    response = api.post("/charging-profiles/report/", json={"station": identity, "wait": 20})
    assert response.status_code == 201, response.text
    report = eventually(lambda: ProfileReport.objects.filter(
        pk=response.json()["id"], status=ProfileReport.Status.COMPLETE).first())
    assert report.parts == 2  # one per EVSE
    parts = eventually(lambda: (lambda found: found if len(found) == 2 else None)(
        [json.loads(entry.frame)[3] for entry in MessageLogEntry.objects.filter(
            identity=identity, action="ReportChargingProfiles", direction="in", message_type=2).order_by("id")]))
    assert [(p["requestId"], p["evseId"], p["tbc"]) for p in parts] == [(report.pk, 0, True), (report.pk, 1, False)]
    assert [ChargingProfile.objects.get(pk=row["id"]).state for row in kept] == ["installed", "installed"]
    assert ChargingProfile.objects.get(pk=lost["id"]).state == "cleared"
    criteria = api.post("/charging-profiles/report/", json={
        "station": identity, "purpose": "ChargingStationMaxProfile", "wait": 20})
    report = eventually(lambda: ProfileReport.objects.filter(
        pk=criteria.json()["id"], status=ProfileReport.Status.COMPLETE).first())
    assert [p["chargingProfile"]["id"] for p in report.profiles] == [kept[0]["charging_profile_id"]]


@pytest.mark.parametrize("version", VERSIONS)
def test_a_reboot_keeps_or_forgets_the_profiles(api, simulator, simulated_station, identity, version):
    # 2.0.1 station here forgets its profiles on reboot; the 1.6 one keeps them (the default).
    keep = version == "1.6"
    station = simulated_station(identity, version, reboot_seconds=0.2, keep_profiles_on_reboot=keep)
    row = push(api, identity, "ChargingStationMaxProfile", 0, [(0, 20000)], start=whole_now())
    assert api.post(f"/stations/{identity}/reset/", json={"wait": 20}).json()["status"] == "accepted"
    eventually(lambda: simulator.call(lambda: station.boot_count == 2 and station.online.is_set()))
    assert simulator.call(lambda: station.stats.counters["profiles_forgotten"]) == (0 if keep else 1)
    if keep:
        held = simulator.call(lambda: {p["id"] for p in station.smart.profiles_by_evse().get(0, [])})
        assert held == {row["charging_profile_id"]}
        return
    # The CSMS asks what the station holds after the boot and gives the lost profile back.
    eventually(lambda: simulator.call(lambda: [p["id"] for p in station.smart.profiles_by_evse().get(0, [])])
               == [row["charging_profile_id"]])
    assert simulator.call(lambda: station.evse(1).limit_w) == 20000
    assert simulator.call(lambda: station.stats.answered["GetChargingProfiles"]) >= 1
    eventually(lambda: ChargingProfile.objects.filter(
        station__identity=identity, charging_profile_id=row["charging_profile_id"], state="installed").exists())


def test_an_iso15118_car_reports_its_needs_and_picks_a_schedule(api, simulator, simulated_station, identity,
                                                                id_token):
    station = simulated_station(identity, "2.0.1", meter_interval=0.5, ev_max_power_w=7000,
                                iso15118_share=1, session_seconds=(120, 120))
    remote_start(api, simulator, station, identity, "2.0.1", id_token)
    needs = eventually(lambda: EVChargingNeeds.objects.filter(station__identity=identity).first())
    assert needs.evse_id == 1 and needs.requested_energy_transfer == "AC_three_phase"
    assert needs.charging_needs["acChargingParameters"]["evMaxCurrent"] == 10  # 7000 W / 690 V
    assert needs.departure_time > datetime.now(UTC) + timedelta(seconds=100)
    assert needs.answer_status == "Accepted"
    # The car's own maximum caps its draw.
    eventually(lambda: held_state(simulator, station)[2] > 0)
    assert held_state(simulator, station)[2] <= 7000
    # The CSMS fits a TxProfile to the needs; the car answers it with the schedule it picks.
    fitted = eventually(lambda: EVChargingSchedule.objects.filter(station__identity=identity).first())
    assert all(p["limit"] <= 7000 for p in fitted.charging_schedule["chargingSchedulePeriod"])
    # A TxProfile of a higher stack level: the car picks again, within it and its own 7 kW.
    push(api, identity, "TxProfile", 1, [(0, 9000), (30, 5000), (60, 3000)], kind="Relative", stack_level=5)
    chosen = eventually(lambda: EVChargingSchedule.objects.filter(
        station__identity=identity).exclude(pk=fitted.pk).first())
    periods = chosen.charging_schedule["chargingSchedulePeriod"]
    assert chosen.evse_id == 1 and chosen.charging_schedule["chargingRateUnit"] == "W"
    assert [p["limit"] for p in periods] == [7000, 5000, 3000], periods
    # Once each answer is in: the car sent its needs once and one schedule per TxProfile.
    eventually(lambda: simulator.call(lambda: [action for action, _, _ in station.ev_messages])
               == ["NotifyEVChargingNeeds", "NotifyEVChargingSchedule", "NotifyEVChargingSchedule"])


# --- the pure pieces ---------------------------------------------------------------------------

@pytest.mark.parametrize("transfer", ["AC_three_phase", "DC"])
def test_charging_needs_follow_the_schema(transfer):
    payload = charging_needs(1, 50_000 if transfer == "DC" else 11_000, 1800, transfer, 12)
    assert describe_errors("2.0.1", "NotifyEVChargingNeeds", REQUEST, payload) == []


@settings(max_examples=60, deadline=None, derandomize=True)
@given(cap=st.floats(0, 50_000), wants=st.lists(st.floats(0, 22_000), min_size=1, max_size=6))
def test_fair_share_never_exceeds_the_cap_nor_what_is_wanted(cap, wants):
    shares = fair_share(cap, dict(enumerate(wants)))
    assert sum(shares.values()) <= max(cap, sum(wants)) + 1e-6
    assert sum(shares.values()) <= cap + 1e-6 or shares == dict(enumerate(wants))
    assert all(0 <= shares[i] <= want + 1e-9 for i, want in enumerate(wants))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(limits=st.lists(st.integers(0, 30_000), min_size=1, max_size=12), ev_max=st.integers(1_000, 22_000),
       tuples=st.integers(1, 5))
def test_the_chosen_schedule_stays_within_the_profile(limits, ev_max, tuples):
    composite = [{"startPeriod": 60 * i, "limit": float(limit)} for i, limit in enumerate(limits)]
    schedule = pick_schedule(composite, "W", ev_max, 60 * len(limits), tuples)
    chosen = schedule["chargingSchedulePeriod"]
    assert len(chosen) <= tuples and chosen[0]["startPeriod"] == 0
    for second in range(0, 60 * len(limits), 30):
        allowed = min(limits[second // 60], ev_max)
        in_force = [p for p in chosen if p["startPeriod"] <= second][-1]
        assert in_force["limit"] <= allowed


def test_the_command_line_options_reach_the_profile():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    profile = profile_from(vars(parser.parse_args([
        "--ev-max-power", "7400", "--iso15118-share", "0.5", "--iso15118-transfer", "DC",
        "--forget-profiles-on-reboot", "--meter-current"])))
    assert (profile.ev_max_power_w, profile.iso15118_share, profile.iso15118_energy_transfer,
            profile.keep_profiles_on_reboot, profile.meter_current) == (7400, 0.5, "DC", False, True)
    default = profile_from(vars(parser.parse_args([])))
    assert default.keep_profiles_on_reboot and default.iso15118_share == 0 and default.ev_max_power_w is None
