// «Artículos»: the knowledge base's articles (the assistant's answers), searchable, with their
// review date (overdue ones flagged) and official source. Choosing one opens it in the editor
// (article-editor.js).

import { api } from "../lib/api.js";
import { $, el, setText, showError } from "../lib/dom.js";
import { dayText, hostOf, plainText, plural, safeUrl } from "../lib/format.js";
import { problemText } from "../lib/problems.js";
import * as editor from "./article-editor.js";

var articles = [];
var loaded = false;
var listSeq = 0;

export function mount() {
  editor.mount({ listChanged: render, saved: load });
  $("articles-filters").addEventListener("submit", function (ev) { ev.preventDefault(); render(); });
  $("articles-q").addEventListener("input", render);
  $("articles-overdue").addEventListener("change", render);
}

export function reset() {
  articles = [];
  loaded = false;
  listSeq++;
  editor.reset();
  $("articles").textContent = "";
  $("articles-filters").reset();
  showError($("articles-error"), "");
  $("articles-empty").hidden = true;
  $("articles-summary").textContent = "";
}

// The sub-section is shown (and after a save or an upload): the list read again.
export function load() {
  var seq = ++listSeq;
  var body = $("articles");
  body.setAttribute("aria-busy", "true");
  if (!loaded) setText($("articles-summary"), "Cargando los artículos…");
  return api("GET", "/api/admin/articles").then(function (list) {
    if (seq !== listSeq) return;
    articles = (list || []).slice();
    loaded = true;
    showError($("articles-error"), "");
    render();
  }).catch(function (error) {
    if (seq !== listSeq) return;
    setText($("articles-summary"), "");
    if (error.status !== 401) showError($("articles-error"), problemText(error));
  }).then(function () {
    if (seq === listSeq) body.removeAttribute("aria-busy");
  });
}

function shown() {
  var q = plainText($("articles-q").value.trim());
  var overdueOnly = $("articles-overdue").checked;
  return articles.filter(function (a) {
    if (overdueOnly && !a.overdue) return false;
    return !q || plainText(a.title).indexOf(q) >= 0 || plainText(a.id).indexOf(q) >= 0;
  });
}

function render() {
  var body = $("articles");
  var list = shown();
  var overdue = articles.filter(function (a) { return a.overdue; }).length;
  var openId = editor.currentId();
  body.textContent = "";
  list.forEach(function (a) {
    var open = openId === a.id;
    var row = el("tr", { "data-testid": "article-row", "data-article-id": a.id,
      "data-overdue": a.overdue ? "true" : "false" });
    if (a.overdue) row.classList.add("is-overdue");
    if (open) row.classList.add("is-selected");
    var head = el("th", { scope: "row" });
    var button = el("button", { type: "button", className: "btn btn--link article__open", "data-testid": "article-open" }, a.title);
    if (open) button.setAttribute("aria-current", "true");
    button.addEventListener("click", function () { editor.request(a.id); });
    head.appendChild(button);
    row.appendChild(head);
    row.appendChild(el("td", { className: "article__id" }, a.id));
    row.appendChild(el("td", null, dayText(a.reviewed)));
    var stateCell = el("td");
    stateCell.appendChild(a.overdue ?
      el("span", { className: "pill pill--overdue", "data-testid": "article-overdue" }, "⚠ Revisión vencida") :
      el("span", { className: "article__ok" }, "Al día"));
    row.appendChild(stateCell);
    var sourceCell = el("td");
    var url = safeUrl(a.source);
    if (url) {
      var link = el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, hostOf(url));
      link.appendChild(el("span", { className: "visually-hidden" }, " (se abre en otra pestaña)"));
      sourceCell.appendChild(link);
    } else {
      sourceCell.textContent = a.source || "—";
    }
    row.appendChild(sourceCell);
    body.appendChild(row);
  });
  $("articles-empty").hidden = !loaded || list.length > 0;
  var total = articles.length;
  var text = (list.length === total ? plural(total, "artículo", "artículos") :
    "Mostrando " + list.length + " de " + plural(total, "artículo", "artículos")) +
    " · " + (overdue === 1 ? "1 con la revisión vencida" : overdue + " con la revisión vencida");
  setText($("articles-summary"), loaded ? text : "");
}
