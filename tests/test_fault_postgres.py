"""PostgreSQL stopped and started under connected stations and pending commands: healthz says what
is broken while it is, sockets stay up, and afterwards every command, frame and station is whole."""
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest
from django.utils import timezone
from websockets.exceptions import InvalidStatus

from csms.models import MessageLogEntry
from csms.ocpp import messagelog
from tests import environment
from tests.conftest import LOG_DIR, ROOT, ServerProcess
from tests.helpers import eventually
from tests.private_postgres import private_postgres  # noqa: F401 (the fixture)
from tests.station import CallFailed, StationClient

services_only = pytest.mark.skipif(
    environment.BACKEND != "services",
    reason="needs the services topology (Celery worker and beat deciding from the beat); "
           "the embedded default's SQLite has no server to stop")

# Past a stale beat (3 beats) and the sweep's dead-process window (OCPP_SERVER_DEAD_SECONDS,
# 6 beats): the sweep must still not count this live server dead once the database is back.
DOWN_SECONDS = 12
BEAT_SECONDS = 1.0


class FaultCSMS:
    """A server, a Celery worker and beat on the private database (shared Redis, own prefix)."""

    def __init__(self, private_postgres):
        name = f"pgfault-{environment.RUN_ID}-{uuid.uuid4().hex[:6]}"
        self.database_url = private_postgres.create_database(name.replace("-", "_"))
        self.env = {
            "DATABASE_URL": self.database_url,
            "CHANNEL_LAYER_PREFIX": name,
            "CELERY_TASK_DEFAULT_QUEUE": name,
            "OCPP_SERVER_BEAT_SECONDS": str(BEAT_SECONDS),
            "OCPP_CALL_TIMEOUT": "120",  # a call stays outstanding through the outage
            "OCPP_LAST_SEEN_WRITE_INTERVAL": "1",  # the consumer writes during the outage too
            "DATABASE_POOL_TIMEOUT": "3",  # calls during the outage fail after 3 s, not 10
            "DATABASE_IDLE_CHECK_SECONDS": "1",  # idle connections are checked after 1 s, not 5
        }
        self.processes = []
        self.token = self._prepare()
        self._celery("worker", ["--pool", "threads", "--concurrency", "4", "--without-gossip",
                                "--without-mingle", "--without-heartbeat", "--queues", name])
        self._celery("beat", ["--schedule", str(Path(environment.RUN_DIR) / f"{name}-beat")])
        self.server = ServerProcess(f"server-{name}", self.env).start()

    def _environ(self):
        return dict(os.environ, **self.env)

    def _prepare(self):
        """Migrate the new database and make an operator; its API token. One process: each
        Django start-up costs seconds on a loaded machine."""
        script = (
            "from django.core.management import call_command\n"
            "from django.contrib.auth.models import User\n"
            "from rest_framework.authtoken.models import Token\n"
            "call_command('migrate', verbosity=0, skip_checks=True)\n"
            "user = User.objects.create_superuser('fault-operator', '', 'fault-password')\n"
            "print(Token.objects.create(user=user).key)\n"
        )
        output = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT,
                                check=True, env=self._environ(), capture_output=True, text=True,
                                timeout=180).stdout
        return output.split()[-1]

    def _celery(self, role, arguments):
        log = open(LOG_DIR / f"celery-{role}-{self.env['CELERY_TASK_DEFAULT_QUEUE']}.log", "ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "csms", role, *arguments, "--loglevel", "INFO"],
            cwd=ROOT, env=self._environ(), stdout=log, stderr=subprocess.STDOUT)
        self.processes.append((process, log))

    def stop(self):
        # All at once: each may take seconds to shut down, and none waits for another.
        processes = [(self.server.process, self.server.log), *self.processes]
        for process, _ in processes:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 10
        for process, log in processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()

    def query(self, sql, *params):
        with psycopg.connect(self.database_url, autocommit=True) as connection:
            return connection.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def fault(private_postgres):
    csms = FaultCSMS(private_postgres)
    yield csms
    csms.stop()
    if not private_postgres.running():
        private_postgres.start()


def healthz(server):
    try:
        response = httpx.get(f"{server.base_url}/healthz/", timeout=10)
    except httpx.HTTPError:
        return None
    return response.status_code, response.json()


def status_payload(station):
    if station.version == "2.0.1":
        return {"timestamp": "2026-01-02T00:00:00Z", "connectorStatus": "Available", "evseId": 1,
                "connectorId": 1}
    return {"connectorId": 1, "status": "Available", "errorCode": "NoError",
            "timestamp": "2026-01-02T00:00:00Z"}


def command_status(api, command_id):
    return api.get(f"/commands/{command_id}/").json()["status"]


