"""The transaction page's Close button in a browser: confirmation, CSRF-protected POST, and the
audit line (who, when, why) in place of the button."""
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser_helpers import in_thread
from tests.transactions_helpers import event, new_token
from transactions.models import Transaction

pytestmark = pytest.mark.browser


def test_close_button_asks_then_closes(page, connect_station, identity):
    station = connect_station(identity)
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    token = in_thread(new_token)
    station.call("TransactionEvent", event("Started", 0, 0, transaction_id, trigger="Authorized",
                                           token=token, evse=1, meter_wh=100))
    pk = in_thread(lambda: Transaction.objects.get(station__identity=identity,
                                                   transaction_id=transaction_id).pk)
    page.goto(f"/transactions/{pk}/")
    page.fill("#transaction-close input[name=reason]", "Charger removed from site")

    # Dismissing the confirmation sends nothing.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("#transaction-close button[type=submit]")
    expect(page.locator("#transaction-close")).to_be_visible()
    assert in_thread(lambda: Transaction.objects.get(pk=pk).state) == "Active"

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#transaction-close button[type=submit]")
    expect(page.locator("#transaction-settlement")).to_contain_text("Closed by operator")
    expect(page.locator("#transaction-settlement")).to_contain_text("Charger removed from site")
    expect(page.locator("#transaction-close")).to_have_count(0)
    closed = in_thread(lambda: Transaction.objects.get(pk=pk))
    assert closed.state == "Ended" and closed.stopped_reason == "ClosedByOperator"
