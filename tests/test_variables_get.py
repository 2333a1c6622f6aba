"""GetVariables: per-item results stored, and requests split to the station's message limits."""
import json

from devicemodel.models import VariableAttribute
from tests.devicemodel_helpers import calls_of, report_item, seed_inventory

VALUES = {"HeartbeatInterval": "300", "MessageTimeout": "30", "FileTransferProtocols": "HTTPS",
          "NetworkProfileConnectionAttempts": "3", "OfflineThreshold": "60"}


def answer_get(payload):
    return {"getVariableResult": [
        {"attributeStatus": "Accepted", "attributeValue": VALUES[item["variable"]["name"]],
         "component": item["component"], "variable": item["variable"]}
        if item["variable"]["name"] in VALUES else
        {"attributeStatus": "UnknownVariable", "component": item["component"],
         "variable": item["variable"]}
        for item in payload["getVariableData"]]}


def items(*names):
    return [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": name}} for name in names]


def test_results_are_stored_per_item_and_update_the_inventory(connect_station, identity, api):
    station = connect_station(identity)
    station.answers["GetVariables"] = answer_get
    response = api.post(f"/stations/{identity}/variables/get",
                        json={"wait": 20, "items": items("HeartbeatInterval", "NoSuchThing")})
    assert response.status_code == 201, response.text
    results = response.json()["items"]
    assert [(r["status"], r["result_value"]) for r in results] == [
        ("Accepted", "300"), ("UnknownVariable", None)]
    stored = VariableAttribute.objects.get(variable__station__identity=identity,
                                           variable__name="HeartbeatInterval")
    assert (stored.value, stored.source) == ("300", "GetVariables:api:operator")


def get_all_with_limits(api, station, **limits):
    """Ask for every value of VALUES from a station reporting these per-message `limits`
    (ItemsPerMessage=..., BytesPerMessage=...); the API's answer and the GetVariables sent."""
    seed_inventory(api, station, [
        report_item("DeviceDataCtrlr", name, str(value), mutability="ReadOnly",
                    variable_instance="GetVariables")
        for name, value in limits.items()])
    station.answers["GetVariables"] = answer_get
    response = api.post(f"/stations/{station.identity}/variables/get",
                        json={"wait": 20, "items": items(*VALUES)})
    assert response.status_code == 201, response.text
    return response, calls_of(station, "GetVariables")


def test_a_large_request_is_split_to_items_per_message(connect_station, identity, api):
    response, sent = get_all_with_limits(api, connect_station(identity), ItemsPerMessage=2,
                                         BytesPerMessage=4000)
    assert [len(call[2]["getVariableData"]) for call in sent] == [2, 2, 1]
    assert [r["result_value"] for r in response.json()["items"]] == list(VALUES.values())
    assert len({r["command"] for r in response.json()["items"]}) == 3


def test_a_large_request_is_split_to_bytes_per_message(connect_station, identity, api):
    response, sent = get_all_with_limits(api, connect_station(identity), BytesPerMessage=260)
    assert len(sent) > 1
    assert sum(len(call[2]["getVariableData"]) for call in sent) == len(VALUES)
    for call in sent:
        frame = f'[2,"{"x" * 36}","GetVariables",' + json.dumps(call[2], separators=(",", ":")) + "]"
        assert len(frame.encode()) <= 260
