"""The logs panel in a browser: request a log from the station page, see it uploaded, download it."""
import queue

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser_helpers import screenshot

pytestmark = pytest.mark.browser

LOG = b"2026-12-06T20:00:00Z boot\x00\x01\x02 binary tail\xff\xfe" * 50


def test_panel_requests_a_log_shows_it_uploaded_and_downloads_it(page, connect_station, identity):
    station = connect_station(identity, "2.0.1")
    requests = queue.Queue()

    def accept(payload):
        requests.put(payload)
        return {"status": "Accepted", "filename": "security.log"}

    station.answers["GetLog"] = accept
    page.goto(f"/stations/{identity}/")
    panel = page.locator("#logs-panel")
    expect(panel.locator("#log-requests tbody")).to_contain_text("No log requested yet.")
    panel.locator("select[name=kind]").select_option("SecurityLog")
    panel.locator("#request-log").click()
    expect(page.locator(".flash").first).to_contain_text("GetLog #")
    payload = requests.get(timeout=10)
    assert payload["logType"] == "SecurityLog"
    row = panel.locator(f'tr[data-log-request="{payload["requestId"]}"]')
    expect(row.locator(".badge")).to_have_text("Accepted")

    # The station uploads to the URL it was given, then says so; the panel follows.
    station.call("LogStatusNotification", {"status": "Uploading", "requestId": payload["requestId"]})
    expect(row.locator(".badge")).to_have_text("Uploading")
    assert httpx.put(payload["log"]["remoteLocation"], content=LOG, timeout=30).status_code == 201
    station.call("LogStatusNotification", {"status": "Uploaded", "requestId": payload["requestId"]})
    expect(row.locator(".badge")).to_have_text("Uploaded")
    link = row.locator("a.log-download")
    expect(link).to_have_text("security.log")
    screenshot(page, "logs-panel")

    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == "security.log"
    with open(download.path(), "rb") as stored:
        assert stored.read() == LOG


def test_panel_of_a_16_station_offers_get_diagnostics(page, connect_station, identity):
    connect_station(identity, "1.6")
    page.goto(f"/stations/{identity}/")
    options = page.locator("#logs-panel select[name=kind] option")
    expect(options).to_have_count(3)
    expect(options.first).to_have_attribute("value", "Diagnostics")


def test_panel_form_sends_the_window_and_refuses_a_reversed_one(dashboard, connect_station, identity):
    station = connect_station(identity, "1.6")
    requests = queue.Queue()
    station.answers["GetDiagnostics"] = lambda payload: (requests.put(payload), {})[1]
    page = f"/stations/{identity}/"
    answer = dashboard.submit(f"/stations/{identity}/logs/request/", {
        "kind": "Diagnostics", "oldest_timestamp": "2026-12-01T08:00:00",
        "latest_timestamp": "2026-12-01T09:30:00", "retries": "3"}, form_page=page)
    assert "GetDiagnostics #" in answer.text
    payload = requests.get(timeout=10)
    assert payload["startTime"].startswith("2026-12-01T08:00:00")
    assert payload["stopTime"].startswith("2026-12-01T09:30:00") and payload["retries"] == 3
    rows = dashboard.get(f"/stations/{identity}/logs/").text
    assert "1.6 diagnostics (GetDiagnostics)" in rows and "2026-12-01 08:00" in rows

    refused = dashboard.submit(f"/stations/{identity}/logs/request/", {
        "kind": "Diagnostics", "oldest_timestamp": "2026-12-02T00:00:00",
        "latest_timestamp": "2026-12-01T00:00:00"}, form_page=page)
    assert "Log request not sent" in refused.text and "after latest_timestamp" in refused.text
    assert requests.empty()
