// The dashboard's charts drawn as inline SVG, from a chart as the API sends it (bot/dashboard/
// charts.py): its columns, rows and plot. Two kinds:
//   «columns»: one column per day, the series stacked, optionally a line on its own scale (right);
//   «bars»:    one horizontal bar per row, labelled, the series stacked.
// Every mark (rect, circle) carries data-mark and a <title> with its figure; the SVG is an image
// named by the chart's title and described by a short summary (the data table is beside it).
// Colours are attributes (fill, stroke), never inline styles: the console's CSP forbids them.

import { dayText } from "../lib/format.js";

var SVG = "http://www.w3.org/2000/svg";
// Okabe–Ito: told apart by people with the common colour vision deficiencies.
var PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#882255", "#117733"];
// Codes keep their colour whatever the filter leaves (a channel, a reason, a sentiment…).
var COLORS = {
  webchat: "#0072B2", messenger: "#E69F00", whatsapp: "#009E73", twilio: "#CC79A7",
  pedido: "#0072B2", tema: "#E69F00", frustracion: "#009E73", no_entiende: "#CC79A7", repite: "#56B4E9",
  positivo: "#009E73", neutral: "#8a8f98", negativo: "#D55E00", sin_clasificar: "#c8ccd2",
  on_time: "#0072B2", overdue: "#D55E00",
  inscrito: "#009E73", en_espera: "#E69F00", cancelado: "#8a8f98",
  clarified: "#E69F00", not_understood: "#D55E00"
};
var LINE_COLOR = "#1d1d1f";
var WIDTH = 720;
var COLUMNS_HEIGHT = 260;
var BAR_HEIGHT = 22;
var LABEL_CHARS = 34;

var serial = 0;   // numbers the ids of each SVG's title and description

// Drawing needs nothing of the page; the numbering starts again after a sign-out.
export function mount() {}

export function reset() { serial = 0; }

export function colorOf(key, index) { return COLORS[key] || PALETTE[index % PALETTE.length]; }

function node(tag, attrs, text) {
  var element = document.createElementNS(SVG, tag);
  Object.keys(attrs || {}).forEach(function (key) { element.setAttribute(key, String(attrs[key])); });
  if (text !== undefined && text !== null) element.textContent = String(text);
  return element;
}

function titled(element, text) {
  element.appendChild(node("title", null, text));
  return element;
}

export function number(value, digits) {
  if (typeof value !== "number") return "—";
  return value.toLocaleString("es-PE", { minimumFractionDigits: digits || 0, maximumFractionDigits: digits || 0 });
}

// A value as the table and the marks show it, by its column's kind.
export function valueText(value, kind) {
  if (value === null || value === undefined || value === "") return "—";
  if (kind === "day") return dayText(String(value));
  if (kind === "percent") return number(value, 1) + " %";
  if (kind === "minutes") return number(value, 1) + " min";
  if (kind === "rating") return number(value, 2);
  if (kind === "count") return number(value, 0);
  return String(value);
}

// The top of a scale: a round number at or above max, and its ticks (at most six). Counts get
// whole steps.
function scale(max, whole) {
  if (!(max > 0)) return { top: 1, ticks: [0, 1] };
  var power = Math.pow(10, Math.floor(Math.log10(max)));
  var nice = [0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10];
  var step = 10 * power;
  for (var i = 0; i < nice.length; i++) {
    var candidate = nice[i] * power;
    if (whole && candidate % 1) continue;
    if (max / candidate <= 5) { step = candidate; break; }
  }
  var top = step * Math.ceil(max / step - 1e-9);
  var ticks = [];
  for (var t = 0; t <= top + step / 2; t += step) ticks.push(Math.round(t * 1000) / 1000);
  return { top: top, ticks: ticks };
}

function tickText(value, kind) {
  var text = number(value, value % 1 ? (value * 10) % 1 ? 2 : 1 : 0);
  return kind === "percent" ? text + " %" : kind === "minutes" ? text + " min" : text;
}

function columnOf(chart, key) {
  return chart.columns.filter(function (c) { return c.key === key; })[0] || { key: key, label: key, kind: "count" };
}

function frame(chart, height, summary) {
  serial += 1;
  var titleId = "dashboard-svg-title-" + serial;
  var descId = "dashboard-svg-desc-" + serial;
  var svg = node("svg", {
    viewBox: "0 0 " + WIDTH + " " + height, role: "img", class: "dashboard__svg",
    "aria-labelledby": titleId + " " + descId, "data-testid": "dashboard-svg", focusable: "false"
  });
  svg.appendChild(node("title", { id: titleId }, chart.title));
  svg.appendChild(node("desc", { id: descId }, summary));
  return svg;
}

