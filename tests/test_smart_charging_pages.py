"""Smart-charging dashboard pages: the station panel with its chart data, the profile editor
(every reason listed, a valid profile pushed to a real station), clearing, the station's own
composite beside the computed one, and the site pages."""
import json
import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from smartcharging.models import (
    ChargingProfile, EVChargingNeeds, EVChargingSchedule, Site, SiteAllocation, SiteMember,
)
from stations.models import Station
from tests.helpers import eventually

# The dashboard fixtures, shared by name.

PAGES = ["/sites/", "/sites/1/", "/stations/CS-any/charging-profiles/new/",
         "/stations/CS-any/composite-schedules/"]
FORMS = ["/stations/CS-any/charging-profiles/new/", "/stations/CS-any/charging-profiles/1/clear/",
         "/stations/CS-any/composite-schedules/station/"]


def chart_data(html, element_id):
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html,
                      re.S)
    assert match, f"no #{element_id} on the page"
    return json.loads(match.group(1))


def editor_form(**overrides):
    """The editor's POST: one schedule, its period rows as the formset names them."""
    periods = overrides.pop("periods", [(0, 32), (3600, 16)])
    data = {"evse_id": "1", "purpose": "TxDefaultProfile", "stack_level": "0", "kind": "Absolute",
            "recurrency_kind": "", "charging_rate_unit": "A",
            "start_schedule": "2026-03-01T08:00", "duration": "", "min_charging_rate": "",
            "periods-TOTAL_FORMS": str(len(periods)), "periods-INITIAL_FORMS": "0",
            "periods-MIN_NUM_FORMS": "0", "periods-MAX_NUM_FORMS": "1024"}
    for index, (start, limit) in enumerate(periods):
        data[f"periods-{index}-start_period"] = str(start)
        data[f"periods-{index}-limit"] = str(limit)
        data[f"periods-{index}-number_phases"] = ""
    data.update(overrides)
    return data


def installed_profile(station, evse_id=1, periods=((0, 32), (3600, 16)), **fields):
    start = timezone.now().replace(microsecond=0) - timedelta(minutes=30)
    return ChargingProfile.objects.create(
        station=station, evse_id=evse_id, charging_profile_id=fields.pop("charging_profile_id", 7),
        stack_level=0, purpose=fields.pop("purpose", "TxDefaultProfile"), kind="Absolute",
        state=fields.pop("state", "installed"), schedules=[{"id": 1, "chargingRateUnit": "A",
                                       "startSchedule": start.isoformat().replace("+00:00", "Z"),
                                       "chargingSchedulePeriod": [
                                           {"startPeriod": s, "limit": l} for s, l in periods]}],
        **fields)


@pytest.mark.parametrize("path", PAGES)
def test_pages_need_a_login(client, path):
    answer = client.get(path)
    assert answer.status_code == 302 and answer["location"] == f"/accounts/login/?next={path}"


@pytest.mark.parametrize("path", FORMS)
def test_forms_refuse_anonymous_posts(client, path):
    answer = client.post(path, {})
    assert answer.status_code == 302 and answer["location"].startswith("/accounts/login/")


def test_forms_need_the_csrf_token(operator, identity):
    from django.test import Client

    Station.objects.create(identity=identity, ocpp_version="2.0.1")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(operator["user"])
    answer = strict.post(f"/stations/{identity}/charging-profiles/new/", editor_form())
    assert answer.status_code == 403
    assert not ChargingProfile.objects.filter(station__identity=identity).exists()


def test_station_panel_lists_profiles_and_the_computed_composite(operator_client, identity):
    station = Station.objects.create(identity=identity, ocpp_version="2.0.1")
    profile = installed_profile(station)
    old = installed_profile(station, charging_profile_id=8, state="cleared")
    answer = operator_client.get(f"/stations/{identity}/")
    assert answer.status_code == 200
    html = answer.content.decode()
    assert 'id="smart-charging"' in html and f'data-profile-chart="{profile.pk}"' in html
    assert f'/stations/{identity}/charging-profiles/{profile.pk}/clear/' in html
    # A cleared profile is listed, with no Clear button.
    assert f'data-profile="{old.pk}"' in html
    assert f'/charging-profiles/{old.pk}/clear/' not in html
    assert "vendor/chart.js-4.6.2/chart.umd.min.js" in html
    data = chart_data(html, "smart-charging-data")
    charted = {p["id"]: p for p in data["profiles"]}
    assert charted[profile.pk]["schedules"][0]["periods"] == [[0, 32], [3600, 16]]
    # The composites come after the page, from their own URL.
    composites = operator_client.get(f"/stations/{identity}/composite-schedules/").json()["composites"]
    assert [c["evse_id"] for c in composites] == [0, 1]
    evse_1 = composites[1]
    # Started 30 min ago: 32 A for the next 30 min, then 16 A; the station (EVSE 0) is unlimited.
    # (Computed a moment after the profile was made: the second may have turned.)
    (first, first_limit), (second, second_limit) = [
        (p["start_period"], p["limit"]) for p in evse_1["periods"]]
    assert (first, first_limit, second_limit) == (0, 32.0, 16.0) and 1797 <= second <= 1800
    assert composites[0]["periods"][0]["limit"] is None
    in_watts = operator_client.get(f"/stations/{identity}/composite-schedules/?unit=W").json()
    assert in_watts["composites"][1]["periods"][0]["limit"] == 32 * 230 * 3
    assert operator_client.get(f"/stations/{identity}/composite-schedules/?unit=V").status_code == 400


