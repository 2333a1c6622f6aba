"""A server process whose row was swept while it stalled (its beat late by more than three
intervals, so other processes counted it dead) puts the stations it still holds back in the
presence registry at its next beat: their sockets keep receiving commands."""
import httpx
import pytest

from csms.models import ServerProcess as ServerProcessRow
from csms.models import StationPresence
from tests.conftest import ServerProcess
from tests.helpers import eventually


@pytest.fixture(scope="module")
def stalled_server(csms):
    server = ServerProcess("server-stalled").start()
    yield server
    server.stop()


def test_held_stations_come_back_after_the_process_row_was_swept(stalled_server, connect_station,
                                                                   identity, operator):
    station = connect_station(identity, server=stalled_server)
    presence = StationPresence.objects.select_related("server").get(identity=identity)
    # What another process's sweep does to a process it believes dead.
    ServerProcessRow.objects.filter(pk=presence.server.pk).delete()
    assert not StationPresence.objects.filter(identity=identity).exists()

    eventually(lambda: StationPresence.objects.filter(
        identity=identity, connection_id=presence.connection_id).exists(), 10)
    restored = StationPresence.objects.select_related("server").get(identity=identity)
    assert restored.server.server_id == presence.server.server_id
    assert restored.channel_name == presence.channel_name

    station.answers["ClearCache"] = {"status": "Accepted"}
    response = httpx.post(
        f"{stalled_server.base_url}/api/v1/stations/{identity}/commands/",
        json={"action": "ClearCache", "payload": {}, "wait": 5},
        headers={"Authorization": f"Token {operator['token']}"}, timeout=30)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "accepted"


def test_the_sweeping_process_never_counts_itself_dead(csms):
    from csms.ocpp import presence

    # The test process has no row; a stale row under its own id would be kept by its own sweep.
    ServerProcessRow.objects.create(server_id=presence.SERVER_ID, hostname="here", pid=1,
                                    started_at="2020-01-01T00:00:00Z",
                                    last_beat_at="2020-01-01T00:00:00Z")
    try:
        presence.forget_dead_servers()
        assert ServerProcessRow.objects.filter(server_id=presence.SERVER_ID).exists()
    finally:
        ServerProcessRow.objects.filter(server_id=presence.SERVER_ID).delete()


def test_a_late_beat_does_not_make_a_process_disown_its_stations(csms, connect_station, identity,
                                                                  api):
    from tests.environment import BACKEND

    if BACKEND == "services":
        pytest.skip("Celery workers dispatch there, and only see the beat: that is by design")
    station = connect_station(identity)
    station.answers["ClearCache"] = {"status": "Accepted"}
    # A long write held the server's beat up: to everyone else it looks dead for now.
    server = StationPresence.objects.select_related("server").get(identity=identity).server
    ServerProcessRow.objects.filter(pk=server.pk).update(last_beat_at="2020-01-01T00:00:00Z")
    response = api.post(f"/stations/{identity}/commands/",
                        json={"action": "ClearCache", "payload": {}, "wait": 5})
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "accepted"
