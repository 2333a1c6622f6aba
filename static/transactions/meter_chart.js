// The transaction page's energy (kWh since the first reading) and power (kW) over time, drawn
// with the vendored Chart.js from the JSON the page embeds; times are UTC like the tables.
// Zoom (wheel, drag a range, shift+drag to pan, pinch on touch) comes from chartjs-plugin-zoom.
(function () {
  "use strict";
  const canvas = document.getElementById("meter-chart");
  const source = document.getElementById("meter-chart-data");
  if (!canvas || !source || !window.Chart) return;
  const data = JSON.parse(source.textContent);
  const resetButton = document.getElementById("meter-chart-reset");
  const DAY = 86400000;
  const pad = (n) => String(n).padStart(2, "0");
  const clock = (ms) => { const d = new Date(ms); return pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds()); };
  const day = (ms) => {
    const d = new Date(ms);
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate());
  };
  const points = (pairs) => pairs.map((pair) => ({x: pair[0], y: pair[1]}));
  const line = (label, unit, pairs, color, axis) => ({
    label: label, unit: unit, data: points(pairs), yAxisID: axis, borderColor: color, backgroundColor: color,
    borderWidth: 2, pointRadius: pairs.length > 60 ? 0 : 2, pointHoverRadius: 4,
  });
  const hasZoom = Boolean(window.ChartZoom);
  // The axis spans the readings exactly (not rounded out to "nice" numbers), the range zoom resets to.
  const times = data.energy.concat(data.power).map((pair) => pair[0]);
  const first = Math.min.apply(null, times);
  const last = Math.max.apply(null, times);

  function markZoomed(chart) {
    if (resetButton) resetButton.disabled = !chart.isZoomedOrPanned();
  }

  const chart = new Chart(canvas, {
    type: "line",
    data: {datasets: [line("energy (kWh)", "kWh", data.energy, "#2f6fb3", "energy"),
                      line("power (kW)", "kW", data.power, "#e08e0b", "power")]},
    options: {
      animation: false, maintainAspectRatio: false, parsing: false, normalized: true,
      interaction: {mode: "nearest", axis: "x", intersect: false},
      plugins: {
        // Thousands of readings: draw at most a few per pixel of the visible range.
        decimation: {enabled: true, algorithm: "lttb", samples: 600},
        legend: {position: "top"},
        tooltip: {callbacks: {
          title: (items) => (items.length ? day(items[0].parsed.x) + " " + clock(items[0].parsed.x) + " UTC" : ""),
          label: (item) => item.dataset.label.split(" (")[0] + ": "
            + item.parsed.y.toFixed(item.dataset.unit === "kWh" ? 3 : 2) + " " + item.dataset.unit,
        }},
        zoom: hasZoom ? {
          limits: {x: {min: "original", max: "original", minRange: 10000}},
          zoom: {mode: "x", wheel: {enabled: true}, pinch: {enabled: true},
                 drag: {enabled: true, backgroundColor: "rgba(47, 111, 179, 0.15)"},
                 onZoomComplete: ({chart}) => markZoomed(chart)},
          pan: {enabled: true, mode: "x", modifierKey: "shift", onPanComplete: ({chart}) => markZoomed(chart)},
        } : undefined,
      },
      scales: {
        x: {
          type: "linear", min: first, max: last === first ? first + 60000 : last,
          title: {display: true, text: "time (UTC)"}, grid: {display: true},
          ticks: {maxRotation: 0, autoSkipPadding: 12, callback: function (value) {
            // A range over a day names the day as well as the time.
            return this.max - this.min > DAY ? [day(value), clock(value).slice(0, 5)] : clock(value);
          }},
        },
        energy: {position: "left", beginAtZero: true, title: {display: true, text: "energy (kWh)"},
                 ticks: {callback: (value) => value + " kWh"}},
        power: {position: "right", beginAtZero: true, title: {display: true, text: "power (kW)"},
                ticks: {callback: (value) => value + " kW"}, grid: {drawOnChartArea: false}},
      },
    },
  });

  if (resetButton && hasZoom) {
    resetButton.addEventListener("click", () => { chart.resetZoom(); markZoomed(chart); });
  }
})();
