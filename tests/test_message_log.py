"""The message log: every frame in and out, with direction, action, id, timing and outcome."""
from datetime import timedelta

from django.utils import timezone

from csms.models import MessageLogEntry
from csms.ocpp import messagelog
from tests.helpers import eventually, send_command


def test_frames_in_and_out_are_logged(api, connect_station, identity):
    station = connect_station(identity)
    station.call("Heartbeat", {})
    assert send_command(api, identity, "ClearCache").json()["status"] == "accepted"
    entries = eventually(lambda: (lambda rows: rows if len(rows) >= 6 else None)(
        api.get(f"/stations/{identity}/messages/").json()["results"]))
    seen = {(e["direction"], e["message_type"], e["action"]) for e in entries}
    assert {("in", 2, "BootNotification"), ("out", 3, "BootNotification"), ("in", 2, "Heartbeat"),
            ("out", 3, "Heartbeat"), ("out", 2, "ClearCache"), ("in", 3, "ClearCache")} <= seen
    answer = next(e for e in entries if e["direction"] == "in" and e["action"] == "ClearCache")
    assert answer["outcome"] == "ok" and answer["duration_ms"] is not None
    assert '"Accepted"' in answer["frame"]


def test_errors_are_logged_with_their_code(api, connect_station, identity):
    station = connect_station(identity)
    station.socket.send("garbage")
    station.call("Heartbeat", {})
    # The log is written in batches: the frame and its answer may land in different ones.
    answers = eventually(lambda: (lambda rows: rows if len(rows) >= 2 else None)(api.get(
        f"/stations/{identity}/messages/", params={"outcome": "RpcFrameworkError"}).json()["results"]))
    assert {(e["direction"], e["message_id"]) for e in answers} == {("in", ""), ("out", "-1")}
    inbound = MessageLogEntry.objects.get(identity=identity, direction="in", frame="garbage")
    assert inbound.outcome == "RpcFrameworkError"


def test_filters_and_bad_filter(api, connect_station, identity):
    connect_station(identity)
    eventually(lambda: MessageLogEntry.objects.filter(identity=identity).count() >= 2)
    only_in = api.get(f"/stations/{identity}/messages/", params={"direction": "in"}).json()["results"]
    assert only_in and all(e["direction"] == "in" for e in only_in)
    bad = api.get(f"/stations/{identity}/messages/", params={"since": "yesterday-ish"})
    assert bad.status_code == 400 and "since" in bad.json()["detail"]


def test_retention_purges_old_frames(identity):
    old = MessageLogEntry.objects.create(identity=identity, timestamp=timezone.now() - timedelta(days=40),
                                         direction="in", frame="[]")
    recent = MessageLogEntry.objects.create(identity=identity, timestamp=timezone.now(), direction="in",
                                            frame="[]")
    messagelog.purge(retention_days=30)
    assert not MessageLogEntry.objects.filter(pk=old.pk).exists()
    assert MessageLogEntry.objects.filter(pk=recent.pk).exists()


def test_a_batch_is_stored_exactly_whatever_its_frames_hold(identity):
    # A batch goes to PostgreSQL as one array per column: frames that look like array syntax,
    # quotes, backslashes, NULL spelled out, empty and non-ASCII text all come back unchanged,
    # as do columns that are empty in every entry of the batch.
    frames = ['[2,"a","Heartbeat",{}]', '{"x": "{a,b}"}', 'say "hi", \\ back\\slash', "NULL",
              "", "Ladestation Größe ⚡ 充电", "a\tb\nc", "x" * 70_000]
    now = timezone.now()
    batch = [MessageLogEntry(identity=identity, timestamp=now + timedelta(microseconds=n),
                             direction="in", frame=frame) for n, frame in enumerate(frames)]
    assert messagelog.write(batch) == []
    stored = list(MessageLogEntry.objects.filter(identity=identity).order_by("timestamp")
                  .values_list("frame", "message_type", "duration_ms", "outcome"))
    assert stored == [(frame, None, None, "") for frame in frames]

    answered = [MessageLogEntry(identity=identity, timestamp=now, direction="out", message_type=3,
                                message_id=f"m{n}", action="Heartbeat", frame="[3]",
                                outcome="ok", duration_ms=n / 3, connection_id="c") for n in range(1200)]
    assert messagelog.write(answered) == []
    durations = sorted(MessageLogEntry.objects.filter(identity=identity, direction="out")
                       .values_list("duration_ms", flat=True))
    assert durations == [n / 3 for n in range(1200)]
