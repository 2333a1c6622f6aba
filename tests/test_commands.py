"""Commands out: every outcome recorded, one call outstanding per station, the rest in order."""
from datetime import timedelta

import pytest
from django.conf import settings

from csms.models import Command
from tests.helpers import calls_before_marker, eventually
from tests.helpers import send_command as send

VERSIONS = ["2.0.1", "1.6"]


@pytest.mark.parametrize("version", VERSIONS)
def test_accepted(api, connect_station, identity, version):
    station = connect_station(identity, version)
    station.answers["ClearCache"] = {"status": "Accepted"}
    response = send(api, identity, "ClearCache", {})
    assert response.status_code == 201
    command = response.json()
    assert command["status"] == "accepted"
    assert command["response"] == {"status": "Accepted"}
    assert command["sent_at"] and command["finished_at"] and command["duration_ms"] is not None
    assert response.headers["Location"] == command["url"]


@pytest.mark.parametrize("version", VERSIONS)
def test_rejected(api, connect_station, identity, version):
    station = connect_station(identity, version)
    station.answers["ClearCache"] = {"status": "Rejected"}
    command = send(api, identity, "ClearCache", {}).json()
    assert command["status"] == "rejected"
    assert command["response"] == {"status": "Rejected"}


@pytest.mark.parametrize("version", VERSIONS)
def test_station_answers_callerror(api, connect_station, identity, version):
    station = connect_station(identity, version, auto_answer=False)
    response = send(api, identity, "ClearCache", {}, wait=0)
    assert response.status_code == 202
    message_id, action, payload = station.next_call()
    assert action == "ClearCache"
    station.reply_error(message_id, "NotSupported", "no cache here")
    command = eventually(lambda: Command.objects.filter(pk=response.json()["id"], status="error").first())
    assert (command.error_code, command.error_description) == ("NotSupported", "no cache here")


@pytest.mark.parametrize("version", VERSIONS)
def test_answer_failing_its_schema_is_an_error(api, connect_station, identity, version):
    station = connect_station(identity, version)
    station.answers["ClearCache"] = {"status": "Maybe"}
    command = send(api, identity, "ClearCache", {}).json()
    assert command["status"] == "error"
    assert command["error_code"] == "PropertyConstraintViolation"
    assert command["response"] == {"status": "Maybe"}


def test_timeout_then_next_call_goes_out(api, connect_station, identity):
    station = connect_station(identity, auto_answer=False)
    first = send(api, identity, "ClearCache", {}, wait=0).json()
    station.next_call()  # never answered
    second = send(api, identity, "Reset", {"type": "Immediate"}, wait=0).json()
    timed_out = eventually(lambda: Command.objects.filter(pk=first["id"], status="timeout").first())
    # The connection's own timer ended it (OCPP_CALL_TIMEOUT, 3 s in tests), not the sweep, which
    # says "the connection or process was lost" and waits three server beats longer.
    assert timed_out.error_description == f"No answer within {settings.OCPP_CALL_TIMEOUT:g} s"
    assert timed_out.finished_at - timed_out.sent_at >= timedelta(seconds=settings.OCPP_CALL_TIMEOUT)
    message_id, action, _ = station.next_call()
    assert action == "Reset"
    station.reply(message_id, {"status": "Accepted"})
    eventually(lambda: Command.objects.filter(pk=second["id"], status="accepted").exists())


@pytest.mark.parametrize("version", VERSIONS)
def test_offline_station_gets_offline_at_once(api, connect_station, identity, version):
    connect_station(identity, version).close()
    eventually(lambda: not api.get(f"/stations/{identity}/").json()["online"])
    response = send(api, identity, "ClearCache", {}, wait=0)
    assert response.status_code == 201
    assert response.json()["status"] == "offline"


