"""The transaction page's energy and power chart in a browser: drawn by the vendored chart library
from the stored meter values (energy since the first reading, power as sent or derived)."""
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser_helpers import in_thread
from tests.transactions_helpers import T0, event, new_token
from transactions.models import Transaction

pytestmark = pytest.mark.browser


def test_meter_chart_points(page, connect_station, identity):
    station = connect_station(identity)
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    token = in_thread(new_token)
    station.call("TransactionEvent", event("Started", 0, 0, transaction_id, trigger="Authorized",
                                           token=token, evse=1, meter_wh=1000))
    station.call("TransactionEvent", event("Updated", 1, 900, transaction_id, meter_wh=3750))
    station.call("TransactionEvent", event("Updated", 2, 1800, transaction_id, meter_wh=5000))
    pk = in_thread(lambda: Transaction.objects.get(station__identity=identity,
                                                   transaction_id=transaction_id).pk)
    page.goto(f"/transactions/{pk}/")
    expect(page.locator("#meter-chart")).to_be_visible()
    page.wait_for_function("window.Chart && Chart.getChart(document.getElementById('meter-chart'))")
    datasets = page.evaluate("Chart.getChart(document.getElementById('meter-chart')).data.datasets"
                             ".map((d) => ({label: d.label, points: d.data.map((p) => [p.x, p.y])}))")
    start = int(T0.timestamp() * 1000)
    assert datasets[0]["label"] == "energy (kWh)"
    assert datasets[0]["points"] == [[start, 0], [start + 900_000, 2.75], [start + 1_800_000, 4]]
    # No power readings: derived from the energy between readings (2.75 kWh in 15 min = 11 kW).
    assert datasets[1]["label"] == "power (kW)"
    assert datasets[1]["points"] == [[start + 900_000, 11], [start + 1_800_000, 5]]
