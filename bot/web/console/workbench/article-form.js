// The fields of the article editor's form: filled from an article, checked against the limits
// an article's file must keep, and read back as the changes to save.

import { $, setText } from "../lib/dom.js";
import { VARIANT_LABELS } from "../lib/article-problems.js";
import { limaToday } from "../lib/format.js";

// The limits an article's file must keep (bot/knowledge/articles.py); the API accepts longer texts
// but the file would be refused.
export const ARTICLE_LIMITS = { title: 40, answer: 1000, button: 20, payload: 200, source: 120, url: 300 };
export const ARTICLE_BUTTONS = 3;

export function mount() {
  $("art-answer").addEventListener("input", answerCount);
}

export function reset() {
  $("article-form").reset();
}

function buttonInputs(n) {
  return { title: $("art-button-title-" + n), payload: $("art-button-payload-" + n) };
}

export function fill(a) {
  $("art-title").value = a.title || "";
  $("art-answer").value = a.answer || "";
  for (var n = 1; n <= ARTICLE_BUTTONS; n++) {
    var b = (a.buttons || [])[n - 1] || { title: "", payload: "" };
    buttonInputs(n).title.value = b.title || "";
    buttonInputs(n).payload.value = b.payload || "";
  }
  $("art-source-name").value = (a.source && a.source.name) || "";
  $("art-source-url").value = (a.source && a.source.url) || "";
  $("art-reviewed").value = a.reviewed || "";
  $("art-reviewed").max = limaToday();
  var variants = a.variants || {};
  $("art-variant-messenger").value = variants.messenger || "";
  $("art-variant-whatsapp").value = variants.whatsapp || "";
  $("art-variants").open = !!(variants.messenger || variants.whatsapp);
  var others = Object.keys(variants).filter(function (c) { return c !== "messenger" && c !== "whatsapp"; });
  var notes = [];
  if (others.length) {
    notes.push("También tiene versión para " + others.map(function (c) { return VARIANT_LABELS[c] || c; }).join(", ") +
      " (se conserva; se edita en el archivo).");
  }
  if ((a.templates || []).length) {
    notes.push("Plantillas que completa el asistente: " + a.templates.join(", ") + " (se editan en el archivo).");
  }
  $("art-templates").textContent = notes.join(" ");
  $("art-templates").hidden = !notes.length;
  answerCount();
}

function answerCount() {
  var length = $("art-answer").value.trim().length;
  var box = $("art-answer-count");
  setText(box, length + " de " + ARTICLE_LIMITS.answer + " caracteres");
  box.classList.toggle("bad", length > ARTICLE_LIMITS.answer);
}

function formButtons() {
  var buttons = [];
  for (var n = 1; n <= ARTICLE_BUTTONS; n++) {
    var inputs = buttonInputs(n);
    buttons.push({ n: n, title: inputs.title.value.trim(), payload: inputs.payload.value.trim() });
  }
  return buttons;
}

// The buttons with both a text and an action.
export function completeButtons() {
  return formButtons().filter(function (b) { return b.title && b.payload; })
    .map(function (b) { return { title: b.title, payload: b.payload }; });
}

// The fields of the form, checked; [problem text, field id] of the first problem if any.
export function check() {
  var title = $("art-title").value.trim();
  var answer = $("art-answer").value.trim();
  var problems = [
    [!title, "Escribe el título del artículo.", "art-title"],
    [title.length > ARTICLE_LIMITS.title, "El título puede tener hasta " + ARTICLE_LIMITS.title + " caracteres.", "art-title"],
    [!answer, "Escribe el texto de la respuesta.", "art-answer"],
    [answer.length > ARTICLE_LIMITS.answer, "La respuesta puede tener hasta " + ARTICLE_LIMITS.answer + " caracteres.", "art-answer"]
  ];
  formButtons().forEach(function (b) {
    var inputs = buttonInputs(b.n);
    problems.push([b.payload && !b.title, "Escribe el texto del botón " + b.n + ".", inputs.title.id]);
    problems.push([b.title && !b.payload, "Escribe la acción del botón " + b.n + " (ej.: /ruc_inscripcion_dni).", inputs.payload.id]);
    problems.push([b.title.length > ARTICLE_LIMITS.button, "El texto del botón " + b.n + " puede tener hasta " +
      ARTICLE_LIMITS.button + " caracteres.", inputs.title.id]);
    problems.push([!!b.payload && !/^\/\S+$/.test(b.payload), "La acción del botón " + b.n +
      " debe ser «/» seguido de la intención, sin espacios (ej.: /ruc_inscripcion_dni).", inputs.payload.id]);
  });
  var url = $("art-source-url").value.trim();
  problems.push([!$("art-source-name").value.trim(), "Escribe el nombre de la fuente oficial.", "art-source-name"]);
  problems.push([!/^https:\/\/\S+$/.test(url),
    "El enlace de la fuente debe empezar con https:// (la página oficial, con conexión segura).", "art-source-url"]);
  problems.push([!/^\d{4}-\d{2}-\d{2}$/.test($("art-reviewed").value), "Elige la fecha de revisión.", "art-reviewed"]);
  [["messenger", "Messenger"], ["whatsapp", "WhatsApp"]].forEach(function (pair) {
    problems.push([$("art-variant-" + pair[0]).value.trim().length > ARTICLE_LIMITS.answer, "La versión para " + pair[1] +
      " puede tener hasta " + ARTICLE_LIMITS.answer + " caracteres.", "art-variant-" + pair[0]]);
  });
  var found = problems.filter(function (p) { return p[0]; });
  return found.length ? [found[0][1], found[0][2]] : null;
}

// What changed against the article as loaded: the body of the PUT.
export function changes(a) {
  var body = {};
  var title = $("art-title").value.trim();
  if (title !== a.title) body.title = title;
  var answer = $("art-answer").value.trim();
  if (answer !== String(a.answer || "").trim()) body.answer = answer;
  var buttons = completeButtons();
  var before = (a.buttons || []).map(function (b) { return { title: b.title, payload: b.payload }; });
  if (JSON.stringify(buttons) !== JSON.stringify(before)) body.buttons = buttons;
  var source = { name: $("art-source-name").value.trim(), url: $("art-source-url").value.trim() };
  if (!a.source || source.name !== a.source.name || source.url !== a.source.url) body.source = source;
  var reviewed = $("art-reviewed").value;
  if (reviewed !== a.reviewed) body.reviewed = reviewed;
  var variants = {};
  var old = a.variants || {};
  Object.keys(old).forEach(function (channel) { variants[channel] = old[channel]; });  // others are kept
  var changed = false;
  ["messenger", "whatsapp"].forEach(function (channel) {
    var text = $("art-variant-" + channel).value.trim();
    if (text !== String(old[channel] || "").trim()) changed = true;
    if (text) variants[channel] = text;
    else delete variants[channel];
  });
  if (changed) body.variants = variants;
  return body;
}

// An article's title and answer as one text (the conflict view compares two of them).
export function articleText(title, answer) {
  return "Título: " + (title || "") + "\n\n" + String(answer || "").trim();
}

export function formText() {
  return articleText($("art-title").value.trim(), $("art-answer").value);
}