def test_calls_queue_one_at_a_time_in_order(api, connect_station, identity):
    station = connect_station(identity, auto_answer=False)
    ids = [send(api, identity, "TriggerMessage", {"requestedMessage": message}, wait=0).json()["id"]
           for message in ("Heartbeat", "StatusNotification", "BootNotification")]
    seen = []
    for _ in ids:
        message_id, action, payload = station.next_call()
        seen.append(payload["requestedMessage"])
        station.reply(message_id, {"status": "Accepted"})
    assert seen == ["Heartbeat", "StatusNotification", "BootNotification"]
    eventually(lambda: Command.objects.filter(pk__in=ids, status="accepted").count() == 3)
    # Nothing else was sent while a call was outstanding: each went out after the last was answered.
    commands = list(Command.objects.filter(pk__in=ids).order_by("id"))
    for earlier, later in zip(commands, commands[1:]):
        assert later.sent_at >= earlier.finished_at, (earlier.finished_at, later.sent_at)


def test_station_calls_interleave_with_outstanding_csms_call(api, connect_station, identity):
    station = connect_station(identity, auto_answer=False)
    command = send(api, identity, "ClearCache", {}, wait=0).json()
    message_id, _, _ = station.next_call()
    assert "currentTime" in station.call("Heartbeat", {})  # while the CSMS's call is open
    station.reply(message_id, {"status": "Accepted"})
    eventually(lambda: Command.objects.filter(pk=command["id"], status="accepted").exists())


def test_invalid_payload_is_refused_before_sending(api, connect_station, identity):
    station = connect_station(identity)
    response = send(api, identity, "Reset", {"type": "Sideways"})
    assert response.status_code == 400
    assert "type" in response.json()["detail"]
    response = send(api, identity, "BootNotification", {})
    assert response.status_code == 400
    assert "sent by stations" in response.json()["detail"]
    response = send(api, identity, "GetConfiguration", {})  # a 1.6 action, station speaks 2.0.1
    assert response.status_code == 400
    assert calls_before_marker(api, station) == []


@pytest.mark.parametrize("version,reset_type,expected", [
    ("2.0.1", "Hard", {"type": "Immediate"}), ("1.6", "OnIdle", {"type": "Soft"}),
])
def test_typed_reset_speaks_the_station_version(api, connect_station, identity, version, reset_type, expected):
    station = connect_station(identity, version)
    response = api.post(f"/stations/{identity}/reset/", json={"type": reset_type, "wait": 20})
    assert response.json()["status"] == "accepted"
    _, action, payload = station.next_call()
    assert (action, payload) == ("Reset", expected)


@pytest.mark.parametrize("version,body,expected", [
    ("2.0.1", {"requested_message": "StatusNotification", "evse_id": 1, "connector_id": 1},
     {"requestedMessage": "StatusNotification", "evse": {"id": 1, "connectorId": 1}}),
    ("1.6", {"requested_message": "StatusNotification", "connector_id": 1},
     {"requestedMessage": "StatusNotification", "connectorId": 1}),
])
def test_typed_trigger_message(api, connect_station, identity, version, body, expected):
    station = connect_station(identity, version)
    response = api.post(f"/stations/{identity}/trigger-message/", json=dict(body, wait=20))
    assert response.json()["status"] == "accepted"
    _, action, payload = station.next_call()
    assert (action, payload) == ("TriggerMessage", expected)


def test_command_detail_and_list(api, connect_station, identity):
    connect_station(identity)
    created = send(api, identity, "ClearCache", {}).json()
    assert api.get(f"/commands/{created['id']}/").json()["status"] == "accepted"
    listed = api.get("/commands/", params={"identity": identity}).json()
    assert [c["id"] for c in listed["results"]] == [created["id"]]
    assert api.get(f"/stations/{identity}/commands/").json()["count"] == 1
    assert api.get("/commands/999999999/").status_code == 404


# --- what only the sweep and dispatch settle -------------------------------------------------

