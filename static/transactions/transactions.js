// Live transactions list: pushed over /ws/dashboard/ (static/live.js), filtered by the server to the
// transactions on this page (and, on the first page, new ones); the rows are then re-read.
(function () {
  "use strict";
  const table = document.getElementById("transactions");
  if (!table || !window.CsmsLive) return;
  const label = document.getElementById("transactions-live");
  const pageNumber = new URL(table.dataset.url, location.href).searchParams.get("page") || "1";

  function subscription() {
    return {
      page: "transactions", kinds: ["transaction"],
      transactions: Array.from(table.querySelectorAll("tbody tr[data-transaction]")).map((row) => row.dataset.transaction),
      // Only the first page (newest first) takes sessions that start while it is shown.
      new_transactions: pageNumber === "1",
    };
  }

  // The totals line above the table (count, kWh, duration for the filter), re-read with the rows.
  async function readTotals() {
    const totals = document.getElementById("transaction-totals");
    if (!totals) return;
    const response = await fetch(totals.dataset.url, {credentials: "same-origin"});
    if (!response.ok) throw new Error(response.status);
    totals.outerHTML = await response.text();
  }

  async function readRows() {
    try {
      const response = await fetch(table.dataset.url, {credentials: "same-origin"});
      if (!response.ok) throw new Error(response.status);
      table.querySelector("tbody").innerHTML = await response.text();
      await readTotals();
      if (label) label.textContent = "live";
      socket.resubscribe();
    } catch (error) {
      if (label) label.textContent = "reconnecting…";
    }
  }

  const refresh = CsmsLive.throttle(readRows, 1000);
  const socket = CsmsLive.open({
    subscription: subscription,
    onMessage: (message) => { if (message.kind === "transaction") refresh(); },
    onOpen: readRows,
  });
})();
