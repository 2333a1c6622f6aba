"""`runcsms --workers N`: several socket-holding server processes on one port, supervised."""
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from csms.ocpp import workers
from tests import environment
from tests.conftest import ROOT, ServerProcess, free_port, listening_ports
from tests.helpers import eventually, send_command
from tests.station import StationClient
from tests.tls_helpers import Authority, client_context, open_station

needs_redis = pytest.mark.skipif(
    environment.BACKEND != "services",
    reason="more than one worker needs the Redis channel layer (refused on embedded, tested below)")

STATIONS = 40


def children(pid):
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return {int(child) for child in path.read_text().split()}
    except OSError:
        return set()


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A reaped-later zombie still answers kill(0): read its state.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


class WorkersServer(ServerProcess):
    """`runcsms --workers 2`: ready once both workers (not the parent) listen on the port."""

    def __init__(self, count=2, extra_env=None, tls_port=None):
        super().__init__(f"workers-{uuid.uuid4().hex[:6]}", extra_env=extra_env,
                         arguments=["--workers", str(count)])
        self.count = count
        self.tls_port = tls_port

    def workers(self):
        return {pid for pid in children(self.process.pid) if self.listens(pid)}

    def listens(self, pid):
        try:
            return {self.port, self.tls_port or self.port} <= listening_ports(pid)
        except OSError:
            return False

    def wait_until_listening(self):
        def ready():
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            return len(self.workers()) == self.count
        try:
            eventually(ready, timeout=120, interval=0.2)
        except AssertionError:
            raise RuntimeError(f"{self.count} workers did not listen on {self.port}") from None


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    directory = tmp_path_factory.mktemp("workers-pki")
    server_ca = Authority(directory, "Server CA")
    return {"station_ca": Authority(directory, "Station CA"), "server_ca": server_ca,
            "server": server_ca.issue("localhost", server=True)}


@pytest.fixture(scope="module")
def workers_server(django_db_setup, pki):
    """One `runcsms --workers 2` (plain and TLS port) for the module: starting one takes a
    minute on a loaded machine. The SIGTERM test, last in the file, ends it."""
    if environment.BACKEND != "services":
        pytest.skip("more than one worker needs the Redis channel layer")
    tls_port = free_port()
    certificate, key = pki["server"]
    server = WorkersServer(tls_port=tls_port, extra_env={
        "TLS_PORT": str(tls_port), "TLS_CERTIFICATE_FILE": str(certificate),
        "TLS_PRIVATE_KEY_FILE": str(key), "TLS_CLIENT_CA_FILE": str(pki["station_ca"].path),
    }).start()
    yield server
    server.stop()


def connect(server, identity):
    client = StationClient(server.ws_url, identity, "2.0.1")
    assert client.boot()["status"] == "Accepted"
    return client


def holders(identities):
    from csms.models import StationPresence

    return dict(StationPresence.objects.filter(identity__in=identities)
                .values_list("identity", "server__pid"))


def command_reaches(api, identity):
    response = send_command(api, identity, "ClearCache", {})
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "accepted", response.json()
    assert response.json()["response"] == {"status": "Accepted"}


@needs_redis
def test_stations_spread_over_workers_and_a_killed_worker_comes_back(workers_server, api):
    from csms.models import ServerProcess

    prefix = f"CS-W-{uuid.uuid4().hex[:6]}"
    clients = {f"{prefix}-{n}": None for n in range(STATIONS)}
    try:
        for identity in clients:
            clients[identity] = connect(workers_server, identity)
        worker_pids = workers_server.workers()
        held_by = eventually(lambda: (lambda rows: len(rows) == STATIONS and rows)(holders(clients)))
        # The kernel spread the connections over both workers, each a socket holder of its own.
        assert set(held_by.values()) == worker_pids
        rows = ServerProcess.objects.filter(pid__in=worker_pids)
        assert len({row.server_id for row in rows}) == 2

        by_worker = {pid: [i for i, holder in held_by.items() if holder == pid] for pid in worker_pids}
        for stations in by_worker.values():  # a command reaches a station on either worker
            command_reaches(api, stations[0])

        killed, survivor = sorted(worker_pids)
        os.kill(killed, signal.SIGKILL)
        orphans = by_worker[killed]
        for identity in orphans:
            assert clients[identity].closed.wait(30), identity
        # The parent starts a new worker in the killed one's place.
        restarted = eventually(lambda: (lambda pids: len(pids) == 2 and killed not in pids and pids)(
            workers_server.workers()), timeout=120, interval=0.2)
        assert survivor in restarted

        for identity in orphans:  # the stations reconnect (to either worker) and boot again
            clients[identity].close()
            clients[identity] = connect(workers_server, identity)
        eventually(lambda: set(holders(orphans).values()) <= restarted
                   and len(holders(orphans)) == len(orphans))
        command_reaches(api, orphans[0])
        command_reaches(api, by_worker[survivor][0])
        # New connections reach the restarted worker too.
        late = [f"{prefix}-late-{n}" for n in range(STATIONS)]
        for identity in late:
            clients[identity] = connect(workers_server, identity)
        late_holders = eventually(lambda: (lambda rows: len(rows) == len(late) and rows)(holders(late)))
        assert set(late_holders.values()) == restarted
        fresh = next(i for i, pid in late_holders.items() if pid != survivor)
        command_reaches(api, fresh)
        # Each connection lands on one worker, which answers for itself: all are healthy.
        for _ in range(8):
            response = httpx.get(f"{workers_server.base_url}/healthz/", timeout=30)
            assert response.status_code == 200, response.text
    finally:
        for client in clients.values():
            if client is not None:
                client.close()


