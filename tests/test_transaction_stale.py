"""Transactions left running are closed: after a reboot the station does not report them again,
after their connector is reported Available, after no news for TRANSACTIONS_STALE_AFTER, or by an
operator (API and page) with an audit line; a later Ended from the station still wins."""
import csv
import io
import uuid
from decimal import Decimal

import httpx
import pytest

from tests.conftest import ServerProcess
from tests.helpers import eventually
from tests.transactions_helpers import at, event, meter_values_16, new_token, start_16, stop_16
from transactions.models import Transaction

GRACE = 3


@pytest.fixture(scope="module")
def quick_close(csms):
    """A server whose stations' transactions close GRACE s after a reboot or an Available, and
    never for lack of news (the sweep runs in it on embedded, in the worker on services)."""
    server = ServerProcess("server-settle-grace", {
        "TRANSACTIONS_SETTLE_GRACE": str(GRACE), "TRANSACTIONS_STALE_AFTER": "0"}).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stale_server(csms):
    server = ServerProcess("server-stale-after", {"TRANSACTIONS_STALE_AFTER": "2"}).start()
    yield server
    server.stop()


def row(identity, transaction_id):
    return Transaction.objects.get(station__identity=identity, transaction_id=str(transaction_id))


def closed(identity, transaction_id):
    """The transaction once the sweep has closed it."""
    return eventually(lambda: (lambda found: found.state == "Ended" and found)(
        row(identity, transaction_id)), timeout=30)


def start_201(station, transaction_id, meter_wh, evse=1, seconds=0):
    station.call("TransactionEvent", event("Started", 0, seconds, transaction_id,
                                           trigger="Authorized", token=new_token(), evse=evse,
                                           meter_wh=meter_wh, charging_state="Charging"))


def test_reboot_closes_what_the_station_does_not_report_again(connect_station, identity,
                                                               quick_close):
    station = connect_station(identity, server=quick_close)
    lost, kept = (f"tx-{uuid.uuid4().hex[:8]}" for _ in range(2))
    start_201(station, lost, 1000)
    station.call("TransactionEvent", event("Updated", 1, 600, lost, meter_wh=1800))
    start_201(station, kept, 0, evse=2)
    station.close()

    again = connect_station(identity, server=quick_close)  # BootNotification reason PowerUp
    assert row(identity, lost).settle_reason == "StationRebooted"
    # The station continues one transaction: reporting it calls its closing off.
    again.call("TransactionEvent", event("Updated", 1, 700, kept, meter_wh=400))
    assert row(identity, kept).settle_due_at is None

    settled = closed(identity, lost)
    assert settled.stopped_reason == settled.settlement == "StationRebooted"
    assert settled.closed_by_csms and settled.settled_by == "CSMS"
    assert "rebooted" in settled.settlement_note
    # The last known reading is the stop.
    assert (settled.meter_stop_wh, settled.energy_wh) == (Decimal("1800"), Decimal("800"))
    assert row(identity, kept).state == "Active"

    # The station's own Ended, delivered late, replaces the CSMS's closing (kept as audit).
    again.call("TransactionEvent", event("Ended", 2, 900, lost, trigger="AbnormalCondition",
                                         meter_wh=1900, stoppedReason="PowerLoss"))
    replaced = row(identity, lost)
    assert replaced.stopped_reason == "PowerLoss" and not replaced.closed_by_csms
    assert (replaced.meter_stop_wh, replaced.energy_wh) == (Decimal("1900"), Decimal("900"))
    assert replaced.settlement == "StationRebooted" and replaced.settled_at is not None


def test_triggered_boot_is_no_reboot(connect_station, identity, quick_close):
    station = connect_station(identity, server=quick_close)
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    start_201(station, transaction_id, 0)
    assert station.boot(reason="Triggered")["status"] == "Accepted"
    running = row(identity, transaction_id)
    assert running.settle_due_at is None and running.settle_reason == ""


def test_boot_the_csms_asked_for_is_no_reboot_16(connect_station, identity, quick_close,
                                                 operator):
    station = connect_station(identity, "1.6", server=quick_close)
    transaction_id = station.call("StartTransaction", start_16(1, new_token(), 0, 0))["transactionId"]
    with httpx.Client(base_url=f"{quick_close.base_url}/api/v1", timeout=30,
                      headers={"Authorization": f"Token {operator['token']}"}) as api:
        triggered = api.post(f"/stations/{identity}/trigger-message/",
                             json={"requested_message": "BootNotification", "wait": 20})
    assert triggered.json()["status"] == "accepted"
    assert station.boot()["status"] == "Accepted"
    running = row(identity, transaction_id)
    assert running.settle_due_at is None and running.settle_reason == ""


