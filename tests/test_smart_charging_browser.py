"""Smart-charging pages in a browser: the station panel's charts (data points as computed), the
station's own composite drawn beside the computed one, the editor's period rows and reasons, and
the site page following reallocations live."""
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from smartcharging.models import ChargingProfile, EVChargingNeeds, EVChargingSchedule
from stations.models import Station
from tests.browser_helpers import in_thread, screenshot, wait_live
from tests.helpers import eventually
from tests.site_helpers import SiteLedger, add_member, create_site

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
    # The EV on EVSE 1 chose 20 A from now (NotifyEVChargingSchedule).
    EVChargingSchedule.objects.create(
        station=station, evse_id=1, time_base=start + timedelta(minutes=30), charging_schedule={
            "id": 1, "chargingRateUnit": "A", "duration": 3600,
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 20}]})
    EVChargingNeeds.objects.create(station=station, evse_id=1, requested_energy_transfer="DC",
                                   charging_needs={}, answer_status="Accepted")
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
    assert chart_labels(page, "#composite-chart") == ["station (A)", "EVSE 1 (A)", "EV on EVSE 1 (A)"]
    assert [y for _, y in chart_points(page, "#composite-chart", 2)] == [20, 20]
    expect(page.locator("#ev-needs")).to_contain_text("EV on EVSE 1: DC — answered Accepted")
    evse_1 = chart_points(page, "#composite-chart", 1)
    assert [y for _, y in evse_1] == [32, 32, 16, 16]
    # 30 min left of the first period (the page is drawn a moment after the profile is made).
    assert abs(evse_1[1][0] - evse_1[0][0] - 1800 * 1000) <= 3000
    assert evse_1[3][0] - evse_1[0][0] == 86400 * 1000
    assert [y for _, y in chart_points(page, "#composite-chart", 0)] == [None, None]
    expect(page.locator("#composite-fallback")).to_be_hidden()  # the link for readers without JS
    page.select_option("#composite-unit", "W")
    eventually(lambda: chart_labels(page, "#composite-chart")[1] == "EVSE 1 (W)")
    assert chart_points(page, "#composite-chart", 1)[0][1] == 32 * 230 * 3
    page.select_option("#composite-unit", "")
    eventually(lambda: chart_labels(page, "#composite-chart")[1] == "EVSE 1 (A)")

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


def test_panel_follows_a_profile_pushed_meanwhile(page, api, connect_station, identity):
    station = connect_station(identity, "2.0.1")
    station.answers["SetChargingProfile"] = {"status": "Accepted"}
    page.goto(f"/stations/{identity}/")
    page.wait_for_selector('#composite-chart[data-drawn="true"]', state="attached")
    page.evaluate("window.notReloaded = true")
    expect(page.locator("#charging-profiles tr[data-profile]")).to_have_count(0)
    pushed = api.post("/charging-profiles/", json={
        "station": identity, "evse_id": 0, "stack_level": 1, "purpose": "ChargingStationMaxProfile",
        "kind": "Absolute", "schedules": [{
            "chargingRateUnit": "W", "startSchedule": timezone.now().isoformat(),
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7000}]}]})
    assert pushed.status_code == 201, pushed.text
    row = page.locator(f'#charging-profiles tr[data-profile="{pushed.json()["id"]}"]')
    expect(row.locator(".badge")).to_have_text("installed")
    # Its schedule is charted, and the station's composite now has the limit (in A: 7000 W on
    # three phases of 230 V).
    eventually(lambda: page.evaluate(
        f"!!Chart.getChart(document.querySelector('canvas[data-profile-chart=\"{pushed.json()['id']}\"]'))"))
    eventually(lambda: abs((chart_points(page, "#composite-chart", 0)[0][1] or 0) - 7000 / 690) < 0.01)
    assert page.evaluate("window.notReloaded") is True


def test_editor_adds_rows_and_shows_every_reason(page, connect_station, identity):
    connect_station(identity, "2.0.1")
    page.goto(f"/stations/{identity}/")
    page.click("#new-profile")
    # The click navigates; the editor's buttons work once its deferred script has run.
    page.wait_for_selector('#profile-form[data-ready="true"]', state="attached")
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


def test_site_page_follows_reallocations_live(page, api, connect_station, identity):
    # A real site: each station that joins gets a reallocation round (fallback TxDefaultProfile),
    # after which the server pushes site.update and the page re-reads itself.
    ledger = SiteLedger()
    site = create_site(api, 22080.0)
    page.goto(f"/sites/{site['id']}/")
    wait_live(page)
    page.evaluate("window.notReloaded = true")  # a reload would drop this marker
    expect(page.locator("#site-allocations tr.empty")).to_have_count(1)
    bars = "#site-allocation-chart"
    assert chart_points_bar(page, bars) == [[22080]]
    assert [y for _, y in chart_points(page, "#site-limit-chart")] == [22080, 22080]

    first = ledger.attach(connect_station(f"{identity}-a"), maximum=22080.0)
    add_member(api, site, first.identity, evse_max_power=22080.0)
    row = page.locator("#site-allocations tbody tr[data-allocation]")
    expect(row).to_have_count(1)
    expect(row.first.locator(".held")).to_have_text("22080")
    expect(page.locator("#site-held")).to_have_text("22080 W")

    second = ledger.attach(connect_station(f"{identity}-b", "1.6"), maximum=22080.0)
    add_member(api, site, second.identity, evse_max_power=22080.0)
    # Two idle EVSEs share the limit: the first is lowered to 11040 W, the second gets as much.
    expect(row).to_have_count(2)
    expect(row.nth(0).locator(".held")).to_have_text("11040")
    expect(row.nth(1).locator(".held")).to_have_text("11040")
    eventually(lambda: chart_points_bar(page, bars) == [[11040], [11040], [22080]])
    assert chart_labels(page, bars) == [f"{identity}-a / 1 idle", f"{identity}-b / 1 idle", "limit"]
    assert page.evaluate("window.notReloaded") is True
    screenshot(page, "site-page")


def test_site_list_follows_reallocations_live(page, api, connect_station, identity):
    ledger = SiteLedger()
    site = create_site(api, 11000.0)
    page.goto("/sites/")
    wait_live(page)
    row = page.locator(f'#sites tr[data-site="{site["id"]}"]')
    expect(row.locator(".members")).to_have_text("0")
    ledger.attach(connect_station(identity), maximum=22080.0)
    add_member(api, site, identity, evse_max_power=22080.0)
    expect(row.locator(".members")).to_have_text("1")
    expect(row.locator(".allocated")).to_have_text("11000 W")
    expect(row.locator(".limit-now")).to_have_text("11000 W")


def chart_points_bar(page, selector):
    return page.eval_on_selector(
        selector, "(canvas) => Chart.getChart(canvas).data.datasets.map((d) => d.data)")
