"""The firmware campaign pages in a browser: a campaign created from the form, started, paused and
resumed with the page's controls, and its progress bar, counts and failures following the
stations without a reload."""
import uuid

import pytest
from playwright.sync_api import expect

from stations.models import Station, StationTag
from tests.browser_helpers import in_thread
from tests.campaign_helpers import (
    DOWNLOAD_FAILURE, firmware_image, firmware_station, install, next_update, report,
)

pytestmark = pytest.mark.browser


def test_campaign_page_follows_the_rollout(page, connect_station):
    run = uuid.uuid4().hex[:6]
    names = [f"BRW-{run}-{i}" for i in range(3)]
    clients = [firmware_station(connect_station, name) for name in names]
    image = in_thread(firmware_image)

    page.goto("/firmware-campaigns/")
    form = page.locator("#campaign-form")
    form.locator("input[name=name]").fill(f"Browser rollout {run}")
    form.locator("select[name=image]").select_option(str(image.pk))
    form.locator("textarea[name=filter_identities]").fill("\n".join(names))
    form.locator("input[name=concurrency]").fill("3")
    form.locator("input[name=failure_threshold]").fill("0.5")
    form.locator("button[type=submit]").click()

    expect(page.locator("#campaign-state")).to_have_text("Draft")
    expect(page.locator("#campaign-percent")).to_contain_text("0 of 3 done")
    expect(page.locator("#campaign-targets tbody tr")).to_have_count(3)

    page.click("#campaign-start")
    expect(page.locator("#campaign-state")).to_have_text("Running")
    updates = [next_update(client) for client in clients]
    page.click("#campaign-pause")
    expect(page.locator("#campaign-state")).to_have_text("Paused")
    page.click("#campaign-resume")
    expect(page.locator("#campaign-state")).to_have_text("Running")

    # From here the page is not reloaded: its progress part re-reads itself.
    install(clients[0], updates[0])
    expect(page.locator("#campaign-percent")).to_contain_text("1 of 3 done (33%)")
    expect(page.locator("#campaign-counts td[data-state=succeeded]")).to_have_text("1")
    expect(page.locator("#campaign-counts td[data-state=in_progress]")).to_have_text("2")
    install(clients[1], updates[1])
    report(clients[2], updates[2], DOWNLOAD_FAILURE)
    expect(page.locator("#campaign-state")).to_have_text("Completed")
    expect(page.locator("#campaign-percent")).to_contain_text("3 of 3 done (100%)")
    expect(page.locator("#campaign-bar")).to_have_attribute("value", "3")
    failure = page.locator(f"#campaign-failures tr[data-station='{names[2]}']")
    expect(failure.locator(".failure-status")).to_have_text("DownloadFailed")
    expect(page.locator("#campaign-controls")).to_have_count(0)

    page.goto("/firmware-campaigns/")
    row = page.locator("#campaigns tbody tr", has_text=f"Browser rollout {run}")
    expect(row).to_contain_text("Completed")
    expect(row.locator("progress")).to_have_attribute("value", "100")

    # The station page's panel: its tags and how its campaigns went for it.
    in_thread(lambda: StationTag.objects.create(station=Station.objects.get(identity=names[2]),
                                                name="garage-b"))
    page.goto(f"/stations/{names[2]}/")
    expect(page.locator("#station-tags")).to_contain_text("garage-b")
    station_row = page.locator("#station-campaigns tbody tr", has_text=f"Browser rollout {run}")
    expect(station_row).to_contain_text("Failed")
    expect(station_row).to_contain_text("DownloadFailed")


def test_the_form_shows_why_a_campaign_cannot_be_made(page):
    image = in_thread(firmware_image)
    page.goto("/firmware-campaigns/")
    form = page.locator("#campaign-form")
    form.locator("input[name=name]").fill("Nobody")
    form.locator("select[name=image]").select_option(str(image.pk))
    form.locator("textarea[name=filter_identities]").fill("NO-SUCH-STATION-XYZ")
    form.locator("input[name=timezone]").fill("Mars/Olympus")
    form.locator("button[type=submit]").click()
    expect(form.locator(".error").first).to_be_visible()
    expect(form).to_contain_text("Unknown timezone")
