"""The transactions list in Chromium: a from/to date range picked in the filter form gives the
rows of those days, a duration per row, and totals (count, kWh, duration) equal to the API's
`transactions/totals/` for the same filter."""
import uuid
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.browser_helpers import in_thread, screenshot, wait_live
from tests.transactions_helpers import event, new_token

pytestmark = pytest.mark.browser
DAY = 86400


def ended_session(station, token, start, seconds, wh):
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    station.call("TransactionEvent", event("Started", 0, start, transaction_id, trigger="Authorized",
                                           token=token, meter_wh=1000, evse=1))
    station.call("TransactionEvent", event("Ended", 1, start + seconds, transaction_id,
                                           meter_wh=1000 + wh, stoppedReason="Local"))
    return transaction_id


def test_date_range_totals_equal_the_api(page, connect_station, identity, api):
    station = connect_station(identity)
    token = in_thread(new_token)
    # 2026-03-01 08:00 (1 h 30 min, 7.5 kWh), 2026-03-03 23:00 (45 min, 2.25 kWh), and
    # 2026-03-04 08:00 outside the range.
    inside = [ended_session(station, token, 0, 5400, 7500),
              ended_session(station, token, 2 * DAY + 15 * 3600, 2700, 2250)]
    outside = ended_session(station, token, 3 * DAY, 600, 1000)

    page.goto(f"/transactions/?station={identity}")
    form = page.locator("#transaction-filters")
    form.locator("input[name=date_from]").fill("2026-03-01")
    form.locator("input[name=date_to]").fill("2026-03-03")
    form.get_by_role("button", name="Filter").click()
    page.wait_for_url("**date_to=2026-03-03**")
    rows = page.locator("#transactions tbody tr")
    expect(rows).to_have_count(2)
    assert outside not in rows.all_inner_texts()
    durations = {row.locator("td").nth(0).inner_text(): row.locator("td").nth(8).inner_text()
                 for row in rows.all()}
    assert durations == {inside[0]: "1 h 30 min", inside[1]: "45 min 00 s"}

    totals = page.locator("#transaction-totals")
    expect(totals).to_contain_text("2 transactions")
    expect(totals).to_contain_text("9.750 kWh")
    expect(totals).to_contain_text("2 h 15 min")
    screenshot(page, "transactions-list-date-range")
    shown = {"count": int(totals.get_attribute("data-count")),
             "energy_kwh": totals.get_attribute("data-energy-kwh"),
             "duration_seconds": int(totals.get_attribute("data-duration-seconds"))}
    figures = api.get("/transactions/totals/", params={
        "station": identity, "date_from": "2026-03-01", "date_to": "2026-03-03"}).json()
    assert shown == figures == {"count": 2, "energy_kwh": "9.750", "duration_seconds": 8100}
    listed = api.get("/transactions/", params={
        "station": identity, "date_from": "2026-03-01", "date_to": "2026-03-03"}).json()
    assert {t["transaction_id"] for t in listed["results"]} == set(inside)
    assert sum(Decimal(t["energy_wh"]) for t in listed["results"]) == Decimal(9750)


def test_totals_follow_pushed_sessions(page, connect_station, identity):
    station = connect_station(identity)
    page.goto(f"/transactions/?station={identity}&date_from=2026-03-01")
    totals = page.locator("#transaction-totals")
    expect(totals).to_contain_text("0 transactions")
    wait_live(page)
    transaction_id = ended_session(station, in_thread(new_token), 0, 1200, 3000)
    expect(page.locator("#transactions tbody tr")).to_have_count(1)
    expect(page.locator("#transactions tbody tr")).to_contain_text(transaction_id)
    expect(totals).to_contain_text("1 transaction ·")
    expect(totals).to_contain_text("3.000 kWh")
    expect(totals).to_contain_text("20 min 00 s")
