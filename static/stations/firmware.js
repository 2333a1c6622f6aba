// The station page's firmware panel: read after the page loads (the page's own query count
// stays fixed); while an update is still open its rows are re-read, the form is left alone.
(function () {
  "use strict";
  const body = document.getElementById("firmware-panel-body");
  if (!body) return;
  const OPEN_POLL_MS = 2000;
  let timer = null;
  let loaded = false;

  function refresh() {
    clearTimeout(timer);
    return fetch(body.dataset.url, {credentials: "same-origin"})
      .then((response) => (response.ok ? response.text() : null))
      .then((html) => {
        if (html === null) return;
        if (!loaded) {
          body.innerHTML = html;
          loaded = true;
          return;
        }
        const fresh = new DOMParser().parseFromString(html, "text/html");
        const rows = fresh.querySelector("#firmware-updates tbody");
        const current = body.querySelector("#firmware-updates tbody");
        if (rows && current && rows.innerHTML !== current.innerHTML) current.innerHTML = rows.innerHTML;
      })
      .catch(() => {})
      .finally(() => {
        if (body.querySelector("tr[data-open]") && document.visibilityState !== "hidden") {
          timer = setTimeout(refresh, OPEN_POLL_MS);
        }
      });
  }

  document.getElementById("firmware-refresh").addEventListener("click", refresh);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") refresh(); });
  refresh();
})();
