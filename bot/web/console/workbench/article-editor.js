// The article editor: opens an article, saves the changes (used at once, without retraining),
// and handles a save refused because someone else saved first (both texts shown: load theirs,
// or keep one's own to merge). Leaving unsaved changes takes a second click.
//   article-form.js      the form's fields
//   article-preview.js   the preview per channel
//   article-versions.js  the previous versions

import { api } from "../lib/api.js";
import { articleProblem, articleRequestProblems } from "../lib/article-problems.js";
import { $, setDisabled, setText, showError, showList } from "../lib/dom.js";
import { dayText } from "../lib/format.js";
import { problemText } from "../lib/problems.js";
import * as form from "./article-form.js";
import * as preview from "./article-preview.js";
import * as versions from "./article-versions.js";

var SAVED_TEXT = "Guardado: ya está en uso (sin reentrenar)";

var article = null;     // the article in the editor, as loaded (or saved)
var openSeq = 0;
var saving = false;
var discard = null;     // what the next click may leave without saving ("close" or an article's id)
var conflict = null;    // the current article, when a save was refused for an older version
var conflictSeq = 0;
var hooks = { listChanged: function () {}, saved: function () {} };

// on.listChanged(): the article in the editor changed (the list marks it); on.saved(): an
// article was saved (the list is read again).
export function mount(on) {
  hooks = on;
  form.mount();
  preview.mount({ isOpen: function () { return !!article; } });
  versions.mount();
  $("article-form").addEventListener("submit", save);
  $("article-form").addEventListener("input", function (ev) {
    var id = ev.target && ev.target.id;
    if (id === "art-answer" || /^art-button-/.test(id || "")) preview.schedule();
    if (ev.target && ev.target.hasAttribute("aria-invalid")) ev.target.removeAttribute("aria-invalid");
    discard = null;
  });
  $("article-conflict-reload").addEventListener("click", loadCurrent);
  $("article-conflict-keep").addEventListener("click", keepMine);
  $("article-close").addEventListener("click", function () {
    if (mayLeave("close", $("article-error"))) close();
  });
}

export function reset() {
  article = null;
  openSeq++;
  saving = false;
  discard = null;
  hideConflict();
  form.reset();
  ["article-error", "article-info"].forEach(function (id) { showError($(id), ""); });
  $("article-editor").hidden = true;
  clearMessages();
  preview.reset();
  versions.reset();
}

// The id of the article in the editor, or null.
export function currentId() { return article ? article.id : null; }

// An article chosen in the list (unsaved changes of another one: a warning first).
export function request(id) {
  if (article && article.id === id && !$("article-editor").hidden) {
    $("article-title").focus();
    return;
  }
  if (mayLeave(id, $("articles-error"))) open(id);
}

export function open(id) {
  var seq = ++openSeq;
  discard = null;
  showError($("articles-error"), "");
  return api("GET", "/api/admin/articles/" + encodeURIComponent(id)).then(function (loaded) {
    if (seq !== openSeq) return;
    article = loaded;
    clearMessages();
    hideConflict();
    versions.hide(false);
    fill(loaded);
    $("article-editor").hidden = false;
    hooks.listChanged();
    $("article-title").focus();
    $("article-editor").scrollIntoView({ block: "start" });
    preview.refresh();
  }).catch(function (error) {
    if (seq === openSeq && error.status !== 401) showError($("articles-error"), problemText(error));
  });
}

function fill(a) {
  setText($("article-title"), "Editar: " + a.title);
  var meta = "Código: " + a.id + " · Revisado el " + dayText(a.reviewed) +
    (a.overdue ? " · ⚠ Revisión vencida: compruébalo con la fuente y actualiza la fecha." : "");
  setText($("article-meta"), meta);
  $("article-meta").classList.toggle("is-overdue", !!a.overdue);
  form.fill(a);
  versions.render(a);
}

function clearMessages() {
  showError($("article-error"), "");
  showError($("article-info"), "");
  showList($("article-problems-box"), $("article-problems"), []);
  document.querySelectorAll("#article-form [aria-invalid]").forEach(function (field) {
    field.removeAttribute("aria-invalid");
  });
}

function unsaved() {
  return !!article && !$("article-editor").hidden && Object.keys(form.changes(article)).length > 0;
}

