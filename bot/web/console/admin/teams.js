// The teams (the desk's queues): the list and the form that adds one.

import { api } from "../lib/api.js";
import { $, el, setDisabled, showError } from "../lib/dom.js";
import { FIELD_PROBLEMS, problemText } from "../lib/problems.js";
import { info, loadDesk } from "../desk/info.js";

var TEAM_NAME = /^[a-z][a-z0-9_]{0,39}$/;

var teams = {};
var changed = function () {};

// on.changed(): the list of teams changed (the users' forms offer them).
export function mount(on) {
  changed = on.changed;
  $("team-form").addEventListener("submit", addTeam);
}

export function reset() {
  teams = {};
  $("teams").textContent = "";
  $("team-form").reset();
  ["team-error", "team-info"].forEach(function (id) { showError($(id), ""); });
}

export function teamLabel(team) {
  return (team && (teams[team] || info().teams[team])) || team || "Sin equipo";
}

// A select of the teams ("Sin equipo" first); a team no longer listed is kept if chosen.
export function fillTeams(select, chosen) {
  select.textContent = "";
  select.appendChild(el("option", { value: "" }, "Sin equipo"));
  Object.keys(teams).forEach(function (name) {
    select.appendChild(el("option", { value: name }, teams[name]));
  });
  if (chosen && !teams[chosen]) select.appendChild(el("option", { value: chosen }, chosen));
  select.value = chosen || "";
}

export function load() {
  return api("GET", "/api/admin/teams").then(function (loaded) {
    teams = loaded || {};
    render();
  }).catch(function (error) { if (error.status !== 401) showError($("team-error"), error.message); });
}

function render() {
  var list = $("teams");
  list.textContent = "";
  Object.keys(teams).forEach(function (name) {
    var item = el("li", { className: "admin__item", "data-testid": "team-item", "data-team": name });
    item.appendChild(el("span", { className: "admin__item-label" }, teams[name]));
    item.appendChild(el("code", { className: "admin__code" }, name));
    list.appendChild(item);
  });
  if (!list.children.length) list.appendChild(el("li", { className: "empty" }, "No hay equipos."));
  changed();
}

function addTeam(ev) {
  ev.preventDefault();
  var box = $("team-error");
  var name = $("team-name").value.trim();
  var label = $("team-label").value.trim();
  showError($("team-info"), "");
  if (!TEAM_NAME.test(name)) {
    showError(box, FIELD_PROBLEMS.name);
    $("team-name").focus();
    return;
  }
  if (!label) {
    showError(box, FIELD_PROBLEMS.label);
    $("team-label").focus();
    return;
  }
  var form = $("team-form");
  setDisabled(form, true);
  showError(box, "");
  api("POST", "/api/admin/teams", { name: name, label: label }).then(function (saved) {
    teams = saved || {};
    form.reset();
    render();
    showError($("team-info"), "Equipo «" + (teams[name] || label) + "» agregado.");
    loadDesk();
  }).catch(function (error) {
    showError(box, problemText(error));
  }).then(function () {
    setDisabled(form, false);
    if (box.textContent) $("team-name").focus();
  });
}
