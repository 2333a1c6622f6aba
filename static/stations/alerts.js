// The alerts page: its table is re-read (same filters and page) whenever an "alert" event is
// pushed, at most once every 300 ms; acknowledging posts in the background and re-reads it too.
(function () {
  "use strict";
  const table = document.getElementById("alerts");
  if (!table) return;
  const rowsUrl = table.dataset.rowsUrl;
  const csrfToken = table.dataset.csrf;

  function refresh() {
    return fetch(rowsUrl, {credentials: "same-origin", headers: {"X-Requested-With": "fetch"}})
      .then((response) => response.ok ? response.text() : Promise.reject(response.status))
      .then((html) => {
        // Table sections outside a <table> are dropped by the HTML parser.
        const fresh = new DOMParser().parseFromString("<table>" + html + "</table>", "text/html");
        ["alerts-body", "alerts-pager"].forEach((id) => {
          const now = document.getElementById(id);
          const next = fresh.getElementById(id);
          if (now && next) now.replaceWith(next);
        });
      });
  }
  const refreshSoon = window.CsmsLive.throttle(refresh, 300);
  table.addEventListener("submit", (event) => {
    const form = event.target.closest("form.acknowledge");
    if (!form) return;
    event.preventDefault();
    const button = form.querySelector("button");
    if (button) button.disabled = true;
    fetch(form.action, {method: "POST", credentials: "same-origin",
                        headers: {"X-CSRFToken": csrfToken, "X-Requested-With": "fetch"}})
      .then(() => refresh())
      .catch(() => { if (button) button.disabled = false; });
  });

  // Pushes sent before the socket opened never arrive: it re-reads the table when it opens.
  window.CsmsLive.open({
    subscription: () => ({page: "alerts", kinds: ["alert"]}),
    onMessage: (message) => { if (message.kind === "alert") refreshSoon(); },
    onOpen: refresh,
  });
})();
