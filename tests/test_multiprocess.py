"""Several ASGI server processes on one Redis and one Postgres: commands reach the station
wherever its socket lives, reconnects move it, and a dead process's presence captures nothing."""
import pytest

from csms.models import Command, StationPresence
from tests import environment
from tests.conftest import ServerProcess
from tests.helpers import eventually

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(environment.BACKEND != "services",
                       reason="several processes need the Redis channel layer (CSMS_TEST_BACKEND=services)"),
]


@pytest.fixture(scope="module")
def server_b(csms):
    server = ServerProcess("server-b").start()
    yield server
    if server.process.poll() is None:
        server.stop()


def post_command(api, identity, wait=10):
    return api.post(f"/stations/{identity}/commands/",
                    json={"action": "ClearCache", "payload": {}, "wait": wait}).json()


def test_command_posted_on_a_reaches_station_on_b(api, csms, server_b, connect_station, identity):
    station = connect_station(identity, server=server_b)
    station.answers["ClearCache"] = {"status": "Accepted"}
    command = post_command(api, identity)  # `api` talks to server A
    assert command["status"] == "accepted"
    assert command["response"] == {"status": "Accepted"}
    assert station.received_calls.get_nowait()[1] == "ClearCache"


def test_station_moving_from_a_to_b_keeps_receiving(api, csms, server_b, connect_station, identity):
    on_a = connect_station(identity, server=csms)
    assert post_command(api, identity)["status"] == "accepted"
    on_b = connect_station(identity, server=server_b, boot=False)
    assert on_a.closed.wait(5), "the socket on A must be replaced by the one on B"
    assert post_command(api, identity)["status"] == "accepted"
    assert on_b.received_calls.qsize() == 1
    # And back again: B's late cleanup must not erase A's new presence.
    back_on_a = connect_station(identity, server=csms, boot=False)
    assert on_b.closed.wait(5)
    assert post_command(api, identity)["status"] == "accepted"
    assert back_on_a.received_calls.qsize() == 1


def test_dead_process_presence_never_captures_a_command(api, csms, connect_station, identity):
    doomed = ServerProcess("server-doomed").start()
    connect_station(identity, server=doomed)
    doomed.kill()  # no disconnect handling: its presence row stays behind
    assert StationPresence.objects.filter(identity=identity).exists()
    # Until the sweep counts it dead (OCPP_SERVER_DEAD_SECONDS without a beat: it may only be
    # stalled) its presence stands, and the command waits in the queue...
    early = post_command(api, identity, wait=0)
    assert early["status"] == "queued"
    # ...then the sweep drops the process and settles it; new commands are offline at once.
    eventually(lambda: Command.objects.filter(pk=early["id"], status="offline").exists(), timeout=15)
    assert post_command(api, identity, wait=0)["status"] == "offline"
    assert api.get(f"/stations/{identity}/").json()["online"] is False  # the sweep said so


def test_queued_command_follows_a_station_that_reconnects_elsewhere(api, csms, connect_station, identity):
    doomed = ServerProcess("server-doomed-2").start()
    connect_station(identity, server=doomed)
    doomed.kill()
    queued = post_command(api, identity, wait=0)
    assert queued["status"] == "queued"
    station = connect_station(identity, server=csms, boot=False)
    eventually(lambda: Command.objects.filter(pk=queued["id"], status="accepted").exists())
    assert station.received_calls.get_nowait()[1] == "ClearCache"
