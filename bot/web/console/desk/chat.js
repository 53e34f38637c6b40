// The open chat: its header (state, why it was escalated), the transcript, the internal notes
// and the audit trail. Which controls are enabled depends on who holds the chat.

import { api } from "../lib/api.js";
import { $, el, setDisabled, showError } from "../lib/dom.js";
import { channelLabel, clock, confidenceLabel, dateTime, reasonLabel } from "../lib/format.js";
import { currentAgent, isSupervisor } from "../lib/session.js";
import * as canned from "./canned.js";
import { loadDesk, resolutionLabel, teamLabel } from "./info.js";
import { renderLists } from "./queue.js";

var STATES = { pending: "En espera", agent: "En atención", callback: "Dejando sus datos", closed: "Cerrada" };
var AUDIT = {
  escalated: "Derivada por el asistente", claimed: "Tomada", replied: "Respuesta enviada",
  noted: "Nota agregada", transferred: "Transferida", closed: "Cerrada",
  callback_left: "Dejó sus datos"
};

var selected = null;       // id of the open chat
var detail = null;         // what GET /api/handoffs/{id} answered
var rendered = { id: null, count: 0, keys: [] };
var goneReason = "";       // why the open chat left our sight (our own transfer), if we know

export function mount() {}

// Signing out: no chat open.
export function reset() {
  selected = null;
  detail = null;
  closeChat();
}

export function selectedId() { return selected; }

// Why the open chat will leave our sight (shown instead of an error when it does).
export function setGoneReason(text) { goneReason = text; }

// The chat's new state, as an action on it answered; false if no chat is shown.
export function setHandoff(handoff) {
  if (!detail) return false;
  detail.handoff = handoff;
  return true;
}

export function select(id) {
  if (selected !== id) {
    selected = id;
    detail = null;
    rendered = { id: null, count: 0, keys: [] };
    canned.clear();
    $("reply-input").value = "";
    $("note-input").value = "";
    showError($("chat-error"), "");
    showError($("chat-info"), "");
    goneReason = "";
  }
  renderLists();
  loadDesk();
  return refreshDetail().then(function () { $("chat").focus(); });
}

function closeChat() {
  $("chat-body").hidden = true;
  $("chat-placeholder").hidden = false;
}

export function refreshDetail() {
  var id = selected;
  if (id === null) return Promise.resolve();
  return api("GET", "/api/handoffs/" + id).then(function (loaded) {
    if (selected !== id) return;
    detail = loaded;
    renderDetail();
  }).catch(function (error) {
    if (selected !== id) return;
    if (error.status === 404 && detail) {
      // Closed or moved out of our sight: keep what we read, without actions.
      if (detail.handoff.state !== "closed") {
        detail.handoff.state = "gone";
        if (goneReason) showError($("chat-info"), goneReason);
        else showError($("chat-error"), "Esta conversación ya no está a tu cargo.");
      }
      renderHeader();
    } else if (error.status !== 401) {
      showError($("chat-error"), error.message);
    }
  });
}

// The desk's information changed (team and resolution names).
export function deskChanged() {
  if (detail) renderHeader();
}

function renderDetail() {
  $("chat-placeholder").hidden = true;
  $("chat-body").hidden = false;
  renderHeader();
  renderTranscript();
  renderNotes();
  renderAudit();
}

export function renderHeader() {
  var h = detail.handoff;
  var me = currentAgent();
  var mine = h.state === "agent" && me && h.agent_id === me.id;
  var holderOrSupervisor = (mine || isSupervisor()) && (h.state === "agent" || h.state === "pending");
  $("chat-title").textContent = "Conversación #" + h.id;
  var meta = channelLabel(h.channel) + " · derivada " + dateTime(h.created_at);
  if (h.agent) meta += " · atiende " + h.agent;
  $("chat-meta").textContent = meta;
  var label = h.state === "gone" ? "Fuera de tu bandeja" : (STATES[h.state] || h.state);
  if (h.state === "closed" && h.resolution) label += ": " + resolutionLabel(h.resolution);
  $("chat-state").textContent = label;
  $("chat-state").dataset.state = h.state;
  $("esc-reason").textContent = reasonLabel(h.reason);
  $("esc-intent").textContent = h.intent ? (h.topic ? h.topic + " (" + h.intent + ")" : h.intent) : "—";
  $("esc-confidence").textContent = confidenceLabel(h.confidence);
  $("esc-team").textContent = teamLabel(h.team);
  $("claim").hidden = h.state !== "pending";
  $("transfer-form").hidden = !holderOrSupervisor;
  $("close-form").hidden = !holderOrSupervisor;
  setDisabled($("reply-form"), !mine);
  $("reply-input").placeholder = mine ? "Escribe tu respuesta…" :
    h.state === "pending" ? "Toma la conversación para responder." :
    h.state === "closed" ? "La conversación está cerrada." : "Solo responde el asesor que la tomó.";
  var canNote = h.state === "pending" || holderOrSupervisor;
  setDisabled($("note-form"), !canNote);
}

