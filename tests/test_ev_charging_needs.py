"""EV charging needs (K15–K17): stored, Accepted only when a schedule follows; for a station in no
site a TxProfile fitted to the EV (its maximum within the EVSE's caps, until departure, in at most
maxScheduleTuples periods, in the station's unit); site members are left to the allocator."""
import uuid
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from csms.models import Command
from smartcharging.actions.ev_needs import EV_NEEDS_SOURCE, fewest_periods
from smartcharging.models import ChargingProfile, EVChargingNeeds, Site, SiteMember
from stations.models import Station
from tests.devicemodel_helpers import report_item, seed_inventory
from tests.helpers import calls_before_marker
from tests.transactions_helpers import event, new_token


def iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def parse(value):
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def ac_needs(max_current=16, departure=None, transfer="AC_three_phase"):
    needs = {"requestedEnergyTransfer": transfer, "acChargingParameters": {
        "energyAmount": 20000, "evMinCurrent": 6, "evMaxCurrent": max_current,
        "evMaxVoltage": 400}}
    if departure:
        needs["departureTime"] = iso(departure)
    return needs


def charging(station, evse_id=1):
    station.answers["SetChargingProfile"] = {"status": "Accepted"}
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    station.call("TransactionEvent", event("Started", 0, 0, transaction_id, trigger="Authorized",
                                           token=new_token(), evse=evse_id))
    return transaction_id


def fitted_call(station):
    """The SetChargingProfile the CSMS sent for the needs (other features may talk too)."""
    while True:
        _, action, payload = station.next_call()
        if action == "SetChargingProfile" and payload["chargingProfile"]["chargingProfilePurpose"] \
                == "TxProfile":
            return payload


def test_no_transaction_rejected_and_stored(connect_station, identity):
    station = connect_station(identity)
    answer = station.call("NotifyEVChargingNeeds", {"evseId": 1, "chargingNeeds": ac_needs()})
    assert answer["status"] == "Rejected"
    assert answer["statusInfo"]["reasonCode"] == "NoChargingProfile"
    assert EVChargingNeeds.objects.get(station__identity=identity).answer_status == "Rejected"


def test_fitted_under_the_station_cap_until_departure(connect_station, identity, api):
    station = connect_station(identity)
    transaction_id = charging(station)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    cap_start = now + timedelta(seconds=600)
    # The station may draw 10 A for ten minutes from cap_start, then 32 A.
    response = api.post("/charging-profiles/", json={
        "station": identity, "evse_id": 0, "stack_level": 0, "purpose": "ChargingStationMaxProfile",
        "kind": "Absolute", "wait": 20, "schedules": [{
            "startSchedule": iso(cap_start), "chargingRateUnit": "A", "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 10}, {"startPeriod": 600, "limit": 32}]}]})
    assert response.json()["state"] == "installed", response.text
    departure = now + timedelta(hours=1)
    answer = station.call("NotifyEVChargingNeeds", {
        "evseId": 1, "maxScheduleTuples": 12, "chargingNeeds": ac_needs(16, departure)})
    assert answer == {"status": "Accepted"}
    payload = fitted_call(station)
    profile = payload["chargingProfile"]
    assert payload["evseId"] == 1 and profile["transactionId"] == transaction_id
    assert profile["chargingProfileKind"] == "Absolute"
    schedule = profile["chargingSchedule"][0]
    start = parse(schedule["startSchedule"])
    assert abs((start - now).total_seconds()) < 30
    assert start + timedelta(seconds=schedule["duration"]) == departure
    assert schedule["chargingRateUnit"] == "A"
    periods = [(start + timedelta(seconds=p["startPeriod"]), p["limit"], p["numberPhases"])
               for p in schedule["chargingSchedulePeriod"]]
    assert periods == [(start, 16, 3), (cap_start, 10, 3), (cap_start + timedelta(seconds=600), 16, 3)]
    fitted = ChargingProfile.objects.get(station__identity=identity, purpose="TxProfile")
    assert fitted.command.source == EV_NEEDS_SOURCE
    assert fitted.transaction.transaction_id == transaction_id

    # Two periods at most: the merge keeps the lower limit, never above the cap.
    station.call("NotifyEVChargingNeeds", {
        "evseId": 1, "maxScheduleTuples": 2, "chargingNeeds": ac_needs(16, departure)})
    schedule = fitted_call(station)["chargingProfile"]["chargingSchedule"][0]
    start = parse(schedule["startSchedule"])
    assert [(start + timedelta(seconds=p["startPeriod"]), p["limit"])
            for p in schedule["chargingSchedulePeriod"]] == [
        (start, 10), (cap_start + timedelta(seconds=600), 16)]


def test_dc_in_watts(connect_station, identity, api):
    station = connect_station(identity)
    seed_inventory(api, station, [report_item("SmartChargingCtrlr", "RateUnit", "W",
                                              data_type="MemberList")])
    charging(station)
    answer = station.call("NotifyEVChargingNeeds", {"evseId": 1, "chargingNeeds": {
        "requestedEnergyTransfer": "DC", "dcChargingParameters": {
            "evMaxCurrent": 200, "evMaxVoltage": 500, "evMaxPower": 50000}}})
    assert answer["status"] == "Accepted"
    schedule = fitted_call(station)["chargingProfile"]["chargingSchedule"][0]
    # No departure: no duration, one period at the EV's maximum power.
    assert schedule["chargingRateUnit"] == "W" and "duration" not in schedule
    assert schedule["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 50000}]


def test_site_member_accepted_and_left_to_the_allocator(connect_station, identity, api):
    station = connect_station(identity)
    charging(station)
    site = Site.objects.create(name=f"site-{uuid.uuid4().hex[:8]}", enabled=False,
                               limit_periods=[{"startPeriod": 0, "limit": 50000}])
    SiteMember.objects.create(site=site, station=Station.objects.get(identity=identity))
    answer = station.call("NotifyEVChargingNeeds", {"evseId": 1, "chargingNeeds": ac_needs()})
    assert answer == {"status": "Accepted"}
    calls_before_marker(api, station)
    assert not Command.objects.filter(identity=identity, source=EV_NEEDS_SOURCE).exists()


def test_fewest_periods_examples():
    periods = [(0, 16.0), (600, 10.0), (1200, 16.0)]
    assert fewest_periods(periods, 3600, 3) == periods
    assert fewest_periods(periods, 3600, 2) == [(0, 10.0), (1200, 16.0)]
    assert fewest_periods(periods, 3600, 1) == [(0, 10.0)]


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.integers(1, 3600), st.floats(0, 100, allow_nan=False)),
                min_size=1, max_size=20),
       st.integers(1, 25))
def test_fewest_periods_never_exceed_and_fit(steps, max_count):
    starts, limits = [0], []
    for length, limit in steps:
        limits.append(limit)
        starts.append(starts[-1] + length)
    periods, end = list(zip(starts[:-1], limits)), starts[-1]
    merged = fewest_periods(periods, end, max_count)
    assert 1 <= len(merged) <= max(1, max_count) and merged[0][0] == 0
    assert [start for start, _ in merged] == sorted({start for start, _ in merged})

    def limit_at(rows, second):
        return [limit for start, limit in rows if start <= second][-1]

    for second in starts[:-1]:
        assert limit_at(merged, second) <= limit_at(periods, second)
    if len(periods) <= max_count:
        assert merged == periods