@needs_redis
def test_the_tls_port_is_shared_by_the_workers_too(workers_server, pki):
    from stations.models import Station

    clients = []
    try:
        identities = [f"CS-WT-{uuid.uuid4().hex[:6]}-{n}" for n in range(12)]
        for identity in identities:
            # Security profile 3: the worker reads the client certificate off its TLS socket.
            Station.objects.create(identity=identity, security_profile=3)
            context = client_context(pki["server_ca"], pki["station_ca"].issue(identity))
            clients.append(open_station(f"wss://localhost:{workers_server.tls_port}", identity,
                                        context))
            assert clients[-1].boot()["status"] == "Accepted"
        held = eventually(lambda: (lambda rows: len(rows) == len(identities) and rows)(
            holders(identities)))
        assert set(held.values()) == workers_server.workers()
    finally:
        for client in clients:
            client.close()


@needs_redis
def test_sigterm_stops_every_worker_and_exits_0(workers_server):
    identity = f"CS-W-{uuid.uuid4().hex[:8]}"
    client = connect(workers_server, identity)
    worker_pids = workers_server.workers()
    workers_server.process.send_signal(signal.SIGTERM)
    assert workers_server.process.wait(60) == 0
    assert not any(alive(pid) for pid in worker_pids)
    assert client.closed.wait(10)
    client.close()


def test_two_workers_without_redis_are_refused():
    env = {name: value for name, value in os.environ.items() if name != "REDIS_URL"}
    result = subprocess.run(
        [sys.executable, "manage.py", "runcsms", "--port", str(free_port()), "--workers", "2"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0
    assert "--workers 2 needs REDIS_URL" in result.stderr, result.stderr


def test_auto_is_one_worker_per_usable_cpu():
    cpus = len(os.sched_getaffinity(0))
    assert workers.worker_count("auto") == workers.worker_count(0) == cpus
    assert workers.worker_count("3") == 3
    with pytest.raises(ValueError):
        workers.worker_count("many")
    with pytest.raises(ValueError):
        workers.worker_count(-1)


def test_workers_that_keep_dying_at_start_stop_the_server(monkeypatch):
    # Real processes that fail at once; a short back-off so five failed starts take a second.
    monkeypatch.setattr(workers, "FIRST_BACKOFF_SECONDS", 0.05)
    started = []

    def argv_of(slot):
        started.append(slot)
        return [sys.executable, "-c", "import sys; sys.exit(3)"]

    began = time.monotonic()
    assert workers.Supervisor(2, argv_of, dict(os.environ)).run() == 1
    assert len(started) >= workers.MAX_FAILED_STARTS
    assert time.monotonic() - began < 60


def test_a_worker_that_dies_is_restarted_and_sigterm_reaches_it():
    # Each worker records its pid, then waits to be stopped; the first one dies at once.
    directory = Path(environment.RUN_DIR) / f"supervised-{uuid.uuid4().hex[:6]}"
    directory.mkdir()
    script = (
        "import os, pathlib, signal, sys, time\n"
        f"d = pathlib.Path({str(directory)!r})\n"
        "signal.signal(signal.SIGTERM, lambda *a: (d.joinpath(f'stopped-{os.getpid()}').touch(), sys.exit(0)))\n"
        "d.joinpath(f'started-{os.getpid()}').touch()\n"
        "if len(list(d.glob('started-*'))) == 1: os._exit(9)\n"
        "while True: time.sleep(0.1)\n"
    )
    supervisor = workers.Supervisor(1, lambda slot: [sys.executable, "-c", script], dict(os.environ))

    def stop_when_restarted():
        eventually(lambda: len(list(directory.glob("started-*"))) == 2, timeout=60)
        supervisor._ask_to_stop(signal.SIGTERM, None)

    stopper = threading.Thread(target=stop_when_restarted)
    stopper.start()
    assert supervisor.run() == 0
    stopper.join()
    assert len(list(directory.glob("stopped-*"))) == 1
