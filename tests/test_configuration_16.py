"""OCPP 1.6 configuration keys: GetConfiguration and ChangeConfiguration on the same inventory."""
import pytest

from csms.models import Command
from devicemodel.models import Report, VariableAttribute
from tests.devicemodel_helpers import calls_of

CONFIGURATION = {
    "HeartbeatInterval": ("300", False),
    "MeterValueSampleInterval": ("60", False),
    "NumberOfConnectors": ("2", True),
    "LocalAuthListEnabled": ("true", False),
    "VendorSpecificMode": ("eco", False),
    "GetConfigurationMaxKeys": ("2", True),
}


def answer_get_configuration(payload):
    keys = payload.get("key") or list(CONFIGURATION)
    return {
        "configurationKey": [{"key": key, "value": CONFIGURATION[key][0],
                              "readonly": CONFIGURATION[key][1]}
                             for key in keys if key in CONFIGURATION],
        "unknownKey": [key for key in keys if key not in CONFIGURATION],
    }


@pytest.fixture
def station(connect_station, identity):
    station = connect_station(identity, "1.6")
    station.answers["GetConfiguration"] = answer_get_configuration
    return station


def read_configuration(api, identity):
    response = api.post(f"/stations/{identity}/reports/",
                        json={"kind": "ConfigurationInventory", "wait": 20})
    assert response.status_code == 201, response.text
    return response.json()


def test_get_configuration_fills_the_inventory_like_a_report(station, identity, api):
    report = read_configuration(api, identity)
    assert (report["kind"], report["status"], report["items_stored"]) == ("Configuration", "done", 6)
    assert calls_of(station, "GetConfiguration")[0][2] == {}
    tree = api.get(f"/stations/{identity}/components/").json()
    assert tree["ocpp_version"] == "1.6"
    assert [c["name"] for c in tree["components"]] == ["ChargePointConfiguration"]
    variables = {v["name"]: v for v in tree["components"][0]["variables"]}
    assert set(variables) == set(CONFIGURATION)
    assert variables["HeartbeatInterval"]["attributes"][0]["mutability"] == "ReadWrite"
    assert variables["NumberOfConnectors"]["attributes"][0]["mutability"] == "ReadOnly"
    # Standard keys get their type (so values are checked); vendor keys stay untyped.
    assert variables["HeartbeatInterval"]["characteristics"]["dataType"] == "integer"
    assert variables["HeartbeatInterval"]["characteristics"]["unit"] == "s"
    assert variables["VendorSpecificMode"]["characteristics"] is None


def test_change_configuration_per_key_with_results(station, identity, api):
    read_configuration(api, identity)
    outcomes = {"HeartbeatInterval": "Accepted", "MeterValueSampleInterval": "RebootRequired",
                "VendorSpecificMode": "NotSupported"}
    station.answers["ChangeConfiguration"] = lambda payload: {"status": outcomes[payload["key"]]}
    response = api.post(f"/stations/{identity}/variables/set", json={"wait": 20, "items": [
        {"variable": {"name": "HeartbeatInterval"}, "attributeValue": "120"},
        {"variable": {"name": "MeterValueSampleInterval"}, "attributeValue": "30"},
        {"variable": {"name": "VendorSpecificMode"}, "attributeValue": "turbo"},
    ]})
    assert response.status_code == 201, response.text
    body = response.json()
    assert [i["status"] for i in body["items"]] == ["Accepted", "RebootRequired", "NotSupported"]
    assert body["reboot_required"]
    assert [call[2] for call in calls_of(station, "ChangeConfiguration")] == [
        {"key": "HeartbeatInterval", "value": "120"},
        {"key": "MeterValueSampleInterval", "value": "30"},
        {"key": "VendorSpecificMode", "value": "turbo"},
    ]
    values = dict(VariableAttribute.objects.filter(variable__station__identity=identity)
                  .values_list("variable__name", "value"))
    assert (values["HeartbeatInterval"], values["MeterValueSampleInterval"],
            values["VendorSpecificMode"]) == ("120", "30", "eco")


@pytest.mark.parametrize("key, value, reason", [
    ("NumberOfConnectors", "4", "read-only"),
    ("HeartbeatInterval", "often", "not an integer"),
    ("HeartbeatInterval", "-5", "below the minimum 0"),
    ("LocalAuthListEnabled", "on", "not true or false"),
    ("VendorSpecificMode", "x" * 501, "longer than 500"),
])
def test_bad_values_are_refused_before_sending(station, identity, api, key, value, reason):
    read_configuration(api, identity)
    response = api.post(f"/stations/{identity}/variables/set", json={"items": [
        {"variable": {"name": key}, "attributeValue": value}]})
    assert response.status_code == 400
    assert reason in response.json()["detail"]
    assert not Command.objects.filter(identity=identity, action="ChangeConfiguration").exists()


def test_get_variables_reads_keys_split_to_get_configuration_max_keys(station, identity, api):
    read_configuration(api, identity)  # GetConfigurationMaxKeys = 2
    calls_of(station, "GetConfiguration")
    response = api.post(f"/stations/{identity}/variables/get", json={"wait": 20, "items": [
        {"variable": {"name": "HeartbeatInterval"}}, {"variable": {"name": "NoSuchKey"}},
        {"variable": {"name": "NumberOfConnectors"}}]})
    assert response.status_code == 201, response.text
    assert [(i["status"], i["result_value"]) for i in response.json()["items"]] == [
        ("Accepted", "300"), ("UnknownVariable", None), ("Accepted", "2")]
    assert [call[2] for call in calls_of(station, "GetConfiguration")] == [
        {"key": ["HeartbeatInterval", "NoSuchKey"]}, {"key": ["NumberOfConnectors"]}]


def test_monitoring_is_refused_on_1_6(station, identity, api):
    response = api.post(f"/stations/{identity}/monitors/", json={"monitors": [
        {"component": {"name": "X"}, "variable": {"name": "Y"}, "type": "Delta", "value": 1,
         "severity": 1}]})
    assert response.status_code == 400 and "2.0.1" in response.json()["detail"]
    assert not Report.objects.filter(station__identity=identity).exists()
