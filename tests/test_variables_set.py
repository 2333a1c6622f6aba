"""SetVariables: per-item results stored, RebootRequired shown, values and history updated."""
from devicemodel.models import VariableAttribute, VariableValueChange
from tests.devicemodel_helpers import calls_of, report_item, seed_inventory
from tests.helpers import eventually


def attribute(identity, component, variable):
    return VariableAttribute.objects.get(
        variable__station__identity=identity, variable__component__name=component,
        variable__name=variable, type="Actual")


def test_mixed_per_item_results_are_stored(connect_station, identity, api):
    station = connect_station(identity)
    seed_inventory(api, station, [
        report_item("OCPPCommCtrlr", "HeartbeatInterval", "300", unit="s", min_limit=1),
        report_item("SampledDataCtrlr", "TxUpdatedInterval", "60", unit="s"),
        report_item("SecurityCtrlr", "OrganizationName", "Old Org", "string"),
    ])
    outcomes = {"HeartbeatInterval": "Accepted", "TxUpdatedInterval": "Rejected",
                "OrganizationName": "RebootRequired", "Unheard": "UnknownVariable"}

    def answer(payload):
        return {"setVariableResult": [
            {"attributeStatus": outcomes[item["variable"]["name"]], "component": item["component"],
             "variable": item["variable"],
             **({"attributeStatusInfo": {"reasonCode": "OutOfRange"}}
                if outcomes[item["variable"]["name"]] == "Rejected" else {})}
            for item in reversed(payload["setVariableData"])  # any order
        ]}

    station.answers["SetVariables"] = answer
    items = [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
         "attributeValue": "120"},
        {"component": {"name": "SampledDataCtrlr"}, "variable": {"name": "TxUpdatedInterval"},
         "attributeValue": "30"},
        {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "OrganizationName"},
         "attributeValue": "New Org"},
        {"component": {"name": "Vendor"}, "variable": {"name": "Unheard"}, "attributeValue": "1"},
    ]
    response = api.post(f"/stations/{identity}/variables/set", json={"items": items, "wait": 20})
    assert response.status_code == 201, response.text
    body = response.json()
    assert [item["status"] for item in body["items"]] == [
        "Accepted", "Rejected", "RebootRequired", "UnknownVariable"]
    assert body["items"][1]["statusInfo"] == {"reasonCode": "OutOfRange"}
    assert body["complete"] and body["reboot_required"]
    sent = calls_of(station, "SetVariables")
    assert len(sent) == 1 and len(sent[0][2]["setVariableData"]) == 4

    # Accepted and RebootRequired values are the station's now; the rejected one is not.
    heartbeat = attribute(identity, "OCPPCommCtrlr", "HeartbeatInterval")
    assert (heartbeat.value, heartbeat.reboot_required) == ("120", False)
    assert attribute(identity, "SampledDataCtrlr", "TxUpdatedInterval").value == "60"
    organization = attribute(identity, "SecurityCtrlr", "OrganizationName")
    assert (organization.value, organization.reboot_required) == ("New Org", True)
    change = VariableValueChange.objects.get(attribute=heartbeat)
    assert (change.old_value, change.new_value, change.source) == (
        "300", "120", "SetVariables:api:operator")
    history = api.get(f"/stations/{identity}/variables/changes/",
                      params={"variable": "HeartbeatInterval"}).json()["results"]
    assert [(h["old_value"], h["new_value"]) for h in history] == [("300", "120")]

    # The request can be read back later with the same results.
    again = api.get(body["url"]).json()
    assert [item["status"] for item in again["items"]] == [item["status"] for item in body["items"]]
    tree = api.get(f"/stations/{identity}/components/", params={"component": "SecurityCtrlr"}).json()
    assert tree["components"][0]["variables"][0]["attributes"][0]["reboot_required"] is True

    # The station reboots: the value is in effect, nothing waits for a reboot any more.
    station.boot()
    organization.refresh_from_db()
    assert organization.reboot_required is False


def test_results_of_a_request_nobody_waited_for_are_stored(connect_station, identity, api):
    station = connect_station(identity, auto_answer=False)
    response = api.post(f"/stations/{identity}/variables/set", json={"items": [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
         "attributeValue": "90"}]})
    assert response.status_code == 202
    assert response.headers["Location"] == response.json()["url"]
    message_id, action, _ = station.next_call()
    assert action == "SetVariables"
    station.reply(message_id, {"setVariableResult": [{
        "attributeStatus": "Accepted", "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "HeartbeatInterval"}}]})
    def completed():
        body = api.get(response.json()["url"]).json()
        return body if body["complete"] else None

    followed = eventually(completed)
    assert followed["items"][0]["status"] == "Accepted"
    assert attribute(identity, "OCPPCommCtrlr", "HeartbeatInterval").value == "90"


def test_a_station_that_does_not_answer_leaves_a_timeout_per_item(connect_station, identity, api):
    connect_station(identity, auto_answer=False)
    response = api.post(f"/stations/{identity}/variables/set", json={"wait": 20, "items": [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
         "attributeValue": "90"}]})
    assert response.status_code == 201
    assert response.json()["items"][0]["status"] == "timeout"