def _queued_without_a_nudge(identity, version, action="ClearCache", payload=None, age=0):
    """A queued command whose nudge was lost (Redis or the broker down when it was made)."""
    # Aged rows are queued and aged in one update: a sweep between two writes could send it young.
    command = Command.objects.create(identity=identity, ocpp_version=version, action=action,
                                     payload=payload or {}, source="test",
                                     status="offline" if age else "queued")
    if age:
        Command.objects.filter(pk=command.pk).update(
            status="queued", created_at=command.created_at - timedelta(seconds=age))
    return command


def _settled(station):
    # The consumer pumps its queue after an accepted boot; a later round trip proves that is done.
    station.call("Heartbeat", {})
    return station


def test_sweep_nudges_a_command_whose_nudge_was_lost(connect_station, identity):
    _settled(connect_station(identity))
    command = _queued_without_a_nudge(identity, "2.0.1")
    eventually(lambda: Command.objects.filter(pk=command.pk, status="accepted").exists())


def test_expired_queued_command_is_never_sent(api, connect_station, identity):
    station = connect_station(identity)
    expired = _queued_without_a_nudge(identity, "2.0.1", "Reset", {"type": "Immediate"},
                                      age=settings.OCPP_COMMAND_QUEUE_EXPIRY + 1)
    assert send(api, identity, "ClearCache", {}).json()["status"] == "accepted"
    ended = Command.objects.get(pk=expired.pk)
    assert ended.status == "timeout"
    assert ended.error_description == f"Not delivered within {settings.OCPP_COMMAND_QUEUE_EXPIRY:g} s"
    assert ended.sent_at is None
    assert [action for _, action, _ in station.received_calls.queue] == ["ClearCache"]


def test_sweep_times_out_a_call_whose_process_died(csms, identity):
    from csms.ocpp.outbound import SWEEP_TIMEOUT_DESCRIPTION

    # Sent by a process that died before the answer or its own timer: no consumer will end it.
    grace = settings.OCPP_CALL_TIMEOUT + settings.OCPP_SERVER_DEAD_SECONDS
    command = Command.objects.create(identity=identity, ocpp_version="2.0.1", action="ClearCache",
                                     status="sent", message_id="lost", connection_id="gone")
    Command.objects.filter(pk=command.pk).update(
        sent_at=command.created_at - timedelta(seconds=grace + 1))
    ended = eventually(lambda: Command.objects.filter(pk=command.pk, status="timeout").first())
    # Not the connection's own timer ("No answer within N s"): the sweep's words.
    assert ended.error_description == SWEEP_TIMEOUT_DESCRIPTION


def test_dispatch_ends_a_command_made_for_another_version(connect_station, identity):
    from csms.ocpp import outbound

    station = _settled(connect_station(identity, "2.0.1"))
    command = _queued_without_a_nudge(identity, "1.6", "ClearCache")
    outbound.dispatch(command.pk)
    command.refresh_from_db()
    assert (command.status, command.error_code) == ("error", "VersionMismatch")
    assert command.error_description == "Station now speaks OCPP 2.0.1"
    assert station.received_calls.empty()


def test_command_queued_for_16_is_not_sent_when_the_station_returns_on_201(
        api, connect_station, identity):
    first = connect_station(identity, "1.6", auto_answer=False)
    outstanding = send(api, identity, "ClearCache", {}, wait=0).json()
    first.next_call()  # unanswered: the next command waits behind it
    waiting = send(api, identity, "ClearCache", {}, wait=0).json()
    assert waiting["status"] == "queued"
    again = connect_station(identity, "2.0.1", boot=False)  # replaces the 1.6 socket
    assert first.closed.wait(10)
    ended = eventually(lambda: Command.objects.filter(pk=waiting["id"]).exclude(
        status__in=("queued", "sent")).first())
    assert (ended.status, ended.error_code) == ("error", "VersionMismatch")
    # Its socket closed: the old consumer records that as it closes, apart from the new socket.
    eventually(lambda: Command.objects.get(pk=outstanding["id"]).status == "error")
    assert calls_before_marker(api, again) == []
