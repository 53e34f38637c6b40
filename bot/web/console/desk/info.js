// The desk's information (GET /api/desk): teams, resolutions, agents, office hours. Reloaded
// every minute and after the administration changes something; forgotten on sign-out (the next
// login reloads it).

import { api } from "../lib/api.js";
import { $ } from "../lib/dom.js";

var desk = { teams: {}, resolutions: {}, agents: [] };
var changed = function () {};

// on.changed(): the information was (re)loaded.
export function mount(on) {
  changed = on.changed;
}

export function reset() {
  desk = { teams: {}, resolutions: {}, agents: [] };
}

// {teams: {name: label}, resolutions: {code: label}, agents: [...], office hours}.
export function info() { return desk; }

export function teamLabel(team) { return (team && desk.teams[team]) || team || "Sin equipo"; }

export function resolutionLabel(code) { return (desk.resolutions || {})[code] || code; }

export function loadDesk() {
  return api("GET", "/api/desk").then(function (loaded) {
    desk = loaded;
    var hours = $("office-hours");
    hours.textContent = (loaded.office_hours_text ? "Horario: " + loaded.office_hours_text : "Sin horario fijo") +
      " · " + (loaded.open_now ? "Abierto" : "Fuera de horario");
    changed();
  }).catch(function () {});
}
