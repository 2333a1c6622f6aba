// Live dashboard: what /ws/dashboard/ pushes (static/live.js) updates the station list and the
// station page without a reload; nothing is polled. The list never inserts a pushed row itself:
// it re-reads its page (paging, filters and sort stay the server's) when a station may belong on it.
(function () {
  "use strict";
  const page = document.body.dataset.page;
  const liveState = document.getElementById("live-state");

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

  function readSubscription() {
    const data = document.getElementById("live-subscription");
    return data ? JSON.parse(data.textContent) : null;
  }

  // The page's filters on a pushed station (stations.live.station_matches): a row that no longer
  // matches stays, dimmed, until the page is re-read.
  function matchesFilters(station) {
    const f = (readSubscription() || {}).filters || {};
    if (f.q && !station.identity.toLowerCase().includes(f.q.toLowerCase())) return false;
    if (f.state && (f.state === "online") !== station.online) return false;
    if (f.ocpp_version && f.ocpp_version !== station.ocpp_version) return false;
    if (f.registration_status && f.registration_status !== station.registration_status) return false;
    if (f.connector_status && !station.connectors.some((c) => c.status === f.connector_status)) return false;
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

  // Only rows already on the page are updated; the server sends no other station's state.
  function updateList(station) {
    const row = stationsTable.querySelector('tbody tr[data-identity="' + CSS.escape(station.identity) + '"]');
    if (row) fillRow(row, station);
  }

  function fetchJson(url) {
    return fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then((response) => (response.ok ? response.json() : null));
  }

  // Online/total counts cover every station, not only the rows shown: ask the server, at most once a second.
  const refreshCounts = CsmsLive.throttle(() => {
    const counts = document.getElementById("station-counts");
    if (!counts) return null;
    return fetchJson(counts.dataset.url).then((data) => {
      const shown = document.getElementById("station-counts");
      if (!data || !shown) return;
      Object.keys(data).forEach((name) => {
        const target = shown.querySelector('[data-count="' + name + '"]');
        if (target) target.textContent = data[name];
      });
      showCounts(data);
    });
  }, 1000);

  // The online badge is green only when some station is online.
  function showCounts(data) {
    const online = document.getElementById("online-count");
    if (online) online.className = "badge " + (Number(data.online) > 0 ? "ok" : "off");
    const pending = document.getElementById("pending-count");
    if (pending) pending.classList.toggle("none", !Number(data.pending));
  }

  // Saved filters: the list's query strings, named, kept in this browser per operator (no server
  // state to migrate or share; a filter is a URL, so it can be bookmarked or sent as well).
  function savedFilters() {
    const box = document.getElementById("saved-filters");
    if (!box || !window.localStorage) return;
    const key = "csms.stationFilters." + box.dataset.user;
    const read = () => { try { return JSON.parse(localStorage.getItem(key)) || []; } catch (error) { return []; } };
    const list = document.getElementById("saved-filter-list");
    function draw() {
      list.innerHTML = read().map((saved, index) =>
        '<span class="saved-filter"><a href="?' + escapeHtml(saved.query) + '">' + escapeHtml(saved.name) + "</a>" +
        ' <button type="button" class="link" data-forget="' + index + '" title="Forget this filter">×</button></span>').join(" ") ||
        '<span class="muted">none</span>';
    }
    list.addEventListener("click", (event) => {
      const index = event.target.dataset.forget;
      if (index === undefined) return;
      const saved = read();
      saved.splice(Number(index), 1);
      localStorage.setItem(key, JSON.stringify(saved));
      draw();
    });
    document.getElementById("save-filter").addEventListener("click", () => {
      const nameInput = document.getElementById("saved-filter-name");
      const params = new URLSearchParams(location.search);
      params.delete("page");
      const name = nameInput.value.trim() || params.toString() || "all stations";
      const saved = read().filter((other) => other.name !== name);
      saved.push({name: name, query: params.toString()});
      localStorage.setItem(key, JSON.stringify(saved));
      nameInput.value = "";
      draw();
    });
    box.hidden = false;
    draw();
  }
  if (stationsTable) savedFilters();

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
  }

  // The message log, the commands table and the Charging panel are re-read from the server when a
  // push says they changed (the log is written in batches; each push names the stations in it).
  const logTable = document.getElementById("message-log");
  const commandsTable = document.getElementById("commands");
  const liveLog = document.getElementById("log-live");
  let lastCommandsHtml = null;

  function newestLogId() {
    const first = logTable.querySelector("tbody tr[data-id]");
    return first ? first.dataset.id : "0";
  }

  function readLog() {
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

  // What the commands table shows, to leave it untouched when nothing changed (other panels
  // watch it for changes).
  function commandsSignature(root) {
    return Array.from(root.querySelectorAll("tr[data-command]")).map((row) => row.dataset.command + ":" + row.dataset.status).join(",");
  }

  function readCommands() {
    return fetch(commandsTable.dataset.url, {credentials: "same-origin"})
      .then((response) => (response.ok ? response.text() : null))
      .then((html) => {
        if (html === null || html === lastCommandsHtml) return;
        const body = commandsTable.querySelector("tbody");
        const holder = document.createElement("tbody");
        holder.innerHTML = html;
        if (commandsSignature(holder) === commandsSignature(body)) {
          lastCommandsHtml = html;
          return;
        }
        const open = new Set(Array.from(body.querySelectorAll("tr[data-command] details[open]")).map((d) => d.closest("tr").dataset.command));
        body.innerHTML = html;
        open.forEach((id) => { const d = body.querySelector('tr[data-command="' + id + '"] details'); if (d) d.open = true; });
        refreshTimes(body);
        lastCommandsHtml = html;
      });
  }

  function readCharging() {
    const card = document.getElementById("charging-card");
    if (!card || !card.dataset.url) return null;
    return fetch(card.dataset.url, {credentials: "same-origin"})
      .then((response) => (response.ok ? response.text() : null))
      .then((html) => {
        const shown = document.getElementById("charging-card");
        if (!html || !shown) return;
        const holder = document.createElement("div");
        holder.innerHTML = html;
        const fresh = holder.querySelector("#charging-card");
        // Keep what the operator is typing into the card's forms.
        const typing = shown.contains(document.activeElement) && document.activeElement.matches("input, select");
        if (fresh && !typing) shown.replaceWith(fresh);
      });
  }

  const refreshLog = CsmsLive.throttle(() => (logTable ? readLog() : null), 500);
  const refreshCommands = CsmsLive.throttle(() => (commandsTable ? readCommands() : null), 300);
  const refreshCharging = CsmsLive.throttle(readCharging, 300);
  const refreshChargingReadings = CsmsLive.throttle(readCharging, 5000);

  // The flash a command's form left ("Reset #12: queued") shows the command's outcome when it comes.
  function showCommandOutcome(message) {
    document.querySelectorAll(".flash.command-" + Number(message.command)).forEach((flash) => {
      flash.textContent = message.text;
      flash.classList.remove("info", "success", "error");
      flash.classList.add(!message.finished ? "info" : message.status === "accepted" ? "success" : "error");
      flash.dataset.status = message.status;
    });
  }

  // A flash whose command ended before the socket opened takes its outcome from the table.
  function showOutcomesFromTable() {
    document.querySelectorAll(".flash.command").forEach((flash) => {
      const pk = Array.from(flash.classList).map((name) => /^command-(\d+)$/.exec(name)).find(Boolean);
      const row = pk && commandsTable && commandsTable.querySelector('tr[data-command="' + pk[1] + '"]');
      if (row && row.dataset.finished === "true") {
        showCommandOutcome({command: pk[1], text: row.dataset.outcome, finished: true, status: row.dataset.status});
      }
    });
  }

  if (logTable && commandsTable) {
    document.querySelectorAll("[data-refresh]").forEach((button) => button.addEventListener("click", () => {
      (button.dataset.refresh === "log" ? readLog() : readCommands()).catch(() => {});
    }));
    if (liveLog) liveLog.addEventListener("change", () => { if (liveLog.checked) refreshLog(); });
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

  function onMessage(message) {
    if (stationsTable) {
      if (message.kind === "station") { updateList(message.station); refreshCounts(); }
      else if (message.kind === "station-list") { refreshCounts(); if (message.rows) refreshRows(); }
      return;
    }
    if (message.kind === "station") updateDetail(message.station);
    else if (message.kind === "command") { showCommandOutcome(message); refreshCommands(); }
    else if (message.kind === "log") { if (!liveLog || liveLog.checked) refreshLog(); }
    else if (message.kind === "transaction") (message.change === "meter" ? refreshChargingReadings : refreshCharging)();
  }

  // Re-read the live parts of the page ([data-resync] elements, and the list's subscription: its
  // rows may have changed) from the page's own URL.
  function resync() {
    // The station page may be a form's answer (a POST URL): re-read the page itself.
    const pageUrl = (heading && heading.dataset.url) || location.href;
    return fetch(pageUrl, {credentials: "same-origin"})
      .then((response) => (response.ok ? response.text() : null))
      .then((html) => {
        if (!html) return;
        const fresh = new DOMParser().parseFromString(html, "text/html");
        // Rows ticked for a bulk action stay ticked when the rows are re-read.
        const ticked = new Set(Array.from(document.querySelectorAll("[data-resync] input[type=checkbox]:checked")).map((box) => box.value));
        document.querySelectorAll("[data-resync]").forEach((element) => {
          const replacement = fresh.getElementById(element.id);
          if (replacement) element.replaceWith(document.importNode(replacement, true));
        });
        document.querySelectorAll("[data-resync] input[type=checkbox]").forEach((box) => {
          if (ticked.has(box.value) && !box.checked) {
            box.checked = true;
            box.dispatchEvent(new Event("change", {bubbles: true}));
          }
        });
        const subscription = document.getElementById("live-subscription");
        const freshSubscription = fresh.getElementById("live-subscription");
        if (subscription && freshSubscription) subscription.textContent = freshSubscription.textContent;
        refreshTimes(document);
      });
  }

  function onOpen() {
    if (stationsTable) {
      return resync().then(() => socket.resubscribe());
    }
    return Promise.all([resync(), commandsTable ? readCommands().then(showOutcomesFromTable) : null,
      logTable ? readLog() : null, readCharging()]);
  }

  const refreshRows = CsmsLive.throttle(() => resync().then(() => socket.resubscribe()), 2000);

  const socket = CsmsLive.open({
    subscription: () => (stationsTable ? readSubscription()
      : {page: "station", station: heading.dataset.identity,
         kinds: ["station", "command", "log", "transaction", "alert", "panel"]}),
    onMessage: onMessage,
    onOpen: onOpen,
  });
})();
