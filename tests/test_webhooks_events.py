"""Webhooks end to end: a receiver started by the test gets every event type, signed, from real
stations driven over OCPP and the API; a receiver failing twice gets the event on the third try;
a receiver that hangs holds no station's message."""
import threading

import pytest

from tests.helpers import eventually, send_command
from tests.test_firmware import push, upload_image
from tests.transactions_helpers import normal_session
from tests.webhook_receiver import WebhookReceiver

SECRET = "webhook-test-secret-0123456789"
EVERY_TYPE = [
    "station.online", "station.offline", "station.status_changed", "transaction.started",
    "transaction.updated", "transaction.ended", "command.finished", "alert.raised",
    "alert.cleared", "firmware.progress", "log.progress",
]


@pytest.fixture
def subscribe(api):
    """subscribe(receiver, event_types) -> the subscription; deleted after the test, so later
    tests' events do not go to a receiver that is gone."""
    made = []

    def create(receiver, event_types=EVERY_TYPE, **fields):
        answer = api.post("/webhooks/", json={"url": receiver.url, "secret": receiver.secret,
                                              "event_types": event_types, **fields})
        assert answer.status_code == 201, answer.text
        made.append(answer.json())
        return answer.json()

    yield create
    for subscription in made:
        api.delete(f"/webhooks/{subscription['id']}/")


@pytest.fixture
def receiver():
    receiver = WebhookReceiver(SECRET)
    yield receiver
    receiver.close()


def one(receiver, event_type, station, check=lambda data: True):
    return eventually(lambda: [event for event in receiver.events(event_type, station)
                               if check(event["data"])])[0]


def test_every_event_type_arrives_signed(api, connect_station, identity, receiver, subscribe):
    subscribe(receiver)
    station = connect_station(identity)
    assert one(receiver, "station.online", identity)["data"]["ocpp_version"] == "2.0.1"

    station.status("Available")
    one(receiver, "station.status_changed", identity, lambda data: data["status"] == "Available")
    station.status("Faulted")
    raised = one(receiver, "alert.raised", identity)
    assert raised["data"]["kind"] == "ConnectorFaulted"
    station.status("Available")
    assert one(receiver, "alert.cleared", identity)["data"]["id"] == raised["data"]["id"]

    for payload in normal_session("WEBHOOK-TX-1", {"idToken": "WEBHOOK-TAG", "type": "ISO14443"}):
        station.call("TransactionEvent", payload)
    started = one(receiver, "transaction.started", identity)
    assert started["data"]["transaction_id"] == "WEBHOOK-TX-1"
    updated = one(receiver, "transaction.updated", identity, lambda data: data["meter_values"]
                  and float(data["meter_values"][0]["value"]) == 3500)
    assert updated["data"]["state"] == "Active"
    ended = one(receiver, "transaction.ended", identity)
    assert ended["data"]["energy_wh"] == "7500.0000" and ended["data"]["state"] == "Ended"
    assert len(receiver.events("transaction.started", identity)) == 1

    assert send_command(api, identity, "Reset", {"type": "Immediate"}).status_code == 201
    command = one(receiver, "command.finished", identity, lambda data: data["action"] == "Reset")
    assert command["data"]["status"] == "accepted"

    image, _ = upload_image(api)
    station.answers["UpdateFirmware"] = {"status": "Accepted"}
    update = push(api, identity, image)
    station.call("FirmwareStatusNotification", {"status": "Downloading",
                                                "requestId": update["request_id"]})
    one(receiver, "firmware.progress", identity, lambda data: data["status"] == "Downloading")

    station.answers["GetLog"] = {"status": "Accepted", "filename": "station.log"}
    log = api.post("/log-requests/", json={"station": identity, "kind": "DiagnosticsLog",
                                           "wait": 10})
    assert log.status_code in (201, 202), log.text
    one(receiver, "log.progress", identity, lambda data: data["status"] == "Accepted")

    station.close()
    one(receiver, "station.offline", identity)

    rows = [row for row in receiver.received if row["event"]["data"].get("station") == identity]
    assert {row["event"]["type"] for row in rows} == set(EVERY_TYPE)
    assert all(row["signature_valid"] for row in rows)
    assert all(set(row["event"]) == {"id", "type", "created_at", "data"} for row in rows)


def test_a_receiver_failing_twice_gets_the_event_on_the_third_try(api, connect_station,
                                                                  identity, subscribe):
    receiver = WebhookReceiver(SECRET, fail_first=2)
    try:
        subscription = subscribe(receiver, ["station.online"])
        connect_station(identity)
        event = one(receiver, "station.online", identity)
        tries = [row for row in receiver.received if row["event"]["id"] == event["id"]]
        assert [row["answered"] for row in tries] == [503, 503, 200]
        assert all(row["signature_valid"] for row in tries)

        def delivered():
            log = api.get(f"/webhooks/{subscription['id']}/deliveries/").json()["results"]
            return [row for row in log if row["event_id"] == event["id"]
                    and row["status"] == "delivered"]
        delivery = eventually(delivered)[0]
        assert delivery["attempts"] == 3 and delivery["payload"] == event
        assert [attempt["status_code"] for attempt in delivery["attempt_log"]] == [503, 503, 200]
        assert [attempt["error"] for attempt in delivery["attempt_log"]] == ["HTTP 503"] * 2 + [""]
        # Exponential backoff: the second retry waited (about) twice as long as the first.
        first, second, third = (attempt["started_at"] for attempt in delivery["attempt_log"])
        assert first < second < third
    finally:
        receiver.close()


def test_a_hanging_receiver_holds_no_station_message(api, connect_station, identity, subscribe):
    release = threading.Event()
    receiver = WebhookReceiver(SECRET)
    handler = receiver.server.RequestHandlerClass
    answer_post = handler.do_POST

    def hang_then_answer(request):
        release.wait(60)
        answer_post(request)
    handler.do_POST = hang_then_answer
    try:
        subscribe(receiver, ["station.status_changed"])
        station = connect_station(identity)
        # Every post waits on the receiver; the station's calls are answered all the same.
        for number in range(10):
            station.status("Occupied" if number % 2 else "Available",
                           timestamp=f"2026-01-01T00:00:{number:02d}Z")
        station.call("Heartbeat", {})
        assert receiver.events("station.status_changed", identity) == []
        release.set()
        eventually(lambda: len(receiver.events("station.status_changed", identity)) == 10)
    finally:
        release.set()
        receiver.close()
