"""Dashboard: transactions list (and its live rows), a transaction's page with chart and
timeline, token management with CSV import, and the station page's start/stop/unlock buttons."""
import re
import uuid

import httpx
import pytest

from tests.transactions_helpers import event, new_token
from transactions.models import IdToken, RemoteStart


@pytest.fixture
def browser(csms, operator):
    with httpx.Client(base_url=csms.base_url, follow_redirects=True, timeout=30) as client:
        client.get("/accounts/login/")
        client.post("/accounts/login/", data={
            "username": "operator", "password": operator["password"],
            "csrfmiddlewaretoken": client.cookies["csrftoken"]})
        yield client


def post(browser, url, data, **kwargs):
    return browser.post(url, data={**data, "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
                        headers={"Referer": str(browser.base_url)}, **kwargs)


def test_transaction_pages(connect_station, identity, browser):
    station = connect_station(identity)
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    station.call("TransactionEvent", event("Started", 0, 0, transaction_id, trigger="Authorized",
                                           token=new_token(), meter_wh=0, evse=1,
                                           charging_state="Charging"))
    station.call("TransactionEvent", event("Updated", 1, 900, transaction_id, meter_wh=2750))
    listing = browser.get("/transactions/", params={"station": identity})
    assert listing.status_code == 200 and transaction_id in listing.text
    rows = browser.get("/transactions/", params={"station": identity, "partial": 1})
    assert "<html" not in rows.text and transaction_id in rows.text
    pk = re.search(r'data-transaction="(\d+)"', rows.text).group(1)
    page = browser.get(f"/transactions/{pk}/")
    assert page.status_code == 200
    assert "2.750 kWh" in page.text and 'id="meter-chart"' in page.text
    assert "MeterValuePeriodic" in page.text
    export = browser.get("/transactions/export.csv", params={"station": identity})
    assert transaction_id in export.text

    # The station page carries the charging card with a stop button for the running one.
    station.answers["RequestStopTransaction"] = {"status": "Accepted"}
    station_page = browser.get(f"/stations/{identity}/")
    assert 'id="charging-card"' in station_page.text and transaction_id in station_page.text
    stopped = post(browser, f"/transactions/stations/{identity}/control/",
                   {"command": "stop", "transaction_id": transaction_id})
    # The flash line names the command and its state when the page was made (live after that).
    assert stopped.status_code == 200
    assert re.search(r"RequestStopTransaction #\d+: (queued|sent|accepted)", stopped.text)
    assert station.next_call()[1:] == ("RequestStopTransaction", {"transactionId": transaction_id})


def test_station_page_start_and_unlock(connect_station, identity, browser):
    token = new_token()
    station = connect_station(identity, "1.6")
    station.answers["RemoteStartTransaction"] = {"status": "Accepted"}
    station.answers["UnlockConnector"] = {"status": "Unlocked"}
    started = post(browser, f"/transactions/stations/{identity}/control/",
                   {"command": "start", "id_token": token.id_token, "evse_id": "1"})
    assert re.search(r"RemoteStartTransaction #\d+: (queued|sent|accepted)", started.text)
    assert station.next_call()[1:] == ("RemoteStartTransaction",
                                       {"idTag": token.id_token, "connectorId": 1})
    assert RemoteStart.objects.filter(station__identity=identity).count() == 1
    post(browser, f"/transactions/stations/{identity}/control/", {"command": "unlock",
                                                                  "connector_id": "2"})
    assert station.next_call()[1:] == ("UnlockConnector", {"connectorId": 2})
    refused = post(browser, f"/transactions/stations/{identity}/control/",
                   {"command": "start", "id_token": "NO-SUCH"})
    assert "No id token" in refused.text


def test_token_management(browser):
    prefix = uuid.uuid4().hex[:6].upper()
    created = post(browser, "/id-tokens/", {"form": "token", "id_token": f"{prefix}X",
                                            "type": "ISO14443", "status": "Accepted",
                                            "charging_priority": "0"})
    assert created.status_code == 200 and f"{prefix}X" in created.text
    token = IdToken.objects.get(id_token=f"{prefix}X")
    post(browser, "/id-tokens/", {"form": "status", "token": token.pk, "status": "Blocked"})
    token.refresh_from_db()
    assert token.status == "Blocked"
    imported = post(browser, "/id-tokens/", {"form": "import"}, files={
        "file": ("t.csv", f"id_token,status\n{prefix}Y,Accepted\n".encode(), "text/csv")})
    assert "1 created" in imported.text and IdToken.objects.filter(id_token=f"{prefix}Y").exists()
    invalid = post(browser, "/id-tokens/", {"form": "import"}, files={
        "file": ("t.csv", b"nope\n1\n", "text/csv")})
    assert "Import failed" in invalid.text
