"""Webhooks in a browser: an operator adds a webhook on the dashboard, its page shows the delivery
log of a real station's event, and Redeliver sends the same event again."""
import pytest
from playwright.sync_api import expect

from tests.browser_helpers import DashboardClient, in_thread, screenshot
from tests.helpers import eventually
from tests.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.browser
SECRET = "browser-webhook-secret-0123456789"


def test_add_a_webhook_see_its_delivery_log_and_redeliver(page, api, connect_station, identity):
    receiver = WebhookReceiver(SECRET, fail_first=1)
    try:
        page.goto("/webhooks/")
        form = page.locator("#webhook-form")
        form.locator("input[name=url]").fill("not a url")
        form.locator("input[name=description]").fill(f"test {identity}")
        form.locator("button[type=submit]").click()
        expect(page.locator("#webhook-form .error").first).to_contain_text("URL")
        form = page.locator("#webhook-form")
        form.locator("input[name=url]").fill(receiver.url)
        form.locator("input[name=secret]").fill(SECRET)
        form.locator('input[name=event_types][value="station.online"]').check()
        form.locator("button[type=submit]").click()
        expect(page.locator(".flash").first).to_contain_text("added")
        subscription_path = page.url

        connect_station(identity)
        event = eventually(lambda: receiver.events("station.online", identity))[0]
        page.goto(subscription_path)
        row = page.locator("#deliveries tr.delivery", has_text=event["id"])
        expect(row.locator(".delivery-status")).to_have_text("delivered")
        expect(row.locator("tr.attempt")).to_have_count(2)
        expect(row.locator("tr.attempt").first.locator(".status-code")).to_have_text("503")
        expect(row.locator("tr.attempt").first.locator(".error")).to_have_text("HTTP 503")
        expect(row.locator("tr.attempt").nth(1).locator(".status-code")).to_have_text("200")

        row.locator("button.redeliver").click()
        expect(page.locator(".flash").first).to_contain_text("being sent again")
        eventually(lambda: len(receiver.events("station.online", identity)) == 2)
        page.reload()
        row = page.locator("#deliveries tr.delivery", has_text=event["id"])
        expect(row.locator("tr.attempt")).to_have_count(3)
        expect(row.locator("tr.attempt").nth(2)).to_contain_text("redeliver:dashboard:operator")
        screenshot(page, "webhook-delivery-log")
        assert all(row["signature_valid"] for row in receiver.received)
        assert {row["event"]["id"] for row in receiver.received
                if row["event"]["data"].get("station") == identity} == {event["id"]}
    finally:
        for subscription in api.get("/webhooks/").json()["results"]:
            if subscription["url"] == receiver.url:
                api.delete(f"/webhooks/{subscription['id']}/")
        receiver.close()


def test_webhook_pages_are_for_staff_only(csms):
    from django.contrib.auth.models import User

    in_thread(User.objects.create_user, "webhook-viewer", password="viewer-password")
    with DashboardClient(base_url=csms.base_url, timeout=30) as client:
        client.log_in("webhook-viewer", "viewer-password")
        assert client.get("/webhooks/").status_code == 403
        assert "/webhooks/" not in client.get("/stations/").text
