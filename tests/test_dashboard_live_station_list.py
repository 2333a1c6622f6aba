"""The station list under live updates: pushes never add rows to a page (a station on page 2
changing state leaves page 1 at its size), connector-status filter, sorting, saved filters, and
the online badge's colour."""
import pytest
from django.urls import reverse
from playwright.sync_api import expect

from stations.models import Station
from tests.browser_helpers import in_thread, wait_live

pytestmark = pytest.mark.browser
PAGE_SIZE = 100


def make_stations(prefix, count):
    """`count` registered, never-connected stations named prefix-000 ..."""
    Station.objects.bulk_create([Station(identity=f"{prefix}-{n:03d}") for n in range(count)])


def list_url(**query):
    from urllib.parse import urlencode
    return reverse("stations:list") + ("?" + urlencode(query) if query else "")


def test_a_station_on_page_2_changing_state_does_not_grow_page_1(page, connect_station, identity):
    in_thread(make_stations, identity, PAGE_SIZE + 5)
    page.goto(list_url(q=identity))
    wait_live(page)
    rows = page.locator("#stations tbody tr[data-identity]")
    expect(rows).to_have_count(PAGE_SIZE)
    page.evaluate("window.notReloaded = true")

    on_page_2 = connect_station(f"{identity}-102", "2.0.1")
    on_page_2.status("Faulted", evse_id=1, connector_id=1)
    # A station of page 1 changes after it: once its row shows that, page 2's pushes were handled.
    on_page_1 = connect_station(f"{identity}-001", "2.0.1")
    on_page_1.status("Occupied", evse_id=1, connector_id=1)
    row = page.locator(f'#stations tr[data-identity="{identity}-001"]')
    expect(row.locator(".connectors")).to_have_text("1/1 Occupied")
    expect(row.locator(".online")).to_contain_text("online")

    expect(rows).to_have_count(PAGE_SIZE)
    expect(page.locator(f'#stations tr[data-identity="{identity}-102"]')).to_have_count(0)
    # The total still follows every station (counts are re-read on a notice, not per row).
    assert page.evaluate("window.notReloaded") is True

    # On page 2 the same station's row is live.
    page.goto(list_url(q=identity, page=2))
    wait_live(page)
    expect(rows).to_have_count(5)
    far_row = page.locator(f'#stations tr[data-identity="{identity}-102"]')
    expect(far_row.locator(".connectors")).to_have_text("1/1 Faulted")
    on_page_2.status("Available", evse_id=1, connector_id=1, timestamp="2026-01-01T00:01:00Z")
    expect(far_row.locator(".connectors")).to_have_text("1/1 Available")
    expect(rows).to_have_count(5)


def test_connector_status_filter_and_sorting(dashboard, connect_station, identity):
    in_thread(make_stations, identity, 3)
    faulted = connect_station(f"{identity}-002", "1.6")
    faulted.status("Faulted", connector_id=1)
    charging = connect_station(f"{identity}-000", "2.0.1")
    charging.status("Occupied", evse_id=1, connector_id=1)

    page = dashboard.get(list_url(q=identity, connector_status="Faulted"))
    assert page.status_code == 200
    assert f'data-identity="{identity}-002"' in page.text
    assert f'data-identity="{identity}-000"' not in page.text
    assert f'data-identity="{identity}-001"' not in page.text

    def order(sort):
        text = dashboard.get(list_url(q=identity, sort=sort)).text
        return sorted(range(3), key=lambda n: text.index(f'data-identity="{identity}-{n:03d}"'))

    assert order("-identity") == [2, 1, 0]
    # Status: the offline station first, then the one with a Faulted connector.
    assert order("status") == [1, 2, 0]
    # Last message, newest first: the stations that spoke, the last to speak first; never last.
    assert order("last_seen") == [0, 2, 1]

    # A bad value is reported and not applied, never a 500.
    bad = dashboard.get(list_url(q=identity, sort="nonsense", connector_status="Exploded"))
    assert bad.status_code == 200
    assert "Ignored" in bad.text


def test_saved_filters_and_the_online_badge(page, identity):
    in_thread(make_stations, identity, 2)
    page.goto(list_url(q=identity, connector_status="Faulted"))
    wait_live(page)
    page.fill("#saved-filter-name", "faulted here")
    page.click("#save-filter")
    saved = page.locator("#saved-filter-list a", has_text="faulted here")
    expect(saved).to_have_count(1)

    page.goto(list_url())
    wait_live(page)
    page.locator("#saved-filter-list a", has_text="faulted here").click()
    expect(page.locator("#id_connector_status")).to_have_value("Faulted")
    expect(page.locator("#id_q")).to_have_value(identity)
    page.locator("#saved-filter-list button[data-forget]").first.click()
    expect(page.locator("#saved-filter-list a", has_text="faulted here")).to_have_count(0)

    # The online badge is green only when some station is online.
    online = int(page.locator('[data-count="online"]').inner_text())
    badge = page.locator("#online-count")
    expect(badge).to_have_class("badge ok" if online else "badge off")
