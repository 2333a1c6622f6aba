"""A value outside what the station declared is refused before anything is sent."""
import pytest

from csms.models import Command
from tests.devicemodel_helpers import calls_of, report_item, seed_inventory

MAX_SET = {"type": "MaxSet", "value": "32", "mutability": "ReadOnly"}


@pytest.fixture
def station(connect_station, identity, api):
    station = connect_station(identity)
    seed_inventory(api, station, [
        report_item("OCPPCommCtrlr", "HeartbeatInterval", "300", unit="s", min_limit=1,
                    max_limit=3600),
        report_item("SmartChargingCtrlr", "LimitChangeSignificance", "0.1", "decimal",
                    min_limit=0, max_limit=1),
        report_item("AuthCtrlr", "Enabled", "true", "boolean"),
        report_item("OCPPCommCtrlr", "FileTransferProtocols", "HTTPS", "MemberList",
                    values_list="FTP,FTPS,HTTP,HTTPS,SFTP"),
        report_item("TxCtrlr", "TxStartPoint", "PowerPathClosed", "OptionList",
                    values_list="ParkingBayOccupancy,EVConnected,Authorized,PowerPathClosed"),
        report_item("SecurityCtrlr", "Identity", "CS-1", "string", mutability="ReadOnly"),
        report_item("SecurityCtrlr", "OrganizationName", "Org", "string", max_limit=8),
        report_item("EVSE", "CurrentLimit", "16", "decimal", evse_id=1, unit="A", max_limit=63,
                    extra_attributes=[MAX_SET]),
    ])
    calls_of(station, "GetBaseReport")
    station.answers["SetVariables"] = lambda payload: {"setVariableResult": [
        {"attributeStatus": "Accepted", "component": item["component"], "variable": item["variable"]}
        for item in payload["setVariableData"]]}
    return station


def set_one(api, identity, component, variable, value, **extra):
    return api.post(f"/stations/{identity}/variables/set", json={"wait": 20, "items": [
        {"component": component, "variable": {"name": variable}, "attributeValue": value, **extra}]})


@pytest.mark.parametrize("component, variable, value, reason", [
    ({"name": "OCPPCommCtrlr"}, "HeartbeatInterval", "7200", "above the maximum 3600"),
    ({"name": "OCPPCommCtrlr"}, "HeartbeatInterval", "0", "below the minimum 1"),
    ({"name": "OCPPCommCtrlr"}, "HeartbeatInterval", "fast", "not an integer"),
    ({"name": "SmartChargingCtrlr"}, "LimitChangeSignificance", "1.5", "above the maximum 1"),
    ({"name": "AuthCtrlr"}, "Enabled", "yes", "not true or false"),
    ({"name": "OCPPCommCtrlr"}, "FileTransferProtocols", "HTTPS,SCP", "SCP not in the allowed"),
    ({"name": "TxCtrlr"}, "TxStartPoint", "Authorized,EVConnected", "exactly one"),
    ({"name": "SecurityCtrlr"}, "Identity", "CS-2", "read-only"),
    ({"name": "SecurityCtrlr"}, "OrganizationName", "A much longer name", "longer than 8"),
    # MaxSet (32) is tighter than the physical maxLimit (63).
    ({"name": "EVSE", "evse": {"id": 1}}, "CurrentLimit", "40", "above the maximum 32"),
])
def test_out_of_bounds_values_are_refused_before_sending(station, identity, api, component,
                                                         variable, value, reason):
    response = set_one(api, identity, component, variable, value)
    assert response.status_code == 400, response.text
    assert reason in response.json()["detail"], response.json()
    assert variable in response.json()["detail"]
    assert not Command.objects.filter(identity=identity, action="SetVariables").exists()
    assert calls_of(station, "SetVariables") == []


def test_values_within_bounds_are_sent(station, identity, api):
    response = api.post(f"/stations/{identity}/variables/set", json={"wait": 20, "items": [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
         "attributeValue": "3600"},
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "FileTransferProtocols"},
         "attributeValue": "HTTPS,SFTP"},
        {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "CurrentLimit"},
         "attributeValue": "32"},
        {"component": {"name": "AuthCtrlr"}, "variable": {"name": "Enabled"},
         "attributeValue": "false"},
    ]})
    assert response.status_code == 201, response.text
    assert [item["status"] for item in response.json()["items"]] == ["Accepted"] * 4


def test_one_bad_item_stops_the_whole_request_and_every_reason_is_listed(station, identity, api):
    response = api.post(f"/stations/{identity}/variables/set", json={"items": [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
         "attributeValue": "60"},
        {"component": {"name": "AuthCtrlr"}, "variable": {"name": "Enabled"},
         "attributeValue": "maybe"},
        {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "Identity"},
         "attributeValue": "X"},
    ]})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [error.split(" ")[1] for error in errors] == ["1", "2"]
    assert not Command.objects.filter(identity=identity, action="SetVariables").exists()


@pytest.mark.parametrize("body, field", [
    ({"items": []}, "items"),
    ({"items": [{"variable": {"name": "X"}, "attributeValue": "1"}]}, "component"),
    ({"items": [{"component": {"name": "C"}, "variable": {"name": "X"}}]}, "attributeValue"),
    ({"items": [{"component": {"name": "C" * 51}, "variable": {"name": "X"},
                 "attributeValue": "1"}]}, "name"),
    ({"items": [{"component": {"name": "C"}, "variable": {"name": "X"}, "attributeValue": "1",
                 "attributeType": "Middle"}]}, "attributeType"),
])
def test_malformed_requests_get_a_message(station, identity, api, body, field):
    response = api.post(f"/stations/{identity}/variables/set", json=body)
    assert response.status_code == 400
    assert field in response.json()["detail"]
