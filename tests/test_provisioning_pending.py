"""Boot-time provisioning: configure a Pending station, then accept it; never delay a boot answer."""
import uuid

import pytest

from devicemodel.models import ProvisioningPolicy, ProvisioningRun, VariableAttribute
from stations.models import Station
from tests.helpers import eventually

HEARTBEAT = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
             "attributeValue": "60"}
SAMPLED = {"component": {"name": "SampledDataCtrlr"}, "variable": {"name": "TxUpdatedInterval"},
           "attributeValue": "30"}
READ = {"component": {"name": "DeviceDataCtrlr"}, "variable": {"name": "ItemsPerMessage",
                                                               "instance": "SetVariables"}}


@pytest.fixture
def model():
    """A model name of its own, so the test's policy provisions only the test's stations."""
    name = f"Prov-{uuid.uuid4().hex[:8]}"
    yield name
    ProvisioningPolicy.objects.filter(model=name).delete()


def boot_as(station, model):
    return station.boot(chargingStation={"model": model, "vendorName": "ProvVendor"},
                        reason="PowerUp")


def set_results(status_by_name):
    return lambda payload: {"setVariableResult": [
        {"attributeStatus": status_by_name.get(item["variable"]["name"], "Accepted"),
         "component": item["component"], "variable": item["variable"]}
        for item in payload["setVariableData"]]}


class CallLog:
    """Every call the CSMS sent the station, collected while waiting for one."""

    def __init__(self, station):
        self.station, self.calls = station, []

    def wait_for(self, action, timeout=10):
        def seen():
            while not self.station.received_calls.empty():
                self.calls.append(self.station.received_calls.get_nowait())
            return [call for call in self.calls if call[1] == action]
        return eventually(seen, timeout)[-1]

    def actions(self):
        return [call[1] for call in self.calls]


def test_pending_station_is_configured_then_accepted(connect_station, identity, model, api):
    ProvisioningPolicy.objects.create(
        name=f"policy-{model}", model=model, apply_on="pending_boot", accept_pending=True,
        set_variables=[HEARTBEAT, SAMPLED], get_variables=[READ], initial_report="FullInventory")
    Station.objects.create(identity=identity, registration_policy="Pending")
    station = connect_station(identity, boot=False)
    station.answers["SetVariables"] = set_results({})
    station.answers["GetVariables"] = lambda payload: {"getVariableResult": [
        {"attributeStatus": "Accepted", "attributeValue": "25", **READ}]}
    station.answers["GetBaseReport"] = {"status": "Accepted"}
    calls = CallLog(station)

    assert boot_as(station, model)["status"] == "Pending"
    _, _, settings_sent = calls.wait_for("SetVariables")
    assert settings_sent["setVariableData"] == [HEARTBEAT, SAMPLED]
    _, _, trigger = calls.wait_for("TriggerMessage")
    assert trigger == {"requestedMessage": "BootNotification"}
    # The read and the sets came first; the report waits until the station is Accepted.
    assert calls.actions() == ["GetVariables", "SetVariables", "TriggerMessage"]
    assert Station.objects.get(identity=identity).registration_policy == "Accepted"

    assert boot_as(station, model)["status"] == "Accepted"
    _, _, report = calls.wait_for("GetBaseReport")
    assert report["reportBase"] == "FullInventory"
    assert calls.actions().count("SetVariables") == 1  # the asked-for boot is not provisioned again
    runs = eventually(lambda: list(ProvisioningRun.objects.filter(
        station__identity=identity, finished_at__isnull=False).order_by("id")) or None)
    first = runs[0]
    assert (first.boot_status, first.status, first.accepted_station) == ("Pending", "done", True)
    assert VariableAttribute.objects.get(variable__station__identity=identity,
                                         variable__name="HeartbeatInterval").value == "60"
    assert VariableAttribute.objects.get(variable__station__identity=identity,
                                         variable__name="ItemsPerMessage").value == "25"
    listed = api.get("/provisioning-runs/", params={"station__identity": identity}).json()
    assert {run["boot_status"] for run in listed["results"]} == {"Pending", "Accepted"}


def test_a_refused_setting_leaves_the_station_pending(connect_station, identity, model):
    ProvisioningPolicy.objects.create(
        name=f"policy-{model}", model=model, apply_on="pending_boot", accept_pending=True,
        set_variables=[HEARTBEAT, SAMPLED])
    Station.objects.create(identity=identity, registration_policy="Pending")
    station = connect_station(identity, boot=False)
    station.answers["SetVariables"] = set_results({"TxUpdatedInterval": "Rejected"})
    assert boot_as(station, model)["status"] == "Pending"
    run = eventually(lambda: ProvisioningRun.objects.filter(
        station__identity=identity, finished_at__isnull=False).first())
    assert (run.status, run.accepted_station) == ("failed", False)
    assert "left Pending" in run.log[-1]
    assert Station.objects.get(identity=identity).registration_policy == "Pending"


def test_provisioning_never_delays_the_boot_answer(connect_station, identity, model):
    ProvisioningPolicy.objects.create(name=f"policy-{model}", model=model,
                                      set_variables=[HEARTBEAT])
    station = connect_station(identity, boot=False, auto_answer=False)
    assert boot_as(station, model)["status"] == "Accepted"
    # The station never answers the SetVariables, so the run can only end by the call's timeout:
    # a boot answer that waited for the run would come after the run had finished.
    assert not ProvisioningRun.objects.filter(station__identity=identity, finished_at__isnull=False).exists()
    _, action, _ = station.next_call()
    assert action == "SetVariables"
    run = eventually(lambda: ProvisioningRun.objects.filter(
        station__identity=identity, finished_at__isnull=False).first())
    assert run.status == "failed" and "timeout" in run.log[0]


def test_policies_are_managed_over_the_api(api, model):
    created = api.post("/provisioning-policies/", json={
        "name": f"policy-{model}", "model": model, "ocpp_version": "1.6",
        "set_variables": [{"variable": {"name": "HeartbeatInterval"}, "attributeValue": "60"}]})
    assert created.status_code == 201, created.text
    broken = api.post("/provisioning-policies/", json={
        "name": f"broken-{model}", "model": model,
        "set_variables": [{"variable": {"name": "HeartbeatInterval"}}]})
    assert broken.status_code == 400 and "attributeValue" in broken.json()["detail"]
