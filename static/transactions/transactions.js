// Live transactions list: the rows are re-fetched every few seconds while the page is visible.
(function () {
  "use strict";
  const table = document.getElementById("transactions");
  if (!table) return;
  const label = document.getElementById("transactions-live");
  async function refresh() {
    if (document.hidden) return;
    try {
      const response = await fetch(table.dataset.url, {credentials: "same-origin"});
      if (!response.ok) throw new Error(response.status);
      table.querySelector("tbody").innerHTML = await response.text();
      if (label) label.textContent = "live";
    } catch (error) {
      if (label) label.textContent = "reconnecting…";
    }
  }
  setInterval(refresh, 5000);
})();
