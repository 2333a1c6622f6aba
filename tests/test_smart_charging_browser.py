"""Smart-charging pages in a browser: the station panel's charts (data points as computed), the
station's own composite drawn beside the computed one, the editor's period rows and reasons, and
the site page following reallocations live."""
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from csms.ocpp import bridge
from smartcharging.models import ChargingProfile, Site, SiteAllocation, SiteMember
from stations.actions import DASHBOARD_GROUP
from stations.models import Station
from tests import environment
from tests.browser_helpers import in_thread, screenshot, wait_live

# The dashboard fixtures, shared by name.

pytestmark = pytest.mark.browser


def chart_points(page, selector, dataset=0):
    """[(x, y)] of one dataset of the Chart.js chart drawn on the canvas at `selector`."""
    return [tuple(point) for point in page.eval_on_selector(
        selector, "(canvas, index) => Chart.getChart(canvas).data.datasets[index].data"
                  ".map((p) => [p.x, p.y])", dataset)]


def chart_labels(page, selector):
    return page.eval_on_selector(
        selector, "(canvas) => Chart.getChart(canvas).data.datasets.map((d) => d.label)")


def make_profile(identity, start):
    station = Station.objects.get(identity=identity)
    return ChargingProfile.objects.create(
        station=station, evse_id=1, charging_profile_id=5, stack_level=0,
        purpose="TxDefaultProfile", kind="Absolute", state="installed",
        schedules=[{"id": 1, "chargingRateUnit": "A",
                    "startSchedule": start.isoformat().replace("+00:00", "Z"),
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 32},
                                               {"startPeriod": 3600, "limit": 16}]}])


