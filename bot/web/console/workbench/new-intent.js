// «Nueva intención…» in the review inbox: a new intent whose examples are the picked groups'
// messages (and more typed here), with its knowledge-base article and official source.

import { api } from "../lib/api.js";
import { $, setDisabled, showError } from "../lib/dom.js";
import { plural } from "../lib/format.js";
import { FIELD_PROBLEMS, problemText } from "../lib/problems.js";
import { forget, itemsOf, loadInbox, loadIntents, pickedGroups, renderProblems } from "./inbox.js";

var INTENT_NAME = /^[a-z][a-z0-9_]{2,63}$/;

export function mount() {
  $("inbox-new").addEventListener("click", function () {
    if ($("new-intent-form").hidden) open();
    else close(true);
  });
  $("new-intent-cancel").addEventListener("click", function () { close(true); });
  $("new-intent-form").addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") { ev.preventDefault(); close(true); }
  });
  $("new-intent-form").addEventListener("submit", create);
}

export function reset() {
  $("new-intent-form").reset();
  showError($("new-intent-error"), "");
  $("new-intent-form").hidden = true;
  $("inbox-new").setAttribute("aria-expanded", "false");
}

function open() {
  $("new-intent-form").hidden = false;
  $("inbox-new").setAttribute("aria-expanded", "true");
  showError($("new-intent-error"), "");
  $("ni-intent").focus();
}

function close(focusButton) {
  $("new-intent-form").hidden = true;
  $("inbox-new").setAttribute("aria-expanded", "false");
  showError($("new-intent-error"), "");
  if (focusButton) $("inbox-new").focus();
}

function create(ev) {
  ev.preventDefault();
  var box = $("new-intent-error");
  var groups = pickedGroups();
  var body = {
    items: itemsOf(groups),
    intent: $("ni-intent").value.trim(),
    title: $("ni-title").value.trim(),
    answer: $("ni-answer").value.trim(),
    source_name: $("ni-source-name").value.trim(),
    source_url: $("ni-source-url").value.trim(),
    extra_examples: $("ni-extra").value.split("\n").map(function (line) { return line.trim(); })
      .filter(function (line) { return line; })
  };
  var problems = [
    [!groups.length, "Elige en la bandeja al menos un grupo: sus mensajes serán los ejemplos.", "inbox-all"],
    [!INTENT_NAME.test(body.intent), FIELD_PROBLEMS.intent, "ni-intent"],
    [!body.title, "Escribe el título del artículo.", "ni-title"],
    [!body.answer, "Escribe el texto de la respuesta.", "ni-answer"],
    [!body.source_name, "Escribe el nombre de la fuente oficial.", "ni-source-name"],
    [!/^https:\/\/[^\s/]+\.[^\s]+$/.test(body.source_url), "La fuente oficial debe ser un enlace https://.", "ni-source-url"],
    [body.extra_examples.length > 200, FIELD_PROBLEMS.extra_examples, "ni-extra"]
  ].filter(function (p) { return p[0]; });
  if (problems.length) {
    showError(box, problems[0][1]);
    $(problems[0][2]).focus();
    return;
  }
  var form = $("new-intent-form");
  setDisabled(form, true);
  showError(box, "");
  showError($("inbox-info"), "");
  renderProblems([]);
  api("POST", "/api/admin/inbox/new-intent", body).then(function (created) {
    forget(groups);
    form.reset();
    close(false);
    showError($("inbox-info"), "Intención «" + created.intent + "» creada con " +
      plural(created.examples, "ejemplo", "ejemplos") + " y su artículo (" +
      plural(created.decided, "mensaje asignado", "mensajes asignados") + "). Entrena el modelo para que la aprenda.");
    $("inbox-new").focus();
    return Promise.all([loadInbox(), loadIntents()]);
  }).catch(function (error) {
    showError(box, problemText(error));
    var field = { invalid_intent: "ni-intent", intent_exists: "ni-intent", invalid_source: "ni-source-url",
      empty_answer: "ni-answer", few_examples: "ni-extra" }[error.code];
    if (field) $(field).focus();
  }).then(function () { setDisabled(form, false); });
}
