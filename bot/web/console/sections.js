// The console's sections as tabs, each shown to the roles that may use it (the API refuses
// the others anyway):
//   «Atención»       desk/        everyone: the queue and the chats
//   «Solicitudes»    tickets/     everyone: complaints, claims, suggestions, information requests
//   «Comentarios»    listening/   everyone: comments on the fanpage, flagged ones first
//   «Eventos»        community/   administrators: events, registrations, proposed topics
//   «Tablero»        dashboard/   supervisors and administrators: how the service is doing
//   «Administración» admin/       administrators: users, teams, hours and the workbench
// With only one section for the role, no tabs are shown. /admin opens the administration
// (/agent#admin); /agent#<name> opens that section.

import * as admin from "./admin/admin.js";
import * as community from "./community/community.js";
import * as dashboard from "./dashboard/dashboard.js";
import { $ } from "./lib/dom.js";
import { isAdmin, isSupervisor, signedIn } from "./lib/session.js";
import * as listening from "./listening/listening.js";
import * as tickets from "./tickets/tickets.js";

var SECTIONS = [
  { name: "desk", may: signedIn, show: function () {} },
  { name: "tickets", may: signedIn, show: tickets.show },
  { name: "listening", may: signedIn, show: listening.show },
  { name: "community", may: isAdmin, show: community.show },
  { name: "dashboard", may: isSupervisor, show: dashboard.show },
  { name: "admin", may: isAdmin, show: function () { admin.showPane(admin.currentPane(), false); } }
];

function tab(section) { return $("tab-" + section.name); }
function view(section) { return $(section.name + "-view"); }
function allowed() { return SECTIONS.filter(function (s) { return s.may(); }); }

export function mount() {
  SECTIONS.forEach(function (section) {
    tab(section).addEventListener("click", function () { show(section.name); });
    tab(section).addEventListener("keydown", function (ev) {
      var open = allowed();
      var index = open.indexOf(section);
      var next = null;
      if (ev.key === "ArrowRight") next = (index + 1) % open.length;
      else if (ev.key === "ArrowLeft") next = (index + open.length - 1) % open.length;
      else if (ev.key === "Home") next = 0;
      else if (ev.key === "End") next = open.length - 1;
      if (next === null) return;
      ev.preventDefault();
      show(open[next].name);
      tab(open[next]).focus();
    });
  });
  return Promise.all([tickets.mount(), listening.mount(), community.mount(), dashboard.mount()]);
}

// Signed out: no section shown, and nothing of the last person's left in them.
export function reset() {
  $("sections").hidden = true;
  SECTIONS.forEach(function (section) { view(section).hidden = true; });
  tickets.reset();
  listening.reset();
  community.reset();
  dashboard.reset();
}

// Signed in: the tabs the role may use (none when only one), and the first section.
export function setUp() {
  var open = allowed();
  $("sections").hidden = open.length < 2;
  SECTIONS.forEach(function (section) {
    tab(section).hidden = open.indexOf(section) < 0;
    var panel = view(section);
    if (open.length > 1) {
      panel.setAttribute("role", "tabpanel");
      panel.setAttribute("aria-labelledby", "tab-" + section.name);
    } else {
      panel.removeAttribute("role");
      panel.removeAttribute("aria-labelledby");
    }
  });
  var wanted = location.hash.replace("#", "");
  var first = open.filter(function (s) { return s.name === wanted; })[0];
  show(first ? first.name : "desk");
}

export function show(name) {
  var open = allowed();
  var chosen = open.filter(function (s) { return s.name === name; })[0] || open[0];
  SECTIONS.forEach(function (section) {
    var selected = section === chosen;
    view(section).hidden = !selected;
    tab(section).setAttribute("aria-selected", selected ? "true" : "false");
    tab(section).tabIndex = selected ? 0 : -1;
  });
  chosen.show();
}
