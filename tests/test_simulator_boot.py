"""The simulator's stations boot, report their connectors and heartbeat at the interval set."""

import pytest

from csms.models import MessageLogEntry
from stations.models import Connector, Station
from tests.helpers import eventually, send_command

VERSIONS = ["2.0.1", "1.6"]


@pytest.mark.parametrize("version", VERSIONS)
def test_simulated_station_boots_and_reports_its_connectors(simulator, simulated_station, identity, version):
    station = simulated_station(identity, version, online=False, evses=2)
    row = eventually(
        lambda: Station.objects.filter(identity=identity, registration_status="Accepted", online=True).first()
    )
    assert (row.vendor_name, row.model, row.ocpp_version) == ("SimCharge", "SimCharge AC22", version)
    eventually(lambda: Connector.objects.filter(station=row, status="Available").count() == 2)
    # The heartbeat interval is the one the CSMS handed out at boot.
    assert simulator.call(lambda: station.heartbeat_interval) == 300
    assert simulator.call(lambda: dict(station.stats.errors)) == {}


@pytest.mark.parametrize("version", VERSIONS)
def test_heartbeats_follow_the_interval_the_csms_sets(simulator, simulated_station, api, identity, version):
    station = simulated_station(identity, version)
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
    answer = send_command(api, identity, **command).json()
    assert answer["status"] == "accepted", answer

    def heartbeats():
        return MessageLogEntry.objects.filter(
            identity=identity, action="Heartbeat", direction="in", message_type=2
        ).count()

    assert eventually(lambda: heartbeats() >= 2)
    assert simulator.call(lambda: station.stats.sent["Heartbeat"]) >= 2
