// Smart-charging charts (Chart.js, vendored): profile schedules and composite schedules as step
// charts, the station's own composite beside the computed one, and the site page (limit over
// 24 h, stacked allocation, live on site.update pushes). The profile editor: profile_editor.js.
(function () {
  "use strict";
  if (!window.Chart) return;  // no chart library: the tables beside the charts remain
  const COLORS = ["#2f6fb3", "#e08e0b", "#1f8a4c", "#8e5bb5", "#c0392b", "#17a2b8", "#6b7580", "#b7791f", "#d35490"];
  const HIGHLIGHT = "rgba(192, 57, 43, 0.9)";
  Chart.defaults.animation = false;
  Chart.defaults.font.size = 11;
  Chart.defaults.maintainAspectRatio = false;

  function readJson(id) {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }
  function pad(number) { return String(number).padStart(2, "0"); }
  // Times on the dashboard are UTC.
  function clock(ms) {
    const d = new Date(ms);
    return pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  }
  function offset(seconds) {
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    return "+" + h + ":" + pad(m);
  }
  function fmt(value) {
    if (value === null || value === undefined) return "no limit";
    return Number.isInteger(value) ? String(value) : value.toFixed(1);
  }

  // A schedule's periods as a step line: each period from its start to the next one's (or `end`),
  // both ends as points, so a period followed by "no limit" (a gap) is still drawn.
  function steps(periods, origin, scale, end) {
    const points = [];
    periods.forEach((period, index) => {
      const next = index + 1 < periods.length ? periods[index + 1].start : end;
      const y = period.limit === null || period.limit === undefined ? null : period.limit;
      points.push({x: origin + period.start * scale, y: y});
      points.push({x: origin + next * scale, y: y});
    });
    return points;
  }
  function compositeSteps(schedule) {
    const origin = Date.parse(schedule.schedule_start);
    const periods = (schedule.periods || []).map((p) => ({start: p.start_period, limit: p.limit}));
    const duration = schedule.duration || (periods.length ? periods[periods.length - 1].start + 3600 : 3600);
    return steps(periods, origin, 1000, duration);
  }
  function line(label, data, color, extra) {
    return Object.assign({label: label, data: data, borderColor: color, backgroundColor: color,
                          borderWidth: 2, pointRadius: 0, spanGaps: false, fill: false}, extra || {});
  }
  // Tick steps (s) that read well on a clock; the first that gives at most 12 ticks.
  const STEPS = [60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 604800];
  function niceStep(spanSeconds) {
    return STEPS.find((step) => spanSeconds / step <= 12) || Math.ceil(spanSeconds / 12);
  }
  // Ticks at the multiples of `step` within [min, max] (Chart.js counts them from min).
  function wholeSteps(min, max, step) {
    const ticks = [];
    for (let value = Math.ceil(min / step) * step; value <= max; value += step) ticks.push({value: value});
    return ticks;
  }
  function extent(datasets) {
    const xs = datasets.flatMap((d) => d.data.map((p) => p.x));
    return xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 3600];
  }
  // Linear x in epoch ms from the first to the last point, ticks on whole UTC steps.
  function timeAxis(title, datasets) {
    const [min, max] = extent(datasets);
    const step = niceStep((max - min) / 1000) * 1000;
    return {type: "linear", min: min, max: max, title: {display: true, text: title},
            afterBuildTicks: (scale) => { scale.ticks = wholeSteps(min, max, step); },
            ticks: {callback: (value) => clock(value)}};
  }
  // Linear x in seconds from a schedule's start.
  function offsetAxis(datasets) {
    const [min, max] = extent(datasets);
    const step = niceStep(max - min);
    return {type: "linear", min: min, max: max, title: {display: true, text: "from the schedule start (h:mm)"},
            afterBuildTicks: (scale) => { scale.ticks = wholeSteps(min, max, step); },
            ticks: {callback: (value) => offset(value)}};
  }
  function limitAxis(unit) {
    return {beginAtZero: true, title: {display: true, text: unit ? "limit (" + unit + ")" : "limit"}};
  }
  function draw(canvas, config) {
    const old = Chart.getChart(canvas);
    if (old) old.destroy();
    return new Chart(canvas, config);
  }
  function tooltipTime(items) { return items.length ? clock(items[0].parsed.x) + " UTC" : ""; }

  // --- the station page's panel --------------------------------------------------------------
  function evseLabel(evseId) { return evseId ? "EVSE " + evseId : "station"; }

  function drawComposites(composites, evSchedules) {
    const canvas = document.getElementById("composite-chart");
    const units = new Set(composites.map((c) => c.charging_rate_unit));
    const color = {};
    const datasets = composites.map((c, i) => {
      color[c.evse_id] = COLORS[i % COLORS.length];
      return line(evseLabel(c.evse_id) + " (" + c.charging_rate_unit + ")", compositeSteps(c), color[c.evse_id]);
    });
    // What the EV chose (ISO 15118), dotted in its EVSE's colour, clipped to the chart's window.
    (evSchedules || []).forEach((schedule) => {
      datasets.push(line("EV on " + evseLabel(schedule.evse_id) + " (" + schedule.charging_rate_unit + ")",
                         compositeSteps(schedule), color[schedule.evse_id] || COLORS[8],
                         {borderDash: [2, 3], borderWidth: 2}));
    });
    draw(canvas, {
      type: "line", data: {datasets: datasets},
      options: {parsing: false, interaction: {mode: "nearest", intersect: false},
                plugins: {tooltip: {callbacks: {title: tooltipTime}}},
                scales: {x: timeAxis("UTC", datasets.slice(0, composites.length)),
                         y: limitAxis(units.size === 1 ? [...units][0] : "")}},
    });
    canvas.dataset.drawn = "true";
  }
  function showEvNeeds(needs) {
    const list = document.getElementById("ev-needs");
    if (!list || !needs || !needs.length) return;
    list.innerHTML = "";
    needs.forEach((n) => {
      const item = document.createElement("li");
      item.textContent = "EV on " + evseLabel(n.evse_id) + ": " + n.requested_energy_transfer +
        (n.departure_time ? ", leaving " + n.departure_time.slice(0, 16).replace("T", " ") + " UTC" : "") +
        " — answered " + n.answer_status;
      list.appendChild(item);
    });
    list.hidden = false;
  }
  // Read after the page: computing every EVSE's composite would slow the whole station page.
  let compositeRequests = 0;
  function loadComposites() {
    const canvas = document.getElementById("composite-chart");
    if (!canvas) return;
    const unit = document.getElementById("composite-unit").value;
    const url = canvas.dataset.url + (unit ? "?unit=" + encodeURIComponent(unit) : "");
    const request = ++compositeRequests;
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then((response) => (response.ok ? response.json() : Promise.reject(new Error(response.status))))
      .then((body) => {
        if (request !== compositeRequests) return;  // a later request (another unit) wins
        drawComposites(body.composites, body.ev_schedules);
        showEvNeeds(body.ev_needs);
      })
      .catch(() => { document.getElementById("composite-fallback").style.display = "block"; });
  }

  function drawProfiles(data) {
    document.querySelectorAll("canvas[data-profile-chart]").forEach((canvas) => {
      const profile = data.profiles.find((p) => String(p.id) === canvas.dataset.profileChart);
      if (!profile) return;
      const datasets = profile.schedules.map((schedule, i) => {
        const periods = schedule.periods.filter((p) => typeof p[0] === "number")
          .map((p) => ({start: p[0], limit: typeof p[1] === "number" ? p[1] : null}));
        const last = periods.length ? periods[periods.length - 1].start : 0;
        const end = schedule.duration || Math.max(last + 3600, Math.round(last * 1.25));
        const label = "schedule " + (i + 1) + " (" + (schedule.unit || "?") + ")" +
          (schedule.start ? " from " + schedule.start : "");
        return line(label, steps(periods, 0, 1, end), COLORS[i % COLORS.length]);
      });
      draw(canvas, {
        type: "line", data: {datasets: datasets},
        options: {parsing: false, plugins: {legend: {labels: {boxWidth: 10}},
                                            tooltip: {callbacks: {title: (items) => items.length ? offset(items[0].parsed.x) : ""}}},
                  scales: {x: offsetAxis(datasets),
                           y: limitAxis(profile.schedules.length ? profile.schedules[0].unit : "")}},
      });
    });
  }

  // The station's own composite beside the computed one; where they differ is drawn in red.
  function drawComparison(answer) {
    const box = document.getElementById("station-composite");
    const status = document.getElementById("station-composite-status");
    box.hidden = false;
    const command = answer.command;
    let text = "GetCompositeSchedule #" + command.id + ": " + command.status;
    if (command.response && command.response.status) text += " (the station answered " + command.response.status + ")";
    if (command.error) text += " (" + command.error + ")";
    if (answer.reported) {
      text += answer.differences.length
        ? " — " + answer.differences.length + " stretch" + (answer.differences.length > 1 ? "es differ" : " differs")
        : " — the station's composite matches the computed one";
    } else {
      text += " — no schedule from the station; the computed one is shown";
    }
    status.textContent = text;
    status.className = answer.differences.length ? "error" : "muted";
    const unit = answer.computed.charging_rate_unit;
    const datasets = [line("computed by the CSMS (" + unit + ")", compositeSteps(answer.computed), COLORS[0])];
    if (answer.reported) {
      datasets.push(line("station (" + answer.reported.charging_rate_unit + ")", compositeSteps(answer.reported),
                         COLORS[1], {borderDash: [6, 4]}));
    }
    const origin = Date.parse(answer.computed.schedule_start);
    const marks = [];
    answer.differences.forEach((d) => {
      const y = d.computed_limit === null ? d.reported_limit : d.computed_limit;
      marks.push({x: origin + d.start_period * 1000, y: y}, {x: origin + d.end_period * 1000, y: y},
                 {x: origin + d.end_period * 1000, y: null});
    });
    if (marks.length) datasets.push(line("differs", marks, HIGHLIGHT, {borderWidth: 7, order: -1}));
    draw(document.getElementById("station-composite-chart"), {
      type: "line", data: {datasets: datasets},
      options: {parsing: false, interaction: {mode: "nearest", intersect: false},
                plugins: {tooltip: {callbacks: {title: tooltipTime}}},
                scales: {x: timeAxis("UTC", datasets), y: limitAxis(unit)}},
    });
    const body = document.querySelector("#composite-differences tbody");
    body.innerHTML = "";
    answer.differences.forEach((d) => {
      const row = body.insertRow();
      row.className = "difference";
      [d.start.slice(0, 19).replace("T", " "), d.end.slice(0, 19).replace("T", " "), fmt(d.computed_limit), fmt(d.reported_limit)]
        .forEach((value) => { row.insertCell().textContent = value; });
    });
  }

  // A profile changes state when the station answers a command; the station page re-reads its
  // commands table as they finish, so a change there re-reads the panel.
  function followCommands() {
    const commands = document.querySelector("#commands tbody");
    const heading = document.querySelector("h1[data-identity]");
    if (!commands || !heading || !window.MutationObserver) return;
    const refresh = liveRefresher(heading.dataset.url, (fresh) => {
      const data = fresh.getElementById("smart-charging-data");
      if (!data) return;
      document.getElementById("smart-charging-data").textContent = data.textContent;
      drawProfiles(JSON.parse(data.textContent));
      loadComposites();
    });
    let timers = [];
    // Once soon, and once more: the answer is applied to the profile just after the command.
    new MutationObserver((records) => {
      // Relative times ("3 min ago") are rewritten every few seconds: not a change of commands.
      if (records.every((record) => record.target.nodeName === "TIME")) return;
      timers.forEach(clearTimeout);
      timers = [setTimeout(refresh, 300), setTimeout(refresh, 1500)];
    }).observe(commands, {childList: true, subtree: true});
  }

  function stationPanel() {
    const data = readJson("smart-charging-data");
    if (!data) return;
    loadComposites();
    const unit = document.getElementById("composite-unit");
    if (unit) unit.addEventListener("change", loadComposites);
    drawProfiles(data);
    followCommands();
    const form = document.getElementById("station-composite-form");
    if (!form) return;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const button = form.querySelector("button[type=submit]");
      const status = document.getElementById("station-composite-status");
      button.disabled = true;
      document.getElementById("station-composite").hidden = false;
      status.className = "muted";
      status.textContent = "asking the station…";
      fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                          headers: {"Accept": "application/json"}})
        .then((response) => response.json().then((body) => ({ok: response.ok, body: body})))
        .then((result) => {
          if (!result.ok) throw new Error(result.body.detail || "refused");
          drawComparison(result.body);
        })
        .catch((error) => { status.className = "error"; status.textContent = String(error.message || error); })
        .finally(() => { button.disabled = false; });
    });
  }

  // --- the site page --------------------------------------------------------------------------
  function drawSite(data) {
    const limit = data.limit;
    const origin = Date.parse(limit.start);
    const periods = limit.periods.map((p) => ({start: p.start_period, limit: p.limit}));
    const datasets = [line("limit (W)", steps(periods, origin, 1000, limit.duration), COLORS[4])];
    draw(document.getElementById("site-limit-chart"), {
      type: "line", data: {datasets: datasets},
      options: {parsing: false, plugins: {tooltip: {callbacks: {title: tooltipTime}}},
                scales: {x: timeAxis("UTC", datasets), y: limitAxis("W")}},
    });
    // One bar stacked from every EVSE's held share, beside one bar for the limit.
    const allocation = data.allocations.map((a, i) => ({
      label: a.label + (a.transaction ? " tx " + a.transaction : " idle"), data: [a.held],
      stack: "held", backgroundColor: COLORS[i % COLORS.length]}));
    allocation.push({label: "limit", data: [data.limit_now], stack: "limit",
                     backgroundColor: "rgba(192, 57, 43, 0.25)", borderColor: COLORS[4], borderWidth: 2});
    if (data.usable_now !== data.limit_now) {
      allocation.push({label: "shared out (margin, look-ahead)", data: [data.usable_now], stack: "usable",
                       backgroundColor: "rgba(183, 121, 31, 0.25)", borderColor: COLORS[7], borderWidth: 2});
    }
    draw(document.getElementById("site-allocation-chart"), {
      type: "bar", data: {labels: ["now"], datasets: allocation},
      options: {indexAxis: "y", plugins: {legend: {position: "bottom", labels: {boxWidth: 10}}},
                scales: {x: {stacked: true, beginAtZero: true, title: {display: true, text: "W"}},
                         y: {stacked: true}}},
    });
  }

  // Re-reads `url` and swaps this page's [data-live] elements for the fresh ones (by id), then
  // calls after(fresh document); a call while one is in flight causes one more after it.
  function liveRefresher(url, after) {
    let refreshing = null;
    let again = false;
    function refresh() {
      if (refreshing) { again = true; return refreshing; }
      refreshing = fetch(url, {credentials: "same-origin"})
        .then((response) => (response.ok ? response.text() : null))
        .then((html) => {
          if (!html) return;
          const fresh = new DOMParser().parseFromString(html, "text/html");
          document.querySelectorAll("[data-live]").forEach((element) => {
            const replacement = fresh.getElementById(element.id);
            if (replacement) element.replaceWith(document.importNode(replacement, true));
          });
          if (after) after(fresh);
          document.body.dataset.liveRefreshes = String(Number(document.body.dataset.liveRefreshes || 0) + 1);
        })
        .catch(() => {})
        .finally(() => {
          refreshing = null;
          if (again) { again = false; refresh(); }
        });
      return refreshing;
    }
    return refresh;
  }

  // The dashboard's push socket (live.js), for the site pages: their "site" events; the socket
  // (re)opening re-reads the page, since pushes sent while it was closed never arrive.
  function listen(onMessage, onOpen) {
    window.CsmsLive.open({subscription: () => ({page: "site", kinds: ["site"]}),
                         onMessage: onMessage, onOpen: onOpen});
  }

  function sitePage() {
    const heading = document.querySelector("h1[data-site]");
    if (!heading) return;
    drawSite(readJson("site-chart-data"));
    const refresh = liveRefresher(heading.dataset.url, (fresh) => {
      const data = fresh.getElementById("site-chart-data");
      if (!data) return;
      document.getElementById("site-chart-data").textContent = data.textContent;
      drawSite(JSON.parse(data.textContent));
    });
    listen((message) => {
      if (message.kind === "site" && String(message.site) === heading.dataset.site) refresh();
    }, refresh);
  }

  function siteList() {
    if (document.body.dataset.page !== "site-list") return;
    const refresh = liveRefresher(location.pathname + location.search);
    listen((message) => { if (message.kind === "site") refresh(); }, refresh);
  }

  // The profile editor (profile_editor.js) draws its previews with the same helpers.
  window.csmsCharts = {COLORS: COLORS, steps: steps, line: line, draw: draw, offsetAxis: offsetAxis,
                       limitAxis: limitAxis};
  stationPanel();
  sitePage();
  siteList();
  document.body.classList.add("sc-charts-drawn");
})();
