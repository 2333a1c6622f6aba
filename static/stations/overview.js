// The network overview page: renders the figures of /api/v1/overview/ and re-reads them after
// dashboard pushes (debounced: a busy network re-reads at most once a second, never on a timer).
(function () {
  "use strict";
  const root = document.getElementById("overview");
  if (!root) return;
  const SUBSCRIBED_KINDS = ["station", "transaction", "alert", "station-list"];
  const QUIET_MS = 400;   // wait for the burst of pushes to end...
  const MAX_WAIT_MS = 1500;  // ...but never longer than this after the first one
  let chart = null;

  function figure(data, path) {
    return path.split(".").reduce((value, key) => (value == null ? value : value[key]), data);
  }
  function utc(iso) {
    return iso ? iso.replace("T", " ").replace(/(\.\d+)?Z$/, "") + " UTC" : "";
  }
  function cell(row, text, href) {
    const td = row.insertCell();
    if (href) {
      const link = document.createElement("a");
      link.href = href;
      link.textContent = text;
      td.append(link);
    } else {
      td.textContent = text;
    }
    return td;
  }
  function stationUrl(identity) {
    return root.dataset.stationUrl.replace("__identity__", encodeURIComponent(identity));
  }
  function fillRows(tbody, items, empty, build) {
    tbody.replaceChildren();
    if (!items.length) {
      const row = tbody.insertRow();
      row.className = "empty";
      const td = cell(row, empty);
      td.colSpan = 3;
      return;
    }
    items.forEach((item) => build(tbody.insertRow(), item));
  }

  function render(data) {
    root.querySelectorAll("[data-figure]").forEach((element) => {
      const value = figure(data, element.dataset.figure);
      if (element.dataset.figure === "generated_at") element.textContent = utc(value);
      else if (element.dataset.decimals) element.textContent = Number(value).toFixed(Number(element.dataset.decimals));
      else element.textContent = value;
    });
    const total = data.connectors.total;
    root.querySelectorAll("[data-segment]").forEach((segment) => {
      const count = data.connectors[segment.dataset.segment];
      segment.style.width = (total ? (100 * count) / total : 0) + "%";
      segment.title = segment.title.replace(/\d+$/, count);
    });
    fillRows(document.getElementById("attention-rows"), data.attention,
      "Every station is online, accepted and without faults.", (row, station) => {
        row.dataset.identity = station.identity;
        cell(row, station.identity, stationUrl(station.identity));
        cell(row, station.reasons.join(", "));
        cell(row, utc(station.connection_changed_at));
      });
    fillRows(document.getElementById("alert-rows"), data.alerts.latest, "No active alerts.", (row, alert) => {
      cell(row, alert.station, stationUrl(alert.station));
      const what = cell(row, alert.title);
      if (alert.message) {
        const message = document.createElement("span");
        message.className = "muted";
        message.textContent = " " + alert.message;
        what.append(message);
      }
      cell(row, utc(alert.raised_at));
    });
    drawHistory(data.history);
    root.dataset.generatedAt = data.generated_at;
  }

  function drawHistory(history) {
    if (!window.Chart) return;
    const labels = history.points.map((point) => point.start.slice(11, 16));
    const power = history.points.map((point) => point.power_kw);
    const sessions = history.points.map((point) => point.sessions);
    if (chart) {
      chart.data.labels = labels;
      chart.data.datasets[0].data = power;
      chart.data.datasets[1].data = sessions;
      chart.update("none");
      return;
    }
    chart = new window.Chart(document.getElementById("history-chart"), {
      data: {
        labels,
        datasets: [
          {type: "line", label: "power (kW)", data: power, yAxisID: "power", borderColor: "#e08e0b",
           backgroundColor: "rgba(224,142,11,.15)", fill: true, pointRadius: 0, tension: .2, order: 1},
          {type: "bar", label: "sessions running", data: sessions, yAxisID: "sessions",
           backgroundColor: "rgba(47,111,179,.45)", order: 2},
        ],
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        interaction: {mode: "index", intersect: false},
        scales: {
          x: {title: {display: true, text: "time (UTC), 15-minute buckets"}, ticks: {maxTicksLimit: 13}},
          power: {position: "left", beginAtZero: true, title: {display: true, text: "kW"}},
          sessions: {position: "right", beginAtZero: true, title: {display: true, text: "sessions"},
                     ticks: {precision: 0}, grid: {drawOnChartArea: false}},
        },
        plugins: {
          tooltip: {callbacks: {
            title: (items) => items.length ? utc(history.points[items[0].dataIndex].start) : "",
            label: (item) => item.dataset.yAxisID === "power"
              ? ` average power ${item.parsed.y.toFixed(2)} kW`
              : ` ${item.parsed.y} sessions running`,
          }},
        },
      },
    });
  }

  let pending = null;
  let firstPush = 0;
  function refresh() {
    pending = null;
    firstPush = 0;
    return fetch(root.dataset.url, {headers: {Accept: "application/json"}, credentials: "same-origin"})
      .then((answer) => (answer.ok ? answer.json() : null))
      .then((data) => { if (data) render(data); })
      .catch(() => {});
  }
  function refreshSoon() {
    const now = Date.now();
    if (!firstPush) firstPush = now;
    clearTimeout(pending);
    pending = setTimeout(refresh, Math.max(0, Math.min(QUIET_MS, firstPush + MAX_WAIT_MS - now)));
  }

  // Every station's events of these kinds; the socket (re)opening re-reads the figures, since
  // pushes sent while it was closed never arrive.
  function listen() {
    window.CsmsLive.open({
      subscription: () => ({page: "overview", kinds: SUBSCRIBED_KINDS}),
      onMessage: (message) => { if (SUBSCRIBED_KINDS.includes(message.kind)) refreshSoon(); },
      onOpen: refresh,
    });
  }

  render(JSON.parse(document.getElementById("overview-data").textContent));
  listen();
})();
