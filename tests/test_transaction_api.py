"""/api/v1/transactions/: filters by station, token, time and state; detail with events; CSV."""
import csv
import io
import uuid

from tests.transactions_helpers import event, new_token, start_16, stop_16


def test_filters_detail_and_export(connect_station, identity, api):
    token = new_token()
    station = connect_station(identity)
    running, ended = (f"tx-{uuid.uuid4().hex[:8]}" for _ in range(2))
    station.call("TransactionEvent", event("Started", 0, 0, ended, trigger="Authorized",
                                           token=token, meter_wh=100, evse=1))
    station.call("TransactionEvent", event("Ended", 1, 600, ended, meter_wh=2100))
    station.call("TransactionEvent", event("Started", 2, 7200, running, trigger="Authorized",
                                           token=new_token(), meter_wh=0, evse=2))
    legacy = connect_station(f"{identity}-16", "1.6")
    legacy_id = legacy.call("StartTransaction", start_16(1, token, 0, 0))["transactionId"]
    legacy.call("StopTransaction", stop_16(legacy_id, 500, 60))

    listed = api.get("/transactions/", params={"station": identity}).json()
    assert listed["count"] == 2
    active = api.get("/transactions/", params={"station": identity, "state": "Active"}).json()
    assert [t["transaction_id"] for t in active["results"]] == [running]
    by_token = api.get("/transactions/", params={"id_token": token.id_token}).json()
    assert {t["station"] for t in by_token["results"]} == {identity, f"{identity}-16"}
    late = api.get("/transactions/", params={"station": identity,
                                             "started_after": "2026-03-01T09:00:00Z"}).json()
    assert [t["transaction_id"] for t in late["results"]] == [running]
    bad = api.get("/transactions/", params={"started_after": "yesterday"})
    assert bad.status_code == 400 and bad.json()["detail"]

    ended_row = next(t for t in listed["results"] if t["transaction_id"] == ended)
    detail = api.get(ended_row["url"]).json()
    assert detail["energy_wh"] == "2000.0000" and detail["energy_kwh"] == "2.0000"
    assert [e["event_type"] for e in detail["events"]] == ["Started", "Ended"]
    assert detail["events"][0]["answer"]["idTokenInfo"]["status"] == "Accepted"

    export = api.get("/transactions/export/", params={"id_token": token.id_token})
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert {(r["station"], r["energy_kwh"]) for r in rows} == {
        (identity, "2.0000"), (f"{identity}-16", "0.5000")}
