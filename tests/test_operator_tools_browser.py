"""Operator tools in a browser: a customer-information request sent from its form (errors first,
then three parts assembled and downloaded), and an image published on a local controller from the
Firmware page, then unpublished."""
import hashlib
import os

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser_helpers import screenshot

pytestmark = pytest.mark.browser


def test_customer_information_form_and_document(page, connect_station, identity):
    station = connect_station(identity)
    station.answers["CustomerInformation"] = {"status": "Accepted"}
    page.goto("/")
    page.get_by_role("link", name="Customer information").click()
    form = page.locator("#customer-information-form")
    form.locator("select[name=station]").select_option(identity)
    form.locator("input[name=id_token]").fill("CARD-77")
    form.locator("input[name=customer_identifier]").fill("contract-77")
    form.locator("#customer-information-send").click()
    expect(page.locator("#customer-information-errors .error")).to_have_text(
        ["Give exactly one of id_token, customer_identifier, customer_certificate "
         "(got id_token, customer_identifier)."])
    form.locator("input[name=customer_identifier]").fill("")
    form.locator("#customer-information-send").click()
    expect(page.locator(".flash").first).to_contain_text(f"CustomerInformation sent to {identity}")
    expect(page.locator("#customer-information-status")).to_have_text("receiving")
    _, action, payload = station.next_call()
    assert action == "CustomerInformation" and payload["idToken"]["idToken"] == "CARD-77"
    texts = ["Card CARD-77: ", "3 sessions; ", "no local list entry"]
    for seq_no, text in enumerate(texts):
        station.call("NotifyCustomerInformation", {
            "requestId": payload["requestId"], "seqNo": seq_no, "data": text, "tbc": seq_no < 2,
            "generatedAt": "2026-03-01T08:00:00Z"})
    page.reload()
    expect(page.locator("#customer-information-status")).to_have_text("complete")
    expect(page.locator("#customer-information-document")).to_have_text("".join(texts))
    with page.expect_download() as download:
        page.locator("#customer-information-download").click()
    assert download.value.suggested_filename == (
        f"customer-information-{identity}-{payload['requestId']}.txt")
    assert open(download.value.path(), encoding="utf-8").read() == "".join(texts)
    screenshot(page, "customer-information-request")
    page.locator("a", has_text="all requests").click()
    row = page.locator(f'#customer-information-requests tr[data-request="{payload["requestId"]}"]')
    expect(row).to_contain_text("CARD-77 (ISO14443)")
    expect(row.locator(".badge")).to_have_text("complete")
    screenshot(page, "customer-information")


def test_publish_then_unpublish_on_a_local_controller(page, connect_station, identity, api):
    content = os.urandom(30_000)
    uploaded = api.post("/firmware-images/", data={"name": "Controller build",
                                                  "version": identity},
                        files={"file": ("lc.bin", content, "application/octet-stream")})
    assert uploaded.status_code == 201, uploaded.text
    image = uploaded.json()
    controller = connect_station(identity)
    controller.answers["PublishFirmware"] = {"status": "Accepted"}
    controller.answers["UnpublishFirmware"] = {"status": "Unpublished"}
    connect_station(identity + "-16", "1.6")
    page.goto("/firmware/")
    image_row = page.locator(f'#firmware-images tr[data-image="{image["id"]}"]')
    choice = image_row.locator("select[name=station]")
    expect(choice.locator(f'option[value="{identity}"]')).to_have_count(1)
    expect(choice.locator(f'option[value="{identity}-16"]')).to_have_count(0)  # 2.0.1 only
    choice.select_option(identity)
    image_row.locator(".firmware-publish").click()
    expect(page.locator(".flash").first).to_contain_text(
        f"Firmware Controller build {identity} sent to {identity} to publish")
    expect(page.locator(".flash").first).to_contain_text(": accepted.")
    _, action, payload = controller.next_call()
    assert action == "PublishFirmware" and payload["checksum"] == hashlib.md5(content).hexdigest()
    assert httpx.get(payload["location"], timeout=30).content == content
    location = f"http://{identity.lower()}.local/fw/{payload['checksum']}.bin"
    for status in ("Downloading", "Downloaded", "ChecksumVerified"):
        controller.call("PublishFirmwareStatusNotification",
                        {"status": status, "requestId": payload["requestId"]})
    controller.call("PublishFirmwareStatusNotification",
                    {"status": "Published", "requestId": payload["requestId"],
                     "location": [location]})
    page.reload()
    row = page.locator("#firmware-publications tr", has_text=identity)
    expect(row.locator(".publication-status")).to_have_text("Published")
    expect(row.locator(".locations")).to_have_text(location)
    expect(row).to_contain_text("sent → accepted → Downloading → Downloaded → ChecksumVerified → "
                                "Published")
    screenshot(page, "firmware-publications")
    row.locator(".firmware-unpublish").click()
    expect(page.locator(".flash").first).to_contain_text(
        f"UnpublishFirmware of Controller build {identity} at {identity}: Unpublished.")
    _, action, payload = controller.next_call()
    assert (action, payload) == ("UnpublishFirmware",
                                 {"checksum": hashlib.md5(content).hexdigest()})
    expect(row.locator(".publication-status")).to_have_text("unpublished")
    expect(row.locator(".firmware-unpublish")).to_have_count(0)


def test_publish_refusals_are_explained(dashboard, connect_station, identity, api):
    """Without the browser: what cannot be published is answered with a message, never a 500."""
    held = api.post("/firmware-images/", data={"name": "Held", "version": identity},
                    files={"file": ("held.bin", b"x" * 100, "application/octet-stream")}).json()
    external = api.post("/firmware-images/", json={"name": "Elsewhere", "version": identity,
                                                  "external_url": "https://vendor.example/e.bin"})
    connect_station(identity + "-16", "1.6")
    cases = [(held["id"], "", "Publish: choose a connected OCPP 2.0.1 station."),
             (held["id"], "CS-nowhere", "Publish: choose a connected OCPP 2.0.1 station."),
             (held["id"], identity + "-16", "Not published: PublishFirmware exists in OCPP 2.0.1 "
                                            "only"),
             (external.json()["id"], identity + "-16",
              "Not published: PublishFirmware needs an image held by the CSMS (MD5 checksum)")]
    for image_id, station, expected in cases:
        answer = dashboard.submit(f"/firmware/images/{image_id}/publish/", {"station": station},
                                  form_page="/firmware/")
        assert answer.status_code == 200 and answer.url.path == "/firmware/"
        assert expected in answer.text, expected
    assert api.get("/firmware-publications/", params={"image": held["id"]}).json()["count"] == 0
    token = dashboard.csrf_token("/firmware/")
    for path in ("/firmware/images/999999999/publish/",
                 "/firmware/publications/999999999/unpublish/"):
        assert dashboard.post(path, data={"csrfmiddlewaretoken": token}).status_code == 404
