// Station-page panels whose rows are read after the page loads (the page's own query count stays
// fixed) and re-read when a push says they may have changed; nothing is polled. A panel opts in with
// <table data-deferred-rows data-url="..." data-refresh-button="<id>" data-panel="<name>">, or a
// whole panel with <div data-deferred-panel data-url="..." data-panel="<name>"> (its content is
// replaced).
// Re-read on: a "panel" push naming the table's data-panel, any "command" or "transaction" push of
// this station, and, while a row is open (data-open: waiting for the station), a "log" push of this
// station (the station's own messages, e.g. a LogStatusNotification, move such rows on).
// Rows are not replaced under the operator: not while a field of theirs has focus, nor while a
// form in them holds edits not yet sent (replacing it would drop them, or detach the button being
// clicked). Each render masks its CSRF token anew, so that token is not a change.
(function () {
  "use strict";
  const heading = document.querySelector("h1[data-identity]");
  const identity = heading ? heading.dataset.identity : null;
  const throttle = window.CsmsLive ? window.CsmsLive.throttle : (work) => work;

  function aboutThisStation(message) {
    if (message.station) return message.station === identity;
    return Array.isArray(message.stations) && message.stations.includes(identity);
  }

  function follow(table) {
    if (table.dataset.deferredBound) return;  // the script may be included by several panels
    table.dataset.deferredBound = "1";
    let lastHtml = null;
    let heldBack = false;  // rows changed while the operator was typing or editing in the table

    function typing() {
      const active = document.activeElement;
      return table.contains(active) && active.matches("input, select, textarea");
    }

    function edited() {
      return Array.from(table.querySelectorAll("input, select, textarea")).some((field) => {
        if (field.type === "hidden") return false;
        if (field.matches("select")) {
          return Array.from(field.options).some((option) => option.selected !== option.defaultSelected);
        }
        if (field.type === "checkbox" || field.type === "radio") return field.checked !== field.defaultChecked;
        return field.value !== field.defaultValue;
      });
    }

    function withoutCsrf(html) {
      return html.replace(/name="csrfmiddlewaretoken" value="[^"]*"/g, "");
    }

    function read() {
      return fetch(table.dataset.url, {credentials: "same-origin"})
        .then((response) => (response.ok ? response.text() : null))
        .then((html) => {
          const changed = html !== null && (lastHtml === null || withoutCsrf(html) !== withoutCsrf(lastHtml));
          if (changed && (typing() || edited())) {
            heldBack = true;
          } else if (changed) {
            const body = table.matches("table") ? table.querySelector("tbody") : table;
            const open = new Set(Array.from(body.querySelectorAll("details[open]")).map((d) => (d.closest("tr") || {}).className).filter(Boolean));
            body.innerHTML = html;
            open.forEach((name) => { const d = body.querySelector("tr." + CSS.escape(name) + " details"); if (d) d.open = true; });
            lastHtml = html;
            table.dispatchEvent(new CustomEvent("csms:rows", {bubbles: true}));
          }
        })
        .catch(() => {});
    }
    const refresh = throttle(read, 300);

    document.addEventListener("csms:live", (event) => {
      const message = event.detail;
      if (message.kind === "panel") {
        if (message.panel === table.dataset.panel && aboutThisStation(message)) refresh();
      } else if (message.kind === "command" || message.kind === "transaction") {
        if (aboutThisStation(message)) refresh();
      } else if (message.kind === "log") {
        if (table.querySelector("tr[data-open]") && aboutThisStation(message)) refresh();
      }
    });
    document.addEventListener("csms:live-open", refresh);
    table.addEventListener("focusout", () => { if (heldBack) { heldBack = false; refresh(); } });
    const button = document.getElementById(table.dataset.refreshButton);
    if (button) button.addEventListener("click", read);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") refresh();
    });
    read();
  }

  document.querySelectorAll("table[data-deferred-rows], [data-deferred-panel]").forEach(follow);
})();
