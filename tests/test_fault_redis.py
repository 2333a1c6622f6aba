"""Redis killed and restarted (empty) under two servers, a worker and beat: station sockets stay
open, a command posted during the outage is accepted by the API and delivered once Redis is back,
later commands flow, and the stations are shown as they are."""
import uuid

import httpx
import pytest

from csms.models import Command
from tests import environment
from tests.helpers import eventually
from tests.private_redis import PrivateRedis, Stack
from tests.station import StationClient

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(environment.BACKEND != "services",
                       reason="the in-memory channel layer has no Redis to lose "
                              "(CSMS_TEST_BACKEND=services)"),
]


@pytest.fixture(scope="module")
def redis():
    redis = PrivateRedis().start()
    yield redis
    redis.stop()


@pytest.fixture(scope="module")
def stack(redis, django_db_setup):
    stack = Stack(redis, servers=2).start()
    yield stack
    stack.stop()


@pytest.fixture
def api(stack, operator):
    with httpx.Client(base_url=f"{stack.servers[0].base_url}/api/v1", timeout=30,
                      headers={"Authorization": f"Token {operator['token']}"}) as client:
        yield client


def post(api, identity, wait=0):
    response = api.post(f"/stations/{identity}/commands/",
                        json={"action": "ClearCache", "payload": {}, "wait": wait})
    assert response.status_code in (201, 202), response.text
    return response.json()


def accepted(command_id):
    return Command.objects.filter(pk=command_id, status="accepted").exists()


def test_redis_restart_loses_no_socket_and_no_command(stack, redis, api):
    stations = {}
    for server, version in zip(stack.servers, ("2.0.1", "1.6")):
        identity = f"CS-redis-{uuid.uuid4().hex[:8]}"
        stations[identity] = StationClient(server.ws_url, identity, version)
        assert stations[identity].boot()["status"] == "Accepted"
    try:
        for identity in stations:  # both servers reached through the channel layer
            assert post(api, identity, wait=10)["status"] == "accepted"

        redis.kill()
        during = {identity: post(api, identity) for identity in stations}
        assert {command["status"] for command in during.values()} == {"queued"}
        # The stations keep talking to their servers while Redis is down.
        for station in stations.values():
            assert "currentTime" in station.call("Heartbeat", {})
        redis.start()  # empty: no nudge, no queued Celery task survived

        for identity, command in during.items():
            eventually(lambda: accepted(command["id"]), timeout=60)
        after = {identity: post(api, identity, wait=0) for identity in stations}
        for command in after.values():
            eventually(lambda: accepted(command["id"]), timeout=60)

        for identity, station in stations.items():
            assert not station.closed.is_set(), f"{identity}'s socket closed ({station.close_code})"
            actions = []
            while not station.received_calls.empty():
                actions.append(station.received_calls.get_nowait()[1])
            assert actions == ["ClearCache"] * 3, actions  # each command once, none twice
            shown = api.get(f"/stations/{identity}/").json()
            assert shown["online"] is True
    finally:
        for station in stations.values():
            station.close()
