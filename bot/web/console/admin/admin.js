// The administration (administrators only; the API refuses these calls to anyone else): five
// sub-sections as tabs, each with its markup in an HTML file next to its modules.
//   «Usuarios y equipos»  people.html           users.js, teams.js, hours.js
//   «Bandeja»             ../workbench/inbox.html     inbox.js, new-intent.js
//   «Entrenamiento»       ../workbench/training.html  training.js
//   «Modelos»             ../workbench/models.html    models.js, evaluation.js
//   «Artículos»           ../workbench/articles.html  articles.js (editor, preview, versions), project.js

import { $, loadFragment } from "../lib/dom.js";
import * as articles from "../workbench/articles.js";
import * as inbox from "../workbench/inbox.js";
import * as models from "../workbench/models.js";
import * as newIntent from "../workbench/new-intent.js";
import * as project from "../workbench/project.js";
import * as training from "../workbench/training.js";
import * as hours from "./hours.js";
import * as teams from "./teams.js";
import * as users from "./users.js";

var PANES = ["people", "inbox", "training", "models", "articles"];
var MARKUP = {
  people: "./people.html",
  inbox: "../workbench/inbox.html",
  training: "../workbench/training.html",
  models: "../workbench/models.html",
  articles: "../workbench/articles.html"
};

var pane = "people";

export function mount() {
  return Promise.all(PANES.map(function (name) {
    return loadFragment($("admin-" + name), new URL(MARKUP[name], import.meta.url));
  })).then(function () {
    PANES.forEach(function (name, index) {
      var tab = $("admin-tab-" + name);
      tab.addEventListener("click", function () { showPane(name, false); });
      tab.addEventListener("keydown", function (ev) {
        var next = null;
        if (ev.key === "ArrowRight") next = (index + 1) % PANES.length;
        else if (ev.key === "ArrowLeft") next = (index + PANES.length - 1) % PANES.length;
        else if (ev.key === "Home") next = 0;
        else if (ev.key === "End") next = PANES.length - 1;
        if (next === null) return;
        ev.preventDefault();
        showPane(PANES[next], true);
      });
    });
    users.mount();
    teams.mount({ changed: users.teamsChanged });
    hours.mount();
    inbox.mount();
    newIntent.mount();
    training.mount({ openModel: openModel, jobEnded: jobEnded });
    models.mount();
    articles.mount();
    project.mount();
  });
}

// Signed out: everything forgotten, the first sub-section selected.
export function reset() {
  pane = "people";
  selectTab("people");
  inbox.reset();
  newIntent.reset();
  training.reset();
  models.reset();
  articles.reset();
  project.reset();
  users.reset();
  teams.reset();
  hours.reset();
}

export function currentPane() { return pane; }

// Shows a sub-section and loads what it shows.
export function showPane(name, focus) {
  if (PANES.indexOf(name) < 0) name = "people";
  pane = name;
  selectTab(name);
  if (focus) $("admin-tab-" + name).focus();
  if (name === "people") return loadPeople();
  if (name === "inbox") return inbox.load();
  if (name === "training") return training.load();
  if (name === "articles") return articles.load();
  return models.load();
}

function selectTab(name) {
  PANES.forEach(function (other) {
    var on = other === name;
    $("admin-" + other).hidden = !on;
    $("admin-tab-" + other).setAttribute("aria-selected", on ? "true" : "false");
    $("admin-tab-" + other).tabIndex = on ? 0 : -1;
  });
}

function loadPeople() {
  var loads = [teams.load(), users.load()];
  if (!hours.loaded()) loads.push(hours.load());
  return Promise.all(loads);
}

// From a training to the evaluation of the model it made.
function openModel(id) {
  models.choose(id);
  showPane("models", true);
}

// A training ended: the list of models changed.
function jobEnded() {
  if (pane === "models") models.load();
}
