"""The profile editor builds profiles with several schedules: up to three for an OCPP 2.0.1
station (each with its unit, start, duration, minimum rate, periods and preview), one for 1.6;
every reason of every schedule is listed before anything is sent."""
import re

import pytest
from playwright.sync_api import expect

from smartcharging.models import ChargingProfile
from stations.models import Station
from tests.browser_helpers import in_thread, screenshot
from tests.helpers import eventually
from tests.test_smart_charging_browser import chart_points


def editor_url(identity):
    return f"/stations/{identity}/charging-profiles/new/"


def schedule_fields(prefix, unit, periods, **fields):
    """One schedule's POST fields: `prefix` "" for the first, "schedule2-" for the second..."""
    data = {f"{prefix}charging_rate_unit": unit, f"{prefix}start_schedule": "",
            f"{prefix}duration": "", f"{prefix}min_charging_rate": "",
            f"{prefix}periods-TOTAL_FORMS": str(len(periods)),
            f"{prefix}periods-INITIAL_FORMS": "0", f"{prefix}periods-MIN_NUM_FORMS": "0",
            f"{prefix}periods-MAX_NUM_FORMS": "1024"}
    for index, (start, limit) in enumerate(periods):
        data[f"{prefix}periods-{index}-start_period"] = str(start)
        data[f"{prefix}periods-{index}-limit"] = str(limit)
        data[f"{prefix}periods-{index}-number_phases"] = ""
    data.update({f"{prefix}{name}": value for name, value in fields.items()})
    return data


def profile_fields(count, **fields):
    return {"evse_id": "0", "purpose": "ChargingStationMaxProfile", "stack_level": "0",
            "charging_profile_id": "", "kind": "Absolute", "recurrency_kind": "",
            "valid_from": "", "valid_to": "", "schedule_count": str(count), **fields}


def reasons_of(answer):
    html = answer.content.decode()
    return re.findall(r"<li>(.*?)</li>", html.split('id="profile-reasons"')[1].split("</ul>")[0],
                      re.S)


def test_every_reason_of_every_schedule_is_listed(operator_client, identity):
    Station.objects.create(identity=identity, ocpp_version="2.0.1")
    answer = operator_client.post(editor_url(identity), {
        **profile_fields(3),
        **schedule_fields("", "A", [(0, 32)]),
        **schedule_fields("schedule2-", "W", [(60, 11000), (30, -5)]),
        **schedule_fields("schedule3-", "X", [(0, 16)], duration="soon")})
    assert answer.status_code == 400
    reasons = reasons_of(answer)
    # Type errors of the third schedule are named for it (the profile is not checked further).
    assert "schedule 3 Unit: Select a valid choice. X is not one of the available choices." \
        in reasons, reasons
    assert "schedule 3 Duration (s): Enter a whole number." in reasons, reasons
    # With the third fixed, the rules of the second are listed, numbered as the API numbers them.
    answer = operator_client.post(editor_url(identity), {
        **profile_fields(3),
        **schedule_fields("", "A", [(0, 32)]),
        **schedule_fields("schedule2-", "W", [(60, 11000), (30, -5)]),
        **schedule_fields("schedule3-", "A", [(0, 16)])})
    reasons = reasons_of(answer)
    for expected in ["schedule 2: the first period must start at 0, not 60",
                     "schedule 2 period 2: startPeriod 30 does not come after 60",
                     "schedule 2 period 2: limit must be ≥ 0, not -5.0"]:
        assert any(expected in reason for reason in reasons), (expected, reasons)
    assert not any(reason.startswith("schedule 1") or reason.startswith("schedule 3")
                   for reason in reasons), reasons
    # The page shows the three schedules as posted, to correct them.
    html = answer.content.decode()
    assert html.count('class="sc-schedule"') == 4  # three and the template of a new one
    assert 'name="schedule2-periods-1-limit" value="-5.0"' in html or \
        'name="schedule2-periods-1-limit" value="-5"' in html
    assert not ChargingProfile.objects.filter(station__identity=identity).exists()


def test_counts_outside_the_version_are_refused(operator_client, identity):
    Station.objects.create(identity=identity, ocpp_version="1.6")
    two = operator_client.post(editor_url(identity), {
        **profile_fields(2), **schedule_fields("", "A", [(0, 32)]),
        **schedule_fields("schedule2-", "A", [(0, 16)])})
    assert two.status_code == 400
    assert "OCPP 1.6 profiles carry exactly one schedule, not 2" in reasons_of(two)
    forged = operator_client.post(editor_url(identity), {
        **profile_fields("9"), **schedule_fields("", "A", [(0, 32)])})
    assert forged.status_code == 400
    assert any(reason.startswith("Schedule count: ") for reason in reasons_of(forged))
    assert not ChargingProfile.objects.filter(station__identity=identity).exists()


