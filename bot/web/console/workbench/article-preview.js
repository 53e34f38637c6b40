// How the answer being edited would look on each channel (web, Messenger, WhatsApp), as the
// server renders it (POST /api/admin/articles/preview), with the channel's limits and warnings.

import { api } from "../lib/api.js";
import { $, el, setText } from "../lib/dom.js";
import { problemText } from "../lib/problems.js";
import { ARTICLE_BUTTONS, completeButtons } from "./article-form.js";

var PREVIEW_DEBOUNCE_MS = 700;
var PREVIEW_CHANNELS = ["webchat", "messenger", "whatsapp"];

var previewSeq = 0;
var previewTimer = null;
var isOpen = function () { return false; };

// on.isOpen(): an article is in the editor.
export function mount(on) {
  isOpen = on.isOpen;
  $("article-preview").addEventListener("click", refresh);
}

export function reset() {
  stop();
  $("preview-status").textContent = "";
  clear();
}

// The article was closed: a preview on its way is dropped.
export function stop() {
  window.clearTimeout(previewTimer);
  previewSeq++;
}

// After a pause in the typing.
export function schedule() {
  window.clearTimeout(previewTimer);
  previewTimer = window.setTimeout(refresh, PREVIEW_DEBOUNCE_MS);
}

function clear() {
  PREVIEW_CHANNELS.forEach(function (channel) {
    $("preview-" + channel).textContent = "";
    $("preview-" + channel + "-warnings").textContent = "";
    $("preview-" + channel + "-limits").textContent = "";
  });
}

export function refresh() {
  window.clearTimeout(previewTimer);
  if (!isOpen()) return Promise.resolve();
  var seq = ++previewSeq;
  var answer = $("art-answer").value.trim();
  if (!answer) {
    clear();
    setText($("preview-status"), "Escribe la respuesta para ver la vista previa.");
    return Promise.resolve();
  }
  var buttons = completeButtons().filter(function (b) { return b.title.length <= 80 && b.payload.length <= 200; })
    .slice(0, ARTICLE_BUTTONS);
  setText($("preview-status"), "Actualizando la vista previa…");
  return api("POST", "/api/admin/articles/preview", { answer: answer.slice(0, 4000), buttons: buttons }).then(function (shown) {
    if (seq !== previewSeq) return;
    render(shown || {});
    setText($("preview-status"), "Vista previa actualizada.");
  }).catch(function (error) {
    if (seq !== previewSeq) return;
    setText($("preview-status"), "No se pudo mostrar la vista previa: " + problemText(error));
  });
}

// One message as the citizen sees it: its text and the titles of its buttons.
function bubble(text, buttons, note) {
  var node = el("div", { className: "preview__msg", "data-testid": "preview-message" });
  if (note) node.appendChild(el("p", { className: "preview__note" }, note));
  if (text) node.appendChild(el("p", { className: "preview__text" }, text));
  var titles = (buttons || []).filter(function (t) { return t; });
  if (titles.length) {
    var list = el("ul", { className: "preview__chips", "aria-label": "Botones" });
    titles.forEach(function (title) { list.appendChild(el("li", { className: "preview__chip" }, title)); });
    node.appendChild(list);
  }
  return node;
}

function webchatBubble(m) {
  return bubble(m.text, (m.buttons || []).map(function (b) { return b && b.title; }));
}

function messengerBubble(m) {
  if (m.attachment) {
    var attachment = m.attachment;
    var payload = attachment.payload || {};
    if (attachment.type === "template") {
      return bubble(payload.text, (payload.buttons || []).map(function (b) { return b && b.title; }));
    }
    if (attachment.type === "image") return bubble("", [], "[Imagen]");
    return bubble("", [], "[" + (attachment.type || "Adjunto") + "]");
  }
  return bubble(m.text, (m.quick_replies || []).map(function (q) { return q && q.title; }));
}

function whatsappBubble(m) {
  if (m.type === "text") return bubble(m.text && m.text.body, []);
  if (m.type === "interactive") {
    var interactive = m.interactive || {};
    var action = interactive.action || {};
    var text = interactive.body && interactive.body.text;
    if (action.buttons) {
      return bubble(text, action.buttons.map(function (b) { return b && b.reply && b.reply.title; }));
    }
    var rows = [];
    (action.sections || []).forEach(function (section) {
      (section.rows || []).forEach(function (row) { rows.push(row && row.title); });
    });
    return bubble(text, rows, action.button ? "Lista «" + action.button + "»:" : null);
  }
  if (m.type === "image") return bubble("", [], "[Imagen]");
  return bubble("", [], "[" + (m.type || "Mensaje") + "]");
}

function render(shown) {
  var channels = shown.channels || {};
  var warnings = shown.warnings || {};
  var limits = shown.limits || {};
  var draw = { webchat: webchatBubble, messenger: messengerBubble, whatsapp: whatsappBubble };
  PREVIEW_CHANNELS.forEach(function (channel) {
    var box = $("preview-" + channel);
    box.textContent = "";
    (channels[channel] || []).forEach(function (m) { if (m) box.appendChild(draw[channel](m)); });
    var limit = limits[channel];
    $("preview-" + channel + "-limits").textContent = limit ?
      "Límites: " + limit.text + " caracteres por mensaje, " + limit.buttons + " botones de hasta " +
      limit.button_title + " caracteres." : "";
    var list = $("preview-" + channel + "-warnings");
    list.textContent = "";
    var found = warnings[channel] || [];
    found.forEach(function (w) { list.appendChild(el("li", { className: "preview__warning" }, "⚠ Aviso: " + w)); });
    if (!found.length) list.appendChild(el("li", { className: "preview__fine" }, "Sin avisos: cabe en los límites."));
  });
}
