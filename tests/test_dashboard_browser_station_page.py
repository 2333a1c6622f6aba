"""The station page in a browser: commands with their outcomes and the message log's frames."""
import json

import pytest
from playwright.sync_api import expect

from tests.browser_helpers import screenshot

# The dashboard fixtures, shared by name.

pytestmark = pytest.mark.browser


def test_reset_shows_its_outcome_and_the_frames_in_the_log(page, connect_station, identity):
    station = connect_station(identity, "2.0.1")
    station.status("Available", evse_id=1, connector_id=1)
    page.goto(f"/stations/{identity}/")
    expect(page.locator("h1")).to_contain_text(identity)
    expect(page.locator("#station-registration")).to_have_text("Accepted")
    expect(page.locator("#station-vendor")).to_have_text("TestVendor TestModel")

    page.select_option("#reset-form select[name=type]", "OnIdle")
    page.click("#reset-form button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("Reset #")
    expect(page.locator(".flash")).to_contain_text("accepted (the station answered Accepted)")
    latest = page.locator("#commands tbody tr").first
    expect(latest).to_contain_text("Reset")
    expect(latest.locator(".badge")).to_have_text("accepted")
    _, action, payload = station.next_call()
    assert (action, payload) == ("Reset", {"type": "OnIdle"})

    # The log shows the call out and the answer in; a frame opens as pretty JSON.
    log = page.locator("#message-log tbody")
    reset_out = log.locator("tr.out", has_text="Reset").first
    expect(reset_out).to_be_visible()
    expect(log.locator("tr.in", has_text="BootNotification").first).to_be_visible()
    reset_out.locator("summary").click()
    pretty = reset_out.locator("pre.json")
    expect(pretty).to_be_visible()
    frame = json.loads(pretty.inner_text())
    assert frame[0] == 2 and frame[2:] == ["Reset", {"type": "OnIdle"}]
    assert '\n  "Reset"' in pretty.inner_text()
    screenshot(page, "station-page")


def test_late_outcome_appears_in_the_commands_table(page, connect_station, identity):
    station = connect_station(identity, "1.6", auto_answer=False)  # never answers
    page.goto(f"/stations/{identity}/")
    page.select_option("#trigger-form select[name=requested_message]", "Heartbeat")
    page.click("#trigger-form button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("its outcome will appear below")
    latest = page.locator("#commands tbody tr").first
    expect(latest.locator(".badge")).to_have_text("sent")
    assert station.next_call()[1:] == ("TriggerMessage", {"requestedMessage": "Heartbeat"})

    # OCPP_CALL_TIMEOUT later the outcome is known, and the table shows it without a reload.
    expect(latest.locator(".badge")).to_have_text("timeout")
    expect(page.locator("#message-log tbody tr.out", has_text="TriggerMessage")).to_have_count(1)


def test_generic_command_shows_schema_errors_then_sends(page, connect_station, identity):
    station = connect_station(identity, "2.0.1")
    page.goto(f"/stations/{identity}/")
    form = page.locator("#send-form")
    form.locator("select[name=action]").select_option("ChangeAvailability")
    form.locator("summary").click()
    expect(form.locator("#action-schema pre")).to_contain_text("operationalStatus")

    form.locator("textarea[name=payload]").fill('{"operationalStatus": "Sometimes", "extra": 1}')
    form.locator("button[type=submit]").click()
    errors = page.locator("#send-errors")
    expect(errors).to_contain_text("operationalStatus")
    expect(errors).to_contain_text("Sometimes")
    # The rejected payload stays in the form to be corrected.
    expect(page.locator("#send-form textarea[name=payload]")).to_have_value(
        '{"operationalStatus": "Sometimes", "extra": 1}')
    screenshot(page, "station-page-schema-errors")

    page.locator("#send-form textarea[name=payload]").fill('{"operationalStatus": "Inoperative"}')
    page.locator("#send-form button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("ChangeAvailability #")
    expect(page.locator(".flash")).to_contain_text("accepted")
    _, action, payload = station.next_call()
    assert (action, payload) == ("ChangeAvailability", {"operationalStatus": "Inoperative"})
