"""Simulated stations reconnect with backoff when dropped, and present their Basic-auth password."""

import pytest

from tests.helpers import eventually

PASSWORD = "sim-password-0123456789"


@pytest.fixture
def reconnecting_station(simulated_station):
    """A simulated station that retries soon after a drop or a refusal."""
    return lambda identity, version="2.0.1", password=None, online=True: simulated_station(
        identity, version, password=password, online=online, reconnect_min=0.2, reconnect_max=1.0
    )


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
def test_dropped_station_reconnects_and_takes_its_socket_back(
    simulator, reconnecting_station, connect_station, identity, version
):
    station = reconnecting_station(identity, version)
    # Another socket with the same identity replaces (drops) the simulator's: it comes back.
    intruder = connect_station(identity, version, boot=False)
    assert eventually(lambda: simulator.call(lambda: station.stats.counters["disconnects"]) >= 1)
    assert intruder.closed.wait(30)
    eventually(lambda: simulator.call(lambda: station.online.is_set()))
    # It reconnected without rebooting: one boot only, and the CSMS serves it.
    assert simulator.call(lambda: station.boot_count) == 1
    assert simulator.call(lambda: station.stats.counters["connects"]) >= 2


def test_station_with_a_password_is_admitted(reconnecting_station, api, identity):
    created = api.post("/stations/", json={"identity": identity, "password": PASSWORD})
    assert created.status_code == 201, created.text
    reconnecting_station(identity, password=PASSWORD)  # returns once it has booted


def test_wrong_password_is_refused_and_retried_with_backoff(simulator, reconnecting_station, api, identity):
    api.post("/stations/", json={"identity": identity, "password": PASSWORD})
    station = reconnecting_station(identity, password="not-the-password-at-all", online=False)
    eventually(lambda: simulator.call(lambda: station.stats.counters["refused_http_401"]) >= 2)
    assert simulator.call(lambda: station.stats.counters["connects"]) == 0
