"""Simulated stations reconnect with backoff when dropped, and present their Basic-auth password."""

import pytest

from simulator.profile import Profile
from simulator.station import SimulatedStation
from simulator.threaded import BackgroundLoop
from tests.helpers import eventually

PASSWORD = "sim-password-0123456789"


@pytest.fixture
def simulator():
    loop = BackgroundLoop()
    yield loop
    loop.close()


def station_for(csms, identity, version="2.0.1", password=None):
    return SimulatedStation(
        f"{csms.ws_url}/ocpp",
        identity,
        version,
        password=password,
        profile=Profile(charging_share=0, reconnect_min=0.2, reconnect_max=1.0),
    )


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
def test_dropped_station_reconnects_and_takes_its_socket_back(csms, simulator, connect_station, identity, version):
    station = simulator.start(station_for(csms, identity, version))
    eventually(lambda: simulator.call(lambda: station.online.is_set()))
    # Another socket with the same identity replaces (drops) the simulator's: it comes back.
    intruder = connect_station(identity, version, boot=False)
    assert eventually(lambda: simulator.call(lambda: station.stats.counters["disconnects"]) >= 1)
    assert intruder.closed.wait(10)
    eventually(lambda: simulator.call(lambda: station.online.is_set()))
    # It reconnected without rebooting: one boot only, and the CSMS serves it.
    assert simulator.call(lambda: station.boot_count) == 1
    assert simulator.call(lambda: station.stats.counters["connects"]) >= 2


def test_station_with_a_password_is_admitted(csms, simulator, api, identity):
    created = api.post("/stations/", json={"identity": identity, "password": PASSWORD})
    assert created.status_code == 201, created.text
    station = simulator.start(station_for(csms, identity, password=PASSWORD))
    eventually(lambda: simulator.call(lambda: station.online.is_set()))


def test_wrong_password_is_refused_and_retried_with_backoff(csms, simulator, api, identity):
    api.post("/stations/", json={"identity": identity, "password": PASSWORD})
    station = simulator.start(station_for(csms, identity, password="not-the-password-at-all"))
    eventually(lambda: simulator.call(lambda: station.stats.counters["refused_http_401"]) >= 2)
    assert simulator.call(lambda: station.stats.counters["connects"]) == 0
