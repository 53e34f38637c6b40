// Answers of the knowledge base for the open chat: searched as the agent types, inserted into
// the reply with a click.

import { api } from "../lib/api.js";
import { $, el, showError } from "../lib/dom.js";

var SEARCH_DELAY_MS = 300;

var timer = null;
var seq = 0;

export function mount() {
  $("canned-form").addEventListener("submit", function (ev) { ev.preventDefault(); search(); });
  $("canned-q").addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(search, SEARCH_DELAY_MS);
  });
}

export function reset() {
  window.clearTimeout(timer);
  timer = null;
}

// Another chat was opened: no search shown.
export function clear() {
  $("canned-results").textContent = "";
  $("canned-status").textContent = "";
  $("canned-q").value = "";
}

function search() {
  var q = $("canned-q").value.trim();
  var mine = ++seq;
  var list = $("canned-results");
  if (!q) { list.textContent = ""; $("canned-status").textContent = ""; return; }
  api("GET", "/api/canned?q=" + encodeURIComponent(q)).then(function (hits) {
    if (mine !== seq) return;
    list.textContent = "";
    (hits || []).forEach(function (hit) {
      var item = el("li", { className: "canned__item", "data-testid": "canned-item" });
      var use = el("button", { type: "button", className: "canned__use",
        "aria-label": "Insertar en la respuesta: " + hit.title });
      use.appendChild(el("strong", null, hit.title));
      use.appendChild(el("span", { className: "canned__text" }, hit.text));
      use.addEventListener("click", function () { insertReply(hit.text); });
      item.appendChild(use);
      if (hit.source && /^https?:\/\//.test(hit.source)) {
        item.appendChild(el("a", { href: hit.source, target: "_blank", rel: "noopener noreferrer",
          className: "canned__source" }, "Fuente"));
      }
      list.appendChild(item);
    });
    $("canned-status").textContent = hits && hits.length ?
      hits.length + (hits.length === 1 ? " respuesta encontrada." : " respuestas encontradas.") :
      "No se encontraron respuestas.";
  }).catch(function (error) {
    if (mine === seq) $("canned-status").textContent = error.message;
  });
}

function insertReply(text) {
  var input = $("reply-input");
  if (input.disabled) {
    showError($("chat-error"), "Toma la conversación para responder.");
    return;
  }
  var start = input.selectionStart || 0;
  var end = input.selectionEnd || 0;
  var before = input.value.slice(0, start);
  var after = input.value.slice(end);
  var glue = before && !/\s$/.test(before) ? "\n" : "";
  input.value = before + glue + text + after;
  var caret = (before + glue + text).length;
  input.focus();
  input.setSelectionRange(caret, caret);
}
