"""500 silent WebSocket upgrades (and bare TCP connections) starve nothing: /healthz/, the API
and a real station's connect + boot are each served within a second while they are open, and the
server closes them after OCPP_FIRST_MESSAGE_TIMEOUT (1008) / HTTP_IDLE_TIMEOUT."""
import asyncio
import collections
import resource
import socket
import threading
import time
import uuid

import httpx
import pytest
from websockets.asyncio.client import connect

from stations.models import Station
from tests.conftest import ServerProcess
from tests.helpers import eventually
from tests.station import StationClient

SILENT = 500
BARE_TCP = 50
FIRST_MESSAGE_TIMEOUT = 30  # s, for this test's server (long enough to measure while all are open)
BOUND = 1.0  # s: the issue asks for each to be served within a second


@pytest.fixture(scope="module")
def server(csms):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, 65536) if hard != resource.RLIM_INFINITY else 65536
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    process = ServerProcess("server-silent-sockets", {
        "OCPP_FIRST_MESSAGE_TIMEOUT": str(FIRST_MESSAGE_TIMEOUT), "HTTP_IDLE_TIMEOUT": "3",
    })
    # The server inherits the raised limit from this process.
    process.start()
    yield process
    process.stop()


class SilentSockets:
    """Upgrades that never send a frame, held on an event loop of their own."""

    def __init__(self, ws_url, prefix, count):
        self.urls = [f"{ws_url}/ocpp/{prefix}-{n}" for n in range(count)]
        self.opened = 0
        self.failed = []
        self.close_codes = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.open_all(), self.loop)

    async def open_all(self):
        limit = asyncio.Semaphore(100)
        await asyncio.gather(*(self.hold(url, limit) for url in self.urls))

    async def hold(self, url, limit):
        try:
            async with limit:
                socket = await connect(url, subprotocols=["ocpp2.0.1"], open_timeout=60,
                                       ping_interval=None)
            self.opened += 1
            await socket.wait_closed()
            self.close_codes.append(socket.close_code)
        except Exception as error:
            self.failed.append(repr(error))

    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def timed(function):
    started = time.monotonic()
    result = function()
    return result, time.monotonic() - started


def test_silent_sockets_starve_nothing_and_are_closed(server, operator):
    prefix = f"SILENT-{uuid.uuid4().hex[:6]}"
    silent = SilentSockets(server.ws_url, prefix, SILENT)
    bare = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(BARE_TCP)]
    try:
        eventually(lambda: silent.opened + len(silent.failed) == SILENT, timeout=120)
        assert not silent.failed, silent.failed[:3]
        # Every one is admitted and recorded online: 500 silent sessions are really held now.
        eventually(lambda: Station.objects.filter(identity__startswith=prefix, online=True).count()
                   == SILENT, timeout=60)

        health, seconds = timed(lambda: httpx.get(f"{server.base_url}/healthz/", timeout=10))
        assert health.status_code == 200, health.text
        assert seconds < BOUND, f"/healthz/ took {seconds:.2f} s"

        headers = {"Authorization": f"Token {operator['token']}"}
        stations, seconds = timed(lambda: httpx.get(f"{server.base_url}/api/v1/stations/?limit=5",
                                                    headers=headers, timeout=10))
        assert stations.status_code == 200, stations.text
        assert seconds < BOUND, f"the API took {seconds:.2f} s"

        identity = f"{prefix}-real"

        def connect_and_boot():
            station = StationClient(server.ws_url, identity)
            return station, station.boot()

        (station, boot), seconds = timed(connect_and_boot)
        assert boot["status"] == "Accepted"
        assert seconds < BOUND, f"a station's connect + boot took {seconds:.2f} s"

        # Bare TCP connections that never send a request are closed (HTTP_IDLE_TIMEOUT = 3 s).
        for connection in bare:
            connection.settimeout(30)
            assert connection.recv(1) == b""
        # The silent sockets are closed after the first-message timeout, with 1008; the real
        # station, which spoke, is not.
        try:
            eventually(lambda: len(silent.close_codes) == SILENT, timeout=FIRST_MESSAGE_TIMEOUT + 60)
        except AssertionError:
            raise AssertionError(f"{len(silent.close_codes)} of {SILENT} closed by the server: "
                                 f"{set(silent.close_codes)}") from None
        assert set(silent.close_codes) == {1008}, collections.Counter(silent.close_codes)
        eventually(lambda: not Station.objects.filter(identity__startswith=f"{prefix}-",
                                                      online=True).exclude(identity=identity).exists(),
                   timeout=60)
        assert "currentTime" in station.call("Heartbeat", {})
        assert not station.closed.is_set()
        station.close()
    finally:
        silent.stop()
        for connection in bare:
            connection.close()