function empty(svg, height) {
  svg.appendChild(node("text", { x: WIDTH / 2, y: height / 2, "text-anchor": "middle", class: "dashboard__nodata" },
    "Sin datos en el periodo"));
  return svg;
}

function total(row, series) {
  return series.reduce(function (sum, key) { return sum + (typeof row[key] === "number" ? row[key] : 0); }, 0);
}

// --- columns: one per day, stacked, and a line ----------------------------------------------------

function columnsSummary(chart, series, line) {
  var x = chart.plot.x;
  var sum = 0;
  var best = null;
  chart.rows.forEach(function (row) {
    var value = total(row, series);
    sum += value;
    if (!best || value > best.value) best = { day: row[x], value: value };
  });
  var text = "Total del periodo: " + number(sum) + ".";
  if (best && best.value > 0) text += " El día con más: " + dayText(best.day) + " (" + number(best.value) + ").";
  if (line) {
    var values = chart.rows.map(function (r) { return r[line.key]; }).filter(function (v) { return typeof v === "number"; });
    if (values.length) {
      var mean = values.reduce(function (a, b) { return a + b; }, 0) / values.length;
      text += " " + line.label + ", promedio de los días con datos: " + valueText(mean, line.kind) + ".";
    }
  }
  return text;
}

export function columnsPlot(chart) {
  var plot = chart.plot;
  var series = plot.series;
  var line = plot.line ? columnOf(chart, plot.line) : null;
  var rows = chart.rows;
  var height = COLUMNS_HEIGHT;
  var svg = frame(chart, height, columnsSummary(chart, series, line));
  var left = 48, right = line ? 56 : 12, top = 12, bottom = 34;
  var innerW = WIDTH - left - right, innerH = height - top - bottom;
  var totals = rows.map(function (row) { return total(row, series); });
  var counts = scale(Math.max.apply(null, [0].concat(totals)), true);
  var y = function (value) { return top + innerH - (value / counts.top) * innerH; };
  var axis = node("g", { class: "dashboard__axis" });
  counts.ticks.forEach(function (tick) {
    axis.appendChild(node("line", { x1: left, x2: left + innerW, y1: y(tick), y2: y(tick), class: "dashboard__grid" }));
    axis.appendChild(node("text", { x: left - 6, y: y(tick) + 4, "text-anchor": "end" }, tickText(tick, "count")));
  });
  svg.appendChild(axis);
  var nothing = Math.max.apply(null, [0].concat(totals)) === 0 && !hasLine(rows, line);
  if (!rows.length || nothing) return empty(svg, height);
  var slot = innerW / rows.length;
  var width = Math.max(1, slot * 0.78);
  var marks = node("g", { class: "dashboard__marks" });
  rows.forEach(function (row, i) {
    var base = 0;
    var x = left + i * slot + (slot - width) / 2;
    series.forEach(function (key, s) {
      var value = typeof row[key] === "number" ? row[key] : 0;
      if (value <= 0) return;
      var rect = node("rect", {
        x: x.toFixed(2), y: y(base + value).toFixed(2), width: width.toFixed(2),
        height: Math.max(0.5, y(base) - y(base + value)).toFixed(2), fill: colorOf(key, s), "data-mark": key
      });
      marks.appendChild(titled(rect, dayText(row[plot.x]) + " · " + columnOf(chart, key).label + ": " + number(value)));
      base += value;
    });
  });
  svg.appendChild(marks);
  // Day labels: at most about eight, evenly spaced.
  var every = Math.max(1, Math.ceil(rows.length / 8));
  var labels = node("g", { class: "dashboard__axis" });
  rows.forEach(function (row, i) {
    if (i % every) return;
    var text = dayText(row[plot.x]).slice(0, 5);
    labels.appendChild(node("text", { x: left + i * slot + slot / 2, y: height - bottom + 16, "text-anchor": "middle" }, text));
  });
  svg.appendChild(labels);
  if (line) drawLine(svg, chart, line, { left: left, top: top, innerW: innerW, innerH: innerH, slot: slot });
  return svg;
}

function hasLine(rows, line) {
  return !!line && rows.some(function (r) { return typeof r[line.key] === "number"; });
}