@services_only
def test_postgres_restart_loses_nothing_and_strands_no_station(fault, private_postgres):
    server = fault.server
    api = httpx.Client(base_url=f"{server.base_url}/api/v1", timeout=30,
                       headers={"Authorization": f"Token {fault.token}"})
    suffix = uuid.uuid4().hex[:6]
    # A answers the CSMS by hand (a call stays outstanding across the outage); B is a 1.6 station.
    station_a = StationClient(server.ws_url, f"PGF-A-{suffix}", "2.0.1", auto_answer=False)
    station_b = StationClient(server.ws_url, f"PGF-B-{suffix}", "1.6")
    for station in (station_a, station_b):
        assert station.boot()["status"] == "Accepted"
    eventually(lambda: healthz(server) and healthz(server)[0] == 200, 15)

    # Pending commands: one sent to A and not answered yet, one queued behind it.
    sent = api.post(f"/stations/{station_a.identity}/commands/",
                    json={"action": "ClearCache", "payload": {}, "wait": 0})
    assert sent.status_code == 202, sent.text
    sent_message_id, action, _ = station_a.next_call()
    assert action == "ClearCache"
    queued = api.post(f"/stations/{station_a.identity}/commands/",
                      json={"action": "TriggerMessage", "payload": {"requestedMessage": "Heartbeat"},
                            "wait": 0})
    assert queued.status_code == 202, queued.text
    assert command_status(api, sent.json()["id"]) == "sent"
    assert command_status(api, queued.json()["id"]) == "queued"

    private_postgres.stop()
    stopped_at = time.monotonic()

    # While down: unhealthy for the database at once, and for the beat once it is stale.
    def unhealthy(check):
        result = healthz(server)
        return result and result[0] == 503 and not result[1]["checks"][check]["ok"] and result
    body = eventually(lambda: unhealthy("database"), 10)[1]
    assert body["healthy"] is False and body["checks"]["database"]["error"]
    body = eventually(lambda: unhealthy("beat"), 15)[1]
    assert "other processes count this one dead" in body["checks"]["beat"]["error"]

    # Frames during the outage are answered (a result or a CALLERROR), never a dropped socket.
    outage_calls = []
    for station in (station_a, station_b):
        for action, payload in (("Heartbeat", {}), ("StatusNotification", status_payload(station))):
            message_id = f"outage-{uuid.uuid4().hex[:8]}"
            outage_calls.append((station.identity, message_id))
            try:
                station.send_frame([2, message_id, action, payload], message_id, timeout=30)
            except CallFailed as error:
                assert error.code == "InternalError", error.frame
    # A new station is told to come back later (HTTP 503), not dropped without an answer.
    with pytest.raises(InvalidStatus) as refused:
        StationClient(server.ws_url, f"PGF-D-{suffix}", "2.0.1")
    assert refused.value.response.status_code == 503
    assert refused.value.response.headers.get("Retry-After")
    time.sleep(max(0.0, DOWN_SECONDS - (time.monotonic() - stopped_at)))  # the outage itself
    assert not station_a.closed.is_set() and not station_b.closed.is_set()
    private_postgres.start()

    # Healthy again: database, channel layer and a fresh beat.
    body = eventually(lambda: (lambda r: r and r[0] == 200 and r[1])(healthz(server)), 30)
    assert all(check["ok"] for check in body["checks"].values()), body
    assert not station_a.closed.is_set() and not station_b.closed.is_set()

    # The call outstanding through the outage is settled by its answer, then the queued one goes.
    station_a.reply(sent_message_id, {"status": "Accepted"})
    eventually(lambda: command_status(api, sent.json()["id"]) == "accepted", 15)
    message_id, action, _ = station_a.next_call(timeout=15)
    assert action == "TriggerMessage"
    station_a.reply(message_id, {"status": "Accepted"})
    eventually(lambda: command_status(api, queued.json()["id"]) == "accepted", 15)

    # A command to each connected station is delivered and answered (this server was not lost).
    station_a.auto_answer = True
    for station in (station_a, station_b):
        response = api.post(f"/stations/{station.identity}/commands/",
                            json={"action": "ClearCache", "payload": {}, "wait": 10})
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "accepted", response.json()

    # A new station connects and boots.
    station_c = StationClient(server.ws_url, f"PGF-C-{suffix}", "2.0.1")
    assert station_c.boot()["status"] == "Accepted"

    # Every frame of the outage reached the message log after it, each once.
    def logged(identity, message_id):
        return fault.query(
            "SELECT direction FROM csms_messagelogentry WHERE identity = %s AND message_id = %s "
            "AND message_type IN (2, 3, 4) ORDER BY direction", identity, message_id)
    for identity, message_id in outage_calls:
        rows = eventually(lambda: (lambda r: len(r) >= 2 and r)(logged(identity, message_id)), 10)
        assert [row[0] for row in rows] == ["in", "out"], (identity, message_id, rows)
    twice = fault.query(
        "SELECT connection_id, direction, message_type, message_id, count(*) "
        "FROM csms_messagelogentry WHERE message_id <> '' "
        "GROUP BY connection_id, direction, message_type, message_id HAVING count(*) > 1")
    assert twice == []

    # The station list shows the truth: all three connected.
    listed = {row["identity"]: row["online"] for row in api.get("/stations/").json()["results"]}
    assert {listed.get(s.identity) for s in (station_a, station_b, station_c)} == {True}
    for station in (station_a, station_b, station_c):
        station.close()
    api.close()