def test_composites_carry_what_the_evs_asked_and_chose(operator_client, identity):
    station = Station.objects.create(identity=identity, ocpp_version="2.0.1")
    now = timezone.now().replace(microsecond=0)
    EVChargingNeeds.objects.create(station=station, evse_id=2, requested_energy_transfer="AC_three_phase",
                                   departure_time=now + timedelta(hours=3), charging_needs={},
                                   answer_status="Accepted")
    for limit in (10, 20):  # the latest counts
        EVChargingSchedule.objects.create(station=station, evse_id=2, time_base=now, charging_schedule={
            "id": 1, "chargingRateUnit": "A", "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": limit}, {"startPeriod": 600, "limit": 6}]})
    body = operator_client.get(f"/stations/{identity}/composite-schedules/").json()
    assert [c["evse_id"] for c in body["composites"]] == [0, 2]  # drawn beside its composite
    assert body["ev_schedules"] == [{
        "evse_id": 2, "schedule_start": now.isoformat().replace("+00:00", "Z"), "duration": None,
        "charging_rate_unit": "A", "periods": [{"start_period": 0, "limit": 20},
                                               {"start_period": 600, "limit": 6}]}]
    assert [(n["evse_id"], n["requested_energy_transfer"], n["answer_status"])
            for n in body["ev_needs"]] == [(2, "AC_three_phase", "Accepted")]


def test_panel_keeps_live_profiles_among_many_old_ones(operator_client, identity):
    station = Station.objects.create(identity=identity, ocpp_version="2.0.1")
    live = installed_profile(station, evse_id=3, charging_profile_id=1)
    for number in range(25):
        installed_profile(station, charging_profile_id=100 + number, state="replaced")
    html = operator_client.get(f"/stations/{identity}/").content.decode()
    assert f'data-profile="{live.pk}"' in html
    assert html.count('<tr data-profile="') == 20  # the live one and the 19 newest others


def test_editor_lists_every_reason_and_sends_nothing(operator_client, identity):
    Station.objects.create(identity=identity, ocpp_version="2.0.1")
    answer = operator_client.post(f"/stations/{identity}/charging-profiles/new/", editor_form(
        purpose="ChargingStationMaxProfile", evse_id="2", kind="Recurring",
        periods=[(10, 32), (5, -1)]))
    assert answer.status_code == 400
    reasons = re.findall(r"<li>(.*?)</li>", answer.content.decode().split('id="profile-reasons"')[1]
                         .split("</ul>")[0], re.S)
    expected = ["evse_id must be 0", "recurrency_kind Daily or Weekly",
                "first period must start at 0", "does not come after 10", "limit must be ≥ 0"]
    for reason in expected:
        assert any(reason in r for r in reasons), (reason, reasons)
    assert not ChargingProfile.objects.filter(station__identity=identity).exists()


def test_editor_reports_unreadable_fields_and_half_rows(operator_client, identity):
    Station.objects.create(identity=identity, ocpp_version="1.6")
    answer = operator_client.post(f"/stations/{identity}/charging-profiles/new/", editor_form(
        stack_level="x", **{"periods-1-limit": ""}))
    assert answer.status_code == 400
    html = answer.content.decode()
    assert "Stack level: Enter a whole number." in html
    assert "period row 2: a period needs a start and a limit" in html


def test_editor_refuses_forged_row_counts(operator_client, identity):
    Station.objects.create(identity=identity, ocpp_version="2.0.1")
    url = f"/stations/{identity}/charging-profiles/new/"
    too_many = operator_client.post(url, editor_form(**{"periods-TOTAL_FORMS": "100000"}))
    assert too_many.status_code == 400 and "at most 1024" in too_many.content.decode()
    form = editor_form()
    del form["periods-TOTAL_FORMS"]
    missing = operator_client.post(url, form)
    assert missing.status_code == 400 and "periods:" in missing.content.decode()
    assert not ChargingProfile.objects.filter(station__identity=identity).exists()


