"""The firmware pages in a browser: upload an image, push it to a connected station from its
page, follow the update to the version confirmed at the next boot."""
import os

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser_helpers import screenshot

pytestmark = pytest.mark.browser


def test_upload_then_push_to_a_connected_station(page, connect_station, identity):
    content = os.urandom(50_000)
    version = f"5.{identity[-4:]}"
    page.goto("/firmware/")
    form = page.locator("#firmware-upload-form")
    form.locator("input[name=name]").fill("Browser build")
    form.locator("input[name=version]").fill(version)
    form.locator("input[name=vendor]").fill("TestVendor")
    form.locator("input[name=file]").set_input_files(
        files=[{"name": "browser-fw.bin", "mimeType": "application/octet-stream",
                "buffer": content}])
    form.locator("#firmware-upload").click()
    expect(page.locator(".flash").first).to_contain_text(f"Browser build {version} stored")
    row = page.locator("#firmware-images tbody tr", has_text=version)
    expect(row).to_contain_text("browser-fw.bin")
    expect(row).to_contain_text("48.8 KB")

    station = connect_station(identity)
    station.answers["UpdateFirmware"] = {"status": "Accepted"}
    page.goto(f"/stations/{identity}/")
    panel = page.locator("#firmware-panel")
    expect(panel.locator("#firmware-running")).to_have_text("1.0")
    panel.locator("select[name=image]").select_option(label=f"Browser build {version}")
    panel.locator("#firmware-send").click()
    expect(page.locator(".flash").first).to_contain_text(f"sent to {identity}")
    _, action, payload = station.next_call()
    assert action == "UpdateFirmware"
    assert httpx.get(payload["firmware"]["location"], timeout=30).content == content
    update_row = panel.locator(f'tr[data-request="{payload["requestId"]}"]')
    expect(update_row).to_contain_text("accepted")

    for status in ("Downloading", "Downloaded", "Installing", "Installed"):
        station.call("FirmwareStatusNotification",
                     {"status": status, "requestId": payload["requestId"]})
    expect(update_row.locator(".badge")).to_have_text("Installed")  # followed live
    station.boot(chargingStation={"model": "TestModel", "vendorName": "TestVendor",
                                  "firmwareVersion": version})
    expect(update_row.locator(".badge")).to_have_text("Installed Confirmed")
    page.reload()
    expect(update_row).to_contain_text("Downloading → Downloaded → Installing → Installed")
    expect(update_row).to_contain_text(f"booted {version}")
    expect(panel.locator("#firmware-running")).to_have_text(version)
    screenshot(page, "firmware-panel")


def test_upload_without_file_or_url_is_refused(page):
    page.goto("/firmware/")
    form = page.locator("#firmware-upload-form")
    form.locator("input[name=name]").fill("Nothing")
    form.locator("input[name=version]").fill("0")
    form.locator("#firmware-upload").click()
    expect(page.locator("#firmware-upload-form .error")).to_contain_text(
        "Give a file or an external URL.")


def test_push_with_a_retrieve_time(page, connect_station, identity, api):
    image = api.post("/firmware-images/", json={"name": "Scheduled", "version": identity,
                                                "external_url": "https://vendor.example/s.bin"})
    assert image.status_code == 201
    station = connect_station(identity)
    station.answers["UpdateFirmware"] = {"status": "Accepted"}
    page.goto(f"/stations/{identity}/")
    form = page.locator("#firmware-update-form")
    form.locator("select[name=image]").select_option(label=f"Scheduled {identity}")
    form.locator("input[name=retrieve_at]").fill("2030-01-02T03:04:05")
    form.locator("input[name=retries]").fill("2")
    form.locator("#firmware-send").click()
    expect(page.locator(".flash").first).to_contain_text(f"sent to {identity}")
    _, _, payload = station.next_call()
    assert payload["firmware"]["retrieveDateTime"] == "2030-01-02T03:04:05Z"
    assert payload["firmware"]["location"] == "https://vendor.example/s.bin" and payload["retries"] == 2
