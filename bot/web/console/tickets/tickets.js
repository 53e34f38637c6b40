// «Solicitudes»: complaints, claims, suggestions and information requests (bot/tickets/api.py).
// This module: the queues (one per kind, with counts and overdue marks), the filters and the
// list, nearest deadline first. The open ticket is ticket.js.

import { api } from "../lib/api.js";
import { $, el, loadFragment, setCount, showError } from "../lib/dom.js";
import { channelLabel, dateTime } from "../lib/format.js";
import * as ticket from "./ticket.js";

var kinds = [];          // [{name, label, days, business_days, legal, basis}]
var counts = {};         // kind → {status: n, overdue: n}
var chosenKind = null;   // the queue shown (null before the first list)
var listed = [];
var mounted = false;

export function mount() {
  return loadFragment($("tickets-view"), new URL("./tickets.html", import.meta.url)).then(function () {
    $("tickets-filters").addEventListener("submit", function (ev) {
      ev.preventDefault();
      refresh();
    });
    ["tickets-status", "tickets-assigned", "tickets-overdue"].forEach(function (id) {
      $(id).addEventListener("change", refresh);
    });
    ticket.mount({ changed: refresh, selected: function () { return null; } });
    mounted = true;
  });
}

// Signed out: nothing of the last person's tickets stays on the page.
export function reset() {
  if (!mounted) return;
  kinds = [];
  counts = {};
  chosenKind = null;
  listed = [];
  $("tickets-kinds").replaceChildren();
  $("tickets-list").replaceChildren();
  setCount("tickets", 0);
  $("tickets-code").value = "";
  showError($("tickets-error"), "");
  ticket.reset();
}

export function show() {
  if (mounted) refresh();
}

function query() {
  var params = new URLSearchParams();
  if (chosenKind) params.append("kind", chosenKind);
  var status = $("tickets-status").value;
  if (status === "") { params.append("status", "recibido"); params.append("status", "en_proceso"); }
  else if (status !== "todas") params.append("status", status);
  params.append("assigned", $("tickets-assigned").value);
  if ($("tickets-overdue").checked) params.append("overdue", "true");
  var code = $("tickets-code").value.trim();
  if (code) {
    params.append("code", code.toUpperCase());
    params.delete("kind");
    params.delete("status");
  }
  return params.toString();
}

export function refresh() {
  return api("GET", "/api/tickets?" + query()).then(function (answer) {
    showError($("tickets-error"), "");
    kinds = answer.kinds || [];
    counts = answer.counts || {};
    if (chosenKind === null && kinds.length) chosenKind = kinds[0].name;
    listed = answer.tickets || [];
    renderKinds();
    renderList();
  }).catch(function (error) {
    showError($("tickets-error"), error.message);
  });
}

function openCount(kind) {
  var c = counts[kind] || {};
  return (c.recibido || 0) + (c.en_proceso || 0);
}

function renderKinds() {
  var box = $("tickets-kinds");
  box.replaceChildren();
  kinds.forEach(function (kind) {
    var overdue = (counts[kind.name] || {}).overdue || 0;
    var button = el("button", {
      type: "button",
      className: "btn btn--small tickets__kind",
      "aria-pressed": kind.name === chosenKind ? "true" : "false",
      "data-testid": "tickets-kind-" + kind.name,
      title: kind.days + (kind.business_days ? " días hábiles" : " días calendario") +
        (kind.legal ? " (" + kind.basis + ")" : " (plazo ofrecido, no legal)")
    });
    button.appendChild(document.createTextNode(kind.label + " "));
    button.appendChild(el("span", { className: "count" }, openCount(kind.name)));
    if (overdue) button.appendChild(el("span", { className: "tickets__overdue" }, overdue + " vencidas"));
    button.addEventListener("click", function () {
      chosenKind = kind.name;
      refresh();
    });
    box.appendChild(button);
  });
}

function renderList() {
  var list = $("tickets-list");
  list.replaceChildren();
  listed.forEach(function (item) {
    var li = el("li", { className: "card" + (item.id === ticket.openId() ? " card--selected" : "") });
    var open = el("button", { type: "button", className: "card__open", "data-testid": "tickets-item" });
    var top = el("span", { className: "card__top" });
    top.appendChild(el("span", { className: "card__id" }, item.code));
    top.appendChild(el("span", { className: "badge", "data-state": item.status }, item.status_label));
    open.appendChild(top);
    var due = el("span", { className: "tickets__due" + (item.overdue ? " tickets__due--late" : "") },
      (item.overdue ? "Vencida: " : "Plazo: ") + dateTime(item.due_at));
    open.appendChild(due);
    open.appendChild(el("span", { className: "card__last" }, item.preview));
    open.appendChild(el("span", { className: "hint" },
      channelLabel(item.channel) + " · " + (item.assigned_name ? "Asignada a " + item.assigned_name : "Sin asignar")));
    open.addEventListener("click", function () {
      ticket.open(item.id).then(renderList);
    });
    li.appendChild(open);
    list.appendChild(li);
  });
  setCount("tickets", listed.length);
}
