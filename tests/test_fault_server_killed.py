"""A server process SIGKILLed while holding stations: once the sweep counts it dead its stations
are shown disconnected, their commands end (offline, or timeout for a call it had sent), and when
they reconnect to the other server they are online and commands flow again."""
import uuid

import httpx
import pytest

from csms.models import Command, StationPresence
from csms.ocpp.outbound import SWEEP_TIMEOUT_DESCRIPTION
from tests import environment
from tests.helpers import eventually
from tests.private_redis import PrivateRedis, Stack
from tests.station import StationClient

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(environment.BACKEND != "services",
                       reason="needs several server processes, a Celery worker and beat "
                              "(CSMS_TEST_BACKEND=services)"),
]


@pytest.fixture(scope="module")
def stack(django_db_setup):
    redis = PrivateRedis().start()
    stack = Stack(redis, servers=2).start()
    yield stack
    stack.stop()
    redis.stop()


@pytest.fixture
def api_on(operator):
    clients = []

    def client(server):
        api = httpx.Client(base_url=f"{server.base_url}/api/v1", timeout=30,
                           headers={"Authorization": f"Token {operator['token']}"})
        clients.append(api)
        return api

    yield client
    for api in clients:
        api.close()


def command(api, identity, action="ClearCache", payload=None, wait=10):
    response = api.post(f"/stations/{identity}/commands/",
                        json={"action": action, "payload": payload or {}, "wait": wait})
    assert response.status_code in (201, 202), response.text
    return response.json()


def connect(server, identity, version="2.0.1", **kwargs):
    station = StationClient(server.ws_url, identity, version, **kwargs)
    assert station.boot()["status"] == "Accepted"
    return station


def test_killed_server_stations_are_shown_disconnected_and_come_back(stack, api_on):
    survivor, doomed = stack.servers
    api = api_on(survivor)
    versions = ("2.0.1", "1.6")
    ids = [f"CS-killed-{uuid.uuid4().hex[:6]}-{version}" for version in versions]
    stations = [connect(doomed, identity, version) for identity, version in zip(ids, versions)]
    silent_id = f"CS-killed-{uuid.uuid4().hex[:6]}-silent"
    silent = connect(doomed, silent_id, auto_answer=False)
    for identity in ids:
        assert command(api, identity)["status"] == "accepted"
        assert api.get(f"/stations/{identity}/").json()["online"] is True
    # A call the doomed process sends and never sees answered: only the sweep can end it.
    unanswered = command(api, silent_id, wait=0)
    assert silent.next_call()[1] == "ClearCache"

    doomed.kill()
    # Posted after the crash, before the sweep counts the process dead: queued, then settled.
    early = command(api, ids[0], wait=0)
    assert early["status"] == "queued"

    for identity in ids + [silent_id]:
        eventually(lambda: api.get(f"/stations/{identity}/").json()["online"] is False, timeout=60)
    assert not StationPresence.objects.filter(identity__in=ids + [silent_id]).exists()
    eventually(lambda: Command.objects.get(pk=early["id"]).status == "offline")
    for identity in ids:
        assert command(api, identity, wait=0)["status"] == "offline"
    ended = eventually(lambda: Command.objects.filter(pk=unanswered["id"], status="timeout").first(),
                       timeout=60)
    assert ended.error_description == SWEEP_TIMEOUT_DESCRIPTION  # not the connection's own timer

    for station in stations + [silent]:
        assert station.closed.wait(10), "the kernel closes a killed process's sockets"
    back = [connect(survivor, identity, version) for identity, version in zip(ids, versions)]
    try:
        for identity, station in zip(ids, back):
            assert api.get(f"/stations/{identity}/").json()["online"] is True
            answered = command(api, identity)
            assert answered["status"] == "accepted", answered
            assert station.next_call()[1] == "ClearCache"
    finally:
        for station in back:
            station.close()
