"""Partial reports on the device-model page: the operator requests a FullInventory, the station
sends part 0 of 3 and the page shows that part's variables ("receiving 1/?") without a reload; the
last part makes it "receiving 2/3"; a report whose missing part never comes times out and still
shows what came."""
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from devicemodel import actions
from devicemodel.models import Report
from tests.browser_helpers import in_thread, screenshot, wait_live
from tests.devicemodel_helpers import notify_report, report_item

pytestmark = pytest.mark.browser


def parts():
    return [
        [report_item("OCPPCommCtrlr", "HeartbeatInterval", "300", unit="s"),
         report_item("OCPPCommCtrlr", "MessageTimeout", "30", unit="s")],
        [report_item("TokenReader", "Enabled", "true", "boolean")],
        [report_item("EVSE", "Power", "22000", "decimal", evse_id=1, unit="W",
                     mutability="ReadOnly")],
    ]


def test_parts_show_as_they_arrive_and_a_missing_part_hides_nothing(page, connect_station, identity):
    station = connect_station(identity)
    station.answers["GetBaseReport"] = {"status": "Accepted"}
    page.goto(f"/stations/{identity}/device-model/")
    expect(page.locator("#dm-tree")).to_contain_text("No variables known yet")
    wait_live(page)  # the page re-reads itself once its socket opens
    page.locator("#dm-report-form select[name=kind]").select_option("FullInventory")
    page.locator("#dm-report-form button").click()
    row = page.locator("#dm-reports tr[data-report]").first
    expect(row.locator(".report-status")).to_contain_text("accepted")
    request_id = int(row.get_attribute("data-report"))
    wait_live(page)
    page.evaluate("window.notReloaded = true")

    data = parts()
    notify_report(station, request_id, 0, data[0], tbc=True)
    expect(page.locator("#dm-reports .report-status").first).to_contain_text("receiving 1/?")
    expect(page.locator('details.dm-component[data-component="OCPPCommCtrlr"]')).to_contain_text("HeartbeatInterval")
    expect(page.locator(".dm-partial")).to_contain_text("receiving 1/? parts")

    notify_report(station, request_id, 2, data[2], tbc=False)  # part 1 never comes
    expect(page.locator("#dm-reports .report-status").first).to_contain_text("receiving 2/3")
    expect(page.locator('section.dm-tier[data-tier="evse-1"]')).to_contain_text("Power")
    expect(page.locator("#dm-reports tr[data-report]").first).to_contain_text("3")  # stored so far
    assert page.evaluate("window.notReloaded") is True
    screenshot(page, "device-model-partial-report")

    def time_out():
        Report.objects.filter(station__identity=identity, request_id=request_id).update(
            last_part_at=timezone.now() - timedelta(hours=1))
        actions.expire_reports()
    in_thread(time_out)
    page.reload()
    expect(page.locator("#dm-reports .report-status").first).to_contain_text("timed_out")
    expect(page.locator(".dm-partial")).to_contain_text("incomplete (timed out at 2/3 parts)")
    expect(page.locator("#dm-tree")).to_contain_text("HeartbeatInterval")
    expect(page.locator("#dm-tree")).not_to_contain_text("TokenReader")
