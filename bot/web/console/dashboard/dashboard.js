// «Tablero»: how the service is doing, for supervisors and administrators (bot/dashboard/api.py).
// The filters (a period of days in Lima and a channel), then one card per chart: its title, what
// it counts, the chart (plots.js), its legend, its data as a table, and a link to its CSV.
// Everything the server sends is put into the page as text (textContent), never as HTML.

import { api } from "../lib/api.js";
import { $, el, loadFragment, setText, showError } from "../lib/dom.js";
import { channelLabel, clock, dayText, plural } from "../lib/format.js";
import * as plots from "./plots.js";

var mounted = false;
var current = null;   // the filters of the charts shown, as the server answered them
var pending = 0;      // the latest request: an older answer arriving late is ignored

export function mount() {
  return loadFragment($("dashboard-view"), new URL("./dashboard.html", import.meta.url)).then(function () {
    $("dashboard-filters").addEventListener("submit", function (ev) {
      ev.preventDefault();
      load(asked());
    });
    plots.mount();
    mounted = true;
  });
}

// Signed out: no figure of the last person's session stays on the page.
export function reset() {
  if (!mounted) return;
  plots.reset();
  current = null;
  pending += 1;
  $("dashboard-charts").replaceChildren();
  $("dashboard-charts").setAttribute("aria-busy", "false");
  $("dashboard-apply").disabled = false;
  $("dashboard-from").value = "";
  $("dashboard-to").value = "";
  $("dashboard-channel").value = "";
  markInvalid(false);
  setText($("dashboard-status"), "");
  showError($("dashboard-error"), "");
}

// Shown again: the figures are computed again, for the filters last shown.
export function show() {
  if (mounted) load(current || {});
}

function asked() {
  var params = {};
  if ($("dashboard-from").value) params.from = $("dashboard-from").value;
  if ($("dashboard-to").value) params.to = $("dashboard-to").value;
  if ($("dashboard-channel").value) params.channel = $("dashboard-channel").value;
  return params;
}

function query(params) {
  var search = new URLSearchParams();
  ["from", "to", "channel"].forEach(function (key) { if (params[key]) search.append(key, params[key]); });
  return search.toString();
}

function markInvalid(invalid) {
  ["dashboard-from", "dashboard-to"].forEach(function (id) {
    if (invalid) $(id).setAttribute("aria-invalid", "true");
    else $(id).removeAttribute("aria-invalid");
  });
}

function load(params) {
  var ticket = ++pending;
  var box = $("dashboard-charts");
  box.setAttribute("aria-busy", "true");
  $("dashboard-apply").disabled = true;
  setText($("dashboard-status"), "Calculando…");
  var path = "/api/dashboard" + (query(params) ? "?" + query(params) : "");
  return api("GET", path).then(function (answer) {
    if (ticket !== pending) return;
    current = answer.filters;
    showError($("dashboard-error"), "");
    markInvalid(false);
    $("dashboard-from").value = current.from;
    $("dashboard-to").value = current.to;
    $("dashboard-channel").value = current.channel || "";
    box.replaceChildren.apply(box, answer.charts.map(card));
    setText($("dashboard-status"), "Del " + dayText(current.from) + " al " + dayText(current.to) + " · " +
      (current.channel ? channelLabel(current.channel) : "Todos los canales") + " · calculado a las " +
      clock(new Date().toISOString()));
  }).catch(function (error) {
    if (ticket !== pending) return;
    showError($("dashboard-error"), error.message);
    markInvalid(error.status === 422);
    setText($("dashboard-status"), current ? "Se muestran las cifras anteriores." : "");
  }).then(function () {
    if (ticket !== pending) return;
    box.setAttribute("aria-busy", "false");
    $("dashboard-apply").disabled = false;
  });
}

// --- a chart's card --------------------------------------------------------------------------------

function card(chart) {
  var titleId = "dashboard-title-" + chart.name;
  var section = el("section", {
    className: "dashboard__card", "aria-labelledby": titleId,
    "data-testid": "dashboard-chart", dataset: { chart: chart.name }
  });
  var header = el("header", { className: "dashboard__head" });
  header.appendChild(el("h3", { id: titleId, className: "dashboard__title" }, chart.title));
  var csv = el("a", {
    className: "btn dashboard__csv", href: "/api/dashboard/" + encodeURIComponent(chart.name) + ".csv?" + query(current),
    download: "", "data-testid": "dashboard-csv"
  }, "Descargar CSV");
  csv.appendChild(el("span", { className: "visually-hidden" }, ": " + chart.title));
  header.appendChild(csv);
  section.appendChild(header);
  section.appendChild(el("p", { className: "hint" }, chart.note));
  var figure = el("div", { className: "dashboard__figure" });
  figure.appendChild(plots.draw(chart));
  section.appendChild(figure);
  section.appendChild(plots.legend(chart));
  section.appendChild(dataTable(chart));
  return section;
}

function dataTable(chart) {
  var details = el("details", { className: "dashboard__data" });
  details.appendChild(el("summary", null, "Ver los datos (" + plural(chart.rows.length, "fila", "filas") + ")"));
  var wrap = el("div", { className: "dashboard__table-wrap", role: "region", tabindex: "0", "aria-label": "Datos: " + chart.title });
  var table = el("table", { className: "dashboard__table", "data-testid": "dashboard-table" });
  table.appendChild(el("caption", { className: "visually-hidden" }, chart.title));
  var head = el("tr");
  chart.columns.forEach(function (column) { head.appendChild(el("th", { scope: "col" }, column.label)); });
  table.appendChild(el("thead")).appendChild(head);
  var body = el("tbody");
  chart.rows.forEach(function (row) {
    var line = el("tr");
    chart.columns.forEach(function (column, i) {
      var text = plots.valueText(row[column.key], column.kind);
      line.appendChild(i === 0 ? el("th", { scope: "row" }, text) : el("td", { className: column.kind === "text" ? "" : "dashboard__number" }, text));
    });
    body.appendChild(line);
  });
  if (!chart.rows.length) {
    body.appendChild(el("tr")).appendChild(el("td", { colspan: String(chart.columns.length), className: "empty" }, "Sin datos en el periodo."));
  }
  table.appendChild(body);
  wrap.appendChild(table);
  details.appendChild(wrap);
  return details;
}
