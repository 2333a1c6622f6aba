"""The local authorization list from the station page in a browser: edit the list, send it Full,
see the version and entries the station holds, ask the version, send a Differential; bad tokens are
a message."""
import pytest
from playwright.sync_api import expect

from tests.browser_helpers import in_thread, screenshot
from tests.certificate_helpers import answering
from tests.transactions_helpers import new_token

pytestmark = pytest.mark.browser


def test_send_local_list_and_get_its_version_201(page, connect_station, identity):
    first, second = in_thread(new_token), in_thread(new_token)
    station = connect_station(identity)
    sent = answering(station, "SendLocalList", {"status": "Accepted"})
    answering(station, "GetLocalListVersion", lambda payload: {"versionNumber": 1})

    page.goto(f"/stations/{identity}/")
    panel = page.locator("#local-list-panel")
    expect(panel.locator("#local-list-held-version")).to_have_text("0")
    panel.locator("textarea[name=id_tokens]").fill(f"{first.id_token}\n{second.id_token}\n")
    panel.locator("select[name=update_type]").select_option("Full")
    panel.locator("#local-list-send").click()
    expect(page.locator(".flash.command").first).to_contain_text("SendLocalList")
    expect(page.locator(".flash.command").first).to_contain_text("Accepted")
    full = sent.get(timeout=5)
    assert (full["versionNumber"], full["updateType"]) == (1, "Full")
    assert sorted(e["idToken"]["idToken"] for e in full["localAuthorizationList"]) == sorted(
        [first.id_token, second.id_token])

    panel = page.locator("#local-list-panel")
    expect(panel.locator("#local-list-held-version")).to_have_text("1")
    panel.locator(".local-list-entries summary").click()
    expect(panel.locator(f'li[data-entry="{first.id_token}"]')).to_contain_text("Accepted")
    expect(panel.locator("tr[data-local-list-update]").first).to_have_attribute("data-outcome", "Accepted")
    # The edited list stays the CSMS-side list: the form shows it again.
    expect(panel.locator("textarea[name=id_tokens]")).to_have_value(
        "\n".join(sorted([first.id_token, second.id_token])))

    panel.locator("#local-list-get-version").click()
    expect(page.locator(".flash.command").first).to_contain_text("GetLocalListVersion")
    expect(page.locator("#local-list-reported-version")).to_have_text("1")
    screenshot(page, "local-list-panel")

    panel = page.locator("#local-list-panel")
    panel.locator("textarea[name=id_tokens]").fill(first.id_token)
    panel.locator("select[name=update_type]").select_option("Differential")
    panel.locator("#local-list-send").click()
    expect(page.locator(".flash.command").first).to_contain_text("Accepted")
    differential = sent.get(timeout=5)
    assert (differential["versionNumber"], differential["updateType"]) == (2, "Differential")
    # Only the removed token goes out, without info (it leaves the station's list).
    assert differential["localAuthorizationList"] == [
        {"idToken": {"idToken": second.id_token, "type": "ISO14443"}}]
    expect(page.locator("#local-list-held-version")).to_have_text("2")


def test_local_list_refused_and_bad_tokens_16(page, connect_station, identity):
    token = in_thread(new_token)
    station = connect_station(identity, "1.6")
    answering(station, "SendLocalList", {"status": "NotSupported"})
    page.goto(f"/stations/{identity}/")
    panel = page.locator("#local-list-panel")
    panel.locator("textarea[name=id_tokens]").fill(f"{token.id_token}\nNO-SUCH-CARD")
    panel.locator("#local-list-send").click()
    expect(page.locator(".flash.error").first).to_contain_text("Unknown id tokens: NO-SUCH-CARD")

    panel = page.locator("#local-list-panel")
    panel.locator("textarea[name=id_tokens]").fill(token.id_token)
    panel.locator("#local-list-send").click()
    expect(page.locator(".flash.command").first).to_contain_text("NotSupported")
    expect(page.locator("#local-list tr[data-local-list-update]").first).to_have_attribute(
        "data-outcome", "NotSupported")
    expect(page.locator("#local-list-held-version")).to_have_text("0")
