"""Admission control: while OCPP_MAX_ADMISSIONS stations are being admitted (upgrade, session
opened) or are having their first frame handled, the server accepts no new connection; the next
one waits in the listen backlog and is served as soon as a place is free. A socket that says
nothing holds no place."""
import threading
import time

import pytest

from tests.conftest import ServerProcess
from tests.data_transfer_vendors import VENDOR_ID
from tests.helpers import eventually
from tests.station import StationClient


@pytest.fixture(scope="module")
def one_at_a_time(csms):
    server = ServerProcess("server-one-admission", {
        "OCPP_MAX_ADMISSIONS": "1", "OCPP_DATA_TRANSFER_MODULES": "tests.data_transfer_vendors",
    }).start()
    yield server
    server.stop()


def in_background(function):
    done = {}

    def run():
        done["result"] = function()
        done["at"] = time.monotonic()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, done


def test_next_station_waits_while_the_first_call_is_handled(one_at_a_time, identity):
    with StationClient(one_at_a_time.ws_url, identity) as station:
        assert station.boot()["status"] == "Accepted"
    # Reconnected without booting (allowed once Accepted); its first frame takes 3 s to handle.
    first = StationClient(one_at_a_time.ws_url, identity)
    _, answered = in_background(lambda: first.call(
        "DataTransfer", {"vendorId": VENDOR_ID, "messageId": "Pause", "data": "3"}))
    time.sleep(0.5)  # the frame is in; now the next station knocks
    thread, opened = in_background(lambda: StationClient(one_at_a_time.ws_url, f"{identity}-b"))
    try:
        thread.join(15)
        assert answered["result"] == {"status": "Accepted"}
        assert opened["at"] >= answered["at"]  # held in the backlog, not refused, served next
        assert opened["result"].boot()["status"] == "Accepted"
    finally:
        first.close()
        if "result" in opened:
            opened["result"].close()


def test_silent_socket_holds_no_place(one_at_a_time, identity):
    silent = StationClient(one_at_a_time.ws_url, identity)  # upgraded, says nothing
    thread, opened = in_background(lambda: StationClient(one_at_a_time.ws_url, f"{identity}-b"))
    try:
        eventually(lambda: "result" in opened, timeout=5)
        assert opened["result"].boot()["status"] == "Accepted"
        assert silent.boot()["status"] == "Accepted"  # and the silent one is served when it speaks
    finally:
        silent.close()
        thread.join(10)
        if "result" in opened:
            opened["result"].close()
