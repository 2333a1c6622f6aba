"""The consumer survives what goes wrong around it: a channel layer (Redis) restarting under its
sockets, the database going away under it, and any failure escaping its own guards.
Each test runs its own server (and its own Redis or PostgreSQL) and kills only those."""
import os
import subprocess
import sys
import uuid

import httpx
import pytest
import psycopg
from websockets.exceptions import InvalidStatus

from csms.models import StationPresence
from stations.models import Station
from tests.conftest import ROOT, ServerProcess
from tests.helpers import eventually
from tests.private_postgres import PrivatePostgres, available
from tests.private_redis import PrivateRedis
from tests.station import CallFailed, StationClient


def log_of(server):
    return server.log_path.read_text(errors="replace")


def boot_stations(server, prefix, count, version="2.0.1"):
    stations = [StationClient(server.ws_url, f"{prefix}-{n}", version) for n in range(count)]
    for station in stations:
        assert station.boot()["status"] == "Accepted"
    return stations


def still_up(stations):
    for station in stations:
        assert not station.closed.is_set(), f"{station.identity} closed with {station.close_code}"
        assert "currentTime" in station.call("Heartbeat", {}, timeout=30)


# --- Redis (the channel layer) restarts --------------------------------------------------------

def test_redis_restart_keeps_every_socket_up_and_commands_flow_again(operator):
    redis = PrivateRedis("redis-consumer-faults").start()
    # Tasks run in the server (no broker): the command's nudge crosses this Redis only.
    server = ServerProcess("server-redis-restart", {
        "REDIS_URL": f"{redis.url}/0", "CELERY_BROKER_URL": "",
        "CHANNEL_LAYER_PREFIX": f"csms-consumer-faults-{uuid.uuid4().hex[:6]}",
    }).start()
    prefix = f"REDIS-{uuid.uuid4().hex[:6]}"
    stations = []
    try:
        stations = boot_stations(server, prefix, 2) + boot_stations(server, f"{prefix}-16", 2, "1.6")
        redis.kill()
        eventually(lambda: "Channel layer unavailable" in log_of(server))
        still_up(stations)  # served while the layer is down
        redis.start()
        eventually(lambda: "Channel layer back" in log_of(server))
        assert log_of(server).count("Channel layer unavailable") == 1  # once per outage, not per socket
        still_up(stations)
        # Commands reach the stations through the channel layer again.
        headers = {"Authorization": f"Token {operator['token']}"}
        for station in stations:
            response = httpx.post(
                f"{server.base_url}/api/v1/stations/{station.identity}/commands/",
                json={"action": "ClearCache", "payload": {}, "wait": 20}, headers=headers, timeout=60)
            assert response.json()["status"] == "accepted", response.text
        assert "Exception inside application" not in log_of(server)
    finally:
        for station in stations:
            station.close()
        server.stop()
        redis.kill()


# --- Any failure escaping the consumer's guards ------------------------------------------------

def test_an_escaping_failure_closes_the_socket_and_releases_the_station(operator, identity):
    server = ServerProcess("server-escaping-handler", {
        "OCPP_HANDLER_MODULES": "tests.vendor_handlers,tests.escaping_handlers"}).start()
    try:
        station = StationClient(server.ws_url, identity)
        assert station.boot()["status"] == "Accepted"
        eventually(lambda: StationPresence.objects.filter(identity=identity).exists())
        station.socket.send('[2,"e1","NotifyDisplayMessages",{"requestId":1}]')
        assert station.closed.wait(30)
        assert station.close_code == 1011
        # Released as a disconnect would: not online, no presence to capture a command.
        eventually(lambda: not Station.objects.get(identity=identity).online)
        assert not StationPresence.objects.filter(identity=identity).exists()
        response = httpx.post(f"{server.base_url}/api/v1/stations/{identity}/commands/",
                              json={"action": "ClearCache", "payload": {}},
                              headers={"Authorization": f"Token {operator['token']}"}, timeout=30)
        assert response.json()["status"] == "offline", response.text
        # The station comes back as usual.
        with StationClient(server.ws_url, identity) as again:
            assert "currentTime" in again.call("Heartbeat", {})
    finally:
        server.stop()


# --- The database goes away --------------------------------------------------------------------

@pytest.fixture(scope="module")
def database_down_server():
    reason = available()
    if reason:
        pytest.skip(reason)
    postgres = PrivatePostgres().initdb().start()
    url = postgres.create_database("consumer_faults")
    env = {
        "DATABASE_URL": url, "REDIS_URL": "", "CELERY_BROKER_URL": "",
        "OCPP_LAST_SEEN_WRITE_INTERVAL": "0.5",  # the consumer writes during the outage too
        "DATABASE_POOL_TIMEOUT": "2",
        "OCPP_DATABASE_THREADS": "2",
    }
    migrate = "from django.core.management import call_command; call_command('migrate', verbosity=0)"
    subprocess.run([sys.executable, "manage.py", "shell", "-c", migrate], cwd=ROOT, check=True,
                   env={**os.environ, **env}, timeout=300)
    server = ServerProcess("server-database-down", env).start()
    yield server, postgres, url
    server.stop()
    postgres.cleanup()


def test_database_down_keeps_sockets_refuses_upgrades_503_and_settles_closes_later(
        database_down_server, identity):
    server, postgres, url = database_down_server
    staying = StationClient(server.ws_url, f"{identity}-stays")
    leaving = StationClient(server.ws_url, f"{identity}-leaves")
    for station in (staying, leaving):
        assert station.boot()["status"] == "Accepted"
    postgres.stop()
    try:
        # A new upgrade gets an HTTP answer: 503 with Retry-After, not a dropped connection.
        with pytest.raises(InvalidStatus) as refused:
            StationClient(server.ws_url, f"{identity}-new")
        assert refused.value.response.status_code == 503
        assert int(refused.value.response.headers["Retry-After"]) > 0
        # The connected station is served; what needs the database is answered InternalError;
        # the failing last-seen writes (every 0.5 s here) do not close it.
        for _ in range(3):
            assert "currentTime" in staying.call("Heartbeat", {}, timeout=30)
            with pytest.raises(CallFailed) as failed:
                staying.status("Available")
            assert failed.value.code == "InternalError"
        assert not staying.closed.is_set()
        leaving.close()  # its disconnect cannot be recorded now
        eventually(lambda: "Recording the closed session" in log_of(server))
    finally:
        postgres.start()
    # Once the database is back the closed session is recorded, and the rest works again.
    def online(station_identity):
        with psycopg.connect(url, autocommit=True) as connection:
            return connection.execute("SELECT online FROM stations_station WHERE identity = %s",
                                      (station_identity,)).fetchone()[0]

    eventually(lambda: online(leaving.identity) is False, timeout=120)
    with psycopg.connect(url, autocommit=True) as connection:
        assert not connection.execute("SELECT 1 FROM csms_stationpresence WHERE identity = %s",
                                      (leaving.identity,)).fetchall()
    assert online(staying.identity) is True
    def status_recorded():
        try:
            return staying.status("Available") == {}
        except CallFailed:
            return False

    eventually(status_recorded, timeout=60)
    assert not staying.closed.is_set()
    with StationClient(server.ws_url, f"{identity}-new") as new:
        assert new.boot()["status"] == "Accepted"
    staying.close()
    assert "Exception inside application" not in log_of(server)
