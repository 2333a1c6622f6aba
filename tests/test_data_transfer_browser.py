"""The station page's DataTransfer panel in a browser: both directions listed, long data cut with
a link to the whole, and the form sending one and showing the station's answer."""
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_panel_lists_both_directions_and_sends(page, connect_station, identity):
    station = connect_station(identity)
    station.answers["DataTransfer"] = lambda payload: {"status": "Accepted",
                                                       "data": {"echo": payload.get("data")}}
    long_text = "reading;" * 40
    station.call("DataTransfer", {"vendorId": "com.meter", "messageId": "Dump", "data": long_text})

    page.goto(f"/stations/{identity}/")
    rows = page.locator("#datatransfers tbody tr[data-exchange]")
    expect(rows).to_have_count(1)
    inbound = rows.first
    expect(inbound).to_contain_text("from station")
    expect(inbound).to_contain_text("com.meter")
    expect(inbound.locator(".dt-status")).to_have_text("UnknownVendorId")
    expect(inbound.locator(".dt-data")).to_contain_text("…")

    page.fill("#datatransfer-vendor", "com.acme")
    page.fill("#datatransfer-message", "Ping")
    page.fill("#datatransfer-data", '{"n": 7}')
    page.check("#datatransfer-json")
    page.click("#datatransfer-send")
    expect(page.locator(".flash")).to_contain_text("DataTransfer com.acme/Ping: Accepted")
    expect(rows).to_have_count(2)
    outbound = rows.first  # newest first
    expect(outbound).to_contain_text("to station")
    expect(outbound.locator(".dt-data")).to_have_text('{"n": 7}')
    expect(outbound.locator(".dt-answer")).to_have_text('{"echo": {"n": 7}}')
    expect(outbound.locator(".dt-status")).to_have_text("Accepted")

    # Malformed JSON is refused on the page; nothing is sent.
    page.fill("#datatransfer-vendor", "com.acme")
    page.fill("#datatransfer-data", "{oops")
    page.check("#datatransfer-json")
    page.click("#datatransfer-send")
    expect(page.locator(".flash.error")).to_contain_text("not valid JSON")
    expect(rows).to_have_count(2)

    rows.nth(1).locator("a.dt-whole").first.click()
    expect(page.locator("#datatransfer-data")).to_have_text(long_text)
    expect(page.locator("#datatransfer-status")).to_have_text("UnknownVendorId")