function drawLine(svg, chart, line, box) {
  var rows = chart.rows;
  var values = rows.map(function (r) { return r[line.key]; });
  var numbers = values.filter(function (v) { return typeof v === "number"; });
  if (!numbers.length) return;
  var max = chart.plot.line_max || Math.max.apply(null, numbers);
  var s = scale(max, false);
  var y = function (value) { return box.top + box.innerH - (value / s.top) * box.innerH; };
  var axis = node("g", { class: "dashboard__axis" });
  s.ticks.forEach(function (tick) {
    axis.appendChild(node("text", { x: box.left + box.innerW + 6, y: y(tick) + 4, "text-anchor": "start" },
      tickText(tick, line.kind)));
  });
  svg.appendChild(axis);
  var path = "";
  var open = false;
  var points = node("g", { class: "dashboard__points" });
  values.forEach(function (value, i) {
    if (typeof value !== "number") { open = false; return; }
    var cx = box.left + i * box.slot + box.slot / 2;
    path += (open ? " L" : " M") + cx.toFixed(2) + " " + y(value).toFixed(2);
    open = true;
    var dot = node("circle", { cx: cx.toFixed(2), cy: y(value).toFixed(2), r: rows.length > 62 ? 1.6 : 3,
      fill: LINE_COLOR, "data-mark": line.key });
    points.appendChild(titled(dot, dayText(rows[i][chart.plot.x]) + " · " + line.label + ": " + valueText(value, line.kind)));
  });
  svg.appendChild(node("path", { d: path.trim(), fill: "none", stroke: LINE_COLOR, "stroke-width": 1.6, class: "dashboard__line" }));
  svg.appendChild(points);
}

// --- bars: one per row, labelled, stacked --------------------------------------------------------

function shorten(text) {
  text = String(text === null || text === undefined ? "—" : text);
  return text.length > LABEL_CHARS ? text.slice(0, LABEL_CHARS - 1) + "…" : text;
}

export function barsPlot(chart) {
  var plot = chart.plot;
  var series = plot.series;
  var rows = chart.rows;
  var totals = rows.map(function (row) { return total(row, series); });
  var best = rows.length ? rows[totals.indexOf(Math.max.apply(null, totals))] : null;
  var summary = rows.length
    ? rows.length + " filas. Mayor: " + (best ? String(best[plot.label]) + " (" + number(Math.max.apply(null, totals)) + ")." : "")
    : "Sin datos en el periodo.";
  var height = Math.max(80, 24 + rows.length * (BAR_HEIGHT + 8));
  var svg = frame(chart, height, summary);
  if (!rows.length) return empty(svg, height);
  var left = 230, right = 56, top = 8;
  var innerW = WIDTH - left - right;
  var counts = scale(Math.max.apply(null, [0].concat(totals)), true);
  var x = function (value) { return left + (value / counts.top) * innerW; };
  var marks = node("g", { class: "dashboard__marks" });
  var labels = node("g", { class: "dashboard__axis" });
  rows.forEach(function (row, i) {
    var yTop = top + i * (BAR_HEIGHT + 8);
    var label = node("text", { x: left - 8, y: yTop + BAR_HEIGHT / 2 + 4, "text-anchor": "end" }, shorten(row[plot.label]));
    labels.appendChild(titled(label, String(row[plot.label])));
    var base = 0;
    series.forEach(function (key, s) {
      var value = typeof row[key] === "number" ? row[key] : 0;
      if (value <= 0) return;
      var rect = node("rect", {
        x: x(base).toFixed(2), y: yTop, width: Math.max(0.5, x(base + value) - x(base)).toFixed(2),
        height: BAR_HEIGHT, fill: colorOf(key, s), "data-mark": key
      });
      marks.appendChild(titled(rect, String(row[plot.label]) + " · " + columnOf(chart, key).label + ": " + number(value)));
      base += value;
    });
    labels.appendChild(node("text", { x: x(base) + 6, y: yTop + BAR_HEIGHT / 2 + 4, "text-anchor": "start" }, number(totals[i])));
  });
  svg.appendChild(node("line", { x1: left, x2: left, y1: top - 4, y2: height - 8, class: "dashboard__grid" }));
  svg.appendChild(marks);
  svg.appendChild(labels);
  return svg;
}

// A legend: a swatch (a small SVG, coloured by attribute) and the series' label.
export function legend(chart) {
  var list = document.createElement("ul");
  list.className = "dashboard__legend";
  var items = chart.plot.series.map(function (key, i) { return { key: key, color: colorOf(key, i), line: false }; });
  if (chart.plot.line) items.push({ key: chart.plot.line, color: LINE_COLOR, line: true });
  items.forEach(function (item) {
    var entry = document.createElement("li");
    var swatch = node("svg", { viewBox: "0 0 14 14", width: 14, height: 14, "aria-hidden": "true", focusable: "false" });
    swatch.appendChild(item.line
      ? node("line", { x1: 0, x2: 14, y1: 7, y2: 7, stroke: item.color, "stroke-width": 2.5 })
      : node("rect", { x: 1, y: 1, width: 12, height: 12, fill: item.color }));
    entry.appendChild(swatch);
    entry.appendChild(document.createTextNode(" " + columnOf(chart, item.key).label + (item.line ? " (escala derecha)" : "")));
    list.appendChild(entry);
  });
  return list;
}

export function draw(chart) {
  return chart.plot.type === "bars" ? barsPlot(chart) : columnsPlot(chart);
}
