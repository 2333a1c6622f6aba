"""The Alerts page in Debian's Chromium: an offline station's alert appears without a reload and is
acknowledged from the page; its clearing shows live too."""
from playwright.sync_api import expect

from tests.browser_helpers import (  # noqa: F401
    browser, operator_session, page, screenshot, wait_live)
from tests.helpers import eventually


def test_offline_alert_appears_live_and_is_acknowledged_on_the_page(
        page, api, connect_station, identity):  # noqa: F811
    station = connect_station(identity)
    page.goto(f"/operational-alerts/?station={identity}")
    wait_live(page)
    expect(page.locator("#alerts-body tr.empty")).to_have_count(1)
    page.evaluate("window.notReloaded = true")

    station.close()
    row = page.locator(f'#alerts-body tr[data-station="{identity}"][data-kind="StationOffline"]')
    expect(row).to_have_count(1)
    expect(row.locator(".alert-state")).to_contain_text("Active")
    assert page.evaluate("window.notReloaded") is True  # arrived by push, not a reload

    row.get_by_role("button", name="Acknowledge").click()
    expect(row.locator(".alert-ack")).to_contain_text("operator")
    alert_id = row.get_attribute("data-alert")
    acknowledged = api.get(f"/alerts/{alert_id}/").json()
    assert acknowledged["acknowledged_by"] == "operator" and acknowledged["state"] == "Active"
    screenshot(page, "alerts-offline-acknowledged")

    # Back online: the alert clears itself and leaves the active list without a reload.
    connect_station(identity)
    expect(row).to_have_count(0)
    assert page.evaluate("window.notReloaded") is True
    assert api.get(f"/alerts/{alert_id}/").json()["state"] == "Cleared"
    page.goto(f"/operational-alerts/?station={identity}&show=cleared")
    expect(row.locator(".alert-state")).to_contain_text("Cleared")
    expect(row.locator(".alert-ack")).to_contain_text("operator")


def test_alert_filters_and_the_device_events_link(
        page, api, connect_station, identity):  # noqa: F811
    from django.urls import reverse

    station = connect_station(identity)
    station.status("Faulted", connector_id=1)
    station.status("Faulted", connector_id=2)
    eventually(lambda: api.get("/alerts/", params={"station": identity, "state": "Active"})
               .json()["count"] == 2)
    first = api.get("/alerts/", params={"station": identity, "subject": "1/1"}).json()["results"][0]
    api.post(f"/alerts/{first['id']}/acknowledge/")

    page.goto(f"/operational-alerts/?station={identity}&show=open")
    rows = page.locator("#alerts-body tr[data-alert]")
    expect(rows).to_have_count(1)
    expect(rows.locator("td").nth(2)).to_have_text("1/2")
    page.select_option("select[name=show]", "acknowledged")
    page.click("#alert-filters button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows).to_have_attribute("data-alert", str(first["id"]))

    page.click("nav >> text=Alerts")
    expect(page.locator("#alerts")).to_be_visible()
    page.click("#device-alerts-link")
    assert page.url.endswith(reverse("devicemodel:alerts"))
    expect(page.locator("#active-alerts")).to_be_visible()
