"""Fixtures: one CSMS server process (and, on services, a Celery worker) per test session.

Tests talk to it as stations (real WebSockets) and integrators (real HTTP), and read the
database it writes through the ORM.
"""
import os
import socket
import subprocess
import sys
import time
import uuid
import weakref
from pathlib import Path

import httpx
import pytest

from simulator.profile import Profile
from simulator.station import SimulatedStation
from simulator.threaded import BackgroundLoop
from tests import environment
from tests.helpers import eventually, stop_process
from tests.station import StationClient

# The dashboard fixtures (logged-in HTTP client, headless Chromium page) for every test module.
pytest_plugins = ["tests.browser_helpers"]

ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = Path(os.environ.get("CSMS_TEST_LOG_DIR", environment.RUN_DIR))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening_ports(pid):
    """The TCP ports process `pid` listens on (Linux /proc): its socket inodes in LISTEN state."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def wait_for_port(port, process, timeout=120):
    """Wait until `process` itself listens on `port` (not another process that took the port)."""
    # Generous: start-up on a loaded 2-core machine has taken tens of seconds; returns once listening.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if port in listening_ports(process.pid):
                return
        except OSError:  # the process ended while its table was read
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not listen on {port} within {timeout} s")


RUNNING_SERVERS = weakref.WeakSet()  # their logs' tails are shown with a failing test
LOG_TAIL_BYTES = 6000


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    for server in list(RUNNING_SERVERS):
        try:
            with open(server.log_path, "rb") as log:
                log.seek(max(0, log.seek(0, os.SEEK_END) - LOG_TAIL_BYTES))
                tail = log.read().decode("utf-8", "replace")
        except OSError:
            continue
        report.sections.append((f"server {server.name} log (tail)", tail))


class ServerProcess:
    """A CSMS server (`manage.py runcsms`) in its own process."""

    def __init__(self, name, extra_env=None, arguments=()):
        self.name = name
        self.arguments = list(arguments)  # more runcsms options, e.g. ["--workers", "2"]
        self.use_port(free_port())
        self.log_path = LOG_DIR / f"{name}.log"
        self.extra_env = extra_env or {}
        self.process = None

    def use_port(self, port):
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}"

    def start(self, attempts=3):
        env = dict(os.environ, **self.extra_env)
        for attempt in range(1, attempts + 1):
            logged = self.log_path.stat().st_size if self.log_path.exists() else 0
            self.log = open(self.log_path, "ab")
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "runcsms", "--port", str(self.port), *self.arguments],
                cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            )
            try:
                self.wait_until_listening()
                RUNNING_SERVERS.add(self)
                return self
            except RuntimeError:
                self.log.close()
                with open(self.log_path, "rb") as log:
                    log.seek(logged)
                    port_taken = b"Address already in use" in log.read()
                # Another test run took the free port between free_port() and the bind: use another.
                if attempt == attempts or self.process.poll() is None or not port_taken:
                    raise
                self.use_port(free_port())

    def wait_until_listening(self):
        wait_for_port(self.port, self.process)

    def stop(self):
        RUNNING_SERVERS.discard(self)
        if self.process:
            stop_process(self.process)
        self.log.close()

    def kill(self):
        """Die without cleaning up, as a crashed process would."""
        RUNNING_SERVERS.discard(self)
        self.process.kill()
        self.process.wait()
        self.log.close()


CELERY_COMMANDS = {
    "celery-worker": ["worker", "--pool", "threads", "--concurrency", "4", "--without-gossip",
                      "--without-mingle", "--without-heartbeat"],
    "celery-beat": ["beat", "--schedule", str(Path(environment.RUN_DIR) / "celerybeat-schedule")],
}


def start_celery(name):
    log = open(LOG_DIR / f"{name}.log", "ab")
    arguments = CELERY_COMMANDS[name]
    if name == "celery-worker":
        arguments = arguments + ["--queues", os.environ["CELERY_TASK_DEFAULT_QUEUE"]]
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "csms", *arguments, "--loglevel", "INFO"],
        cwd=ROOT, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT,
    )
    return process, log


@pytest.fixture(scope="session")
def django_db_setup(django_db_blocker):
    """The run's database is new (tests/environment.py): migrate it, no test-database copy."""
    from django.core.management import call_command

    with django_db_blocker.unblock():
        call_command("migrate", verbosity=0)


@pytest.fixture(autouse=True)
def _database(django_db_setup, django_db_blocker):
    # Tests share the database with a live server process: no per-test transaction to roll back.
    with django_db_blocker.unblock():
        yield


@pytest.fixture(scope="session")
def csms(django_db_setup):
    """The running CSMS (plus a Celery worker and beat when the backend has a broker)."""
    from django.conf import settings

    server = ServerProcess("server-a")
    # Download and upload URLs handed to stations point at this server, whoever makes them.
    os.environ["PUBLIC_BASE_URL"] = settings.PUBLIC_BASE_URL = server.base_url
    celery = []
    if environment.BACKEND == "services":
        celery = [start_celery("celery-worker"), start_celery("celery-beat")]
    server.start()
    os.environ["PUBLIC_BASE_URL"] = settings.PUBLIC_BASE_URL = server.base_url
    yield server
    server.stop()
    for process, log in celery:
        stop_process(process)
        log.close()


@pytest.fixture(scope="session")
def operator(django_db_setup, django_db_blocker):
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    with django_db_blocker.unblock():
        user = User.objects.create_superuser("operator", "operator@example.com", "operator-password")
        token = Token.objects.create(user=user)
    return {"user": user, "password": "operator-password", "token": token.key}


@pytest.fixture
def api(csms, operator):
    with httpx.Client(base_url=f"{csms.base_url}/api/v1",
                      headers={"Authorization": f"Token {operator['token']}"},
                      timeout=30) as client:
        yield client


@pytest.fixture
def identity():
    return f"CS-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def connect_station(csms):
    """connect_station(identity, version="2.0.1", password=None, boot=True, server=csms)."""
    opened = []

    def connect(identity, version="2.0.1", password=None, boot=True, server=None, **kwargs):
        client = StationClient((server or csms).ws_url, identity, version, password, **kwargs)
        opened.append(client)
        if boot:
            answer = client.boot()
            assert answer["status"] == "Accepted", answer
        return client

    yield connect
    for client in opened:
        client.close()


@pytest.fixture
def simulator():
    """An event loop in a thread running simulated stations (simulator/) for one test."""
    loop = BackgroundLoop()
    yield loop
    loop.close()


@pytest.fixture
def simulated_station(csms, simulator):
    """simulated_station(identity, version="2.0.1", password=None, online=True, charges=False,
    **profile): start a simulated station (idle unless the profile says otherwise); when
    `online`, return once it has booted."""

    def start(identity, version="2.0.1", password=None, online=True, charges=False, **profile):
        station = SimulatedStation(
            f"{csms.ws_url}/ocpp", identity, version, password=password, charges=charges,
            profile=Profile(**{"charging_share": 0, **profile}),
        )
        simulator.start(station)
        if online:
            eventually(lambda: simulator.call(lambda: station.online.is_set()))
        return station

    return start
