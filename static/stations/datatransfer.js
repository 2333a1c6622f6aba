// The station page's DataTransfer panel: its rows are read after the page loads (the page's own
// query count stays fixed) and re-read while an outbound transfer waits for its answer.
(function () {
  "use strict";
  const table = document.getElementById("datatransfers");
  if (!table) return;
  const OPEN_POLL_MS = 2000;
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

  document.getElementById("datatransfer-refresh").addEventListener("click", refresh);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") refresh(); });
  refresh();
})();
