// The alerts page: its table is re-read (same filters and page) whenever an "alert" event is
// pushed, at most once every 300 ms; acknowledging posts in the background and re-reads it too.
(function () {
  "use strict";
  const table = document.getElementById("alerts");
  if (!table) return;
  const liveState = document.getElementById("live-state");
  const rowsUrl = table.dataset.rowsUrl;
  const csrfToken = table.dataset.csrf;

  function setLive(text, state) {
    if (!liveState) return;
    liveState.hidden = false;
    liveState.textContent = text;
    liveState.dataset.state = state;
  }
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
  let timer = null;
  let again = false;
  function refreshSoon() {
    if (timer) { again = true; return; }
    timer = setTimeout(() => {
      refresh().catch(() => {}).finally(() => {
        timer = null;
        if (again) { again = false; refreshSoon(); }
      });
    }, 300);
  }
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

  let retryDelay = 1000;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + "/ws/dashboard/");
    socket.onopen = () => {
      retryDelay = 1000;
      socket.send(JSON.stringify({subscribe: {page: "alerts", kinds: ["alert"]}}));
      // Pushes sent before the socket opened never arrive: read the table once more first.
      refresh().catch(() => {}).finally(() => setLive("live", "open"));
    };
    socket.onmessage = (event) => {
      if (JSON.parse(event.data).kind === "alert") refreshSoon();
    };
    socket.onclose = () => {
      setLive("reconnecting…", "closed");
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    };
  }
  connect();
})();
