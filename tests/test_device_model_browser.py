"""The device model browser in a real browser: limits enforced by the form, the station's answer
shown after a set, and the alerts page."""
import pytest
from playwright.sync_api import expect

from csms.models import Command
from tests.browser_helpers import in_thread, screenshot
from tests.devicemodel_helpers import report_item, seed_inventory


pytestmark = pytest.mark.browser

INVENTORY = [
    report_item("OCPPCommCtrlr", "HeartbeatInterval", "300", unit="s", min_limit=1, max_limit=3600),
    report_item("TxCtrlr", "TxStartPoint", "Authorized", "OptionList",
                values_list="EVConnected,Authorized,PowerPathClosed"),
    report_item("AuthCtrlr", "Enabled", "true", "boolean"),
    report_item("EVSE", "Power", "22000", "decimal", evse_id=1, unit="W", mutability="ReadOnly"),
    report_item("EVSE", "Power", "11000", "decimal", evse_id=2, unit="W", mutability="ReadOnly"),
    report_item("Connector", "ConnectorType", "cType2", "string", evse_id=1, connector_id=1,
                mutability="ReadOnly"),
    report_item("Connector", "ConnectorType", "cCCS2", "string", evse_id=2, connector_id=1,
                mutability="ReadOnly"),
    report_item("TemperatureSensor", "Temperature", "21", "decimal", unit="Celsius",
                mutability="ReadOnly"),
]


def test_edit_within_limits_and_see_the_answer(page, connect_station, identity, api):
    station = connect_station(identity)
    in_thread(seed_inventory, api, station, INVENTORY)
    station.answers["SetVariables"] = lambda payload: {"setVariableResult": [
        {"attributeStatus": "Accepted", "component": item["component"], "variable": item["variable"]}
        for item in payload["setVariableData"]]}
    page.goto(f"/stations/{identity}/device-model/")
    expect(page.locator('[data-tier="connector-2-1"]')).to_contain_text("cCCS2")
    row = page.locator('tr[data-variable="HeartbeatInterval"]')
    expect(row.locator("td.value")).to_have_text("300 s")
    screenshot(page, "device-model-browser")

    # Above the station's maxLimit: the browser refuses to submit the form at all.
    row.locator("input[name=value]").fill("99999")
    row.locator("button[type=submit]").click()
    expect(row.locator("input[name=value]:invalid")).to_have_count(1)
    assert in_thread(lambda: not Command.objects.filter(
        identity=identity, action="SetVariables").exists())

    row.locator("input[name=value]").fill("600")
    row.locator("button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("HeartbeatInterval: Accepted")
    expect(page.locator('tr[data-variable="HeartbeatInterval"] td.value')).to_have_text("600 s")
    page.locator('tr[data-variable="TxStartPoint"] select').select_option("PowerPathClosed")
    page.locator('tr[data-variable="TxStartPoint"] button[type=submit]').click()
    expect(page.locator(".flash")).to_contain_text("TxStartPoint: Accepted")


def test_alerts_page_lists_active_alerts(page, connect_station, identity, api):
    station = connect_station(identity)
    in_thread(seed_inventory, api, station, INVENTORY)
    station.call("NotifyEvent", {"generatedAt": "2026-01-01T10:00:00Z", "seqNo": 0, "eventData": [{
        "eventId": 5, "timestamp": "2026-01-01T10:00:00Z", "trigger": "Alerting",
        "actualValue": "85", "eventNotificationType": "HardWiredMonitor", "techCode": "OVERTEMP",
        "component": {"name": "TemperatureSensor"}, "variable": {"name": "Temperature"}}]})
    page.goto(f"/alerts/?station={identity}")
    alert = page.locator(f'#active-alerts tr[data-station="{identity}"]')
    expect(alert).to_contain_text("OVERTEMP")
    expect(alert).to_contain_text("85")
    screenshot(page, "device-model-alerts")
    page.goto(f"/stations/{identity}/")
    expect(page.locator("#dm-alert-count")).to_have_text("1")
    page.click("#dm-browse")
    expect(page.locator("h1")).to_contain_text("Device model of")