function authorOf(item) {
  if (item.direction === "in") return { kind: "citizen", label: "Ciudadano" };
  if (item.author === "asistente") return { kind: "bot", label: "Asistente virtual" };
  if (item.author === "asesor") return { kind: "agent", label: "Asesor" };
  if (item.author === "aviso") return { kind: "bot", label: "Aviso automático" };
  return { kind: "agent", label: (item.author || "Asesor") + " (asesor)" };
}

function messageNode(item) {
  var who = authorOf(item);
  var node = el("article", { className: "msg msg--" + who.kind, "data-testid": "message",
    "data-author": who.kind, "data-direction": item.direction });
  var head = el("header", { className: "msg__head" });
  head.appendChild(el("span", { className: "msg__author" }, who.label));
  head.appendChild(el("time", { datetime: item.at, title: dateTime(item.at) }, clock(item.at)));
  node.appendChild(head);
  node.appendChild(el("p", { className: "msg__text", "data-testid": "message-text" }, item.text || ""));
  if (item.buttons && item.buttons.length) {
    node.appendChild(el("p", { className: "msg__buttons" }, "Botones: " + item.buttons.join(" · ")));
  }
  return node;
}

function keyOf(item) { return item.direction + "|" + item.at + "|" + item.text; }

// Only the new messages are added (the agent's scroll position is kept unless near the end).
function renderTranscript() {
  var log = $("transcript");
  var items = detail.transcript || [];
  var keys = items.map(keyOf);
  var r = rendered;
  var sameStart = r.id === detail.handoff.id && keys.length >= r.count &&
    r.keys.every(function (k, i) { return keys[i] === k; });
  var nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  if (!sameStart) {
    log.textContent = "";
    r.count = 0;
    r.divider = false;
    nearBottom = true;
  }
  var since = Date.parse(detail.handoff.created_at);
  for (var i = r.count; i < items.length; i++) {
    if (!r.divider && Date.parse(items[i].at) >= since - 1000) {
      log.appendChild(el("p", { className: "divider", "data-testid": "handoff-divider" },
        "Derivada a un asesor · " + reasonLabel(detail.handoff.reason) + " · " + clock(detail.handoff.created_at)));
      r.divider = true;
    }
    log.appendChild(messageNode(items[i]));
  }
  if (!items.length) log.appendChild(el("p", { className: "empty" }, "Sin mensajes."));
  rendered = { id: detail.handoff.id, count: items.length, keys: keys, divider: r.divider };
  if (nearBottom) log.scrollTop = log.scrollHeight;
}

function renderNotes() {
  var list = $("notes");
  list.textContent = "";
  var notes = detail.notes || [];
  notes.forEach(function (n) {
    var item = el("li", { className: "note", "data-testid": "note" });
    var head = el("span", { className: "note__head" });
    head.appendChild(el("strong", null, n.agent));
    head.appendChild(document.createTextNode(" · "));
    head.appendChild(el("time", { datetime: n.at }, dateTime(n.at)));
    item.appendChild(head);
    item.appendChild(el("p", { className: "note__text" }, n.text));
    list.appendChild(item);
  });
  if (!notes.length) list.appendChild(el("li", { className: "empty" }, "Sin notas."));
}

function renderAudit() {
  var list = $("audit");
  list.textContent = "";
  (detail.audit || []).slice().reverse().forEach(function (a) {
    var about = a.detail || {};
    var extra = [];
    if (about.team) extra.push(teamLabel(about.team));
    if (about.agent) extra.push(about.agent);
    if (about.resolution) extra.push(resolutionLabel(about.resolution));
    list.appendChild(el("li", null, dateTime(a.at) + " · " + a.actor + " · " + (AUDIT[a.action] || a.action) +
      (extra.length ? " (" + extra.join(", ") + ")" : "")));
  });
}