def test_editor_offers_blank_rows_and_the_chosen_evse(operator_client, identity):
    Station.objects.create(identity=identity, ocpp_version="2.0.1")
    html = operator_client.get(f"/stations/{identity}/charging-profiles/new/?evse=2").content.decode()
    assert 'name="evse_id" value="2"' in html
    assert html.count('class="period-row"') == 4  # three rows and the template of a new one


def test_valid_profile_is_pushed_to_the_station(dashboard, connect_station, identity):
    station = connect_station(identity, "2.0.1")
    station.answers["SetChargingProfile"] = {"status": "Accepted"}
    answer = dashboard.submit(f"/stations/{identity}/charging-profiles/new/", editor_form(
        duration="7200", min_charging_rate="6", **{"periods-1-number_phases": "1"}))
    assert answer.status_code == 200 and answer.url.path == f"/stations/{identity}/"
    _, action, payload = station.next_call()
    assert action == "SetChargingProfile"
    profile = ChargingProfile.objects.get(station__identity=identity)
    assert payload == {"evseId": 1, "chargingProfile": {
        "id": profile.charging_profile_id, "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Absolute",
        "chargingSchedule": [{"id": 1, "chargingRateUnit": "A", "startSchedule": "2026-03-01T08:00:00Z",
                              "duration": 7200, "minChargingRate": 6.0, "chargingSchedulePeriod": [
                                  {"startPeriod": 0, "limit": 32.0},
                                  {"startPeriod": 3600, "limit": 16.0, "numberPhases": 1}]}]}}
    assert "SetChargingProfile #" in answer.text and "the station answered Accepted" in answer.text
    assert profile.command.source == "dashboard:operator"


def test_16_station_max_profile_from_the_editor(dashboard, connect_station, identity):
    station = connect_station(identity, "1.6")
    station.answers["SetChargingProfile"] = {"status": "Rejected"}
    answer = dashboard.submit(f"/stations/{identity}/charging-profiles/new/", editor_form(
        evse_id="0", purpose="ChargingStationMaxProfile", kind="Recurring", recurrency_kind="Daily",
        charging_rate_unit="W", stack_level="2", periods=[(0, 11000), (28800, 22000)]))
    _, action, payload = station.next_call()
    assert action == "SetChargingProfile" and payload["connectorId"] == 0
    body = payload["csChargingProfiles"]
    assert (body["chargingProfilePurpose"], body["chargingProfileKind"], body["recurrencyKind"],
            body["stackLevel"]) == ("ChargePointMaxProfile", "Recurring", "Daily", 2)
    assert body["chargingSchedule"]["chargingRateUnit"] == "W"
    assert "the station answered Rejected" in answer.text
    eventually(lambda: ChargingProfile.objects.get(station__identity=identity).state == "rejected")


def test_clear_from_the_panel(dashboard, connect_station, identity):
    station = connect_station(identity, "1.6")
    station.answers["ClearChargingProfile"] = {"status": "Accepted"}
    profile = installed_profile(Station.objects.get(identity=identity), charging_profile_id=41)
    answer = dashboard.submit(f"/stations/{identity}/charging-profiles/{profile.pk}/clear/", {},
                              form_page=f"/stations/{identity}/")
    assert answer.url.path == f"/stations/{identity}/"
    assert station.next_call()[1:] == ("ClearChargingProfile", {"id": 41})
    profile.refresh_from_db()
    assert profile.state == "cleared" and "Clear profile #41" in answer.text
    # Clearing it again is refused with a message, nothing is sent.
    again = dashboard.submit(f"/stations/{identity}/charging-profiles/{profile.pk}/clear/", {},
                             form_page=f"/stations/{identity}/")
    assert "the station does not hold it" in again.text


