"""Registering a station and accepting it when Pending, in a browser."""
import pytest
from playwright.sync_api import expect

from tests.browser_helpers import screenshot, wait_live

# The dashboard fixtures, shared by name.

pytestmark = pytest.mark.browser


def test_register_pending_station_then_accept_it(page, connect_station, identity):
    page.goto("/")
    page.click("text=Register station >> nth=0")
    page.fill("input[name=identity]", identity)
    page.fill("input[name=password]", "too-short")
    page.select_option("select[name=registration_policy]", "Pending")
    page.click("#register-form button[type=submit]")
    expect(page.locator('[data-field="password"]')).to_contain_text("at least 16 characters")
    screenshot(page, "station-register")

    password = "a-long-enough-password"
    page.fill("input[name=password]", password)
    page.click("#register-form button[type=submit]")
    expect(page).to_have_url(f"/stations/{identity}/")
    expect(page.locator(".pending-bar")).to_contain_text("next boot will be answered Pending")
    wait_live(page)

    station = connect_station(identity, "2.0.1", password=password, boot=False)
    assert station.boot()["status"] == "Pending"
    expect(page.locator("#station-registration")).to_have_text("Pending")
    expect(page.locator("#station-online")).to_have_text("online")

    page.click("#accept-station")
    expect(page.locator(".flash.success")).to_contain_text("Asked it to send a BootNotification now")
    _, action, payload = station.next_call()
    assert (action, payload) == ("TriggerMessage", {"requestedMessage": "BootNotification"})
    assert station.boot()["status"] == "Accepted"
    expect(page.locator("#station-registration")).to_have_text("Accepted")
    expect(page.locator(".pending-bar")).to_be_hidden()
