// The charging-profile editor: schedules added and removed (up to the page's data-max-schedules),
// period rows per schedule, and each schedule's preview chart (helpers from charts.js).
(function () {
  "use strict";
  const form = document.getElementById("profile-form");
  if (!form) return;
  const schedules = document.getElementById("schedules");
  const maxSchedules = Number(form.dataset.maxSchedules) || 1;
  const count = form.querySelector("input[name=schedule_count]");
  const FORMSET_FIELDS = ["TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"];

  // The names the server reads: schedule 1 as ever (charging_rate_unit, periods-0-limit),
  // schedule n prefixed (schedule2-charging_rate_unit, schedule2-periods-0-limit).
  function fieldPrefix(number) { return number === 1 ? "" : "schedule" + number + "-"; }
  function periodsPrefix(number) { return fieldPrefix(number) + "periods-"; }
  function rename(input, name) {
    input.name = name;
    input.id = "id_" + name;
  }

  function blocks() { return Array.from(schedules.querySelectorAll(".sc-schedule")); }
  function rowsOf(block) { return Array.from(block.querySelector(".period-rows tbody").rows); }

  // Every name in a block follows its number and its rows' order (0..n-1, as the formset reads).
  function renumber(block, number) {
    block.dataset.schedule = number;
    block.querySelector(".schedule-number").textContent = number;
    block.querySelector("canvas.schedule-preview").setAttribute("aria-label", "preview of schedule " + number);
    block.querySelectorAll(".sc-fields input, .sc-fields select, input[type=hidden]").forEach((input) => {
      const field = input.name.split("-").pop();
      rename(input, (FORMSET_FIELDS.includes(field) ? periodsPrefix(number) : fieldPrefix(number)) + field);
    });
    const rows = rowsOf(block);
    rows.forEach((row, index) => {
      row.querySelector(".row-number").textContent = index + 1;
      row.querySelectorAll("input, select").forEach((input) => {
        rename(input, periodsPrefix(number) + index + "-" + input.name.split("-").pop());
      });
    });
    block.querySelector("input[name$=TOTAL_FORMS]").value = rows.length;
    preview(block);
  }
  function renumberAll() {
    const all = blocks();
    all.forEach((block, index) => renumber(block, index + 1));
    if (count) count.value = all.length;
    const add = document.getElementById("add-schedule");
    if (add) add.disabled = all.length >= maxSchedules;
  }

  function addPeriod(block) {
    const row = document.getElementById("period-template").content.firstElementChild.cloneNode(true);
    const rows = rowsOf(block);
    const lastStart = rows.length ? Number(rows[rows.length - 1].querySelector("input[name$=start_period]").value) : NaN;
    block.querySelector(".period-rows tbody").appendChild(row);
    renumber(block, Number(block.dataset.schedule));
    row.querySelector("input[name$=start_period]").value = rows.length ? (isNaN(lastStart) ? "" : lastStart + 3600) : 0;
    preview(block);
    return row;
  }

  // --- each schedule's preview ------------------------------------------------------------------
  function preview(block) {
    const charts = window.csmsCharts;
    if (!charts) return;  // no chart library: the rows remain
    const periods = rowsOf(block).map((row) => ({
      start: parseFloat(row.querySelector("input[name$=start_period]").value),
      limit: parseFloat(row.querySelector("input[name$=limit]").value),
    })).filter((p) => !isNaN(p.start) && !isNaN(p.limit)).sort((a, b) => a.start - b.start);
    const duration = parseFloat(block.querySelector("input[name$=duration]").value);
    const last = periods.length ? periods[periods.length - 1].start : 0;
    const end = duration > last ? duration : Math.max(last + 3600, Math.round(last * 1.25));
    const unit = block.querySelector("select[name$=charging_rate_unit]").value;
    const number = Number(block.dataset.schedule);
    const color = charts.COLORS[(number - 1) % charts.COLORS.length];
    const datasets = [charts.line("schedule " + number + " (" + unit + ")",
                                  charts.steps(periods, 0, 1, end), color)];
    charts.draw(block.querySelector("canvas.schedule-preview"), {
      type: "line", data: {datasets: datasets},
      options: {parsing: false, scales: {x: charts.offsetAxis(datasets), y: charts.limitAxis(unit)}},
    });
  }

  // --- events (delegated: blocks come and go) -----------------------------------------------------
  schedules.addEventListener("click", (event) => {
    const block = event.target.closest(".sc-schedule");
    if (!block) return;
    if (event.target.classList.contains("add-period")) {
      addPeriod(block).querySelector("input[name$=limit]").focus();
    } else if (event.target.classList.contains("remove-period")) {
      event.target.closest("tr").remove();
      renumber(block, Number(block.dataset.schedule));
    } else if (event.target.classList.contains("remove-schedule")) {
      block.remove();
      renumberAll();
    }
  });
  schedules.addEventListener("input", (event) => {
    const block = event.target.closest(".sc-schedule");
    if (block) preview(block);
  });
  schedules.addEventListener("change", (event) => {
    const block = event.target.closest(".sc-schedule");
    if (block) preview(block);
  });
  const add = document.getElementById("add-schedule");
  if (add) {
    add.addEventListener("click", () => {
      if (blocks().length >= maxSchedules) return;
      const block = document.getElementById("schedule-template").content.firstElementChild.cloneNode(true);
      // Like the first: the unit it has, a first period from 0 to fill in.
      schedules.appendChild(block);
      renumberAll();
      const unit = blocks()[0].querySelector("select[name$=charging_rate_unit]").value;
      block.querySelector("select[name$=charging_rate_unit]").value = unit;
      addPeriod(block).querySelector("input[name$=limit]").focus();
    });
  }
  renumberAll();
  form.dataset.ready = "true";  // the buttons work from here on (tests wait for it)
})();
