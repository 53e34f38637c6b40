// «Eventos» (administrators): community events, registrations and proposed topics
// (bot/community/api.py). The list of events with their places taken and waiting; who signed
// up for one, and its attendee list as CSV; cancelling an event (everyone signed up is told);
// the topics citizens proposed, counted. The form that creates or changes an event: form.js.
// What citizens typed (names, contacts, topics) goes into the page as text only.

import { api } from "../lib/api.js";
import { $, announce, el, loadFragment, showError } from "../lib/dom.js";
import { channelLabel, dateTime, hostOf, safeUrl } from "../lib/format.js";
import * as form from "./form.js";

var STATES = {
  abierto: "Inscripción abierta",
  inscripcion_cerrada: "Inscripción cerrada",
  pasado: "Realizado",
  cancelado: "Cancelado"
};
var PLACES = { inscrito: "Inscrito", en_espera: "En espera", cancelado: "Canceló" };

var events = [];
var people = null;       // the event whose registrations are shown
var confirming = null;   // the id of the event whose cancellation awaits a second click

export function mount() {
  return loadFragment($("community-view"), new URL("./community.html", import.meta.url)).then(function () {
    $("community-past").addEventListener("change", loadEvents);
    $("community-people-close").addEventListener("click", closePeople);
    form.mount({ saved: saved });
  });
}

// Signed out: nothing of the last person's left.
export function reset() {
  events = [];
  people = null;
  confirming = null;
  if (!$("community-events")) return;  // the fragment never loaded
  $("community-events").textContent = "";
  $("community-topics").textContent = "";
  $("community-past").checked = false;
  closePeople();
  form.reset();
  ["community-info", "community-error", "community-topics-error"].forEach(function (id) {
    showError($(id), "");
  });
}

export function show() {
  loadEvents();
  loadTopics();
}

// --- the events -------------------------------------------------------------------------------

function loadEvents() {
  var path = "/api/events" + ($("community-past").checked ? "?past=true" : "");
  return api("GET", path).then(function (loaded) {
    events = loaded || [];
    showError($("community-error"), "");
    renderEvents();
  }).catch(function (error) {
    if (error.status !== 401) showError($("community-error"), error.message);
  });
}

function saved(event, changed) {
  showError($("community-info"), (changed ? "Guardamos los cambios de «" : "Creamos el evento «") + event.title + "».");
  loadEvents().then(function () {
    if (people && people.id === event.id) openPeople(event);
  });
}

function renderEvents() {
  var body = $("community-events");
  body.textContent = "";
  events.forEach(function (event) { body.appendChild(eventRow(event)); });
  $("community-events-empty").hidden = events.length > 0;
}

function eventRow(event) {
  var row = el("tr", { "data-testid": "community-event", "data-event": String(event.id) });
  var title = el("td");
  title.appendChild(el("span", { className: "community__event-title" }, event.title));
  title.appendChild(el("span", { className: "community__muted" }, " · " + (event.kind_label || event.kind)));
  row.appendChild(title);
  row.appendChild(el("td", null, dateTime(event.starts_at)));
  row.appendChild(whereCell(event));
  row.appendChild(el("td", { "data-testid": "community-registered" }, event.registered + " / " + event.capacity));
  row.appendChild(el("td", { "data-testid": "community-waiting" }, String(event.waiting)));
  row.appendChild(el("td", { className: "community__state community__state--" + event.state }, STATES[event.state] || event.state));
  row.appendChild(actionsCell(event));
  return row;
}

function whereCell(event) {
  var cell = el("td");
  if (event.place) cell.appendChild(el("span", { className: "community__place" }, event.place));
  var url = safeUrl(event.online_url);
  if (url) {
    if (event.place) cell.appendChild(el("br"));
    var link = el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, "En línea: " + hostOf(url));
    cell.appendChild(link);
  }
  return cell;
}