// Leaving an article with unsaved changes takes a second click (no dialogs): the first warns.
function mayLeave(target, box) {
  if (!unsaved() || discard === target) {
    discard = null;
    return true;
  }
  discard = target;
  showError(box, target === "close" ?
    "Hay cambios sin guardar en «" + article.title + "». Pulsa «Cerrar» otra vez para descartarlos." :
    "Hay cambios sin guardar en «" + article.title + "». Guárdalos, o vuelve a elegir el artículo para descartarlos.");
  return false;
}

function save(ev) {
  ev.preventDefault();
  var a = article;
  if (!a || saving) return;
  clearMessages();
  var problem = form.check();
  if (problem) {
    showError($("article-error"), problem[0]);
    $(problem[1]).setAttribute("aria-invalid", "true");
    if (problem[1].indexOf("art-variant-") === 0) $("art-variants").open = true;
    $(problem[1]).focus();
    return;
  }
  var body = form.changes(a);
  if (!Object.keys(body).length) {
    showError($("article-info"), "No hay cambios que guardar.");
    return;
  }
  var id = a.id;
  var node = $("article-form");
  var mine = form.formText();
  body.version = a.version;  // the version this edit was made on: an older one is a 409
  saving = true;
  setDisabled(node, true);
  api("PUT", "/api/admin/articles/" + encodeURIComponent(id), body).then(function (saved) {
    if (!article || article.id !== id) return;
    article = saved;
    hideConflict();
    fill(saved);
    showError($("article-info"), SAVED_TEXT);
    preview.refresh();
    return hooks.saved();
  }).catch(function (error) {
    if (error.status === 401) return;
    if (error.code === "stale_version") return showConflict(id, mine, error);
    var problems = error.problems.map(function (p) { return articleProblem(p, false); });
    if (error.code === "invalid_request") problems = articleRequestProblems(error);
    showError($("article-error"), error.code === "invalid_request" ?
      "El artículo no tiene el formato esperado: nada se cambió." : problemText(error));
    showList($("article-problems-box"), $("article-problems"), problems);
  }).then(function () {
    saving = false;
    setDisabled(node, false);
  });
}

// Someone else saved (or an upload changed the article) since it was opened: nothing was
// written. Both texts are shown; the admin loads the current one or keeps theirs to merge.

function showConflict(id, mine, error) {
  var seq = ++conflictSeq;
  return api("GET", "/api/admin/articles/" + encodeURIComponent(id)).then(function (current) {
    if (seq !== conflictSeq || !article || article.id !== id) return;
    conflict = current;
    $("article-conflict-current").textContent = form.articleText(current.title, current.answer);
    $("article-conflict-mine").textContent = mine;
    $("article-conflict-actions").hidden = false;
    $("article-conflict").hidden = false;
    showError($("article-error"), error.message);
    $("article-conflict-title").focus();
  }).catch(function (failed) {
    if (seq === conflictSeq && failed.status !== 401) showError($("article-error"), problemText(failed));
  });
}

function hideConflict() {
  conflictSeq++;
  conflict = null;
  $("article-conflict").hidden = true;
  $("article-conflict-current").textContent = "";
  $("article-conflict-mine").textContent = "";
}

function loadCurrent() {
  var current = conflict;
  if (!current) return;
  article = current;
  discard = null;
  clearMessages();
  hideConflict();
  fill(current);
  preview.refresh();
  showError($("article-info"), "Se cargó el texto actual; tus cambios se descartaron.");
  $("art-answer").focus();
}

function keepMine() {
  var current = conflict;
  if (!current) return;
  // The form keeps the admin's text; the next save is made on the current version. The
  // current text stays in sight to copy from.
  article = current;
  versions.render(current);
  $("article-conflict-actions").hidden = true;
  clearMessages();
  showError($("article-info"), "Combina en el formulario lo que quieras conservar del texto actual y " +
    "pulsa «Guardar cambios»: se guardará sobre la versión actual.");
  $("art-answer").focus();
}

function close() {
  var id = article && article.id;
  openSeq++;
  preview.stop();
  article = null;
  versions.hide(false);
  hideConflict();
  clearMessages();
  $("article-editor").hidden = true;
  hooks.listChanged();
  var row = id && document.querySelector('#articles tr[data-article-id="' + id + '"] [data-testid=article-open]');
  if (row) row.focus();
  else $("articles-q").focus();
}
