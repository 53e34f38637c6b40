// The agents' console (/agent): the entry module, loaded by index.html. It puts each part's
// markup in place, wires the parts and runs the session: sign in → the desk (and, for
// administrators, the administration) → sign out or the session ends → the login again.
//
//   login.js, sections.js  signing in and out; the sections as tabs, per role
//   desk/                  the chats: queue, open chat, replies, notes, supervisors' views
//   admin/                 the administration: users, teams, office hours (and its tabs)
//   workbench/             review inbox, training, models, articles, the project as a zip
//   tickets/, listening/   complaints and requests with their codes; the fanpage's comments
//   community/, dashboard/ events and their registrations; the supervisors' charts
//   lib/                   shared helpers: the API, DOM, formats, live events, sound, session
//
// The REST API is under /api/ (bot/handoff/api.py and its neighbours), the live events on the
// WebSocket /api/console/events. Every text written by a citizen or an agent goes into the page
// with textContent, never as HTML. No build step: these are native ES modules.

import * as admin from "./admin/admin.js";
import * as desk from "./desk/desk.js";
import { api } from "./lib/api.js";
import { $ } from "./lib/dom.js";
import * as session from "./lib/session.js";
import * as sound from "./lib/sound.js";
import * as login from "./login.js";
import * as sections from "./sections.js";

function start(signedIn) {
  session.begin(signedIn);
  login.reset();
  sections.setUp();
  login.showWho();
  desk.start().then(login.showWho);
}

function showLogin(message, notice) {
  sections.reset();
  admin.reset();
  login.show(message, notice);
}

function end(message, notice) {
  desk.reset();
  session.clear();
  showLogin(message, notice);
}

Promise.all([desk.mount(), admin.mount(), sections.mount()]).then(function () {
  sound.mount();
  login.mount({
    signedIn: start,
    signedOut: function () { end("Cerraste sesión.", true); }
  });
  session.onEnded(function () { end("Tu sesión terminó. Inicia sesión de nuevo."); });
  api("GET", "/api/auth/me").then(start, function () { showLogin(""); });
}, function (error) {
  var box = $("load-error");
  box.textContent = "No se pudo cargar la consola: recarga la página. (" + error.message + ")";
  box.hidden = false;
});