function actionsCell(event) {
  var cell = el("td", { className: "community__actions" });
  var changeable = event.state === "abierto" || event.state === "inscripcion_cerrada";
  if (confirming === event.id) {
    var told = event.registered + event.waiting;
    cell.appendChild(el("span", { className: "community__confirm" },
      "¿Cancelar el evento? Se avisará a " + told + (told === 1 ? " persona." : " personas.")));
    cell.appendChild(button("Sí, cancelar", "btn btn--danger", function () { cancelEvent(event); }, "community-cancel-yes"));
    cell.appendChild(button("No", "btn", function () { confirming = null; renderEvents(); }));
    return cell;
  }
  cell.appendChild(button("Inscritos", "btn", function () { openPeople(event); }, "community-open-people"));
  if (changeable) {
    cell.appendChild(button("Editar", "btn", function () { form.edit(event); }, "community-edit"));
    cell.appendChild(button("Cancelar evento", "btn btn--danger", function () {
      confirming = event.id;
      renderEvents();
    }, "community-cancel"));
  }
  return cell;
}

function button(label, className, onClick, testid) {
  var node = el("button", { type: "button", className: className }, label);
  if (testid) node.setAttribute("data-testid", testid);
  node.addEventListener("click", onClick);
  return node;
}

function cancelEvent(event) {
  confirming = null;
  api("POST", "/api/events/" + event.id + "/cancel").then(function (cancelled) {
    var text = "Cancelamos «" + cancelled.title + "». Avisamos a las personas inscritas y en espera.";
    showError($("community-info"), text);
    announce(text);
    if (form.editingId() === event.id) form.reset();
    return loadEvents();
  }).catch(function (error) {
    if (error.status !== 401) showError($("community-error"), error.message);
    renderEvents();
  });
}

// --- who signed up ----------------------------------------------------------------------------

function openPeople(event) {
  people = event;
  var box = $("community-people");
  box.hidden = false;
  $("community-people-title").textContent = "Inscritos en «" + event.title + "» (" +
    event.registered + " de " + event.capacity + ", " + event.waiting + " en espera)";
  $("community-csv").setAttribute("href", "/api/events/" + event.id + "/attendees.csv");
  $("community-people-rows").textContent = "";
  showError($("community-people-error"), "");
  $("community-people-title").focus();
  api("GET", "/api/events/" + event.id + "/registrations").then(function (loaded) {
    if (!people || people.id !== event.id) return;  // another event was opened meanwhile
    renderPeople(loaded || []);
  }).catch(function (error) {
    if (error.status !== 401) showError($("community-people-error"), error.message);
  });
}

function closePeople() {
  people = null;
  $("community-people").hidden = true;
  $("community-people-rows").textContent = "";
  $("community-csv").setAttribute("href", "#");
}

function renderPeople(list) {
  var body = $("community-people-rows");
  body.textContent = "";
  list.forEach(function (place) {
    var row = el("tr", { "data-testid": "community-person" });
    row.appendChild(el("td", null, place.name));
    row.appendChild(el("td", null, place.contact));
    row.appendChild(el("td", null, place.ruc || "—"));
    row.appendChild(el("td", null, channelLabel(place.channel)));
    row.appendChild(el("td", null, PLACES[place.status] || place.status));
    row.appendChild(el("td", null, dateTime(place.created_at)));
    body.appendChild(row);
  });
  $("community-people-empty").hidden = list.length > 0;
}

// --- proposed topics --------------------------------------------------------------------------

function loadTopics() {
  return api("GET", "/api/events/proposals").then(function (loaded) {
    showError($("community-topics-error"), "");
    renderTopics(loaded || []);
  }).catch(function (error) {
    if (error.status !== 401) showError($("community-topics-error"), error.message);
  });
}

function renderTopics(topics) {
  var list = $("community-topics");
  list.textContent = "";
  topics.forEach(function (topic) {
    var item = el("li", { className: "community__topic", "data-testid": "community-topic" });
    item.appendChild(el("span", { className: "community__topic-label" }, topic.label));
    item.appendChild(el("span", { className: "count" }, String(topic.count)));
    if (topic.examples && topic.examples.length) {
      var said = topic.examples.map(function (e) { return "«" + e + "»"; }).join(", ");
      item.appendChild(el("p", { className: "hint" }, "Por ejemplo: " + said));
    }
    list.appendChild(item);
  });
  $("community-topics-empty").hidden = topics.length > 0;
}
