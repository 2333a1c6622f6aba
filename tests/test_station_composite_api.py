"""GET /stations/<identity>/composite-schedule/: the composite the CSMS computes from the profiles
it tracks, external limits and the running transaction; the station's own beside it, differences."""
import uuid

from smartcharging.actions.schedules import compare_composites
from stations.models import Station
from tests.helpers import eventually
from tests.transactions_helpers import at, event, new_token, start_16

START = at(0)  # 2026-03-01T08:00:00Z


def schedule(*periods, unit="A", **extra):
    return {"chargingRateUnit": unit, **extra, "chargingSchedulePeriod": [
        {"startPeriod": start, "limit": limit} for start, limit in periods]}


def push(api, identity, purpose, evse_id, stack_level=0, kind="Absolute", schedules=None,
         wait=20):
    response = api.post("/charging-profiles/", json={
        "station": identity, "evse_id": evse_id, "stack_level": stack_level, "purpose": purpose,
        "kind": kind, "wait": wait,
        "schedules": schedules or [schedule((0, 32), (3600, 16), startSchedule=START)]})
    assert response.status_code == 201, response.text
    return response.json()


def composite(api, identity, **params):
    response = api.get(f"/stations/{identity}/composite-schedule/", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def limits(body):
    return [(period["start_period"], period["limit"]) for period in body["periods"]]


def test_installed_profiles_and_external_limit_combine(connect_station, identity, api):
    station = connect_station(identity)
    station.answers["SetChargingProfile"] = {"status": "Accepted"}
    tx_default = push(api, identity, "TxDefaultProfile", 1)
    station_max = push(api, identity, "ChargingStationMaxProfile", 0, schedules=[
        schedule((0, 20), startSchedule=at(1800))])
    body = composite(api, identity, evse=1, start=START, duration=7200)
    assert limits(body) == [(0, 32), (1800, 20), (3600, 16)]
    assert body["profiles"] == sorted([tx_default["id"], station_max["id"]])
    assert body["charging_rate_unit"] == "A" and body["transaction"] is None
    # In W: 16 A × 230 V × 3 phases.
    watts = composite(api, identity, evse=1, start=START, duration=7200, unit="W")
    assert limits(watts)[-1] == (3600, 16 * 230 * 3)
    # The station's own external limit (NotifyChargingLimit) caps it until cleared.
    station.call("NotifyChargingLimit", {
        "chargingLimit": {"chargingLimitSource": "EMS"}, "evseId": 1,
        "chargingSchedule": [{"id": 1, "startSchedule": START, "chargingRateUnit": "A",
                              "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10}]}]})
    capped = composite(api, identity, evse=1, start=START, duration=7200)
    assert limits(capped) == [(0, 10)] and len(capped["charging_limits"]) == 1
    station.call("ClearedChargingLimit", {"chargingLimitSource": "EMS", "evseId": 1})
    assert limits(composite(api, identity, evse=1, start=START, duration=7200))[0] == (0, 32)
    # A profile the station has not answered yet is listed, not applied.
    station.auto_answer = False
    pending = push(api, identity, "TxDefaultProfile", 1, stack_level=5, wait=0,
                   schedules=[schedule((0, 1), startSchedule=START)])
    body = composite(api, identity, evse=1, start=START, duration=7200)
    assert body["pending_profiles"] == [pending["id"]]
    assert limits(body) == [(0, 32), (1800, 20), (3600, 16)]
    # The station's whole connection (EVSE 0): only the station-wide profiles.
    assert limits(composite(api, identity, evse=0, start=START, duration=7200)) == [
        (0, None), (1800, 20)]


def test_running_transaction_relative_tx_profile(connect_station, identity, api):
    station = connect_station(identity)
    station.answers["SetChargingProfile"] = {"status": "Accepted"}
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    station.call("TransactionEvent", event("Started", 0, 0, transaction_id, trigger="Authorized",
                                           token=new_token(), evse=1))
    push(api, identity, "TxDefaultProfile", 1, schedules=[schedule((0, 32), startSchedule=START)])
    push(api, identity, "TxProfile", 1, kind="Relative", schedules=[schedule((0, 8), (600, 24))])
    body = composite(api, identity, evse=1, start=at(300), duration=3600)
    # Relative from the transaction start (T0): 8 A until T0 + 600 s, then 24 A; TxProfile wins.
    assert limits(body) == [(0, 8), (300, 24)]
    assert body["transaction"]["transaction_id"] == transaction_id


def test_station_answer_compared_201(connect_station, identity, api):
    station = connect_station(identity)
    station.answers["SetChargingProfile"] = {"status": "Accepted"}
    push(api, identity, "TxDefaultProfile", 1, schedules=[schedule((0, 16))], kind="Relative")
    push(api, identity, "ChargingStationMaxProfile", 0, schedules=[
        schedule((0, 32), startSchedule="2026-01-01T00:00:00Z")])

    def answer(payload):
        # The station holds 16 A for the first 10 minutes only, then nothing below 32 A.
        return {"status": "Accepted", "schedule": {
            "evseId": payload["evseId"], "duration": payload["duration"],
            "scheduleStart": at(0), "chargingRateUnit": payload["chargingRateUnit"],
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16 * 230 * 3},
                                       {"startPeriod": 600, "limit": 32 * 230 * 3}]}}

    station.answers["GetCompositeSchedule"] = answer
    # No transaction: the Relative TxDefault does not apply yet; the CSMS says 32 A throughout.
    body = composite(api, identity, evse=1, start=START, duration=3600, ask_station="true",
                     unit="W")
    assert body["reported"]["status"] == "answered"
    assert body["reported"]["schedule"]["periods"][1] == {
        "start_period": 600, "limit": 32 * 230 * 3, "number_phases": None,
        "min_charging_rate": None}
    assert [(d["start_period"], d["end_period"], d["computed_limit"], d["reported_limit"])
            for d in body["differences"]] == [(0, 600, 32 * 230 * 3, 16 * 230 * 3)]


def test_station_answer_16_and_rejected(connect_station, identity, api):
    station = connect_station(identity, "1.6")
    station.answers["SetChargingProfile"] = {"status": "Accepted"}
    station.call("StartTransaction", start_16(1, new_token(), 0, 0))
    push(api, identity, "TxProfile", 1, kind="Relative", schedules=[schedule((0, 10))])
    station.answers["GetCompositeSchedule"] = lambda payload: {
        "status": "Accepted", "connectorId": payload["connectorId"], "scheduleStart": at(0),
        "chargingSchedule": {"duration": payload["duration"], "chargingRateUnit": "A",
                             "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10}]}}
    body = composite(api, identity, evse=1, start=START, duration=600, ask_station="true")
    assert limits(body) == [(0, 10)] and body["reported"]["status"] == "answered"
    assert body["differences"] == []
    sent = api.get(f"/commands/{body['reported']['command']}/").json()["payload"]
    assert sent == {"connectorId": 1, "duration": 600, "chargingRateUnit": "A"}
    station.answers["GetCompositeSchedule"] = {"status": "Rejected"}
    rejected = composite(api, identity, evse=1, duration=600, ask_station="true")
    assert rejected["reported"]["status"] == "rejected"
    assert rejected["reported"]["schedule"] is None and rejected["differences"] == []


def test_errors_and_offline_station(connect_station, identity, api):
    missing = api.get("/stations/NO-SUCH-STATION/composite-schedule/")
    assert missing.status_code == 404
    station = connect_station(identity)
    station.status("Available")  # EVSE 1 exists; EVSE 7 does not
    for params, field in (({"evse": -1}, "evse"), ({"duration": 0}, "duration"),
                          ({"unit": "V"}, "unit"), ({"start": "yesterday"}, "start"),
                          ({"evse": 7}, "evse"), ({"ask_station": "maybe"}, "ask_station")):
        response = api.get(f"/stations/{identity}/composite-schedule/", params=params)
        assert response.status_code == 400, (params, response.text)
        assert field in response.text, response.text
    station.close()
    eventually(lambda: not Station.objects.get(identity=identity).online)
    body = composite(api, identity, evse=1, ask_station="true")
    assert body["reported"]["status"] == "offline" and body["reported"]["schedule"] is None
    assert body["periods"] == [{"start_period": 0, "limit": None, "number_phases": None,
                                "min_charging_rate": None}]


def test_compare_composites_units_and_overlap():
    computed = {"schedule_start": "2026-03-01T08:00:00Z", "duration": 3600,
                "charging_rate_unit": "A", "voltage": 230.0,
                "periods": [{"start_period": 0, "limit": 16.0, "number_phases": 3},
                            {"start_period": 1200, "limit": None, "number_phases": None}]}
    reported = {"schedule_start": "2026-03-01T08:00:10Z", "duration": 7200,
                "charging_rate_unit": "W",
                "periods": [{"start_period": 0, "limit": 11040.0, "number_phases": 3},
                            {"start_period": 600, "limit": 6900.0, "number_phases": 3}]}
    differences = compare_composites(computed, reported)
    # Same (11040 W = 16 A) until 08:10:10, then 10 A vs 16 A, then unlimited vs 10 A.
    assert [(d["start_period"], d["end_period"], d["computed_limit"], d["reported_limit"])
            for d in differences] == [(610, 1200, 16.0, 10.0), (1200, 3600, None, 10.0)]
    assert compare_composites(computed, None) == []