def test_the_stations_composite_beside_the_computed_one(dashboard, connect_station, identity):
    station = connect_station(identity, "2.0.1")
    installed_profile(Station.objects.get(identity=identity))

    def composite(payload):
        # The station holds 32 A for an hour, then 10 A (the CSMS computes 16 A from 30 min on).
        return {"status": "Accepted", "schedule": {
            "evseId": payload["evseId"], "duration": payload["duration"],
            "scheduleStart": timezone.now().replace(microsecond=0).isoformat(),
            "chargingRateUnit": "A", "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 32}, {"startPeriod": 3600, "limit": 10}]}}

    station.answers["GetCompositeSchedule"] = composite
    token = dashboard.csrf_token(f"/stations/{identity}/")
    answer = dashboard.post(f"/stations/{identity}/composite-schedules/station/", data={
        "csrfmiddlewaretoken": token, "evse_id": "1", "duration": "86400"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["command"]["status"] == "accepted"
    assert body["reported"]["periods"][1] == {"start_period": 3600, "limit": 10,
                                              "number_phases": None, "min_charging_rate": None}
    stretches = [(d["start_period"], d["end_period"], d["computed_limit"], d["reported_limit"])
                 for d in body["differences"]]
    # 30 min – 1 h: computed 16, station 32; from 1 h to the end: computed 16, station 10.
    assert stretches[0][2:] == (16.0, 32) and stretches[1][2:] == (16.0, 10)
    bad = dashboard.post(f"/stations/{identity}/composite-schedules/station/", data={
        "csrfmiddlewaretoken": token, "evse_id": "-1"})
    assert bad.status_code == 400 and "evse_id" in bad.json()["detail"]


def test_composite_of_a_station_that_never_connected(operator_client, identity):
    Station.objects.create(identity=identity)
    answer = operator_client.post(f"/stations/{identity}/composite-schedules/station/",
                                  {"evse_id": "1"})
    assert answer.status_code == 409 and "never connected" in answer.json()["detail"]
    computed = operator_client.get(f"/stations/{identity}/composite-schedules/")
    assert computed.status_code == 409 and "never connected" in computed.json()["detail"]
    html = operator_client.get(f"/stations/{identity}/").content.decode()
    assert "Never connected" in html and "New charging profile" not in html


def test_asking_an_offline_station_still_shows_the_computed_composite(operator_client, identity):
    installed_profile(Station.objects.create(identity=identity, ocpp_version="1.6"))
    answer = operator_client.post(f"/stations/{identity}/composite-schedules/station/",
                                  {"evse_id": "1", "duration": "3600"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["command"]["status"] == "offline" and body["reported"] is None
    assert body["differences"] == [] and body["computed"]["periods"][0]["limit"] == 32.0


@pytest.fixture
def site():
    # Disabled: no reallocation round rewrites the rows this test made.
    site = Site.objects.create(name=f"Car park {uuid.uuid4().hex[:6]}", limit_unit="W",
                               enabled=False, limit_periods=[{"startPeriod": 0, "limit": 50000}],
                               safety_margin_percent=10)
    stations = [Station.objects.create(identity=f"CS-{uuid.uuid4().hex[:10]}", ocpp_version=v)
                for v in ("2.0.1", "1.6")]
    for station in stations:
        SiteMember.objects.create(site=site, station=station)
    SiteAllocation.objects.create(site=site, station=stations[0], evse_id=1, priority=2,
                                  target=22000, held=22000, measured=21000, state="held")
    SiteAllocation.objects.create(site=site, station=stations[1], evse_id=1, target=11000,
                                  held=18000, state="pending")
    yield site
    site.delete()
    for station in stations:
        station.delete()


def test_site_list(operator_client, site):
    html = operator_client.get("/sites/").content.decode()
    row = html.split(f'data-site="{site.pk}"')[1].split("</tr>")[0]
    assert site.name in row and "50000 W" in row
    assert '<td class="members">2</td>' in row and '<td class="sessions">0</td>' in row
    assert "40000 W" in row  # held: 22 kW + 18 kW


def test_site_page(operator_client, site):
    answer = operator_client.get(f"/sites/{site.pk}/")
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "45000 W" in html  # shared out after the 10 % margin
    data = chart_data(html, "site-chart-data")
    assert data["limit_now"] == 50000 and data["usable_now"] == 45000
    assert data["limit"]["periods"] == [{"start_period": 0, "limit": 50000.0}]
    assert sorted(a["held"] for a in data["allocations"]) == [18000, 22000]
    assert html.count("data-allocation=") == 2 and "pending" in html
    assert 'id="site-held">40000 W' in html
    assert operator_client.get("/sites/999999/").status_code == 404


def test_site_limit_in_amperes_recurring(operator_client, site):
    # 16 A × 3 phases × 230 V = 11040 W from 00:00 daily, 32 A from 12:00.
    site.limit_unit, site.limit_recurrency = "A", "Daily"
    site.limit_start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) \
        - timedelta(days=3)
    site.limit_periods = [{"startPeriod": 0, "limit": 16}, {"startPeriod": 43200, "limit": 32}]
    site.save()
    data = chart_data(operator_client.get(f"/sites/{site.pk}/").content.decode(), "site-chart-data")
    limits = {period["limit"] for period in data["limit"]["periods"]}
    assert limits == {11040.0, 22080.0}
    assert data["limit_now"] == (11040.0 if timezone.now().hour < 12 else 22080.0)
