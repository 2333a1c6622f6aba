"""The station page in a browser follows pushes only: a remote start shows its outcome and the
running transaction where it was sent, and the commands and message-log panels update, with no
request made on a timer."""
import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser_helpers import screenshot, wait_live
from tests.helpers import eventually

pytestmark = pytest.mark.browser


@pytest.fixture
def id_token(api):
    token = f"LIVE{uuid.uuid4().hex[:12].upper()}"
    created = api.post("/id-tokens/", json={"id_token": token, "type": "ISO14443"})
    assert created.status_code == 201, created.text
    return token


def record_requests(page):
    """The page's fetch/XHR requests, as URLs, from now on."""
    seen = []
    page.on("request", lambda request: seen.append(request.url)
            if request.resource_type in ("fetch", "xhr") else None)
    return seen


def test_remote_start_shows_its_outcome_and_the_session_without_reload(
        page, simulated_station, identity, id_token):
    simulated_station(identity, "2.0.1", session_seconds=(600, 600), meter_interval=30)
    page.goto(f"/stations/{identity}/")
    wait_live(page)
    expect(page.locator("#station-transactions")).to_contain_text("No transaction running")
    page.evaluate("window.notReloaded = true")

    page.fill("#remote-start-form input[name=id_token]", id_token)
    page.fill("#remote-start-form input[name=evse_id]", "1")
    page.click("#remote-start-form button[type=submit]")  # a form post: one page load
    page.wait_for_selector("#live-state[data-state='open']")
    page.evaluate("window.notReloaded = true")

    flash = page.locator(".flash.command")
    expect(flash).to_contain_text("RequestStartTransaction")
    # The line the form left is replaced by the station's answer once it comes.
    expect(flash).to_contain_text("accepted (the station answered Accepted)")
    expect(flash).to_have_class(re.compile(r"\bsuccess\b"))
    # The running transaction appears in the Charging panel, without a reload.
    expect(page.locator("#station-transactions .status-charging")).to_have_count(1)
    expect(page.locator("#station-transactions")).to_contain_text(id_token)
    # And the commands panel shows the command with its outcome.
    expect(page.locator("#commands tbody tr").first).to_contain_text("RequestStartTransaction")
    expect(page.locator("#commands tbody tr").first.locator(".badge")).to_have_text("accepted")
    assert page.evaluate("window.notReloaded") is True
    screenshot(page, "station-page-remote-start")


def test_commands_and_message_log_are_pushed_not_polled(page, connect_station, identity, api):
    station = connect_station(identity, "2.0.1", auto_answer=False)
    page.goto(f"/stations/{identity}/")
    wait_live(page)
    expect(page.locator("#commands tbody tr.empty")).to_have_count(1)
    requests = record_requests(page)

    # Nothing happens at the station: nothing is asked of the server for a few seconds.
    page.wait_for_timeout(5000)
    assert requests == [], requests

    # A frame from the station reaches the message log, pushed.
    station.call("Heartbeat", {})
    expect(page.locator("#message-log tbody tr[data-id]").first).to_contain_text("Heartbeat")

    # A command sent from elsewhere (the API) appears, then its answer.
    sent = api.post(f"/stations/{identity}/commands/",
                    json={"action": "TriggerMessage", "payload": {"requestedMessage": "Heartbeat"}})
    assert sent.status_code in (200, 201, 202), sent.text
    message_id, action, _ = station.next_call()
    assert action == "TriggerMessage"
    row = page.locator("#commands tbody tr[data-command]").first
    expect(row).to_contain_text("TriggerMessage")
    expect(row.locator(".badge")).to_have_text("sent")
    station.reply(message_id, {"status": "Rejected"})
    expect(row.locator(".badge")).to_have_text("rejected")

    # Every read was caused by one of these pushes, none by a timer.
    assert any("/log/" in url for url in requests), requests
    assert any("/commands/" in url for url in requests), requests
    # Once the reads these pushes caused are over, the page stays quiet.
    settle(page, requests)
    settled = len(requests)
    page.wait_for_timeout(4000)
    assert requests[settled:] == [], requests[settled:]


def settle(page, requests, quiet_ms=2000):
    """Wait until the page has made no request for `quiet_ms`."""
    def quiet():
        before = len(requests)
        page.wait_for_timeout(quiet_ms)
        return len(requests) == before
    eventually(quiet, timeout=30)
