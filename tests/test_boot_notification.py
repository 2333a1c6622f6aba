"""BootNotification, Heartbeat and the boot gate, for both OCPP versions."""
import pytest

from stations.models import Station
from tests.station import CallFailed

VERSIONS = ["2.0.1", "1.6"]


@pytest.mark.parametrize("version", VERSIONS)
def test_boot_accepted_stores_what_the_station_says(connect_station, identity, version):
    station = connect_station(identity, version, boot=False)
    answer = station.boot()
    assert answer["status"] == "Accepted"
    assert answer["interval"] == 300
    assert answer["currentTime"].endswith("Z")
    row = Station.objects.get(identity=identity)
    assert (row.vendor_name, row.model, row.serial_number, row.firmware_version) == (
        "TestVendor", "TestModel", "SN-1", "1.0")
    assert row.registration_status == "Accepted"
    assert row.online and row.ocpp_version == version


@pytest.mark.parametrize("version", VERSIONS)
def test_pending_station_may_only_boot(connect_station, identity, version):
    Station.objects.create(identity=identity, registration_policy="Pending")
    station = connect_station(identity, version, boot=False)
    answer = station.boot()
    assert answer == {"currentTime": answer["currentTime"], "interval": 60, "status": "Pending"}
    with pytest.raises(CallFailed) as refused:
        station.call("Heartbeat", {})
    assert refused.value.code == "SecurityError"
    # The operator accepts it: the next boot is Accepted and everything is served.
    Station.objects.filter(identity=identity).update(registration_policy="Accepted")
    assert station.boot()["status"] == "Accepted"
    assert "currentTime" in station.call("Heartbeat", {})


@pytest.mark.parametrize("version", VERSIONS)
def test_rejected_station_gets_rejected_and_nothing_else(connect_station, identity, version, api):
    Station.objects.create(identity=identity, registration_policy="Rejected")
    station = connect_station(identity, version, boot=False)
    assert station.boot()["status"] == "Rejected"
    with pytest.raises(CallFailed) as refused:
        station.status("Available")
    assert refused.value.code == "SecurityError"
    command = api.post(f"/stations/{identity}/reset/", json={"wait": 20}).json()
    assert command["status"] == "error" and command["error_code"] == "NotSent"
    assert station.received_calls.empty()


@pytest.mark.parametrize("version", VERSIONS)
def test_heartbeat_before_boot_is_refused(connect_station, identity, version):
    station = connect_station(identity, version, boot=False)
    with pytest.raises(CallFailed) as refused:
        station.call("Heartbeat", {})
    assert refused.value.code == "SecurityError"


@pytest.mark.parametrize("version", VERSIONS)
def test_accepted_station_reconnecting_without_reboot_is_served(connect_station, identity, version):
    connect_station(identity, version).close()
    again = connect_station(identity, version, boot=False)
    assert "currentTime" in again.call("Heartbeat", {})


def test_pending_station_may_send_the_reports_asked_of_it(connect_station, identity):
    Station.objects.create(identity=identity, registration_policy="Pending")
    station = connect_station(identity, "2.0.1", boot=False)
    assert station.boot()["status"] == "Pending"
    report = {"requestId": 1, "generatedAt": "2026-01-01T00:00:00Z", "seqNo": 0, "tbc": False}
    assert station.call("NotifyReport", report) == {}
    with pytest.raises(CallFailed) as refused:
        station.status("Available")
    assert refused.value.code == "SecurityError"
