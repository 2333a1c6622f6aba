// Station-page panels whose rows are read after the page loads (the page's own query count stays
// fixed) and re-read every 2 s while a row is still open (data-open: waiting for the station).
// A panel opts in with <table data-deferred-rows data-url="..." data-refresh-button="<id>">.
(function () {
  "use strict";
  const OPEN_POLL_MS = 2000;

  function follow(table) {
    if (table.dataset.deferredBound) return;  // the script may be included by several panels
    table.dataset.deferredBound = "1";
    let timer = null;
    let lastHtml = null;

    function refresh() {
      clearTimeout(timer);
      return fetch(table.dataset.url, {credentials: "same-origin"})
        .then((response) => (response.ok ? response.text() : null))
        .then((html) => {
          if (html !== null && html !== lastHtml) {
            table.querySelector("tbody").innerHTML = html;
            lastHtml = html;
          }
        })
        .catch(() => {})
        .finally(() => {
          if (table.querySelector("tr[data-open]") && document.visibilityState !== "hidden") {
            timer = setTimeout(refresh, OPEN_POLL_MS);
          }
        });
    }

    const button = document.getElementById(table.dataset.refreshButton);
    if (button) button.addEventListener("click", refresh);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") refresh();
    });
    refresh();
  }

  document.querySelectorAll("table[data-deferred-rows]").forEach(follow);
})();
