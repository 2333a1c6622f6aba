"""Dashboard: the device model browser (3-tier tree, edits validated before sending), the
station page's panel and the network-wide alerts view."""
import re

from csms.models import Command
from devicemodel.models import Variable
from tests.devicemodel_helpers import calls_of, report_item, seed_inventory


INVENTORY = [
    report_item("OCPPCommCtrlr", "HeartbeatInterval", "300", unit="s", min_limit=1, max_limit=3600),
    report_item("TxCtrlr", "TxStartPoint", "Authorized", "OptionList",
                values_list="EVConnected,Authorized,PowerPathClosed"),
    report_item("EVSE", "Power", "22000", "decimal", evse_id=1, unit="W", mutability="ReadOnly"),
    report_item("Connector", "ConnectorType", "cType2", "string", evse_id=1, connector_id=1,
                mutability="ReadOnly"),
    report_item("TemperatureSensor", "Temperature", "21", "decimal", mutability="ReadOnly"),
]


def seeded_station(connect_station, identity, api):
    station = connect_station(identity)
    seed_inventory(api, station, INVENTORY)
    station.answers["SetVariables"] = lambda payload: {"setVariableResult": [
        {"attributeStatus": "Accepted", "component": item["component"], "variable": item["variable"]}
        for item in payload["setVariableData"]]}
    return station


def variable_pk(identity, name):
    return Variable.objects.get(station__identity=identity, name=name).pk


def test_browser_shows_the_three_tiers_with_limits(connect_station, identity, api, dashboard):
    seeded_station(connect_station, identity, api)
    page = dashboard.get(f"/stations/{identity}/device-model/")
    assert page.status_code == 200
    html = page.text
    for tier in ('data-tier="station"', 'data-tier="evse-1"', 'data-tier="connector-1-1"'):
        assert tier in html
    # Editable where mutable, with the station's limits on the input; read-only values are not.
    heartbeat_row = re.search(r'<tr data-variable="HeartbeatInterval">.*?</tr>', html, re.DOTALL).group(0)
    assert 'type="number"' in heartbeat_row and 'min="1"' in heartbeat_row
    assert 'max="3600"' in heartbeat_row and "300 s" in heartbeat_row
    start_point = re.search(r'<tr data-variable="TxStartPoint">.*?</tr>', html, re.DOTALL).group(0)
    assert "<option selected>Authorized</option>" in start_point
    power = re.search(r'<tr data-variable="Power">.*?</tr>', html, re.DOTALL).group(0)
    assert 'value="set"' not in power and "22000 W" in power
    filtered = dashboard.get(f"/stations/{identity}/device-model/", params={"tier": "connector"})
    assert "ConnectorType" in filtered.text and "HeartbeatInterval" not in filtered.text


def test_edits_are_validated_then_sent(connect_station, identity, api, dashboard):
    station = seeded_station(connect_station, identity, api)
    page_path = f"/stations/{identity}/device-model/"
    refused = dashboard.submit(page_path, {"action": "set", "attribute_type": "Actual",
                                           "variable": variable_pk(identity, "HeartbeatInterval"),
                                           "value": "99999"})
    assert "Not sent" in refused.text and "above the maximum 3600" in refused.text
    assert not Command.objects.filter(identity=identity, action="SetVariables").exists()

    accepted = dashboard.submit(page_path, {"action": "set", "attribute_type": "Actual",
                                            "variable": variable_pk(identity, "HeartbeatInterval"),
                                            "value": "600"})
    assert "SetVariables OCPPCommCtrlr.HeartbeatInterval: Accepted" in accepted.text
    assert calls_of(station, "SetVariables")[0][2]["setVariableData"][0]["attributeValue"] == "600"
    assert "600 s" in accepted.text


def test_a_report_is_requested_from_the_page(connect_station, identity, api, dashboard):
    station = seeded_station(connect_station, identity, api)
    answer = dashboard.submit(f"/stations/{identity}/device-model/",
                              {"action": "report", "kind": "ConfigurationInventory"})
    assert "report #" in answer.text and "accepted" in answer.text
    assert calls_of(station, "GetBaseReport")[-1][2]["reportBase"] == "ConfigurationInventory"


def test_station_page_panel_and_alerts_view(connect_station, identity, api, dashboard):
    station = seeded_station(connect_station, identity, api)
    station.call("NotifyEvent", {"generatedAt": "2026-01-01T10:00:00Z", "seqNo": 0, "eventData": [{
        "eventId": 1, "timestamp": "2026-01-01T10:00:00Z", "trigger": "Alerting",
        "actualValue": "81", "eventNotificationType": "HardWiredMonitor", "techCode": "OVERTEMP",
        "component": {"name": "TemperatureSensor"}, "variable": {"name": "Temperature"}}]})
    panel = dashboard.get(f"/stations/{identity}/").text
    assert 'id="device-model-card"' in panel
    assert re.search(r'id="dm-variable-count">5 variables', panel)
    assert re.search(r'id="dm-alert-count">1<', panel)

    alerts = dashboard.get("/alerts/", params={"station": identity}).text
    row = re.search(rf'<tr data-station="{identity}" data-event="1">.*?</tr>', alerts, re.DOTALL)
    assert row and "OVERTEMP" in row.group(0) and "81" in row.group(0)

    station.call("NotifyEvent", {"generatedAt": "2026-01-01T10:10:00Z", "seqNo": 1, "eventData": [{
        "eventId": 2, "timestamp": "2026-01-01T10:10:00Z", "trigger": "Alerting", "cleared": True,
        "actualValue": "40", "eventNotificationType": "HardWiredMonitor",
        "component": {"name": "TemperatureSensor"}, "variable": {"name": "Temperature"}}]})
    after = dashboard.get("/alerts/", params={"station": identity}).text
    active = after.split('id="cleared-alerts"')[0]
    assert f'data-station="{identity}"' not in active
    assert f'data-station="{identity}" data-event="1"' in after.split('id="cleared-alerts"')[1]
