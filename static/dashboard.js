// Live dashboard: station changes pushed over /ws/dashboard/ update the page without a reload;
// the station page also polls its message log and commands.
(function () {
  "use strict";
  const page = document.body.dataset.page;
  const liveState = document.getElementById("live-state");
  const POLL_MS = 2000;

  // --- small helpers ------------------------------------------------------------------------
  function escapeHtml(value) {
    return String(value).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  }
  function orDash(value) { return value === null || value === undefined || value === "" ? "—" : String(value); }
  function statusClass(status) { return "status-" + String(status || "").toLowerCase().replace(/[^a-z]/g, ""); }
  function onlineBadge(online) {
    return '<span class="badge ' + (online ? "ok" : "off") + '">' + (online ? "online" : "offline") + "</span>";
  }
  function timeHtml(iso, cssClass) {
    if (!iso) return "";
    return '<time data-relative class="' + (cssClass || "") + '" datetime="' + escapeHtml(iso) + '"></time>';
  }
  function connectorKey(c) { return (c.evse_id === null || c.evse_id === undefined ? "" : c.evse_id) + "/" + c.connector_id; }
  function connectorBadge(c) {
    const label = (c.evse_id !== null && c.evse_id !== undefined ? c.evse_id + "/" : "") + c.connector_id + " " + (c.status || "?");
    return '<span class="badge ' + statusClass(c.status) + '">' + escapeHtml(label) + "</span>";
  }

  // Relative times ("3 min ago"), with the local absolute time as tooltip.
  function relative(iso) {
    const seconds = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
    if (isNaN(seconds)) return iso;
    const ago = seconds >= 0;
    const s = Math.abs(seconds);
    let text;
    if (s < 10) return "just now";
    else if (s < 60) text = s + " s";
    else if (s < 3600) text = Math.floor(s / 60) + " min";
    else if (s < 86400) text = Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
    else text = Math.floor(s / 86400) + " d";
    return ago ? text + " ago" : "in " + text;
  }
  function refreshTimes(root) {
    root.querySelectorAll("time[data-relative]").forEach((t) => {
      t.title = new Date(t.dateTime).toLocaleString();
      t.textContent = relative(t.dateTime);
    });
  }
  refreshTimes(document);
  setInterval(() => refreshTimes(document), 10000);

  // --- station list ---------------------------------------------------------------------------
  const stationsTable = document.getElementById("stations");
  let countsTimer = null;

  function matchesFilters(station) {
    const f = stationsTable.dataset;
    if (f.filterQ && !station.identity.toLowerCase().includes(f.filterQ.toLowerCase())) return false;
    if (f.filterState && (f.filterState === "online") !== station.online) return false;
    if (f.filterVersion && f.filterVersion !== station.ocpp_version) return false;
    if (f.filterRegistration && f.filterRegistration !== station.registration_status) return false;
    return true;
  }

  function fillRow(row, station) {
    row.dataset.online = station.online ? "true" : "false";
    row.dataset.version = station.ocpp_version || "";
    row.dataset.registration = station.registration_status || "";
    row.querySelector(".online").innerHTML = onlineBadge(station.online) + " " + timeHtml(station.connection_changed_at, "muted");
    row.querySelector(".version").textContent = orDash(station.ocpp_version);
    const registration = row.querySelector(".registration .boot");
    registration.className = "boot boot-" + (station.registration_status || "none").toLowerCase();
    registration.textContent = station.registration_status || "never booted";
    row.querySelector(".vendor").textContent = (station.vendor_name || "") + " " + (station.model || "");
    row.querySelector(".connectors").innerHTML = station.connectors.map(connectorBadge).join(" ");
    row.querySelector(".last-message").innerHTML = station.last_message_at ? timeHtml(station.last_message_at) : "—";
    row.classList.toggle("filtered-out", !matchesFilters(station));
    refreshTimes(row);
  }

  function updateList(station) {
    const body = stationsTable.querySelector("tbody");
    let row = body.querySelector('tr[data-identity="' + CSS.escape(station.identity) + '"]');
    if (!row) {
      if (stationsTable.dataset.liveRows !== "true" || !matchesFilters(station)) return;
      const empty = body.querySelector("tr.empty");
      if (empty) empty.remove();
      row = document.createElement("tr");
      row.dataset.identity = station.identity;
      const url = stationsTable.dataset.detailUrl.replace("__identity__", encodeURIComponent(station.identity));
      row.innerHTML = '<td class="identity"><a href="' + escapeHtml(url) + '">' + escapeHtml(station.identity) + "</a></td>" +
        '<td class="online"></td><td class="version"></td><td class="registration"><span class="boot"></span></td>' +
        '<td class="vendor"></td><td class="connectors"></td><td class="last-message"></td>';
      row.classList.add("new");
      // Keep the server's order (by identity).
      const next = Array.from(body.querySelectorAll("tr[data-identity]")).find((other) => other.dataset.identity > station.identity);
      body.insertBefore(row, next || null);
    }
    fillRow(row, station);
  }

  // Online/total counts cover every station, not only the rows shown: ask the server, at most once a second.
  function scheduleCounts() {
    if (countsTimer) return;
    countsTimer = setTimeout(() => {
      countsTimer = null;
      const counts = document.getElementById("station-counts");
      if (!counts) return;
      fetch(counts.dataset.url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then((response) => (response.ok ? response.json() : null))
        .then((data) => {
          const shown = document.getElementById("station-counts");
          if (!data || !shown) return;
          Object.keys(data).forEach((name) => {
            const target = shown.querySelector('[data-count="' + name + '"]');
            if (target) target.textContent = data[name];
          });
          const pending = document.getElementById("pending-count");
          if (pending) pending.classList.toggle("none", !data.pending);
        })
        .catch(() => {});
    }, 1000);
  }

  // --- station page -----------------------------------------------------------------------------
  const heading = document.querySelector("h1[data-identity]");

  function upsertConnector(c) {
    const tree = document.getElementById("connectors");
    if (!tree) return;
    const key = connectorKey(c);
    let item = tree.querySelector('li[data-connector="' + CSS.escape(key) + '"]');
    if (!item) {
      const evseKey = c.evse_id === null || c.evse_id === undefined ? "" : String(c.evse_id);
      let group = tree.querySelector('li[data-evse="' + CSS.escape(evseKey) + '"]');
      if (!group) {
        group = document.createElement("li");
        group.dataset.evse = evseKey;
        group.innerHTML = "<strong>" + (evseKey ? "EVSE " + escapeHtml(evseKey) : "Station") + "</strong><ul></ul>";
        tree.appendChild(group);
      }
      item = document.createElement("li");
      item.dataset.connector = key;
      item.innerHTML = "Connector " + escapeHtml(c.connector_id) + ' <span class="badge status"></span> <small class="error-code"></small>';
      group.querySelector("ul").appendChild(item);
      const empty = document.querySelector("#connectors-card .empty-tree");
      if (empty) empty.hidden = true;
    }
    const badge = item.querySelector(".badge.status");
    badge.className = "badge status " + statusClass(c.status);
    badge.textContent = c.status || "unknown";
    item.querySelector(".error-code").textContent = c.error_code && c.error_code !== "NoError" ? c.error_code : "";
  }

  function updateDetail(station) {
    if (heading.dataset.identity !== station.identity) return;
    const online = document.getElementById("station-online");
    online.className = "badge " + (station.online ? "ok" : "off");
    online.textContent = station.online ? "online" : "offline";
    const since = document.getElementById("station-since");
    if (station.connection_changed_at) {
      since.innerHTML = (station.online ? "online" : "offline") + " since " + timeHtml(station.connection_changed_at);
    }
    const connection = document.getElementById("station-connection");
    if (connection) connection.firstChild.textContent = station.online ? "online" : "offline";
    const registration = document.getElementById("station-registration");
    registration.className = "boot boot-" + (station.registration_status || "none").toLowerCase();
    registration.textContent = station.registration_status || "never booted";
    const pendingBar = document.querySelector(".pending-bar");
    if (pendingBar) pendingBar.hidden = station.registration_status !== "Pending" && pendingBar.dataset.policy !== "Pending";
    document.getElementById("station-version").textContent = orDash(station.ocpp_version);
    document.getElementById("station-vendor").textContent = orDash(station.vendor_name) + " " + (station.model || "");
    document.getElementById("station-firmware").textContent = orDash(station.firmware_version);
    document.getElementById("station-last-message").innerHTML = station.last_message_at ? timeHtml(station.last_message_at) : "—";
    const stationStatus = document.getElementById("station-status");
    if (stationStatus && station.status) stationStatus.textContent = station.status;
    station.connectors.forEach(upsertConnector);
    refreshTimes(document);
    pollSoon();
  }

  // The message log and the commands table are read from the server (the log is written in batches).
  const logTable = document.getElementById("message-log");
  const commandsTable = document.getElementById("commands");
  const liveLog = document.getElementById("log-live");
  let lastCommandsHtml = null;
  let pollTimer = null;

  function newestLogId() {
    const first = logTable.querySelector("tbody tr[data-id]");
    return first ? first.dataset.id : "0";
  }

  function refreshLog() {
    const params = new URLSearchParams(new FormData(document.getElementById("log-filters")));
    params.set("after", newestLogId());
    return fetch(logTable.dataset.url + "?" + params.toString(), {credentials: "same-origin"})
      .then((response) => (response.ok ? response.text() : ""))
      .then((html) => {
        const holder = document.createElement("tbody");
        holder.innerHTML = html;
        const rows = Array.from(holder.querySelectorAll("tr[data-id]"));
        if (!rows.length) return;
        const body = logTable.querySelector("tbody");
        const empty = body.querySelector("tr.empty");
        if (empty) empty.remove();
        rows.reverse().forEach((row) => { row.classList.add("new"); body.insertBefore(row, body.firstChild); });
        while (body.rows.length > 300) body.deleteRow(body.rows.length - 1);
      });
  }

  function refreshCommands() {
    return fetch(commandsTable.dataset.url, {credentials: "same-origin"})
      .then((response) => (response.ok ? response.text() : null))
      .then((html) => {
        if (html === null || html === lastCommandsHtml) return;
        const body = commandsTable.querySelector("tbody");
        const open = new Set(Array.from(body.querySelectorAll("tr[data-command] details[open]")).map((d) => d.closest("tr").dataset.command));
        if (lastCommandsHtml !== null) {
          body.innerHTML = html;
          open.forEach((id) => { const d = body.querySelector('tr[data-command="' + id + '"] details'); if (d) d.open = true; });
          refreshTimes(body);
        }
        lastCommandsHtml = html;
      });
  }

  function poll() {
    pollTimer = null;
    if (document.visibilityState === "visible") {
      const work = [refreshCommands()];
      if (liveLog && liveLog.checked) work.push(refreshLog());
      Promise.all(work).catch(() => {}).finally(() => { if (!pollTimer) pollTimer = setTimeout(poll, POLL_MS); });
    } else {
      pollTimer = setTimeout(poll, POLL_MS);
    }
  }
  function pollSoon() {
    if (!logTable) return;
    clearTimeout(pollTimer);
    pollTimer = setTimeout(poll, 300);
  }

  if (logTable && commandsTable) {
    document.querySelectorAll("[data-refresh]").forEach((button) => button.addEventListener("click", () => {
      (button.dataset.refresh === "log" ? refreshLog() : refreshCommands()).catch(() => {});
    }));
    poll();
  }

  // The generic command form: show the chosen action's request schema, check the JSON as typed.
  const sendForm = document.getElementById("send-form");
  if (sendForm) {
    const action = sendForm.querySelector("select[name=action]");
    const payload = sendForm.querySelector("textarea[name=payload]");
    const schemaBox = document.getElementById("action-schema");
    const showSchema = () => {
      if (!schemaBox.open) return;
      const url = sendForm.dataset.schemaUrl.replace("ACTION", encodeURIComponent(action.value));
      fetch(url, {credentials: "same-origin"}).then((r) => r.json())
        .then((schema) => { schemaBox.querySelector("pre").textContent = JSON.stringify(schema, null, 2); })
        .catch(() => { schemaBox.querySelector("pre").textContent = "(schema unavailable)"; });
    };
    action.addEventListener("change", showSchema);
    schemaBox.addEventListener("toggle", showSchema);
    payload.addEventListener("input", () => {
      try { JSON.parse(payload.value); payload.classList.remove("invalid"); payload.title = ""; }
      catch (error) { payload.classList.add("invalid"); payload.title = String(error.message); }
    });
  }

  // --- the live socket ----------------------------------------------------------------------------
  if (!stationsTable && !heading) return;
  let retryDelay = 1000;
  let replay = null;  // pushes received while a resync is in flight

  function apply(station) {
    if (stationsTable) { updateList(station); scheduleCounts(); }
    if (heading) updateDetail(station);
  }

  // Pushes sent before the socket opened (page load, or a lost connection) never arrive:
  // re-read the live parts of the page, then re-apply what was pushed meanwhile.
  function resync() {
    replay = [];
    // The station page may be a form's answer (a POST URL): re-read the page itself.
    const pageUrl = (heading && heading.dataset.url) || location.href;
    fetch(pageUrl, {credentials: "same-origin"})
      .then((response) => (response.ok ? response.text() : null))
      .then((html) => {
        if (!html) return;
        const fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-resync]").forEach((element) => {
          const replacement = fresh.getElementById(element.id);
          if (replacement) element.replaceWith(document.importNode(replacement, true));
        });
        refreshTimes(document);
      })
      .catch(() => {})
      .finally(() => {
        const missed = replay;
        replay = null;
        missed.forEach(apply);
        setLive("live", "open");
      });
  }
  function setLive(text, state) {
    if (!liveState) return;
    liveState.hidden = false;
    liveState.textContent = text;
    liveState.dataset.state = state;
  }
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + "/ws/dashboard/");
    socket.onopen = () => {
      retryDelay = 1000;
      resync();
    };
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.kind !== "station") return;
      apply(message.station);
      if (replay) replay.push(message.station);
    };
    socket.onclose = () => {
      setLive("reconnecting…", "closed");
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    };
  }
  connect();
})();
