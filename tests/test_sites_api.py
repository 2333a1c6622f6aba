"""/api/v1/sites/: sites with their limit schedule, members (one site per station), the live
allocation, a reallocation round on request, every validation reason in a 400, the schema."""
import uuid

from tests.helpers import eventually
from tests.site_helpers import SiteLedger, add_member, create_site, live


def test_site_crud_and_live_limit(api):
    site = create_site(api, 32, unit="A", safety_margin_percent=10, number_phases=3, voltage=230)
    assert site["limit_periods"] == [{"startPeriod": 0, "limit": 32}]
    assert site["members"] == [] and site["rounds"] == 0
    assert api.get(f"/sites/{site['id']}/").json()["name"] == site["name"]
    assert any(row["id"] == site["id"] for row in api.get("/sites/").json()["results"])
    now = live(api, site)
    # 32 A × 3 × 230 V = 22080 W, less 10 %.
    assert now["limit"] == 19872.0 and now["budget"] == 19872.0 and now["allocations"] == []

    changed = api.patch(f"/sites/{site['id']}/", json={"limit_unit": "W", "safety_margin_percent": 0,
                                                       "limit_periods": [{"startPeriod": 0,
                                                                          "limit": 50000}]})
    assert changed.status_code == 200, changed.text
    assert live(api, site)["limit"] == 50000.0
    assert api.delete(f"/sites/{site['id']}/").status_code == 204
    assert api.get(f"/sites/{site['id']}/").status_code == 404


def test_every_validation_reason_is_listed(api):
    response = api.post("/sites/", json={
        "name": f"bad-{uuid.uuid4().hex[:6]}", "limit_unit": "W",
        "limit_periods": [{"startPeriod": 5, "limit": -1}, {"startPeriod": 3, "limit": "x"},
                          {"startPeriod": 7, "limit": 10, "numberPhases": 3}]})
    assert response.status_code == 400, response.text
    reasons = response.json()["errors"]["limit_periods"]
    for expected in ("the first period must start at 0, not 5",
                     "period 1: limit must be ≥ 0 (and at most 1e9), not -1",
                     "period 2: startPeriod 3 does not come after 5",
                     "period 2: limit must be a number",
                     "period 3: unknown field(s) numberPhases"):
        assert expected in reasons, (expected, reasons)

    empty = api.post("/sites/", json={"name": "empty", "limit_periods": []})
    assert empty.json()["errors"]["limit_periods"] == ["limit_periods must list at least one period"]
    fields = api.post("/sites/", json={"name": "fields", "number_phases": 4, "voltage": 0,
                                       "safety_margin_percent": 100, "fallback_limit": -5,
                                       "limit_unit": "kW",
                                       "limit_periods": [{"startPeriod": 0, "limit": 1}]})
    assert fields.status_code == 400
    assert set(fields.json()["errors"]) == {"number_phases", "voltage", "safety_margin_percent",
                                            "fallback_limit", "limit_unit"}
    recurring = api.post("/sites/", json={"name": "recurring", "limit_recurrency": "Daily",
                                          "limit_periods": [{"startPeriod": 0, "limit": 1}]})
    assert recurring.status_code == 400
    assert "limit_start" in recurring.json()["errors"]


def test_membership_rules(api, connect_station, identity):
    ledger = SiteLedger()
    station = ledger.attach(connect_station(identity))
    first = create_site(api, 22080)
    second = create_site(api, 11000)

    unknown = api.post(f"/sites/{first['id']}/members/", json={"station": "no-such-station"})
    assert unknown.status_code == 400 and "station" in unknown.json()["errors"]
    member = add_member(api, first, identity, evse_max_power=11000, charging_rate_unit="A")
    assert member["station"] == identity and member["charging_rate_unit"] == "A"
    again = api.post(f"/sites/{first['id']}/members/", json={"station": identity})
    assert again.json()["errors"]["station"] == [f"{identity} is already in this site"]
    elsewhere = api.post(f"/sites/{second['id']}/members/", json={"station": identity})
    assert elsewhere.status_code == 400
    assert f"already in site {first['name']!r}" in elsewhere.json()["errors"]["station"][0]
    bad_unit = api.post(f"/sites/{second['id']}/members/", json={"station": identity,
                                                                 "charging_rate_unit": "kW"})
    assert bad_unit.status_code == 400

    # Joining installs the fallback (the whole limit: one EVSE), in A as asked: 32.0 A.
    eventually(lambda: ledger.since(0, "TxDefaultProfile"))
    assert ledger.since(0, "TxDefaultProfile")[0][5:7] == ("A", 32.0)
    listed = api.get(f"/sites/{first['id']}/members/").json()
    assert [row["station"] for row in listed] == [identity]
    patched = api.patch(f"/sites/{first['id']}/members/{identity}/", json={"evse_max_power": 7000})
    assert patched.status_code == 200 and patched.json()["evse_max_power"] == 7000
    eventually(lambda: live(api, first)["allocations"]
               and live(api, first)["allocations"][0]["maximum"] == 7000)

    assert api.delete(f"/sites/{first['id']}/members/nobody/").status_code == 404
    assert api.delete(f"/sites/{first['id']}/members/{identity}/").status_code == 204
    # Leaving clears the site's profile on the station; it may then join another site.
    eventually(lambda: any(call[1] == "ClearChargingProfile"
                           for call in list(station.received_calls.queue)))
    assert live(api, first)["allocations"] == []
    add_member(api, second, identity)


def test_reallocate_on_request(api, connect_station, identity):
    ledger = SiteLedger()
    ledger.attach(connect_station(identity))
    site = create_site(api, 11000)
    add_member(api, site, identity, evse_max_power=22000)
    eventually(lambda: ledger.since(0, "TxDefaultProfile"))
    eventually(lambda: live(api, site)["rounds"] >= 1)
    response = api.post(f"/sites/{site['id']}/reallocate/")
    assert response.status_code in (200, 409), response.text
    if response.status_code == 200:
        summary = response.json()
        assert summary["limit"] == 11000 and summary["held_sum"] <= 11000
        assert set(summary["timings"]) >= {"compute_ms", "decreases_ms", "increases_ms", "total_ms"}
    disabled = api.patch(f"/sites/{site['id']}/", json={"enabled": False})
    assert disabled.status_code == 200
    refused = api.post(f"/sites/{site['id']}/reallocate/")
    assert refused.status_code == 409 and "disabled" in refused.json()["detail"]
    assert api.post("/sites/999999/reallocate/").status_code == 404


def test_openapi_schema(api):
    paths = api.get("/schema/", params={"format": "json"}).json()["paths"]
    for path in ("/api/v1/sites/", "/api/v1/sites/{id}/", "/api/v1/sites/{id}/members/",
                 "/api/v1/sites/{id}/members/{identity}/", "/api/v1/sites/{id}/allocation/",
                 "/api/v1/sites/{id}/reallocate/"):
        assert path in paths, path
    assert "409" in paths["/api/v1/sites/{id}/reallocate/"]["post"]["responses"]


def test_admin_pages(api, dashboard, connect_station, identity):
    connect_station(identity).answers.update({"SetChargingProfile": {"status": "Accepted"}})
    site = create_site(api, 11000)
    add_member(api, site, identity)
    eventually(lambda: live(api, site)["allocations"])
    for path in ("/admin/smartcharging/site/", f"/admin/smartcharging/site/{site['id']}/change/",
                 "/admin/smartcharging/siteallocation/"):
        page = dashboard.get(path)
        assert page.status_code == 200, path
        assert site["name"] in page.text or identity in page.text, path
