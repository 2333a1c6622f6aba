"""The transaction page's meter values: one row per timestamp with measurands and phases as
columns (units in the headers), paginated in the database for a session of >1,000 values."""
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser_helpers import in_thread
from tests.meter_series import send_long_session
from tests.transactions_helpers import new_token
from transactions.meter_table import TIMESTAMPS_PER_PAGE
from transactions.models import MeterValue, Transaction

pytestmark = pytest.mark.browser
STEPS = 250  # 250 timestamps x 5 sampled values


def test_long_session_table_is_per_timestamp_and_paginated(page, connect_station, identity):
    station = connect_station(identity)
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    send_long_session(station, transaction_id, in_thread(new_token), STEPS)
    pk = in_thread(lambda: Transaction.objects.get(station__identity=identity,
                                                   transaction_id=transaction_id).pk)
    stored = in_thread(lambda: MeterValue.objects.filter(transaction_id=pk).count())
    assert stored == STEPS * 5 > 1000

    page.goto(f"/transactions/{pk}/")
    table = page.locator("#meter-table")
    headers = table.locator("thead th").all_inner_texts()
    assert headers == ["Time (UTC)", "Context", "Current.Import L1 (A)", "Current.Import L2 (A)",
                       "Current.Import L3 (A)", "Energy.Active.Import.Register (Wh)",
                       "Power.Active.Import (W)"]
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(TIMESTAMPS_PER_PAGE)
    # The first timestamp: the start readings, power sent in kW shown in W; hover gives as sent.
    first = rows.nth(0).locator("td").all_inner_texts()
    assert first == ["2026-03-01 08:00:00", "Transaction.Begin", "16", "17", "18", "1000", "10800"]
    assert rows.nth(0).locator("td").nth(6).locator("span").get_attribute("title") == \
        "as sent: 10.8 kW (Transaction.Begin)"
    assert rows.nth(1).locator("td").all_inner_texts() == [
        "2026-03-01 08:00:10", "Sample.Periodic", "16", "17", "18", "1030", "10900"]
    pager = page.locator("#meter-pager")
    expect(pager).to_contain_text(f"timestamps 1–100 of {STEPS} (page 1 of 3)")

    pager.get_by_role("link", name="later").click()
    expect(pager).to_contain_text(f"timestamps 101–200 of {STEPS} (page 2 of 3)")
    assert rows.nth(0).locator("td").nth(0).inner_text() == "2026-03-01 08:16:40"  # step 100
    pager.get_by_role("link", name="last").click()
    expect(pager).to_contain_text("page 3 of 3")
    expect(rows).to_have_count(STEPS - 2 * TIMESTAMPS_PER_PAGE)
    last = rows.nth(STEPS - 2 * TIMESTAMPS_PER_PAGE - 1).locator("td").all_inner_texts()
    assert last[0] == "2026-03-01 08:41:30" and last[5] == str(1000 + 30 * (STEPS - 1))

