"""The transaction page's energy/power chart in Chromium for a long session: axes with titles and
units, tooltips with units, and zoom on the time axis (wheel, dragged range, shift+drag pan,
reset); a screenshot is kept as a test artifact."""
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser_helpers import in_thread, screenshot
from tests.meter_series import INTERVAL, send_long_session
from tests.transactions_helpers import T0, new_token
from transactions.models import Transaction

pytestmark = pytest.mark.browser
STEPS = 360  # an hour of readings every 10 s
CHART = "Chart.getChart(document.getElementById('meter-chart'))"


def x_range(page):
    return page.evaluate(f"(() => {{ const x = {CHART}.scales.x; return [x.min, x.max]; }})()")


def wait_range_change(page, before):
    page.wait_for_function(
        f"(([min, max]) => {{ const x = {CHART}.scales.x; return x.min !== min || x.max !== max; }})",
        arg=before)
    return x_range(page)


def test_chart_axes_units_and_zoom(page, connect_station, identity):
    station = connect_station(identity)
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    send_long_session(station, transaction_id, in_thread(new_token), STEPS)
    pk = in_thread(lambda: Transaction.objects.get(station__identity=identity,
                                                   transaction_id=transaction_id).pk)
    page.goto(f"/transactions/{pk}/")
    page.wait_for_function(f"window.Chart && window.ChartZoom && {CHART}")
    axes = page.evaluate(f"""(() => {{ const c = {CHART};
        return Object.fromEntries(Object.entries(c.scales).map(([id, s]) => [id, {{
            title: s.options.title.text, grid: s.options.grid.display,
            ticks: s.ticks.map((t) => t.label)}}])); }})()""")
    assert axes["x"]["title"] == "time (UTC)" and axes["x"]["grid"]
    assert axes["x"]["ticks"][0] == "08:00:00"
    assert axes["energy"]["title"] == "energy (kWh)" and "0 kWh" in axes["energy"]["ticks"]
    assert axes["power"]["title"] == "power (kW)" and all(t.endswith(" kW") for t in axes["power"]["ticks"])
    # Energy since the first reading: 30 Wh a step.
    assert page.evaluate(f"{CHART}.data.datasets[0].label") == "energy (kWh)"
    start = int(T0.timestamp() * 1000)
    end = start + (STEPS - 1) * INTERVAL * 1000
    assert x_range(page) == [start, end]
    screenshot(page, "transaction-chart-long-session")

    canvas = page.locator("#meter-chart")
    box = canvas.bounding_box()
    area = page.evaluate(f"(() => {{ const a = {CHART}.chartArea; return [a.left, a.right, a.top, a.bottom]; }})()")
    left, right = box["x"] + area[0], box["x"] + area[1]
    middle_y = box["y"] + (area[2] + area[3]) / 2

    # A tooltip names the time and each value with its unit.
    page.mouse.move(left + (right - left) / 2, middle_y)
    tooltip = page.evaluate(f"""(() => {{ const t = {CHART}.tooltip;
        return [t.title, t.body.map((b) => b.lines).flat()]; }})()""")
    assert tooltip[0][0].startswith("2026-03-01 08:") and tooltip[0][0].endswith(" UTC")
    assert any(line.startswith("energy: ") and line.endswith(" kWh") for line in tooltip[1])
    assert any(line.startswith("power: ") and line.endswith(" kW") for line in tooltip[1])

    reset = page.locator("#meter-chart-reset")
    expect(reset).to_be_disabled()
    # The wheel zooms in on the time axis around the pointer.
    page.mouse.wheel(0, -600)
    wheeled = wait_range_change(page, [start, end])
    assert start <= wheeled[0] and wheeled[1] <= end and wheeled[1] - wheeled[0] < end - start
    expect(reset).to_be_enabled()
    reset.click()
    page.wait_for_function(f"{CHART}.scales.x.min === {start} && {CHART}.scales.x.max === {end}")
    expect(reset).to_be_disabled()

    # Dragging across a quarter to a half of the width shows about that quarter of the hour.
    width = right - left
    page.mouse.move(left + width * 0.25, middle_y)
    page.mouse.down()
    page.mouse.move(left + width * 0.4, middle_y, steps=5)
    page.mouse.move(left + width * 0.5, middle_y, steps=5)
    page.mouse.up()
    dragged = wait_range_change(page, [start, end])
    span = end - start
    assert abs(dragged[0] - (start + span * 0.25)) < span * 0.02
    assert abs(dragged[1] - (start + span * 0.5)) < span * 0.02
    screenshot(page, "transaction-chart-zoomed")

    # Shift+drag pans: the range moves earlier, its width stays.
    page.keyboard.down("Shift")
    page.mouse.move(left + width * 0.3, middle_y)
    page.mouse.down()
    page.mouse.move(left + width * 0.5, middle_y, steps=10)
    page.mouse.move(left + width * 0.7, middle_y, steps=10)
    page.mouse.up()
    page.keyboard.up("Shift")
    panned = wait_range_change(page, dragged)
    assert panned[0] < dragged[0]
    assert abs((panned[1] - panned[0]) - (dragged[1] - dragged[0])) < 1000
