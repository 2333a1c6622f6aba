"""The station page's security panels in a browser: read after the page loads (the page's own
query count stays fixed), and a password rotation's outcome shown in them."""
import pytest
from playwright.sync_api import expect

from tests.browser_helpers import in_thread

pytestmark = pytest.mark.browser


def test_security_panels_load_after_the_page_and_follow_a_rotation(page, api, connect_station,
                                                                   identity):
    in_thread(api.post, "/stations/", json={"identity": identity})
    station = in_thread(connect_station, identity, "2.0.1")
    in_thread(station.call, "SecurityEventNotification", {"type": "TamperDetectionActivated",
                                                          "timestamp": "2026-04-03T10:00:00Z"})
    station.answers["SetVariables"] = lambda payload: {"setVariableResult": [{
        "attributeStatus": "Accepted", "component": {"name": "SecurityCtrlr"},
        "variable": {"name": "BasicAuthPassword"}}]}

    page.goto(f"/stations/{identity}/")
    security = page.locator("#security-panel")
    expect(security).to_contain_text("TamperDetectionActivated")
    expect(page.locator("#profile-upgrade-panel")).to_contain_text("1: Basic auth over ws")

    page.locator("#rotate-password-form button[type=submit]").click()
    expect(page.locator("#security-panel")).to_contain_text("Accepted", timeout=30000)