def test_reboot_16(connect_station, identity, quick_close):
    station = connect_station(identity, "1.6", server=quick_close)
    transaction_id = station.call("StartTransaction", start_16(1, new_token(), 100, 0))["transactionId"]
    station.call("MeterValues", meter_values_16(1, transaction_id, 2500, 600))
    station.close()
    again = connect_station(identity, "1.6", server=quick_close)

    settled = closed(identity, transaction_id)
    assert settled.stopped_reason == "StationRebooted"
    assert (settled.meter_stop_wh, settled.energy_wh) == (Decimal("2500"), Decimal("2400"))
    # The queued StopTransaction arrives after all: its meterStop is the bill.
    assert again.call("StopTransaction", stop_16(transaction_id, 2600, 700, reason="PowerLoss")) == {}
    replaced = row(identity, transaction_id)
    assert replaced.stopped_reason == "PowerLoss" and replaced.energy_wh == Decimal("2500")


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
def test_available_connector_closes_its_transaction(connect_station, identity, quick_close,
                                                    version):
    station = connect_station(identity, version, server=quick_close)
    if version == "1.6":
        transaction_id = station.call("StartTransaction", start_16(1, new_token(), 0, 0))["transactionId"]
        station.call("MeterValues", meter_values_16(1, transaction_id, 700, 300))
        other = station.call("StartTransaction", start_16(2, new_token(), 0, 600))["transactionId"]
    else:
        transaction_id, other = (f"tx-{uuid.uuid4().hex[:8]}" for _ in range(2))
        start_201(station, transaction_id, 0)
        station.call("TransactionEvent", event("Updated", 1, 300, transaction_id, meter_wh=700))
        start_201(station, other, 0, evse=2, seconds=600)
    # An Available from before the other transaction's last news says nothing of it.
    station.status("Available", connector_id=2 if version == "1.6" else 1, evse_id=2,
                   timestamp=at(500))
    assert row(identity, other).settle_reason != "ConnectorAvailable"
    station.status("Available", connector_id=1, evse_id=1, timestamp=at(1000))
    assert row(identity, transaction_id).settle_reason == "ConnectorAvailable"

    settled = closed(identity, transaction_id)
    assert settled.stopped_reason == "ConnectorAvailable" and settled.meter_stop_wh == Decimal("700")
    assert row(identity, other).state == "Active"


def test_no_news_closes_after_stale_after(connect_station, identity, stale_server):
    station = connect_station(identity, server=stale_server)
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    start_201(station, transaction_id, 300)
    station.call("TransactionEvent", event("Updated", 1, 60, transaction_id, meter_wh=450))
    settled = closed(identity, transaction_id)
    assert settled.stopped_reason == "NoNews" and "Nothing heard" in settled.settlement_note
    assert (settled.meter_stop_wh, settled.energy_wh) == (Decimal("450"), Decimal("150"))
    assert settled.ended_at == settled.last_event_at


def test_operator_closes_from_the_api(connect_station, identity, api):
    station = connect_station(identity)
    transaction_id, other = (f"tx-{uuid.uuid4().hex[:8]}" for _ in range(2))
    start_201(station, transaction_id, 100)
    start_201(station, other, 0, evse=2)
    pk = row(identity, transaction_id).pk

    answer = api.post(f"/transactions/{pk}/close/", json={"reason": "Station scrapped"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["state"] == "Ended" and body["stopped_reason"] == "ClosedByOperator"
    assert body["closed_by_csms"] is True and body["settled_by"] == "operator"
    assert body["settlement_note"] == "Station scrapped" and body["settled_at"]
    assert body["meter_stop_wh"] is not None
    export = api.get("/transactions/export/", params={"transaction_id": transaction_id}).text
    exported = next(csv.DictReader(io.StringIO(export)))
    assert (exported["settlement"], exported["settled_by"]) == ("ClosedByOperator", "operator")

    again = api.post(f"/transactions/{pk}/close/", json={"reason": "twice"})
    assert again.status_code == 409 and "ended already" in again.json()["detail"]
    other_pk = row(identity, other).pk
    missing = api.post(f"/transactions/{other_pk}/close/", json={})
    assert missing.status_code == 400 and "reason" in missing.json().get("errors", missing.json())
    assert row(identity, other).state == "Active"

    # The station's Ended still wins over the operator's closing.
    station.call("TransactionEvent", event("Ended", 1, 600, transaction_id, trigger="EVDeparted",
                                           meter_wh=900, stoppedReason="EVDisconnected"))
    replaced = row(identity, transaction_id)
    assert replaced.stopped_reason == "EVDisconnected" and replaced.energy_wh == Decimal("800")
    assert replaced.settlement == "ClosedByOperator"


def test_operator_closes_from_the_page(connect_station, identity, dashboard):
    station = connect_station(identity)
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    start_201(station, transaction_id, 100)
    pk = row(identity, transaction_id).pk
    page = dashboard.get(f"/transactions/{pk}/")
    assert 'id="transaction-close"' in page.text and "confirm(" in page.text

    # Without the CSRF token the form is refused.
    assert dashboard.post(f"/transactions/{pk}/close/", data={"reason": "x"}).status_code == 403
    assert row(identity, transaction_id).state == "Active"

    after = dashboard.submit(f"/transactions/{pk}/close/", {"reason": "Cable cut, site closed"},
                             form_page=f"/transactions/{pk}/")
    assert after.status_code == 200 and 'id="transaction-settlement"' in after.text
    assert "Closed by operator" in after.text and "Cable cut, site closed" in after.text
    assert 'id="transaction-close"' not in after.text
    settled = row(identity, transaction_id)
    assert settled.settled_by == "operator" and settled.stopped_reason == "ClosedByOperator"
