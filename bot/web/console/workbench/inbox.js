// The review inbox («Bandeja»): messages the assistant did not understand well, grouped when
// they say the same thing, with what the model guessed then and predicts now. The administrator
// picks groups and assigns them to an intent (or out of scope, spam, dismissed); new-intent.js
// creates a new intent from them.

import { api } from "../lib/api.js";
import { $, el, setText, showError } from "../lib/dom.js";
import { channelLabel, confidenceLabel, dateTime, plural } from "../lib/format.js";
import { problemText } from "../lib/problems.js";

var INBOX_DEBOUNCE_MS = 300;
var INBOX_STATUSES = {
  open: "Por revisar", annotated: "Asignados a una intención", out_of_scope: "Fuera de alcance",
  spam: "Spam", dismissed: "Descartados"
};
var INBOX_SOURCES = { clarification: "El asistente dudó", feedback: "Valoración negativa (👎)" };

var groups = [];
var counts = {};
var picked = {};     // keys of the picked groups
var intents = [];
var inboxSeq = 0;
var inboxTimer = null;

export function mount() {
  $("inbox-filters").addEventListener("submit", function (ev) {
    ev.preventDefault();
    window.clearTimeout(inboxTimer);
    loadInbox();
  });
  $("inbox-q").addEventListener("input", function () {
    window.clearTimeout(inboxTimer);
    inboxTimer = window.setTimeout(loadInbox, INBOX_DEBOUNCE_MS);
  });
  ["inbox-status", "inbox-channel", "inbox-source", "inbox-days"].forEach(function (id) {
    $(id).addEventListener("change", function () {
      picked = {};
      showError($("inbox-info"), "");
      renderProblems([]);
      loadInbox();
    });
  });
  $("inbox-personal").addEventListener("change", loadInbox);
  $("inbox-all").addEventListener("change", function () {
    var on = $("inbox-all").checked;
    picked = {};
    if (on) groups.forEach(function (g) { picked[g.key] = true; });
    document.querySelectorAll("#inbox-groups [data-testid=inbox-group]").forEach(function (item) {
      item.classList.toggle("is-picked", on);
      item.querySelector("input[type=checkbox]").checked = on;
    });
    renderPicked();
  });
  $("inbox-assign").addEventListener("submit", function (ev) {
    ev.preventDefault();
    annotate(pickedGroups(), "intent", $("inbox-intent").value);
  });
  document.querySelectorAll("[data-inbox-action]").forEach(function (button) {
    button.addEventListener("click", function () { annotate(pickedGroups(), button.dataset.inboxAction); });
  });
}

export function reset() {
  window.clearTimeout(inboxTimer);
  inboxTimer = null;
  groups = [];
  counts = {};
  picked = {};
  intents = [];
  inboxSeq++;
  ["inbox-groups", "inbox-problems", "inbox-intent"].forEach(function (id) { $(id).textContent = ""; });
  $("inbox-filters").reset();
  ["inbox-error", "inbox-info"].forEach(function (id) { showError($(id), ""); });
  $("inbox-problems-box").hidden = true;
  $("inbox-summary").textContent = "";
  $("inbox-empty").hidden = true;
}

// The sub-section is shown.
export function load() {
  return Promise.all([loadIntents(), loadInbox()]);
}

function inboxPath() {
  var params = ["status=" + encodeURIComponent($("inbox-status").value || "open")];
  var q = $("inbox-q").value.trim();
  if (q) params.push("q=" + encodeURIComponent(q));
  if ($("inbox-channel").value) params.push("channel=" + encodeURIComponent($("inbox-channel").value));
  if ($("inbox-source").value) params.push("source=" + encodeURIComponent($("inbox-source").value));
  if ($("inbox-days").value) params.push("days=" + encodeURIComponent($("inbox-days").value));
  params.push("show_personal_data=" + ($("inbox-personal").checked ? "true" : "false"));
  return "/api/admin/inbox?" + params.join("&");
}

export function loadInbox() {
  var seq = ++inboxSeq;
  var list = $("inbox-groups");
  list.setAttribute("aria-busy", "true");
  if (!groups.length) setText($("inbox-summary"), "Cargando la bandeja…");
  return api("GET", inboxPath()).then(function (data) {
    if (seq !== inboxSeq) return;
    groups = (data && data.groups) || [];
    counts = (data && data.counts) || {};
    var present = {};
    groups.forEach(function (g) { present[g.key] = true; });
    Object.keys(picked).forEach(function (key) { if (!present[key]) delete picked[key]; });
    renderInbox();
  }).catch(function (error) {
    if (seq !== inboxSeq) return;
    setText($("inbox-summary"), "");
    if (error.status !== 401) showError($("inbox-error"), problemText(error));
  }).then(function () {
    if (seq === inboxSeq) list.removeAttribute("aria-busy");
  });
}

export function loadIntents() {
  return api("GET", "/api/admin/intents").then(function (loaded) {
    intents = (loaded || []).slice().sort(function (a, b) { return a.name < b.name ? -1 : 1; });
    fillIntents();
  }).catch(function (error) { if (error.status !== 401) showError($("inbox-error"), error.message); });
}

