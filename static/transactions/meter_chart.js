// The transaction page's energy (kWh since the first reading) and power (kW) over time, drawn
// with the vendored Chart.js from the JSON the page embeds; times are UTC like the tables.
(function () {
  "use strict";
  const canvas = document.getElementById("meter-chart");
  const source = document.getElementById("meter-chart-data");
  if (!canvas || !source || !window.Chart) return;
  const data = JSON.parse(source.textContent);
  const pad = (n) => String(n).padStart(2, "0");
  const clock = (ms) => { const d = new Date(ms); return pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds()); };
  const points = (pairs) => pairs.map((pair) => ({x: pair[0], y: pair[1]}));
  const line = (label, pairs, color, axis) => ({label: label, data: points(pairs), yAxisID: axis, borderColor: color,
                                               backgroundColor: color, borderWidth: 2, pointRadius: pairs.length > 60 ? 0 : 2});
  new Chart(canvas, {
    type: "line",
    data: {datasets: [line("energy (kWh)", data.energy, "#2f6fb3", "energy"),
                      line("power (kW)", data.power, "#e08e0b", "power")]},
    options: {
      animation: false, maintainAspectRatio: false, parsing: false,
      interaction: {mode: "nearest", intersect: false},
      plugins: {tooltip: {callbacks: {title: (items) => (items.length ? clock(items[0].parsed.x) + " UTC" : "")}}},
      scales: {
        x: {type: "linear", title: {display: true, text: "UTC"}, ticks: {callback: (value) => clock(value)}},
        energy: {position: "left", beginAtZero: true, title: {display: true, text: "kWh"}},
        power: {position: "right", beginAtZero: true, title: {display: true, text: "kW"}, grid: {drawOnChartArea: false}},
      },
    },
  });
})();