@services_only
def test_connections_a_quick_restart_killed_fail_no_call(fault, private_postgres):
    """A restart between two calls kills every kept connection while it idles: each must be
    found dead and replaced before use, in the session threads and in the pool alike."""
    server = fault.server
    suffix = uuid.uuid4().hex[:6]
    stations = [StationClient(server.ws_url, f"PGQ-{number}-{suffix}", "2.0.1")
                for number in range(8)]
    for station in stations:
        assert station.boot()["status"] == "Accepted"

    def statuses():
        """A StatusNotification from every station at once: they spread over the session threads."""
        answers = queue.Queue()
        def send(station):
            try:
                answers.put(station.status("Available"))
            except Exception as error:  # the assertion below names it
                answers.put(error)
        threads = [threading.Thread(target=send, args=(station,)) for station in stations]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        return [answers.get_nowait() for _ in stations]

    assert all(answer == {} for answer in statuses())  # every session thread holds a connection
    warmed_at = time.monotonic()
    private_postgres.restart()
    eventually(lambda: healthz(server) and healthz(server)[0] == 200, 30)
    time.sleep(max(0.0, 1.5 - (time.monotonic() - warmed_at)))  # idle past the check threshold

    assert statuses() == [{}] * len(stations)
    with httpx.Client(base_url=f"{server.base_url}/api/v1", timeout=30,
                      headers={"Authorization": f"Token {fault.token}"}) as api:
        for _ in range(3):
            assert api.get("/stations/").status_code == 200
        response = api.post(f"/stations/{stations[0].identity}/commands/",
                            json={"action": "ClearCache", "payload": {}, "wait": 10})
        assert response.status_code == 201 and response.json()["status"] == "accepted", response.text
    for station in stations:
        station.close()


def test_a_batch_that_failed_to_write_is_kept_in_order_and_bounded(monkeypatch):
    monkeypatch.setattr(messagelog, "MAX_PENDING", 10)
    monkeypatch.setattr(messagelog, "_pending", [])
    for number in range(6):
        messagelog.record("CS-KEEP", "in", f"frame-{number}")
    failed = messagelog.take_pending()
    for number in range(6, 8):
        messagelog.record("CS-KEEP", "in", f"frame-{number}")
    messagelog.put_back(failed)
    assert [entry.frame for entry in messagelog.take_pending()] == [
        f"frame-{number}" for number in range(8)]

    # Past MAX_PENDING the oldest go first: the newest frames are the ones an operator needs.
    messagelog.put_back(failed)
    for number in range(6, 14):
        messagelog.record("CS-KEEP", "in", f"frame-{number}")
    assert [entry.frame for entry in messagelog.take_pending()] == [
        f"frame-{number}" for number in range(4, 14)]


def test_a_frame_the_database_refuses_does_not_hold_back_the_others(identity):
    # Kept batches are retried until written: one row the database can never take must not
    # block the log for good. It is dropped (logged); the rest are written once.
    entries = [MessageLogEntry(identity=identity, timestamp=timezone.now(), direction="in",
                               frame=f"frame-{number}") for number in range(3)]
    entries.insert(1, MessageLogEntry(identity=identity, timestamp=timezone.now(),
                                      direction="in", frame=None))
    assert messagelog.write(entries) == []
    stored = MessageLogEntry.objects.filter(identity=identity).order_by("id")
    assert [entry.frame for entry in stored] == ["frame-0", "frame-1", "frame-2"]


def test_frames_postgres_could_not_store_are_stored(monkeypatch, identity):
    monkeypatch.setattr(messagelog, "_pending", [])
    messagelog.record(identity, "in", '[2,"1","Heartbeat",{"x":"a\x00b"}]', 2, "1", "A" * 100)
    assert messagelog.write(messagelog.take_pending()) == []
    entry = MessageLogEntry.objects.get(identity=identity)
    assert entry.frame == '[2,"1","Heartbeat",{"x":"a\\u0000b"}]' and entry.action == "A" * 64
