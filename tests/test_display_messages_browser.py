"""Display messages on the dashboard in a browser: the station panel's form sends a message and
lists the station's answer, Clear clears it, a refusal shows the station's reason, the
transaction page lists its messages; and the token list's Erase button asks before erasing."""
import uuid

import pytest
from playwright.sync_api import expect

from stations.models import DisplayMessage
from tests.browser_helpers import in_thread
from tests.transactions_helpers import event, new_token
from transactions.models import IdToken, Transaction

pytestmark = pytest.mark.browser


def test_add_list_and_clear_from_the_station_page(page, connect_station, identity):
    station = connect_station(identity)
    station.answers["SetDisplayMessage"] = {"status": "Accepted"}
    station.answers["ClearDisplayMessage"] = {"status": "Accepted"}
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    token = in_thread(new_token)
    station.call("TransactionEvent", event("Started", 0, 0, transaction_id, trigger="Authorized",
                                           token=token, evse=1, meter_wh=100))
    page.goto(f"/stations/{identity}/")
    form = page.locator("#display-form")
    form.locator("textarea[name=content]").fill("Tap your card to stop")
    form.locator("select[name=priority]").select_option("InFront")
    form.locator("select[name=state]").select_option("Charging")
    form.locator("input[name=language]").fill("en")
    form.locator("input[name=transaction_id]").fill(transaction_id)
    form.locator("button[type=submit]").click()

    row = page.locator("#display-message-list tr[data-status=accepted]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Tap your card to stop")
    expect(row).to_contain_text("InFront")
    expect(row).to_contain_text(transaction_id)
    message = in_thread(lambda: DisplayMessage.objects.get(station__identity=identity))
    assert (message.state, message.language, message.status) == ("Charging", "en", "accepted")

    # The transaction's page lists the message sent for it.
    pk = in_thread(lambda: Transaction.objects.get(station__identity=identity,
                                                   transaction_id=transaction_id).pk)
    page.goto(f"/transactions/{pk}/")
    expect(page.locator("#transaction-display-messages")).to_contain_text("Tap your card to stop")

    page.goto(f"/stations/{identity}/")
    page.locator("#display-message-list .display-clear").click()
    cleared = page.locator(f"#display-message-list tr[data-display-message='{message.message_id}']")
    expect(cleared).to_have_attribute("data-status", "cleared")
    expect(page.locator("#display-message-list .display-clear")).to_have_count(0)

    station.answers["SetDisplayMessage"] = {"status": "NotSupportedPriority"}
    form = page.locator("#display-form")
    form.locator("textarea[name=content]").fill("Always on top")
    form.locator("select[name=priority]").select_option("AlwaysFront")
    form.locator("button[type=submit]").click()
    refused = page.locator("#display-message-list tr[data-status=rejected]")
    expect(refused).to_contain_text("NotSupportedPriority")
    expect(page.locator(".flash.error")).to_contain_text("rejected (NotSupportedPriority)")


def test_form_errors_are_shown_and_nothing_sent(page, connect_station, identity):
    connect_station(identity)
    page.goto(f"/stations/{identity}/")
    form = page.locator("#display-form")
    form.locator("textarea[name=content]").fill("Late")
    form.locator("input[name=start_time]").fill("2030-01-02T10:00")
    form.locator("input[name=end_time]").fill("2030-01-02T09:00")
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash.error")).to_contain_text("end_time must come after start_time")
    assert not in_thread(lambda: DisplayMessage.objects.filter(
        station__identity=identity).exists())


def test_erase_button_asks_then_erases(page):
    token = in_thread(lambda: new_token(personal_message="Hi Bob"))
    page.goto(f"/id-tokens/?q={token.id_token}")
    eraser = page.locator(f"tr[data-token='{token.id_token}'] form.token-erase")
    eraser.locator("input[name=reason]").fill("DSR-88")
    page.once("dialog", lambda dialog: dialog.dismiss())
    eraser.locator("button[type=submit]").click()
    assert in_thread(lambda: IdToken.objects.get(pk=token.pk).id_token) == token.id_token

    page.once("dialog", lambda dialog: dialog.accept())
    eraser.locator("button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text(f"Token #{token.pk} erased")
    erased = in_thread(lambda: IdToken.objects.get(pk=token.pk))
    assert erased.id_token.startswith("erased-") and erased.personal_message == ""
    assert in_thread(lambda: erased.erasures.get().reason) == "DSR-88"
