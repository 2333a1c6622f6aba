"""Admission control: while OCPP_MAX_ADMISSIONS stations are connecting (upgrade to first
answered call), the server accepts no new connection; the next one waits in the listen backlog
and is served as soon as a place is free."""
import threading
import time

import pytest

from tests.conftest import ServerProcess
from tests.station import StationClient


@pytest.fixture(scope="module")
def one_at_a_time(csms):
    server = ServerProcess("server-one-admission", {"OCPP_MAX_ADMISSIONS": "1"}).start()
    yield server
    server.stop()


def connect_in_background(url, identity):
    opened = {}

    def run():
        opened["client"] = StationClient(url, identity)
        opened["at"] = time.monotonic()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, opened


def test_next_station_waits_until_the_first_one_booted(one_at_a_time, identity):
    first = StationClient(one_at_a_time.ws_url, identity)  # upgraded, not booted yet
    thread, opened = connect_in_background(one_at_a_time.ws_url, f"{identity}-b")
    try:
        time.sleep(1.5)
        assert "client" not in opened  # held in the backlog, not refused, not served
        booted_at = time.monotonic()
        assert first.boot()["status"] == "Accepted"  # its first answered call frees the place
        thread.join(10)
        assert opened["at"] >= booted_at
        assert opened["client"].boot()["status"] == "Accepted"
    finally:
        first.close()
        if "client" in opened:
            opened["client"].close()


def test_a_disconnect_frees_the_place(one_at_a_time, identity):
    first = StationClient(one_at_a_time.ws_url, identity)
    thread, opened = connect_in_background(one_at_a_time.ws_url, f"{identity}-b")
    time.sleep(1)
    assert "client" not in opened
    first.close()
    thread.join(10)
    assert "client" in opened
    opened["client"].close()
