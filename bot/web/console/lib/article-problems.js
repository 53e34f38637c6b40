// The problems the server finds in a knowledge-base article ("<file>: field 'x': what", from
// bot/knowledge/articles.py), in Spanish: the article editor's and the project upload's.

import { dayText } from "./format.js";

var ARTICLE_FIELDS = {
  id: "Código", title: "Título", answer: "Respuesta", buttons: "Botones", source: "Fuente",
  "source.name": "Nombre de la fuente", "source.url": "Enlace de la fuente", reviewed: "Fecha de revisión",
  tags: "Etiquetas", templates: "Plantillas", variants: "Versiones por canal"
};
export const VARIANT_LABELS = { webchat: "Web", messenger: "Messenger", whatsapp: "WhatsApp", twilio: "WhatsApp (Twilio)" };

// A field of an article in words: "buttons[0].payload" → "Botón 1: acción".
function articleFieldLabel(field) {
  var button = /^buttons[.[](\d+)\]?\.(title|payload)$/.exec(field);
  if (button) return "Botón " + (Number(button[1]) + 1) + (button[2] === "title" ? ": texto" : ": acción");
  var variant = /^variants\.(\w+)$/.exec(field);
  if (variant) return "Versión para " + (VARIANT_LABELS[variant[1]] || variant[1]);
  var template = /^templates\.(.+)$/.exec(field);
  if (template) return "Plantilla «" + template[1] + "»";
  return ARTICLE_FIELDS[field] || field;
}

function problemWhat(what) {
  var m;
  if (what === "must be a non-empty string") return "no puede estar vacío";
  if ((m = /^(\d+) characters, at most (\d+)$/.exec(what))) return "tiene " + m[1] + " caracteres; el máximo es " + m[2];
  if (what === "must be an https:// URL") return "debe ser un enlace https://";
  if (what === "must be '/<intent>'") return "debe ser «/» seguido de la intención, ej.: /ruc_inscripcion_dni";
  if ((m = /^(\S+) is in the future$/.exec(what))) return "la fecha " + dayText(m[1]) + " está en el futuro";
  if (what === "must be a date (YYYY-MM-DD)") return "debe ser una fecha válida";
  if ((m = /^(\d+) buttons, at most (\d+)$/.exec(what))) return m[1] + " botones; el máximo es " + m[2];
  if (what === "is missing") return "falta";
  if (what === "must name the official source") return "escribe el nombre de la fuente oficial";
  return what;
}

// A problem the server found in an article, in Spanish; the file's name is kept only when asked
// (the articles of a zip), never the server's own path.
export function articleProblem(text, keepFile) {
  var m = /^(.*?): field '([^']+)': (.*)$/.exec(String(text || ""));
  if (!m) return String(text || "");
  var line = articleFieldLabel(m[2]) + ": " + problemWhat(m[3]);
  return keepFile ? m[1] + ": " + line : line;
}

// A 422 of the request's shape (fields the API checks before the article is validated).
export function articleRequestProblems(error) {
  var texts = [];
  error.details.forEach(function (d) {
    var field = String((d && d.field) || "");
    var text;
    if (field.indexOf("source.url") === 0) text = "El enlace de la fuente debe empezar con https:// (hasta 300 caracteres).";
    else if (field.indexOf("source") === 0) text = "Escribe el nombre de la fuente oficial (hasta 120 caracteres).";
    else if (field.indexOf("reviewed") === 0) text = "La fecha de revisión no es una fecha válida.";
    else if (field.indexOf("buttons") === 0) text = "Cada botón necesita su texto y su acción (hasta 3 botones).";
    else if (field.indexOf("title") === 0) text = "Escribe el título del artículo.";
    else if (field.indexOf("answer") === 0) text = "Escribe el texto de la respuesta.";
    else if (field.indexOf("variants") === 0) text = "Las versiones por canal deben ser textos.";
    else text = (d && d.problem) ? field + ": " + d.problem : "";
    if (text && texts.indexOf(text) < 0) texts.push(text);
  });
  return texts;
}
