// The previous versions of the article in the editor (one is kept every time someone changes
// it): the list, and one version's text.

import { fetchText } from "../lib/api.js";
import { $, el, setText } from "../lib/dom.js";
import { dateTime } from "../lib/format.js";

var versionSeq = 0;
var versionId = null;   // the version shown

export function mount() {
  $("article-version-close").addEventListener("click", function () { hide(true); });
}

export function reset() {
  versionSeq++;
  versionId = null;
  ["article-versions", "article-version-text"].forEach(function (id) { $(id).textContent = ""; });
  $("article-version-box").hidden = true;
}

export function render(a) {
  var list = $("article-versions");
  var versions = a.versions || [];
  list.textContent = "";
  versions.forEach(function (v) {
    var item = el("li", { className: "admin__item", "data-testid": "article-version", "data-version-id": String(v.id) });
    var when = dateTime(v.at) || v.at;
    item.appendChild(el("span", { className: "admin__item-label" }, when + " · " + v.author));
    var button = el("button", { type: "button", className: "btn btn--small",
      "aria-label": "Ver la versión del " + when + " (" + v.author + ")" }, "Ver");
    button.addEventListener("click", function () { show(a.id, v, when); });
    item.appendChild(button);
    list.appendChild(item);
  });
  $("article-versions-empty").hidden = versions.length > 0;
}

function show(articleId, v, when) {
  var seq = ++versionSeq;
  versionId = v.id;
  $("article-version-box").hidden = false;
  setText($("article-version-title"), "Versión guardada el " + when + " por " + v.author + " (como era antes del cambio)");
  $("article-version-text").textContent = "Cargando la versión…";
  $("article-version-title").focus();
  return fetchText("/api/admin/articles/" + encodeURIComponent(articleId) + "/versions/" + encodeURIComponent(v.id))
    .then(function (text) {
      if (seq === versionSeq) $("article-version-text").textContent = text;
    }).catch(function (error) {
      if (seq === versionSeq) $("article-version-text").textContent = error.message;
    });
}

// The version's text hidden (focus: back on its button).
export function hide(focus) {
  var id = versionId;
  versionSeq++;
  versionId = null;
  $("article-version-box").hidden = true;
  $("article-version-text").textContent = "";
  if (focus) {
    var button = document.querySelector('#article-versions [data-version-id="' + id + '"] button');
    if (button) button.focus();
  }
}
