"""Bulk actions in a browser: 20 stations ticked on the station list, a Reset confirmed, and the
operation's page following every station's answer without a reload; "all matching the filter"
with one station offline."""
import uuid

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser_helpers import in_thread, screenshot, wait_live
from tests.helpers import eventually

pytestmark = pytest.mark.browser
STATIONS = 20
SLOW = 2  # stations that answer only when the test says so


def test_bulk_reset_of_20_stations(page, connect_station):
    from stations.models import BulkTarget

    run = uuid.uuid4().hex[:8]
    names = [f"BR-{run}-{i:02d}" for i in range(STATIONS)]
    clients = [connect_station(name, "1.6" if i % 3 == 0 else "2.0.1",
                               auto_answer=i >= SLOW) for i, name in enumerate(names)]

    page.goto(f"{reverse('stations:list')}?q={run}")
    expect(page.locator("#stations tbody tr[data-identity]")).to_have_count(STATIONS)
    page.check("#bulk-select-page")
    expect(page.locator("#bulk-selected-count")).to_have_text(str(STATIONS))
    page.select_option("#bulk-action", "reset")
    page.select_option("#bulk-option-type", "Immediate")
    page.click("#bulk-review")

    expect(page.locator("#bulk-description")).to_have_text("Reset (Immediate)")
    expect(page.locator("#bulk-count")).to_have_text(str(STATIONS))
    expect(page.locator("#bulk-stations li")).to_have_count(STATIONS)
    page.click("#bulk-confirm")

    wait_live(page)
    expect(page.locator("#bulk-targets tbody tr")).to_have_count(STATIONS)
    done = f"{STATIONS - SLOW} of {STATIONS} done"
    expect(page.locator("#bulk-percent")).to_contain_text(done)
    expect(page.locator("#bulk-state")).to_have_text("Running")
    expect(page.locator("#bulk-counts td[data-outcome=sent]")).to_have_text(str(SLOW))

    # The two slow stations answer now: the page follows without a reload.
    for client, answer in zip(clients[:SLOW], ("Accepted", "Rejected")):
        message_id, action, payload = client.next_call()
        # Each station gets its own version's call: 1.6 resets Hard.
        assert (action, payload) == ("Reset", {"type": "Hard" if client.version == "1.6"
                                               else "Immediate"})
        client.reply(message_id, {"status": answer})
    expect(page.locator("#bulk-percent")).to_contain_text(f"{STATIONS} of {STATIONS} done (100%)")
    expect(page.locator("#bulk-bar")).to_have_attribute("value", str(STATIONS))
    expect(page.locator("#bulk-state")).to_have_text("Finished")
    expect(page.locator("#bulk-counts td[data-outcome=accepted]")).to_have_text(str(STATIONS - 1))
    expect(page.locator("#bulk-counts td[data-outcome=rejected]")).to_have_text("1")
    rejected = page.locator(f"#bulk-targets tr[data-station='{names[1]}']")
    expect(rejected.locator(".outcome")).to_have_text("Rejected")
    expect(rejected.locator(".detail")).to_have_text("Rejected")
    expect(page.locator(f"#bulk-targets tr[data-station='{names[5]}'] .outcome")).to_have_text(
        "Accepted")
    screenshot(page, "bulk-reset-20-stations")
    payloads = in_thread(lambda: dict(BulkTarget.objects.filter(identity__in=names).values_list(
        "identity", "command__payload")))
    assert payloads[names[3]] == {"type": "Hard"} and payloads[names[4]] == {"type": "Immediate"}


def test_all_matching_the_filter_with_one_offline(page, connect_station):
    from stations.models import Station

    run = uuid.uuid4().hex[:8]
    names = [f"BF-{run}-{i}" for i in range(3)]
    for name in names[:2]:
        connect_station(name)
    connect_station(names[2], "1.6").close()
    eventually(lambda: not in_thread(lambda: Station.objects.get(identity=names[2]).online))

    page.goto(f"{reverse('stations:list')}?q={run}")
    expect(page.locator("#stations tbody tr[data-identity]")).to_have_count(3)
    page.check("#bulk-all-matching")
    page.select_option("#bulk-action", "change_availability")
    page.select_option("#bulk-option-operational_status", "Inoperative")
    page.click("#bulk-review")
    expect(page.locator("#bulk-description")).to_have_text("Change availability (Inoperative)")
    expect(page.locator("#bulk-count")).to_have_text("3")
    expect(page.locator("#bulk-summary")).to_contain_text("2 online")
    page.click("#bulk-confirm")
    expect(page.locator("#bulk-percent")).to_contain_text("3 of 3 done (100%)")
    expect(page.locator("#bulk-counts td[data-outcome=accepted]")).to_have_text("2")
    expect(page.locator(f"#bulk-targets tr[data-station='{names[2]}'] .outcome")).to_have_text(
        "Offline")
