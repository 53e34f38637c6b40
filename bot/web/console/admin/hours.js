// The office hours: one row per weekday (open or not, opening and closing time). Outside them
// the assistant offers to leave a callback request instead of a chat with an agent.

import { api } from "../lib/api.js";
import { $, el, setDisabled, showError } from "../lib/dom.js";
import { problemText } from "../lib/problems.js";
import { loadDesk } from "../desk/info.js";

var WEEKDAYS = [["mon", "Lunes"], ["tue", "Martes"], ["wed", "Miércoles"], ["thu", "Jueves"],
  ["fri", "Viernes"], ["sat", "Sábado"], ["sun", "Domingo"]];
var DEFAULT_HOURS = ["08:30", "17:00"];

var hoursLoaded = false;

export function mount() {
  buildRows();
  WEEKDAYS.forEach(function (pair) { dayToggled(pair[0]); });
  $("hours-form").addEventListener("submit", save);
}

export function reset() {
  hoursLoaded = false;
  $("hours-form").reset();
  ["hours-error", "hours-info"].forEach(function (id) { showError($(id), ""); });
  $("hours-text").textContent = "";
  WEEKDAYS.forEach(function (pair) { dayToggled(pair[0]); });
}

// Whether they were loaded since the administrator signed in (they change only here).
export function loaded() { return hoursLoaded; }

export function load() {
  return api("GET", "/api/admin/office-hours").then(function (data) {
    hoursLoaded = true;
    fill(data);
  }).catch(function (error) { if (error.status !== 401) showError($("hours-error"), error.message); });
}

function buildRows() {
  var body = $("hours-days");
  WEEKDAYS.forEach(function (pair) {
    var day = pair[0];
    var name = pair[1];
    var row = el("tr", { "data-testid": "hours-" + day, "data-day": day });
    row.appendChild(el("th", { scope: "row" }, name));
    var onCell = el("td");
    var onLabel = el("label", { className: "check" });
    var on = el("input", { type: "checkbox", id: "hours-" + day + "-on" });
    onLabel.appendChild(on);
    onLabel.appendChild(el("span", { className: "visually-hidden" }, name + ": "));
    onLabel.appendChild(document.createTextNode("atiende"));
    onCell.appendChild(onLabel);
    row.appendChild(onCell);
    [["opens", "abre"], ["closes", "cierra"]].forEach(function (part) {
      var cell = el("td");
      var id = "hours-" + day + "-" + part[0];
      cell.appendChild(el("label", { "for": id, className: "visually-hidden" }, name + ": " + part[1]));
      cell.appendChild(el("input", { type: "time", id: id, "data-part": part[0] }));
      row.appendChild(cell);
    });
    on.addEventListener("change", function () { dayToggled(day); });
    body.appendChild(row);
  });
}

function dayToggled(day) {
  var on = $("hours-" + day + "-on").checked;
  var opens = $("hours-" + day + "-opens");
  var closes = $("hours-" + day + "-closes");
  opens.disabled = !on;
  closes.disabled = !on;
  if (on && !opens.value) opens.value = DEFAULT_HOURS[0];
  if (on && !closes.value) closes.value = DEFAULT_HOURS[1];
}

function fill(data) {
  var hours = (data && data.hours) || {};
  WEEKDAYS.forEach(function (pair) {
    var day = pair[0];
    var span = typeof hours[day] === "string" ? hours[day].split("-") : null;
    $("hours-" + day + "-on").checked = !!span;
    $("hours-" + day + "-opens").value = span ? span[0] : "";
    // A time field cannot hold 24:00: the end of the day is 00:00 there.
    $("hours-" + day + "-closes").value = span ? (span[1] === "24:00" ? "00:00" : span[1]) : "";
    dayToggled(day);
  });
  if (data && data.timezone) $("hours-timezone").textContent = data.timezone;
  $("hours-text").textContent = hoursText(data);
}

function hoursText(data) {
  return data && data.text ? data.text : "sin horario fijo, se atiende siempre";
}

function save(ev) {
  ev.preventDefault();
  var box = $("hours-error");
  var hours = {};
  var problems = [];
  var firstBad = null;
  WEEKDAYS.forEach(function (pair) {
    var day = pair[0];
    if (!$("hours-" + day + "-on").checked) return;
    var opens = $("hours-" + day + "-opens").value.slice(0, 5);
    var closes = $("hours-" + day + "-closes").value.slice(0, 5);
    var ends = closes === "00:00" ? "24:00" : closes;
    if (!opens || !closes) problems.push(pair[1] + ": escribe la hora en que abre y la hora en que cierra.");
    else if (ends <= opens) problems.push(pair[1] + ": la hora de cierre debe ser posterior a la de apertura.");
    else { hours[day] = opens + "-" + ends; return; }
    if (!firstBad) firstBad = $("hours-" + day + "-" + (opens ? "closes" : "opens"));
  });
  showError($("hours-info"), "");
  if (problems.length) {
    showError(box, problems.join(" "));
    firstBad.focus();
    return;
  }
  var form = $("hours-form");
  setDisabled(form, true);
  showError(box, "");
  api("PUT", "/api/admin/office-hours", hours).then(function (data) {
    hoursLoaded = true;
    fill(data);
    showError($("hours-info"), "Horario guardado: " + hoursText(data));
    loadDesk();
  }).catch(function (error) {
    showError(box, problemText(error));
  }).then(function () {
    setDisabled(form, false);
    WEEKDAYS.forEach(function (pair) { dayToggled(pair[0]); });
  });
}
