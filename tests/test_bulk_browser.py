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
SILENT = 2  # stations that never answer


def test_bulk_reset_of_20_stations(page, connect_station):
    from stations.models import BulkTarget

    run = uuid.uuid4().hex[:8]
    names = [f"BR-{run}-{i:02d}" for i in range(STATIONS)]
    # Two stations never answer (their commands time out after OCPP_CALL_TIMEOUT, after the
    # page is open, so their outcomes arrive pushed); one refuses.
    clients = [connect_station(name, "1.6" if i % 3 == 0 else "2.0.1", auto_answer=i >= SILENT)
               for i, name in enumerate(names)]
    clients[SILENT].answers["Reset"] = {"status": "Rejected"}
    requests = []
    sockets = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("websocket", lambda socket: sockets.append(page.url))  # the page that opened it

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
    expect(page.locator("#bulk-percent")).to_contain_text(f"{STATIONS} of {STATIONS} done (100%)")
    expect(page.locator("#bulk-bar")).to_have_attribute("value", str(STATIONS))
    expect(page.locator("#bulk-state")).to_have_text("Finished")
    counts = {"accepted": STATIONS - SILENT - 1, "rejected": 1, "timeout": SILENT, "sent": 0,
              "queued": 0, "offline": 0}
    for outcome, count in counts.items():
        expect(page.locator(f"#bulk-counts td[data-outcome={outcome}]")).to_have_text(str(count))
    rows = {name: page.locator(f"#bulk-targets tr[data-station='{name}']") for name in names}
    expect(rows[names[0]].locator(".outcome")).to_have_text("Timeout")
    expect(rows[names[SILENT]].locator(".outcome")).to_have_text("Rejected")
    expect(rows[names[SILENT]].locator(".detail")).to_have_text("Rejected")
    expect(rows[names[5]].locator(".outcome")).to_have_text("Accepted")
    screenshot(page, "bulk-reset-20-stations")

    # The page was loaded once and read its progress once per socket it opened: the rest was
    # pushed, nothing polled.
    detail_url = page.url
    assert requests.count(detail_url) == 1, requests
    progress_reads = sum("/progress/" in url for url in requests)
    assert progress_reads == sockets.count(detail_url) >= 1, (requests, sockets)
    # Each station got the call of its own version (1.6: Hard).
    payloads = in_thread(lambda: dict(BulkTarget.objects.filter(identity__in=names).values_list(
        "identity", "command__payload")))
    assert payloads[names[3]] == {"type": "Hard"} and payloads[names[4]] == {"type": "Immediate"}
    assert clients[0].next_call()[1:] == ("Reset", {"type": "Hard"})


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
