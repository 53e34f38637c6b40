// The two sections of the console — the desk ("Atención") and the administration — as tabs.
// Only administrators get the tabs and the administration; /admin opens it (/agent#admin).

import { $ } from "./lib/dom.js";
import { isAdmin } from "./lib/session.js";
import * as admin from "./admin/admin.js";

var TABS = ["tab-desk", "tab-admin"];

export function mount() {
  TABS.forEach(function (id, index) {
    var tab = $(id);
    tab.addEventListener("click", function () { show(id === "tab-admin" ? "admin" : "desk"); });
    tab.addEventListener("keydown", function (ev) {
      var next = null;
      if (ev.key === "ArrowRight") next = (index + 1) % TABS.length;
      else if (ev.key === "ArrowLeft") next = (index + TABS.length - 1) % TABS.length;
      else if (ev.key === "Home") next = 0;
      else if (ev.key === "End") next = TABS.length - 1;
      if (next === null) return;
      ev.preventDefault();
      show(TABS[next] === "tab-admin" ? "admin" : "desk");
      $(TABS[next]).focus();
    });
  });
}

// Signed out: neither section shown.
export function reset() {
  $("desk-view").hidden = true;
  $("sections").hidden = true;
  $("admin-view").hidden = true;
}

// Signed in: the tabs for administrators, and the first section.
export function setUp() {
  var on = isAdmin();
  var desk = $("desk-view");
  $("sections").hidden = !on;
  if (on) {
    desk.setAttribute("role", "tabpanel");
    desk.setAttribute("aria-labelledby", "tab-desk");
  } else {
    desk.removeAttribute("role");
    desk.removeAttribute("aria-labelledby");
  }
  // /admin sends administrators to /agent#admin: the workbench opens first.
  show(location.hash === "#admin" ? "admin" : "desk");
}

function show(name) {
  var adminOn = name === "admin" && isAdmin();
  $("desk-view").hidden = adminOn;
  $("admin-view").hidden = !adminOn;
  TABS.forEach(function (id) {
    var selected = (id === "tab-admin") === adminOn;
    $(id).setAttribute("aria-selected", selected ? "true" : "false");
    $(id).tabIndex = selected ? 0 : -1;
  });
  if (adminOn) admin.showPane(admin.currentPane(), false);
}