export function pickedGroups() {
  return groups.filter(function (g) { return picked[g.key]; });
}

// The groups were decided: no longer picked.
export function forget(decided) {
  decided.forEach(function (g) { delete picked[g.key]; });
}

// The messages of these groups, as the API names them.
export function itemsOf(chosen) {
  var items = [];
  chosen.forEach(function (g) { items = items.concat(g.items || []); });
  return items;
}

// The model's current top guesses for these groups: the intents offered first.
function suggestions(chosen) {
  var best = {};
  chosen.forEach(function (g) {
    (g.predicted || []).slice(0, 3).forEach(function (p) {
      if (!p || !p.name || p.name === "nlu_fallback") return;
      var confidence = typeof p.confidence === "number" ? p.confidence : 0;
      if (!(p.name in best) || best[p.name] < confidence) best[p.name] = confidence;
    });
  });
  return Object.keys(best).map(function (name) { return { name: name, confidence: best[name] }; })
    .sort(function (a, b) { return b.confidence - a.confidence; }).slice(0, 3);
}

function fillIntents() {
  var select = $("inbox-intent");
  var chosen = select.value;
  var suggested = suggestions(pickedGroups());
  var names = suggested.map(function (s) { return s.name; });
  select.textContent = "";
  select.appendChild(el("option", { value: "" }, "Elige una intención…"));
  if (suggested.length) {
    var first = el("optgroup", { label: "Sugeridas por el modelo" });
    suggested.forEach(function (s) {
      first.appendChild(el("option", { value: s.name }, s.name + " · " + confidenceLabel(s.confidence)));
    });
    select.appendChild(first);
  }
  var all = el("optgroup", { label: "Todas las intenciones" });
  intents.forEach(function (intent) {
    if (names.indexOf(intent.name) >= 0) return;
    all.appendChild(el("option", { value: intent.name },
      intent.name + " (" + plural(intent.examples || 0, "ejemplo", "ejemplos") + ")"));
  });
  if (all.children.length) select.appendChild(all);
  select.value = chosen;
  if (select.value !== chosen) select.value = "";
}

function renderInbox() {
  var status = $("inbox-status");
  Array.prototype.forEach.call(status.options, function (option) {
    option.textContent = (INBOX_STATUSES[option.value] || option.value) + " (" + (counts[option.value] || 0) + ")";
  });
  var list = $("inbox-groups");
  list.textContent = "";
  var messages = 0;
  groups.forEach(function (g, index) {
    messages += g.count || 0;
    list.appendChild(groupNode(g, index));
  });
  $("inbox-empty").hidden = groups.length > 0;
  setText($("inbox-summary"), groups.length ?
    plural(groups.length, "grupo", "grupos") + " · " + plural(messages, "mensaje", "mensajes") +
    ($("inbox-personal").checked ? " · datos personales a la vista" : "") : "");
  renderPicked();
}

function datesText(g) {
  var first = dateTime(g.first_at);
  var last = dateTime(g.last_at);
  if (!first && !last) return "";
  if (!first || first === last || !last) return "El " + (last || first);
  return "Del " + first + " al " + last;
}

function guessesNode(term, guesses, testid, none) {
  var row = el("div");
  row.appendChild(el("dt", null, term));
  var value = el("dd", { "data-testid": testid });
  var top = (guesses || []).slice(0, 3);
  if (!top.length) value.appendChild(el("span", { className: "hint" }, none));
  top.forEach(function (guess, i) {
    if (i) value.appendChild(document.createTextNode(" · "));
    value.appendChild(el("code", null, guess.name || "?"));
    value.appendChild(document.createTextNode(" " + confidenceLabel(guess.confidence)));
  });
  row.appendChild(value);
  return row;
}

