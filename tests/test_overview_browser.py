"""The home page in Chromium: its figures equal the API's, its 24 h chart has axes, a station
going offline shows without a reload, and the icon is served."""
from tests.browser_helpers import in_thread, screenshot, wait_live
from tests.helpers import eventually
from tests.overview_helpers import ago, new_transaction_id, session, start_network

FIGURES = ["stations.online", "stations.total", "stations.offline", "stations.faulted",
           "stations.rejected", "sessions_running", "alerts.active", "attention_total",
           "connectors.total", "connectors.available", "connectors.occupied",
           "connectors.faulted", "connectors.offline"]


def api_figure(figures, path):
    for key in path.split("."):
        figures = figures[key]
    return figures


def page_figures(page):
    return {path: page.locator(f'[data-figure="{path}"]').first.inner_text() for path in FIGURES} | {
        "power_kw": page.locator('[data-figure="power_kw"]').inner_text(),
        "energy_today_kwh": page.locator('[data-figure="energy_today_kwh"]').inner_text()}


def expected_figures(api):
    figures = api.get("/overview/").json()
    expected = {path: str(api_figure(figures, path)) for path in FIGURES}
    expected["power_kw"] = f"{figures['power_kw']:.1f}"
    expected["energy_today_kwh"] = f"{figures['energy_today_kwh']:.1f}"
    return expected, figures


def test_overview_equals_the_api_and_follows_a_station_going_offline(
        page, api, connect_station, identity):
    # Off the test thread: Playwright's event loop makes Django refuse the ORM here.
    stations, names = in_thread(start_network, connect_station, identity)
    charging = stations[0]
    transaction_id = new_transaction_id()
    session(charging, transaction_id, 0, "Started", ago(minutes=3), 2000, power=11.0)
    session(charging, transaction_id, 1, "Updated", ago(seconds=2), 2500, power=11.0)

    page.goto("/")
    wait_live(page)
    page.evaluate("window.notReloaded = true")  # a reload would drop this marker

    def agree():
        expected, figures = expected_figures(api)
        return page_figures(page) == expected and figures
    figures = eventually(agree)
    assert figures["sessions_running"] >= 1 and figures["power_kw"] >= 11.0
    rows = page.locator("#attention-rows tr")
    assert rows.count() == min(figures["attention_total"], len(figures["attention"])) or \
        figures["attention_total"] == 0
    shown = [rows.nth(index).get_attribute("data-identity") for index in range(rows.count())]
    assert shown == [row["identity"] for row in figures["attention"]]

    # The chart: both axes with their units, and the two series.
    chart = page.evaluate("""() => {
        const chart = Chart.getChart('history-chart');
        return {scales: Object.fromEntries(Object.entries(chart.scales).map(
                    ([id, scale]) => [id, scale.options.title.text])),
                series: chart.data.datasets.map((set) => [set.label, set.data.length]),
                now: chart.data.datasets.map((set) => set.data[set.data.length - 1])};
    }""")
    assert chart["scales"] == {"x": "time (UTC), 15-minute buckets", "power": "kW",
                               "sessions": "sessions"}
    assert chart["series"] == [["power (kW)", 96], ["sessions running", 96]]
    power_now, sessions_now = chart["now"]
    assert power_now >= 11.0 and sessions_now >= 1  # the current bucket is live
    screenshot(page, "overview")

    # A station goes offline: the overview re-reads itself, no reload.
    offline_before = int(page.locator('[data-figure="stations.offline"]').inner_text())
    stations[1].close()  # the faulted 1.6 station
    eventually(lambda: int(page.locator('[data-figure="stations.offline"]').inner_text())
               >= offline_before + 1)
    eventually(lambda: page_figures(page) == expected_figures(api)[0])
    assert page.evaluate("window.notReloaded") is True
    screenshot(page, "overview-after-offline")


def test_favicon_is_served(dashboard, page):
    icon = dashboard.get("/favicon.ico", follow_redirects=True)
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    page.goto("/")
    href = page.locator('link[rel="icon"]').get_attribute("href")
    assert dashboard.get(href).status_code == 200

