"""The station list in a browser: stations appear, connect and change status without a reload."""
import pytest
from playwright.sync_api import expect

from stations.models import Station
from tests.browser_helpers import in_thread, screenshot, wait_live
from tests.helpers import eventually

# The dashboard fixtures, shared by name.

pytestmark = pytest.mark.browser


def online_count():
    return Station.objects.filter(online=True).count()


def test_station_row_goes_online_and_follows_connector_status(page, connect_station, identity):
    # Searched for, so the new station's row belongs on this page however many stations the run
    # has made (a push never adds a row; the page re-reads itself when one may belong on it).
    page.goto(f"/stations/?q={identity}")
    wait_live(page)
    page.evaluate("window.notReloaded = true")  # a reload would drop this marker

    station = connect_station(identity, "2.0.1")
    row = page.locator(f'#stations tr[data-identity="{identity}"]')
    expect(row.locator(".online")).to_contain_text("online")
    expect(row.locator(".registration")).to_have_text("Accepted")
    expect(row.locator(".vendor")).to_have_text("TestVendor TestModel")
    expect(row.locator(".version")).to_have_text("2.0.1")
    # The online count covers every station and follows the database.
    eventually(lambda: page.locator('[data-count="online"]').inner_text()
               == str(in_thread(online_count)))

    station.status("Available", evse_id=1, connector_id=1)
    station.status("Available", evse_id=2, connector_id=1)
    expect(row.locator(".connectors")).to_have_text("1/1 Available 2/1 Available")
    station.status("Occupied", evse_id=2, connector_id=1, timestamp="2026-01-01T00:01:00Z")
    expect(row.locator(".connectors .status-occupied")).to_have_text("2/1 Occupied")
    screenshot(page, "station-list")

    station.close()
    expect(row.locator(".online")).to_contain_text("offline")
    assert page.evaluate("window.notReloaded") is True


def test_new_station_rows_respect_the_search(page, connect_station, identity):
    page.goto(f"/stations/?q={identity}")
    wait_live(page)
    expect(page.locator("#stations tr.empty")).to_contain_text("No station matches")

    connect_station(f"{identity}-other"[::-1])  # does not contain the searched identity
    connect_station(identity, "1.6")

    rows = page.locator("#stations tbody tr[data-identity]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-identity", identity)
    expect(rows.first.locator(".version")).to_have_text("1.6")
    expect(page.locator("#stations tr.empty")).to_have_count(0)


def test_station_page_follows_connectors_and_connection(page, connect_station, identity):
    station = connect_station(identity, "1.6")
    station.status("Available", connector_id=1)
    page.goto(f"/stations/{identity}/")
    wait_live(page)
    expect(page.locator("#station-online")).to_have_text("online")
    expect(page.locator('li[data-connector="/1"] .status')).to_have_text("Available")

    station.status("Charging", connector_id=1, timestamp="2026-01-01T00:01:00Z")
    station.status("Faulted", connector_id=2)  # a connector the page has not seen yet
    expect(page.locator('li[data-connector="/1"] .status')).to_have_text("Charging")
    expect(page.locator('li[data-connector="/2"] .status')).to_have_text("Faulted")

    station.close()
    expect(page.locator("#station-online")).to_have_text("offline")
    expect(page.locator("#station-since")).to_contain_text("offline since")
