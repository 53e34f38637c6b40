// «Comentarios»: comments on the agency's fanpage (bot/listening/api.py). The list (flagged ones
// first, filtered by status, sentiment and flag), the open comment and its answer: public (under
// the comment) or private (one Messenger message per comment, within 7 days), or dismissed.
// What a citizen wrote is only ever put into the page with textContent.

import { api } from "../lib/api.js";
import { $, announce, el, loadFragment, setCount, setDisabled, showError } from "../lib/dom.js";
import { confidenceLabel, dateTime } from "../lib/format.js";

var STATUS = { nuevo: "Nuevo", respondido: "Respondido", descartado: "Descartado", eliminado: "Eliminado por su autor" };
var SENTIMENT = { positivo: "Positivo", neutral: "Neutral", negativo: "Negativo" };
var FLAGS = { queja: "Queja", reclamo: "Reclamo", frustracion: "Molestia", denuncia: "Denuncia", negativo: "Tono negativo" };
var KINDS = { publica: "en público", privada: "en privado (Messenger)" };

var listed = [];
var opened = null;   // the comment shown in the detail pane
var mounted = false;

export function mount() {
  return loadFragment($("listening-view"), new URL("./listening.html", import.meta.url)).then(function () {
    $("listening-filters").addEventListener("submit", function (ev) {
      ev.preventDefault();
      refresh();
    });
    ["listening-status", "listening-sentiment", "listening-only-flagged"].forEach(function (id) {
      $(id).addEventListener("change", refresh);
    });
    $("listening-reply-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      sendReply();
    });
    $("listening-dismiss").addEventListener("click", dismiss);
    mounted = true;
  });
}

// Signed out: nothing of the comments stays on the page.
export function reset() {
  if (!mounted) return;
  listed = [];
  opened = null;
  $("listening-list").replaceChildren();
  setCount("listening", 0);
  $("listening-flagged-count").textContent = "0";
  showError($("listening-error"), "");
  close();
}

export function show() {
  if (mounted) refresh();
}

function query() {
  var params = new URLSearchParams();
  var status = $("listening-status").value;
  if (status) params.append("status", status);
  var sentiment = $("listening-sentiment").value;
  if (sentiment) params.append("sentiment", sentiment);
  if ($("listening-only-flagged").checked) params.append("flagged", "true");
  params.append("limit", "100");
  return params.toString();
}

export function refresh() {
  return api("GET", "/api/comments?" + query()).then(function (answer) {
    showError($("listening-error"), "");
    listed = answer.comments || [];
    $("listening-flagged-count").textContent = String((answer.counts || {}).flagged_waiting || 0);
    renderList();
    if (opened) {
      var again = listed.filter(function (c) { return c.id === opened.id; })[0];
      if (again) render(again);
    }
  }).catch(function (error) {
    showError($("listening-error"), error.message);
  });
}

function topicText(item) {
  if (!item.topic) return item.analysed ? "Sin tema reconocido" : "Pendiente (el asistente no respondió)";
  var name = item.topic_title || item.topic;
  return name + " (" + confidenceLabel(item.topic_confidence) + ")";
}

function sentimentText(item) {
  if (!item.sentiment) return "Sin estimar";
  return SENTIMENT[item.sentiment] || item.sentiment;
}

function flagText(item) {
  return item.flagged ? (FLAGS[item.flag_reason] || item.flag_reason || "Sí") : "No";
}

function renderList() {
  var list = $("listening-list");
  list.replaceChildren();
  listed.forEach(function (item) {
    var selected = opened && item.id === opened.id;
    var li = el("li", { className: "card" + (selected ? " card--selected" : "") + (item.flagged ? " listening__card--flagged" : "") });
    var button = el("button", { type: "button", className: "card__open", "data-testid": "listening-item" });
    var top = el("span", { className: "card__top" });
    top.appendChild(el("span", { className: "card__id" }, item.author_name || "Autor sin nombre"));
    if (item.flagged) top.appendChild(el("span", { className: "badge listening__flag" }, flagText(item)));
    top.appendChild(el("span", { className: "badge", "data-state": item.status }, STATUS[item.status] || item.status));
    button.appendChild(top);
    button.appendChild(el("span", { className: "card__last" }, item.text || "(sin texto: una foto o un sticker)"));
    button.appendChild(el("span", { className: "hint" },
      dateTime(item.created_at) + " · " + topicText(item) + " · " + sentimentText(item)));
    button.addEventListener("click", function () { open(item); });
    li.appendChild(button);
    list.appendChild(li);
  });
  setCount("listening", listed.length);
}

function open(item) {
  $("listening-reply-text").value = "";
  showError($("listening-form-error"), "");
  render(item);
  renderList();
  $("listening-comment").focus();
}

function close() {
  opened = null;
  $("listening-body").hidden = true;
  $("listening-placeholder").hidden = false;
}

function render(item) {
  opened = item;
  $("listening-placeholder").hidden = true;
  $("listening-body").hidden = false;
  $("listening-author").textContent = item.author_name || "Autor sin nombre";
  var state = $("listening-state");
  state.textContent = STATUS[item.status] || item.status;
  state.dataset.state = item.status;
  $("listening-text").textContent = item.text || "(sin texto: una foto o un sticker)";
  $("listening-created").textContent = dateTime(item.created_at);
  $("listening-topic").textContent = topicText(item);
  $("listening-sentiment-value").textContent = sentimentText(item);
  $("listening-flag").textContent = flagText(item);
  var reply = item.reply;
  $("listening-reply").textContent = reply
    ? "Respondido " + (KINDS[reply.kind] || reply.kind) + " por " + (reply.by || "—") + ", " + dateTime(reply.at) + ": " + reply.text
    : "Aún sin respuesta";
  var removed = item.status === "eliminado";
  setDisabled($("listening-reply-form"), removed);
  var privateDone = item.private_replied;
  var privateRadio = $("listening-kind-private");
  privateRadio.disabled = removed || privateDone;
  privateRadio.title = privateDone ? "Este comentario ya recibió su respuesta privada." : "";
  if (privateRadio.disabled && privateRadio.checked) $("listening-kind-public").checked = true;
  $("listening-dismiss").hidden = item.status !== "nuevo";
}

function chosenKind() {
  return $("listening-kind-private").checked ? "privada" : "publica";
}

function act(path, body, done) {
  if (!opened) return;
  var form = $("listening-reply-form");
  setDisabled(form, true);
  showError($("listening-form-error"), "");
  api("POST", "/api/comments/" + opened.id + path, body).then(function (item) {
    $("listening-reply-text").value = "";
    render(item);
    announce(done);
    return refresh();
  }).catch(function (error) {
    showError($("listening-form-error"), error.message);
    if (opened) render(opened);
    else setDisabled(form, false);
  });
}

function sendReply() {
  var text = $("listening-reply-text").value.trim();
  if (!text) {
    showError($("listening-form-error"), "Escribe la respuesta.");
    return;
  }
  act("/reply", { kind: chosenKind(), text: text }, "Respuesta enviada.");
}

function dismiss() {
  act("/dismiss", null, "Comentario descartado.");
}