@pytest.mark.browser
def test_two_schedules_from_the_editor_reach_a_201_station(page, connect_station, identity):
    station = connect_station(identity, "2.0.1")
    station.answers["SetChargingProfile"] = {"status": "Accepted"}
    page.goto(editor_url(identity))
    blocks = page.locator("#schedules .sc-schedule")
    expect(blocks).to_have_count(1)
    expect(blocks.first.locator(".remove-schedule")).to_have_count(0)  # a profile needs one
    page.select_option("select[name=purpose]", "ChargingStationMaxProfile")
    page.fill("input[name=evse_id]", "0")
    page.fill("input[name=periods-0-limit]", "32")
    page.fill("input[name=periods-1-start_period]", "3600")
    page.fill("input[name=periods-1-limit]", "16")

    # Three schedules at most: the button gives up at three; the middle one removed, the third
    # becomes the second (its fields renamed, its values kept).
    for _ in range(2):
        page.click("#add-schedule")
    expect(blocks).to_have_count(3)
    expect(page.locator("#add-schedule")).to_be_disabled()
    expect(page.locator("input[name=schedule_count]")).to_have_value("3")
    page.select_option("select[name=schedule3-charging_rate_unit]", "W")
    page.fill("input[name=schedule3-periods-0-limit]", "11000")
    page.fill("input[name=schedule3-duration]", "7200")
    page.fill("input[name=schedule3-min_charging_rate]", "1400")
    blocks.nth(2).locator(".add-period").click()
    expect(page.locator("input[name=schedule3-periods-1-start_period]")).to_have_value("3600")
    page.fill("input[name=schedule3-periods-1-start_period]", "1800")
    page.fill("input[name=schedule3-periods-1-limit]", "7000")
    blocks.nth(1).locator(".remove-schedule").click()
    expect(blocks).to_have_count(2)
    expect(page.locator("#add-schedule")).to_be_enabled()
    expect(page.locator("input[name=schedule_count]")).to_have_value("2")
    expect(page.locator("input[name=schedule2-periods-1-limit]")).to_have_value("7000")
    expect(page.locator("input[name=schedule2-periods-TOTAL_FORMS]")).to_have_value("2")
    expect(page.locator("input[name^=schedule3-]")).to_have_count(0)
    expect(blocks.nth(1).locator(".schedule-number")).to_have_text("2")
    # Each schedule has its own preview: 32 A then 16 A; 11000 W then 7000 W up to its duration.
    assert [y for _, y in chart_points(page, "#editor-preview")] == [32, 32, 16, 16]
    second = "#schedules .sc-schedule:nth-child(2) canvas.schedule-preview"
    assert chart_points(page, second) == [(0, 11000), (1800, 11000), (1800, 7000),
                                          (7200, 7000)]
    screenshot(page, "profile-editor-schedules")

    page.click("#push-profile")
    page.wait_for_url(f"**/stations/{identity}/**")
    _, action, payload = station.next_call()
    assert action == "SetChargingProfile"
    assert payload["evseId"] == 0
    assert payload["chargingProfile"]["chargingSchedule"] == [
        {"id": 1, "chargingRateUnit": "A", "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": 32.0}, {"startPeriod": 3600, "limit": 16.0}]},
        {"id": 2, "chargingRateUnit": "W", "duration": 7200, "minChargingRate": 1400.0,
         "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0},
                                    {"startPeriod": 1800, "limit": 7000.0}]}]
    eventually(lambda: in_thread(lambda: ChargingProfile.objects.get(
        station__identity=identity).state) == "installed")


@pytest.mark.browser
def test_a_16_station_editor_offers_one_schedule(page, connect_station, identity):
    connect_station(identity, "1.6")
    page.goto(editor_url(identity))
    expect(page.locator("#schedules .sc-schedule")).to_have_count(1)
    expect(page.locator("#add-schedule")).to_have_count(0)
    expect(page.locator("#schedule-template")).to_have_count(0)
    expect(page.locator("input[name=schedule_count]")).to_have_value("1")
    # Its one schedule works as ever: rows added, previewed.
    page.click("#add-period")
    expect(page.locator("#period-rows tbody tr")).to_have_count(4)
    page.fill("input[name=periods-0-limit]", "20")
    assert chart_points(page, "#editor-preview")[0] == (0, 20)
