"""A stalled server process keeps its stations: a late beat disowns nothing, and a process whose
row was swept (silent past OCPP_SERVER_DEAD_SECONDS, so counted dead) puts the stations it still
holds back in the presence registry at its next beat: their sockets keep receiving commands."""
import os
import signal
from datetime import timedelta

import httpx
import pytest
from django.conf import settings
from django.utils import timezone

from csms.models import Command, StationPresence
from csms.models import ServerProcess as ServerProcessRow
from tests import environment
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
    station = connect_station(identity)
    station.answers["ClearCache"] = {"status": "Accepted"}
    # A long write held the server's beat up: three beats late (what used to count as dead),
    # not yet OCPP_SERVER_DEAD_SECONDS. On services the worker decides delivery from the row.
    server = StationPresence.objects.select_related("server").get(identity=identity).server
    ServerProcessRow.objects.filter(pk=server.pk).update(
        last_beat_at=timezone.now() - timedelta(seconds=4 * settings.OCPP_SERVER_BEAT_SECONDS))
    response = api.post(f"/stations/{identity}/commands/",
                        json={"action": "ClearCache", "payload": {}, "wait": 5})
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "accepted"


def test_commands_to_a_stalled_server_wait_for_it(stalled_server, api, connect_station, identity):
    """Services: the worker decides delivery. A server stalled past three beats (what used to
    count as dead) but not OCPP_SERVER_DEAD_SECONDS still holds its sockets: its commands queue
    and go out when it resumes, instead of ending offline."""
    if environment.BACKEND != "services":
        pytest.skip("needs the API and the stalled station on different processes (services)")
    station = connect_station(identity, server=stalled_server)
    station.answers["ClearCache"] = {"status": "Accepted"}
    server_pk = StationPresence.objects.get(identity=identity).server_id

    def beat_age():
        beat = ServerProcessRow.objects.get(pk=server_pk).last_beat_at
        return (timezone.now() - beat).total_seconds()

    os.kill(stalled_server.process.pid, signal.SIGSTOP)
    try:
        eventually(lambda: beat_age() > 3.2 * settings.OCPP_SERVER_BEAT_SECONDS)
        queued = api.post(f"/stations/{identity}/commands/",
                          json={"action": "ClearCache", "payload": {}, "wait": 0})
    finally:
        os.kill(stalled_server.process.pid, signal.SIGCONT)
    assert queued.status_code == 202, queued.text
    assert queued.json()["status"] == "queued"
    eventually(lambda: Command.objects.filter(pk=queued.json()["id"], status="accepted").exists())
    assert station.next_call()[1] == "ClearCache"
