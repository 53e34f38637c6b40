// «Solicitudes»: the open ticket. What the citizen wrote (as text, never HTML), its deadline
// and basis, who has it, the statuses it may go to, the reply to the citizen, internal notes,
// and its history with how the citizen was told of each reply and status change.

import { api } from "../lib/api.js";
import { $, announce, el, showError } from "../lib/dom.js";
import { channelLabel, dateTime } from "../lib/format.js";
import { currentAgent } from "../lib/session.js";

var current = null;       // the open ticket's detail ({ticket, entries})
var statuses = {};        // status → label
var agents = [];          // [{id, display_name}] for assignments
var hooks = { changed: function () {} };

var NOTIFIED = {
  chat: "enviado por su canal",
  template: "fuera de la ventana de WhatsApp: se le invitó a escribir con la plantilla",
  outside_window: "fuera de la ventana del canal: no se pudo enviar",
  failed: "su canal está apagado: no se envió"
};
var ENTRY_KINDS = { status: "Estado", reply: "Respuesta", note: "Nota interna", assign: "Asignación" };

// on.changed(): the ticket changed (the list refreshes).
export function mount(on) {
  hooks = on;
  $("ticket-take").addEventListener("click", function () { assign(currentAgent().id); });
  $("ticket-assign-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var value = $("ticket-assign-to").value;
    assign(value ? Number(value) : null);
  });
  $("ticket-status-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var status = $("ticket-next-status").value;
    if (status) act("/status", { status: status }, "Estado cambiado; se avisó al ciudadano.");
  });
  $("ticket-reply-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = $("ticket-reply-text").value.trim();
    if (!text) return;
    act("/replies", { text: text, answered: $("ticket-reply-answered").checked },
      "Respuesta enviada al ciudadano.").then(function (ok) { if (ok) $("ticket-reply-text").value = ""; });
  });
  $("ticket-note-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = $("ticket-note-text").value.trim();
    if (!text) return;
    act("/notes", { text: text }, "Nota guardada.").then(function (ok) { if (ok) $("ticket-note-text").value = ""; });
  });
}

export function reset() {
  current = null;
  agents = [];
  $("ticket-body").hidden = true;
  $("ticket-placeholder").hidden = false;
  $("ticket-history").replaceChildren();
  $("ticket-description").textContent = "";
  $("ticket-reply-text").value = "";
  $("ticket-note-text").value = "";
  showError($("ticket-error"), "");
}

export function openId() { return current ? current.ticket.id : null; }

export function open(id) {
  var needAgents = agents.length ? Promise.resolve() : api("GET", "/api/desk").then(function (desk) {
    agents = (desk.agents || []).map(function (a) { return { id: a.id, display_name: a.display_name }; });
  }).catch(function () {});
  return Promise.all([api("GET", "/api/tickets/" + id), needAgents]).then(function (results) {
    showError($("ticket-error"), "");
    render(results[0]);
    $("ticket").focus();
  }).catch(function (error) {
    showError($("ticket-error"), error.message);
  });
}

// A change through the API; true when it was done (the answer is the ticket again).
function act(path, body, done) {
  if (!current) return Promise.resolve(false);
  return api("POST", "/api/tickets/" + current.ticket.id + path, body).then(function (detail) {
    render(detail);
    announce(done);
    hooks.changed();
    return true;
  }).catch(function (error) {
    showError($("ticket-error"), error.message);
    return false;
  });
}

function assign(agentId) {
  return act("/assign", { agent_id: agentId }, agentId ? "Solicitud asignada." : "Solicitud sin asignar.");
}

function render(detail) {
  current = detail;
  var t = detail.ticket;
  statuses[t.status] = t.status_label;
  $("ticket-placeholder").hidden = true;
  $("ticket-body").hidden = false;
  $("ticket-title").textContent = t.code;
  var state = $("ticket-state");
  state.textContent = t.status_label + (t.overdue ? " · vencida" : "");
  state.dataset.state = t.overdue ? "overdue" : t.status;
  $("ticket-kind").textContent = t.kind_label;
  $("ticket-channel").textContent = channelLabel(t.channel);
  $("ticket-created").textContent = dateTime(t.created_at);
  $("ticket-deadline").textContent = t.deadline;
  $("ticket-assignee").textContent = t.assigned_name || "Nadie";
  $("ticket-document").textContent = t.document || "No indicado";
  $("ticket-contact").textContent = [t.contact_email, t.contact_phone].filter(Boolean).join(" · ") ||
    "Solo por su canal";
  $("ticket-description").textContent = t.description;
  $("ticket-take").hidden = t.assigned_to === currentAgent().id;
  renderAssignees(t);
  renderNextStatuses(t);
  $("ticket-reply-form").hidden = t.status === "cerrado";
  renderHistory(detail.entries || []);
}

function renderAssignees(t) {
  var select = $("ticket-assign-to");
  select.replaceChildren(el("option", { value: "" }, "Nadie"));
  agents.forEach(function (a) {
    var option = el("option", { value: String(a.id) }, a.display_name);
    if (a.id === t.assigned_to) option.selected = true;
    select.appendChild(option);
  });
}

function renderNextStatuses(t) {
  var select = $("ticket-next-status");
  select.replaceChildren();
  var labels = { recibido: "Recibida", en_proceso: "En proceso", respondido: "Respondida", cerrado: "Cerrada" };
  (t.next_statuses || []).forEach(function (s) {
    select.appendChild(el("option", { value: s }, statuses[s] || labels[s] || s));
  });
  $("ticket-status-form").hidden = !(t.next_statuses || []).length;
}

function notifiedText(notified) {
  if (!notified) return "";
  var parts = notified.split("+");
  var text = NOTIFIED[parts[0]] || parts[0];
  if (parts[1] === "email") text += "; y por correo";
  if (parts[1] === "email_failed") text += "; el correo falló";
  return "Ciudadano avisado: " + text + ".";
}

function renderHistory(entries) {
  var list = $("ticket-history");
  list.replaceChildren();
  entries.forEach(function (entry) {
    var li = el("li", { className: "tickets__entry tickets__entry--" + entry.kind, "data-testid": "ticket-entry" });
    var head = (ENTRY_KINDS[entry.kind] || entry.kind) + " · " + dateTime(entry.at) +
      (entry.agent ? " · " + entry.agent : entry.kind === "status" && entry.status === "recibido" ? " · ciudadano" : "");
    li.appendChild(el("span", { className: "hint" }, head));
    if (entry.kind === "status" || (entry.kind === "reply" && entry.status)) {
      li.appendChild(el("span", { className: "tickets__to" }, "→ " + (statuses[entry.status] || entry.status)));
    }
    if (entry.kind === "assign") {
      var to = agents.filter(function (a) { return String(a.id) === entry.text; })[0];
      li.appendChild(el("span", null, entry.text ? "A " + (to ? to.display_name : "asesor " + entry.text) : "Sin asignar"));
    } else if (entry.text) {
      li.appendChild(el("p", { className: "tickets__text" }, entry.text));
    }
    if (entry.notified) li.appendChild(el("span", { className: "hint" }, notifiedText(entry.notified)));
    list.appendChild(li);
  });
}
