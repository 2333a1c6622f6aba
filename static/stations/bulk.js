// Bulk actions. On the station list: row checkboxes, "select all on this page", "all matching
// the filter", and the options of the chosen action. On an operation's page: its progress and
// each station's outcome, pushed over /ws/dashboard/ ("bulk" events), read once per (re)connect.
(function () {
  "use strict";

  // --- station list ---------------------------------------------------------------------------
  const form = document.getElementById("bulk-form");
  if (form) {
    const table = document.getElementById("stations");
    const pageBox = document.getElementById("bulk-select-page");
    const allMatching = document.getElementById("bulk-all-matching");
    const actionSelect = document.getElementById("bulk-action");
    const boxes = () => Array.from(table.querySelectorAll("input.bulk-select"));

    function ensureCheckbox(row) {
      if (!row.dataset.identity || row.querySelector("td.select")) return;
      const cell = document.createElement("td");
      cell.className = "select";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.name = "station";
      box.value = row.dataset.identity;
      box.className = "bulk-select";
      box.setAttribute("form", "bulk-form");
      box.setAttribute("aria-label", "Select " + row.dataset.identity);
      box.checked = Boolean(pageBox && pageBox.checked);
      cell.appendChild(box);
      row.insertBefore(cell, row.firstChild);
    }
    function refresh() {
      const ticked = boxes().filter((box) => box.checked).length;
      document.getElementById("bulk-selected-count").textContent = ticked;
      if (pageBox) {
        pageBox.checked = ticked > 0 && ticked === boxes().length;
        pageBox.indeterminate = ticked > 0 && ticked < boxes().length;
      }
      boxes().forEach((box) => { box.disabled = allMatching.checked; });
      document.getElementById("bulk-review").disabled = !ticked && !allMatching.checked;
    }
    function showOptions() {
      form.querySelectorAll(".bulk-option").forEach((label) => {
        const mine = label.dataset.action === actionSelect.value;
        label.hidden = !mine;
        label.querySelector("select").disabled = !mine;
      });
    }
    table.querySelectorAll("tbody tr[data-identity]").forEach(ensureCheckbox);
    // Rows added or re-rendered live (by the list's own script) get their checkbox back.
    new MutationObserver(() => {
      table.querySelectorAll("tbody tr[data-identity]").forEach(ensureCheckbox);
      refresh();
    }).observe(table, {childList: true, subtree: true});
    if (pageBox) {
      pageBox.addEventListener("change", () => {
        boxes().forEach((box) => { box.checked = pageBox.checked; });
        refresh();
      });
    }
    table.addEventListener("change", (event) => {
      if (event.target.classList.contains("bulk-select")) refresh();
    });
    allMatching.addEventListener("change", refresh);
    actionSelect.addEventListener("change", showOptions);
    showOptions();
    refresh();
  }

  // --- an operation's progress page -------------------------------------------------------------
  const live = document.getElementById("bulk-live");
  if (!live) return;
  const operation = Number(live.dataset.operation);
  const liveState = document.getElementById("live-state");
  const labels = {not_supported: "Not supported"};
  let retryDelay = 1000;

  function setLive(text, state) {
    if (!liveState) return;
    liveState.hidden = false;
    liveState.textContent = text;
    liveState.dataset.state = state;
  }
  function label(outcome) {
    return labels[outcome] || outcome.charAt(0).toUpperCase() + outcome.slice(1);
  }
  // Outcomes only move forward (queued → sent → final), and so does the count of those done: an
  // event older than what the page shows (read during a resync) changes nothing.
  const rank = (outcome) => (outcome === "queued" ? 0 : outcome === "sent" ? 1 : 2);
  let shownDone = -1;
  function apply(progress) {
    progress.targets.forEach(applyTarget);
    const counts = progress.counts;
    if (counts.done < shownDone) return;
    shownDone = counts.done;
    const state = document.getElementById("bulk-state");
    state.textContent = label(progress.state);
    state.className = "badge bulk-" + progress.state;
    const bar = document.getElementById("bulk-bar");
    bar.max = counts.total;
    bar.value = counts.done;
    document.getElementById("bulk-percent").textContent =
      counts.done + " of " + counts.total + " done (" + counts.percent + "%)";
    document.querySelectorAll("#bulk-counts td[data-outcome]").forEach((cell) => {
      cell.textContent = counts[cell.dataset.outcome] || 0;
    });
  }
  function applyTarget(target) {
    const row = document.querySelector('#bulk-targets tr[data-station="' + CSS.escape(target.identity) + '"]');
    if (!row || rank(target.outcome) < rank(row.dataset.outcome || "queued")) return;
    row.dataset.outcome = target.outcome;
    const badge = row.querySelector(".outcome .badge");
    badge.textContent = label(target.outcome);
    badge.className = "badge outcome-" + target.outcome;
    row.querySelector(".detail").textContent = target.detail;
  }
  // Everything as it is now: when the socket (re)opens, so nothing pushed meanwhile is missed.
  function resync() {
    return fetch(live.dataset.progressUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then((response) => (response.ok ? response.json() : null))
      .then((progress) => { if (progress) apply(progress); })
      .catch(() => {});
  }
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + "/ws/dashboard/");
    let pending = [];
    socket.onopen = () => {
      retryDelay = 1000;
      // Tells a filtering dashboard socket what this page shows; ignored by one that forwards all.
      socket.send(JSON.stringify({subscribe: {page: "bulk-operation", operation: operation}}));
      resync().finally(() => {
        const missed = pending;
        pending = null;
        missed.forEach(apply);
        setLive("live", "open");
      });
    };
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.kind !== "bulk" || message.operation !== operation) return;
      if (pending) pending.push(message);
      else apply(message);
    };
    socket.onclose = () => {
      setLive("reconnecting…", "closed");
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    };
  }
  connect();
})();
