"""The API's transaction date range (date_from/date_to, whole UTC days) and totals: a running
session counts its time until now; a date that is not one is a 400, the last day there is works."""
import uuid

from tests.transactions_helpers import event, new_token


def test_totals_count_a_running_session_until_now(connect_station, identity, api):
    station = connect_station(identity)
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    station.call("TransactionEvent", event("Started", 0, 0, transaction_id, trigger="Authorized",
                                           token=new_token(), meter_wh=0, evse=1))
    station.call("TransactionEvent", event("Updated", 1, 600, transaction_id, meter_wh=1500))
    figures = api.get("/transactions/totals/", params={"station": identity}).json()
    # Started 2026-03-01 08:00 UTC and still running: months by now.
    assert figures["count"] == 1 and figures["energy_kwh"] == "1.500"
    assert figures["duration_seconds"] > 30 * 86400
    none = api.get("/transactions/totals/", params={"station": identity, "date_to": "2026-02-28"})
    assert none.json() == {"count": 0, "energy_kwh": "0.000", "duration_seconds": 0}


def test_bad_dates_are_answered_400(api):
    for params in ({"date_from": "yesterday"}, {"date_to": "2026-13-01"}):
        for path in ("/transactions/", "/transactions/totals/"):
            answer = api.get(path, params=params)
            assert answer.status_code == 400 and answer.json()["detail"], (path, params)
    last_day = api.get("/transactions/totals/", params={"date_from": "9999-12-31",
                                                        "date_to": "9999-12-31"})
    assert last_day.status_code == 200 and last_day.json()["count"] == 0


def test_list_page_shows_bad_dates_as_form_errors(dashboard):
    answer = dashboard.get("/transactions/", params={"date_from": "not-a-date"})
    assert answer.status_code == 200 and 'class="alert filter-error"' in answer.text
