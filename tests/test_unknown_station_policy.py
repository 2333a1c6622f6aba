"""OCPP_UNKNOWN_STATION_POLICY: accept and register, register as Pending, or refuse the upgrade."""
import pytest
from websockets.exceptions import InvalidStatus

from stations.models import Station
from tests.conftest import ServerProcess
from tests.station import StationClient


@pytest.fixture(scope="module")
def servers(csms):
    started = {policy: ServerProcess(f"server-policy-{policy}", {"OCPP_UNKNOWN_STATION_POLICY": policy}).start()
               for policy in ("pending", "reject")}
    yield started
    for server in started.values():
        server.stop()


def test_accept_policy_registers_and_accepts(connect_station, identity):
    connect_station(identity)  # the session server runs with the default policy: accept
    assert Station.objects.get(identity=identity).registration_policy == "Accepted"


def test_pending_policy_registers_as_pending(servers, identity):
    station = StationClient(servers["pending"].ws_url, identity)
    try:
        assert station.boot()["status"] == "Pending"
        assert Station.objects.get(identity=identity).registration_status == "Pending"
    finally:
        station.close()


def test_reject_policy_refuses_unknown_but_serves_registered(servers, identity):
    with pytest.raises(InvalidStatus) as refused:
        StationClient(servers["reject"].ws_url, identity)
    assert refused.value.response.status_code == 404
    assert not Station.objects.filter(identity=identity).exists()
    Station.objects.create(identity=identity)
    station = StationClient(servers["reject"].ws_url, identity)
    try:
        assert station.boot()["status"] == "Accepted"
    finally:
        station.close()