def test_station_panel_draws_profiles_and_composites(page, connect_station, identity):
    station = connect_station(identity, "2.0.1")
    start = timezone.now().replace(microsecond=0) - timedelta(minutes=30)
    profile = in_thread(make_profile, identity, start)

    page.goto(f"/stations/{identity}/")
    page.wait_for_selector('#composite-chart[data-drawn="true"]', state="attached")
    # The profile's own schedule, in seconds from its start: 32 A for an hour, then 16 A.
    points = chart_points(page, f'canvas[data-profile-chart="{profile.pk}"]')
    assert points == [(0, 32), (3600, 32), (3600, 16), (7200, 16)]  # the last shown for 1 h
    # The composite per EVSE over 24 h: the station (no limit), EVSE 1 from 32 A to 16 A.
    assert chart_labels(page, "#composite-chart") == ["station (A)", "EVSE 1 (A)"]
    evse_1 = chart_points(page, "#composite-chart", 1)
    assert [y for _, y in evse_1] == [32, 32, 16, 16]
    # 30 min left of the first period (the page is drawn a moment after the profile is made).
    assert abs(evse_1[1][0] - evse_1[0][0] - 1800 * 1000) <= 3000
    assert evse_1[3][0] - evse_1[0][0] == 86400 * 1000
    assert [y for _, y in chart_points(page, "#composite-chart", 0)] == [None, None]
    expect(page.locator("#composite-fallback")).to_be_hidden()  # the link for readers without JS

    # Ask the station: it holds 32 A throughout, so the stretch from 30 min on differs.
    def composite(payload):
        return {"status": "Accepted", "schedule": {
            "evseId": payload["evseId"], "duration": payload["duration"],
            "scheduleStart": timezone.now().replace(microsecond=0).isoformat(),
            "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 32}]}}

    station.answers["GetCompositeSchedule"] = composite
    page.click("#ask-station-composite")
    expect(page.locator("#station-composite-status")).to_contain_text("1 stretch differs")
    expect(page.locator("#composite-differences tr.difference")).to_have_count(1)
    expect(page.locator("#composite-differences tr.difference td").nth(2)).to_have_text("16")
    expect(page.locator("#composite-differences tr.difference td").nth(3)).to_have_text("32")
    assert chart_labels(page, "#station-composite-chart") == [
        "computed by the CSMS (A)", "station (A)", "differs"]
    assert [y for _, y in chart_points(page, "#station-composite-chart", 1)] == [32, 32]
    marks = chart_points(page, "#station-composite-chart", 2)
    assert [y for _, y in marks] == [16, 16, None]
    screenshot(page, "smart-charging-panel")


def test_editor_adds_rows_and_shows_every_reason(page, connect_station, identity):
    connect_station(identity, "2.0.1")
    page.goto(f"/stations/{identity}/")
    page.click("#new-profile")
    expect(page.locator("#period-rows tbody tr")).to_have_count(3)
    page.click("#add-period")
    rows = page.locator("#period-rows tbody tr")
    expect(rows).to_have_count(4)
    expect(page.locator("input[name=periods-TOTAL_FORMS]")).to_have_value("4")
    # Two rows filled wrongly (not from 0, descending, negative), one removed, blanks ignored.
    page.select_option("select[name=purpose]", "ChargingStationMaxProfile")
    page.fill("input[name=evse_id]", "1")
    page.fill("input[name=periods-0-start_period]", "60")
    page.fill("input[name=periods-0-limit]", "16")
    page.fill("input[name=periods-3-start_period]", "30")
    page.fill("input[name=periods-3-limit]", "-2")
    rows.nth(1).locator(".remove-period").click()
    expect(rows).to_have_count(3)
    expect(page.locator("input[name=periods-TOTAL_FORMS]")).to_have_value("3")
    expect(page.locator("input[name=periods-2-limit]")).to_have_value("-2")  # renumbered
    # The preview follows the rows: (30, -2) sorts before (60, 16).
    assert [y for _, y in chart_points(page, "#editor-preview")][:2] == [-2, -2]
    page.click("#push-profile")
    reasons = page.locator("#profile-reasons li")
    expect(reasons.first).to_be_visible()
    texts = reasons.all_inner_texts()
    for expected in ["evse_id must be 0", "first period must start at 0",
                     "startPeriod 30 does not come after 60", "limit must be ≥ 0, not -2.0"]:
        assert any(expected in text for text in texts), (expected, texts)
    # The rows come back as sent, to correct them.
    expect(page.locator("input[name=periods-2-start_period]")).to_have_value("30")
    screenshot(page, "smart-charging-editor")
    assert not in_thread(lambda: ChargingProfile.objects.filter(
        station__identity=identity).exists())


def make_site(identity):
    station = Station.objects.create(identity=identity, ocpp_version="2.0.1")
    # Disabled: the allocator's own rounds (beat) leave its rows to this test.
    site = Site.objects.create(name=f"Depot {uuid.uuid4().hex[:6]}", enabled=False,
                               limit_periods=[{"startPeriod": 0, "limit": 30000}])
    SiteMember.objects.create(site=site, station=station)
    SiteAllocation.objects.create(site=site, station=station, evse_id=1, target=20000,
                                  held=20000, state="held")
    return site


def reallocated(site):
    """What a reallocation round leaves: the first EVSE lowered, a second one started."""
    station = Station.objects.get(site_membership__site=site)
    SiteAllocation.objects.filter(site=site, evse_id=1).update(target=12000, held=12000)
    SiteAllocation.objects.create(site=site, station=station, evse_id=2, target=15000, held=15000,
                                  state="pending")


@pytest.mark.skipif(environment.BACKEND != "services",
                    reason="the test process reaches the server's channel layer only over Redis")
def test_site_page_follows_reallocations_live(page, identity):
    site = in_thread(make_site, identity)
    page.goto(f"/sites/{site.pk}/")
    wait_live(page)
    bars = "#site-allocation-chart"
    assert chart_labels(page, bars) == [f"{identity} / 1 idle", "limit"]
    assert chart_points_bar(page, bars) == [[20000], [30000]]
    assert [y for _, y in chart_points(page, "#site-limit-chart")] == [30000, 30000]

    in_thread(reallocated, site)
    in_thread(bridge.group_send, DASHBOARD_GROUP, {"type": "site.update", "site": site.pk})
    expect(page.locator("#site-allocations tbody tr")).to_have_count(2)
    expect(page.locator("#site-held")).to_have_text("27000 W")
    assert chart_points_bar(page, bars) == [[12000], [15000], [30000]]
    assert chart_labels(page, bars)[1] == f"{identity} / 2 idle"
    screenshot(page, "site-page")


def chart_points_bar(page, selector):
    return page.eval_on_selector(
        selector, "(canvas) => Chart.getChart(canvas).data.datasets.map((d) => d.data)")
