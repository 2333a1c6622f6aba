"""GetTransactionStatus (2.0.1 E14): the typed operation through the API with its answer stored;
asked by the CSMS itself when a station reconnects with transactions running; a transaction the
station no longer runs, with nothing queued, is settled (StationNotOngoing)."""
import uuid

import pytest

from tests.conftest import ServerProcess
from tests.helpers import calls_before_marker, eventually
from tests.transactions_helpers import event, new_token
from transactions.models import Transaction, TransactionStatusRequest

GRACE = 1


@pytest.fixture(scope="module")
def quick_close(csms):
    """Transactions marked for settlement close GRACE s later; none for lack of news."""
    server = ServerProcess("server-transaction-status", {
        "TRANSACTIONS_SETTLE_GRACE": str(GRACE), "TRANSACTIONS_STALE_AFTER": "0"}).start()
    yield server
    server.stop()


def start(station, evse=1):
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    station.call("TransactionEvent", event("Started", 0, 0, transaction_id, trigger="Authorized",
                                           token=new_token(), evse=evse, meter_wh=1000,
                                           charging_state="Charging"))
    return transaction_id


def row(identity, transaction_id):
    return Transaction.objects.get(station__identity=identity, transaction_id=transaction_id)


def answered(pk):
    return eventually(lambda: (lambda found: found.outcome and found)(
        TransactionStatusRequest.objects.get(pk=pk)))


def test_operator_asks_about_a_transaction_and_its_answer_is_stored(api, connect_station,
                                                                    identity):
    station = connect_station(identity)
    transaction_id = start(station)
    response = api.post("/transaction-status-requests/",
                        json={"station": identity, "transaction_id": transaction_id})
    assert response.status_code == 202, response.text
    message_id, action, payload = station.next_call()
    assert (action, payload) == ("GetTransactionStatus", {"transactionId": transaction_id})
    station.reply(message_id, {"ongoingIndicator": True, "messagesInQueue": True})
    status_request = answered(response.json()["id"])
    assert (status_request.outcome, status_request.ongoing_indicator,
            status_request.messages_in_queue) == ("accepted", True, True)
    assert status_request.transaction == row(identity, transaction_id)
    assert status_request.trigger == "Operator" and not status_request.marked_for_settlement
    assert row(identity, transaction_id).settle_reason != "StationNotOngoing"

    # Without a transaction: only whether messages are queued; `wait` gives the answer at once.
    station.answers["GetTransactionStatus"] = {"messagesInQueue": False}
    response = api.post("/transaction-status-requests/", json={"station": identity, "wait": 10})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["command"]["payload"] == {} and body["transaction"] is None
    assert (body["messages_in_queue"], body["ongoing_indicator"]) == (False, None)
    listed = api.get("/transaction-status-requests/", params={"station": identity}).json()
    assert [item["id"] for item in listed["results"]] == [body["id"], status_request.pk]


def test_refusals(api, connect_station, identity):
    connect_station(identity)
    response = api.post("/transaction-status-requests/",
                        json={"station": identity, "transaction_id": "no-such-tx"})
    assert response.status_code == 400 and "no transaction" in response.text
    old = f"{identity}-16"
    connect_station(old, "1.6")
    response = api.post("/transaction-status-requests/", json={"station": old})
    assert response.status_code == 400 and "2.0.1 only" in response.text


def test_reconnect_asks_and_settles_what_the_station_no_longer_runs(connect_station, identity,
                                                                     quick_close):
    station = connect_station(identity, server=quick_close)
    gone, running, queued = start(station, 1), start(station, 2), start(station, 3)
    station.close()

    # It reconnects without rebooting: asked about each running transaction before anything else.
    again = connect_station(identity, server=quick_close, boot=False)
    answers = {gone: {"ongoingIndicator": False, "messagesInQueue": False},
               running: {"ongoingIndicator": True, "messagesInQueue": False},
               queued: {"ongoingIndicator": False, "messagesInQueue": True}}
    asked = []
    for _ in answers:
        message_id, action, payload = again.next_call()
        assert action == "GetTransactionStatus"
        asked.append(payload["transactionId"])
        again.reply(message_id, answers[payload["transactionId"]])
    assert sorted(asked) == sorted(answers)
    requests = {tx: answered(TransactionStatusRequest.objects.get(
        station__identity=identity, asked_transaction_id=tx).pk) for tx in answers}
    assert {tx: r.trigger for tx, r in requests.items()} == dict.fromkeys(answers, "Reconnect")
    assert requests[gone].marked_for_settlement
    assert not requests[running].marked_for_settlement
    assert not requests[queued].marked_for_settlement and requests[queued].messages_in_queue

    closed = eventually(lambda: (lambda found: found.state == "Ended" and found)(
        row(identity, gone)))
    assert closed.settlement == closed.stopped_reason == "StationNotOngoing"
    assert "GetTransactionStatus" in closed.settlement_note
    assert row(identity, running).state == row(identity, queued).state == "Active"


def test_reconnect_with_nothing_running_asks_nothing(api, connect_station, identity):
    station = connect_station(identity)
    transaction_id = start(station)
    station.call("TransactionEvent", event("Ended", 1, 60, transaction_id, trigger="EVDeparted",
                                           meter_wh=1500, stoppedReason="EVDisconnected"))
    station.close()
    again = connect_station(identity, boot=False)
    assert calls_before_marker(api, again) == []
    # A 1.6 station is never asked (the message is 2.0.1 only).
    old = connect_station(f"{identity}-16", "1.6")
    assert calls_before_marker(api, old) == []


def test_transaction_page_shows_answers_and_asks(dashboard, connect_station, identity):
    station = connect_station(identity)
    transaction_id = start(station)
    station.answers["GetTransactionStatus"] = {"ongoingIndicator": True, "messagesInQueue": True}
    pk = row(identity, transaction_id).pk
    page = dashboard.get(f"/transactions/{pk}/")
    assert "Never asked." in page.text
    page = dashboard.submit(f"/transactions/{pk}/status-request/", {},
                            form_page=f"/transactions/{pk}/")
    assert "The station says the transaction is ongoing, with messages still queued." in page.text
    assert 'class="queued">yes — still to be delivered' in page.text


def test_sweep_settles_what_a_failed_receiver_left(identity):
    from django.utils import timezone

    from csms.models import Command
    from stations.models import Station
    from transactions.actions import transaction_status

    station = Station.objects.create(identity=identity, ocpp_version="2.0.1")
    status_request = transaction_status.create_request(station)
    status_request.command = Command.objects.create(
        identity=identity, ocpp_version="2.0.1", action="GetTransactionStatus", payload={},
        status=Command.Status.ACCEPTED, response={"messagesInQueue": True},
        finished_at=timezone.now())
    status_request.save()
    transaction_status.settle_finished()  # (the beat runs the same sweep)
    status_request.refresh_from_db()
    assert (status_request.outcome, status_request.messages_in_queue) == ("accepted", True)