function groupNode(g, index) {
  var id = "inbox-pick-" + index;
  var item = el("li", { className: "inbox__group" + (picked[g.key] ? " is-picked" : ""),
    "data-testid": "inbox-group", "data-key": g.key });
  var head = el("div", { className: "inbox__head" });
  var box = el("input", { type: "checkbox", id: id, "data-testid": "inbox-pick" });
  box.checked = !!picked[g.key];
  box.addEventListener("change", function () {
    if (box.checked) picked[g.key] = true;
    else delete picked[g.key];
    item.classList.toggle("is-picked", box.checked);
    renderPicked();
  });
  head.appendChild(box);
  head.appendChild(el("label", { "for": id, className: "inbox__text", "data-testid": "inbox-text" }, g.text));
  head.appendChild(el("span", { className: "inbox__count", "data-testid": "inbox-count" },
    plural(g.count || 0, "mensaje", "mensajes")));
  item.appendChild(head);

  var meta = el("p", { className: "inbox__meta" });
  meta.appendChild(el("span", { "data-testid": "inbox-channels" },
    (g.channels || []).map(channelLabel).join(", ") || "Canal desconocido"));
  var sources = (g.sources || []).map(function (source) { return INBOX_SOURCES[source] || source; });
  if (sources.length) meta.appendChild(el("span", { "data-testid": "inbox-sources" }, sources.join(", ")));
  var dates = datesText(g);
  if (dates) meta.appendChild(el("span", { "data-testid": "inbox-dates" }, dates));
  if (g.handoffs) {
    meta.appendChild(el("span", { "data-testid": "inbox-handoffs" },
      "Se derivó a un asesor " + (g.handoffs === 1 ? "1 vez" : g.handoffs + " veces")));
  }
  item.appendChild(meta);

  var guesses = el("dl", { className: "inbox__models" });
  guesses.appendChild(guessesNode("Entendió entonces", g.guessed, "inbox-guessed", "Sin dato"));
  guesses.appendChild(guessesNode("Predice ahora", g.predicted, "inbox-predicted",
    g.predicted === null || g.predicted === undefined ? "Sin calcular (solo los primeros 50 grupos)" :
      "El modelo no respondió"));
  if (g.picked && g.picked.length) {
    var buttons = el("div");
    buttons.appendChild(el("dt", null, g.picked.length === 1 ? "Botón que eligió" : "Botones que eligió"));
    buttons.appendChild(el("dd", null, g.picked.join(" · ")));
    guesses.appendChild(buttons);
  }
  item.appendChild(guesses);

  var offered = suggestions([g]);
  if (offered.length) {
    var quick = el("div", { className: "inbox__quick", role: "group",
      "aria-label": "Asignar «" + g.text + "» a una intención sugerida" });
    quick.appendChild(el("span", { className: "inbox__quick-label", "aria-hidden": "true" }, "Asignar a:"));
    offered.forEach(function (s) {
      var button = el("button", { type: "button", className: "btn btn--small", "data-testid": "inbox-quick",
        "data-intent": s.name }, s.name + " · " + confidenceLabel(s.confidence));
      button.addEventListener("click", function () {
        annotate([g], "intent", s.name).then(function () { $("inbox-all").focus(); });
      });
      quick.appendChild(button);
    });
    item.appendChild(quick);
  }
  return item;
}

function renderPicked() {
  var chosen = pickedGroups();
  var messages = itemsOf(chosen).length;
  setText($("inbox-picked"), chosen.length ?
    (chosen.length === 1 ? "1 grupo elegido" : chosen.length + " grupos elegidos") +
    " (" + plural(messages, "mensaje", "mensajes") + ")" : "Ningún grupo elegido");
  var all = $("inbox-all");
  all.checked = chosen.length > 0 && chosen.length === groups.length;
  all.indeterminate = chosen.length > 0 && chosen.length < groups.length;
  all.disabled = !groups.length;
  fillIntents();
}

// The examples the API did not add (already in the training data).
export function renderProblems(problems) {
  var list = $("inbox-problems");
  list.textContent = "";
  problems.forEach(function (p) {
    list.appendChild(el("li", null, p.kind === "duplicate" && p.intent ?
      "«" + p.text + "» ya es un ejemplo de «" + p.intent + "»." : "«" + p.text + "»: " + (p.kind || "omitido") + "."));
  });
  $("inbox-problems-box").hidden = !problems.length;
}

function setInboxBusy(busy) {
  document.querySelectorAll("#admin-inbox .inbox__bulk button, #admin-inbox .inbox__bulk select, " +
    "#admin-inbox .inbox__quick button").forEach(function (control) { control.disabled = busy; });
  if (!busy) $("inbox-all").disabled = !groups.length;
}

function doneText(count, action, intent) {
  var s = count === 1 ? "" : "s";
  var what = {
    intent: "asignado" + s + " a «" + intent + "»",
    out_of_scope: "marcado" + s + " como fuera de alcance",
    spam: "marcado" + s + " como spam",
    dismiss: "descartado" + s
  }[action];
  var text = plural(count, "mensaje", "mensajes") + " " + what + ".";
  if (action === "intent" || action === "out_of_scope") text += " Entrena el modelo para que lo aprenda.";
  return text;
}

function annotate(chosen, action, intent) {
  showError($("inbox-error"), "");
  showError($("inbox-info"), "");
  renderProblems([]);
  if (!chosen.length) {
    showError($("inbox-error"), "Elige al menos un grupo de la bandeja.");
    return Promise.resolve();
  }
  if (action === "intent" && !intent) {
    showError($("inbox-error"), "Elige la intención.");
    $("inbox-intent").focus();
    return Promise.resolve();
  }
  var body = { items: itemsOf(chosen), action: action };
  if (action === "intent") body.intent = intent;
  setInboxBusy(true);
  return api("POST", "/api/admin/inbox/annotate", body).then(function (result) {
    forget(chosen);
    if (action === "intent") $("inbox-intent").value = "";
    showError($("inbox-info"), doneText(result.decided, action, result.intent || intent));
    renderProblems(result.problems || []);
    return Promise.all([loadInbox(), loadIntents()]);
  }).catch(function (error) {
    showError($("inbox-error"), problemText(error));
  }).then(function () { setInboxBusy(false); });
}
