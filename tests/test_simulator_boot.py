"""The simulator's stations boot, report their connectors and heartbeat at the interval set."""

import pytest

from csms.models import MessageLogEntry
from simulator.profile import Profile
from simulator.station import SimulatedStation
from simulator.threaded import BackgroundLoop
from stations.models import Connector, Station
from tests.helpers import eventually

VERSIONS = ["2.0.1", "1.6"]


@pytest.fixture
def simulator():
    loop = BackgroundLoop()
    yield loop
    loop.close()


def idle_station(csms, identity, version, **profile):
    return SimulatedStation(f"{csms.ws_url}/ocpp", identity, version, profile=Profile(charging_share=0, **profile))


@pytest.mark.parametrize("version", VERSIONS)
def test_simulated_station_boots_and_reports_its_connectors(csms, simulator, identity, version):
    station = simulator.start(idle_station(csms, identity, version, evses=2))
    row = eventually(
        lambda: Station.objects.filter(identity=identity, registration_status="Accepted", online=True).first()
    )
    assert (row.vendor_name, row.model, row.ocpp_version) == ("SimCharge", "SimCharge AC22", version)
    eventually(lambda: Connector.objects.filter(station=row, status="Available").count() == 2)
    # The heartbeat interval is the one the CSMS handed out at boot.
    assert simulator.call(lambda: station.heartbeat_interval) == 300
    assert simulator.call(lambda: dict(station.stats.errors)) == {}


@pytest.mark.parametrize("version", VERSIONS)
def test_heartbeats_follow_the_interval_the_csms_sets(csms, simulator, api, identity, version):
    station = simulator.start(idle_station(csms, identity, version))
    eventually(lambda: simulator.call(lambda: station.online.is_set()))
    if version == "2.0.1":
        command = {
            "action": "SetVariables",
            "payload": {
                "setVariableData": [
                    {
                        "component": {"name": "OCPPCommCtrlr"},
                        "variable": {"name": "HeartbeatInterval"},
                        "attributeValue": "1",
                    }
                ]
            },
        }
    else:
        command = {"action": "ChangeConfiguration", "payload": {"key": "HeartbeatInterval", "value": "1"}}
    answer = api.post(f"/stations/{identity}/commands/", json={**command, "wait": 5}).json()
    assert answer["status"] == "accepted", answer

    def heartbeats():
        return MessageLogEntry.objects.filter(
            identity=identity, action="Heartbeat", direction="in", message_type=2
        ).count()

    assert eventually(lambda: heartbeats() >= 2, timeout=5)
    assert simulator.call(lambda: station.stats.sent["Heartbeat"]) >= 2
