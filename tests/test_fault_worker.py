"""The Celery worker killed: commands are still delivered (the API nudges the station's holder
itself). One that cannot be nudged either (Redis down too) past OCPP_COMMAND_QUEUE_EXPIRY ends
`timeout` and is never sent, even when Redis and a worker come back; later commands are delivered."""
import time
import uuid

import httpx
import pytest

from csms.models import Command
from tests import environment
from tests.helpers import calls_before_marker, eventually
from tests.private_redis import PrivateRedis, Stack
from tests.station import StationClient

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(environment.BACKEND != "services",
                       reason="needs a Celery worker of its own (CSMS_TEST_BACKEND=services)"),
]

EXPIRY = 3


@pytest.fixture(scope="module")
def stack(django_db_setup):
    redis = PrivateRedis().start()
    stack = Stack(redis, servers=1, OCPP_COMMAND_QUEUE_EXPIRY=EXPIRY).start()
    yield stack
    stack.stop()
    redis.stop()


@pytest.fixture
def api(stack, operator):
    with httpx.Client(base_url=f"{stack.servers[0].base_url}/api/v1", timeout=30,
                      headers={"Authorization": f"Token {operator['token']}"}) as client:
        yield client


def post(api, identity, action, payload, wait):
    response = api.post(f"/stations/{identity}/commands/",
                        json={"action": action, "payload": payload, "wait": wait})
    assert response.status_code in (201, 202), response.text
    return response.json()


def test_command_queued_without_a_worker_expires_and_is_never_sent(stack, api):
    identity = f"CS-worker-{uuid.uuid4().hex[:8]}"
    station = StationClient(stack.servers[0].ws_url, identity, auto_answer=False)
    try:
        assert station.boot()["status"] == "Accepted"
        stack.worker.kill()
        without_worker = post(api, identity, "ClearCache", {}, wait=0)
        message_id, action, _ = station.next_call(timeout=30)  # no worker on the delivery path
        assert action == "ClearCache"
        station.reply(message_id, {"status": "Accepted"})
        eventually(lambda: Command.objects.get(pk=without_worker["id"]).status == "accepted")

        stack.redis.kill()  # neither the nudge nor a task for a worker can be sent now
        reset = post(api, identity, "Reset", {"type": "Immediate"}, wait=0)
        assert reset["status"] == "queued"
        # Let the expiry pass with nothing able to deliver the Reset (a precondition, not a check).
        created = Command.objects.get(pk=reset["id"]).created_at.timestamp()
        time.sleep(max(0.0, created + EXPIRY + 0.5 - time.time()))

        stack.redis.start()
        stack.new_worker()
        ended = eventually(lambda: Command.objects.filter(pk=reset["id"]).exclude(
            status="queued").first(), timeout=60)
        assert ended.status == "timeout", ended.status
        assert ended.error_description == f"Not delivered within {EXPIRY} s"
        assert ended.sent_at is None

        # Everything the CSMS sent after Redis came back is in before the marker: no Reset.
        assert [action for _, action, _ in calls_before_marker(api, station)] == []
        after = post(api, identity, "ClearCache", {}, wait=0)
        message_id, action, _ = station.next_call(timeout=30)
        assert action == "ClearCache"
        station.reply(message_id, {"status": "Accepted"})
        eventually(lambda: Command.objects.get(pk=after["id"]).status == "accepted")
    finally:
        station.close()
