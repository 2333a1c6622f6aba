"""Redis killed and restarted (empty) under two servers, a worker and beat: station sockets stay
open, a command posted during the outage is accepted by the API and delivered once Redis is back,
later commands flow, and the stations are shown as they are. Also with only the channel layer's
Redis lost (the broker elsewhere): the worker retries the delivery."""
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
        health = f"{stack.servers[0].base_url}/healthz/"
        eventually(lambda: httpx.get(health, timeout=10).status_code == 503)  # says what is broken
        during = {identity: post(api, identity) for identity in stations}
        assert {command["status"] for command in during.values()} == {"queued"}
        # The stations keep talking to their servers while Redis is down.
        for station in stations.values():
            assert "currentTime" in station.call("Heartbeat", {})
        redis.start()  # empty: no nudge, no queued Celery task survived

        for identity, command in during.items():
            eventually(lambda: accepted(command["id"]), timeout=60)
        eventually(lambda: httpx.get(health, timeout=10).status_code == 200)
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


def test_channel_layer_lost_alone_delivery_is_retried(django_db_setup, operator):
    layer, broker = PrivateRedis("redis-layer").start(), PrivateRedis("redis-broker").start()
    stack = Stack(layer, servers=1, broker=broker).start()
    identity = f"CS-layer-{uuid.uuid4().hex[:8]}"
    station = None
    try:
        station = StationClient(stack.servers[0].ws_url, identity)
        assert station.boot()["status"] == "Accepted"
        with httpx.Client(base_url=f"{stack.servers[0].base_url}/api/v1", timeout=30,
                          headers={"Authorization": f"Token {operator['token']}"}) as api:
            assert post(api, identity, wait=10)["status"] == "accepted"
            layer.kill()
            during = post(api, identity)
            assert during["status"] == "queued"
            # The worker got the task (the broker is up) and could not nudge: it retries.
            eventually(lambda: "Retry in" in stack.worker.log_path.read_text(), timeout=60)
            layer.start()
            eventually(lambda: accepted(during["id"]), timeout=60)
            assert not station.closed.is_set(), f"socket closed ({station.close_code})"
            assert post(api, identity, wait=10)["status"] == "accepted"
    finally:
        if station is not None:
            station.close()
        stack.stop()
        layer.stop()
        broker.stop()
