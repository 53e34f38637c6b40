// «Eventos»: the form that creates an event or changes one (every field), with the API's
// reasons when it refuses (bot/community/api.py: a date in the past, a deadline after the
// start, neither place nor link…). Dates are Lima time: the API reads a date without an offset
// as Lima's, and answers with Lima's offset, so the fields show its first 16 characters.

import { api } from "../lib/api.js";
import { $, announce, setDisabled, showError } from "../lib/dom.js";

// What each field holds; the API's field names → the form's inputs.
var FIELDS = {
  title: "community-title",
  kind: "community-kind",
  capacity: "community-capacity",
  starts_at: "community-starts",
  ends_at: "community-ends",
  registration_deadline: "community-deadline",
  place: "community-place",
  online_url: "community-url",
  description: "community-description"
};

// A field refused by the API's own validation (its message is a general one).
var FIELD_PROBLEMS = {
  title: "Escribe el título del evento (hasta 160 caracteres).",
  kind: "Elige el tipo de evento.",
  capacity: "La capacidad va de 1 a 100 000 personas.",
  starts_at: "Escribe la fecha y hora de inicio.",
  ends_at: "Revisa la fecha y hora de fin.",
  registration_deadline: "Revisa la fecha y hora de cierre de inscripciones.",
  place: "El lugar puede tener hasta 300 caracteres.",
  online_url: "El enlace puede tener hasta 500 caracteres.",
  description: "Escribe una descripción (hasta 4000 caracteres)."
};

var editing = null;     // the event being changed, or null: a new one
var saved = function () {};

// on.saved(event, changed): an event was created (changed false) or changed.
export function mount(on) {
  saved = on.saved;
  $("community-form").addEventListener("submit", submit);
  $("community-form-cancel").addEventListener("click", function () { stopEditing(true); });
  $("community-form").addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && editing) { ev.preventDefault(); stopEditing(true); }
  });
}

export function reset() {
  stopEditing(false);
}

// Change an event: the form takes its values.
export function edit(event) {
  editing = event;
  fieldIds().forEach(function (id) { $(id).removeAttribute("aria-invalid"); });
  $("community-title").value = event.title || "";
  $("community-kind").value = event.kind || "charla";
  $("community-capacity").value = String(event.capacity || "");
  $("community-starts").value = localValue(event.starts_at);
  $("community-ends").value = localValue(event.ends_at);
  $("community-deadline").value = localValue(event.registration_deadline);
  $("community-place").value = event.place || "";
  $("community-url").value = event.online_url || "";
  $("community-description").value = event.description || "";
  $("community-form-title").textContent = "Cambiar «" + event.title + "»";
  $("community-save").textContent = "Guardar cambios";
  $("community-form-cancel").hidden = false;
  showError($("community-form-error"), "");
  $("community-form-title").focus();
}

export function editingId() { return editing ? editing.id : null; }

function stopEditing(focus) {
  editing = null;
  $("community-form").reset();
  fieldIds().forEach(function (id) { $(id).removeAttribute("aria-invalid"); });
  $("community-form-title").textContent = "Nuevo evento";
  $("community-save").textContent = "Crear evento";
  $("community-form-cancel").hidden = true;
  showError($("community-form-error"), "");
  if (focus) $("community-title").focus();
}

function fieldIds() {
  return Object.keys(FIELDS).map(function (name) { return FIELDS[name]; });
}

// "2026-12-10T18:30:00-05:00" → "2026-12-10T18:30" (the API answers in Lima time).
function localValue(iso) {
  return iso ? String(iso).slice(0, 16) : "";
}

function text(id) {
  var value = $(id).value.trim();
  return value ? value : null;
}

function body() {
  return {
    title: $("community-title").value.trim(),
    kind: $("community-kind").value,
    capacity: Number($("community-capacity").value),
    starts_at: text("community-starts"),
    ends_at: text("community-ends"),
    registration_deadline: text("community-deadline"),
    place: text("community-place"),
    online_url: text("community-url"),
    description: $("community-description").value.trim()
  };
}

// What is missing before asking the server; the first field to fix, or null.
function missing(values) {
  if (!values.title) return ["title", "Escribe el título del evento."];
  if (!values.starts_at) return ["starts_at", "Escribe la fecha y hora de inicio."];
  if (!Number.isInteger(values.capacity) || values.capacity < 1 || values.capacity > 100000) {
    return ["capacity", FIELD_PROBLEMS.capacity];
  }
  if (!values.place && !values.online_url) {
    return ["place", "Indica el lugar del evento o el enlace para participar en línea."];
  }
  if (!values.description) return ["description", "Escribe una descripción."];
  return null;
}

function markInvalid(names) {
  fieldIds().forEach(function (id) { $(id).removeAttribute("aria-invalid"); });
  names.forEach(function (name) { if (FIELDS[name]) $(FIELDS[name]).setAttribute("aria-invalid", "true"); });
  if (names.length && FIELDS[names[0]]) $(FIELDS[names[0]]).focus();
}

// The API's refusal in words, and the fields it names.
function refusal(error) {
  if (error.problems.length) {
    return {
      text: error.problems.map(function (p) { return p.message; }).join(" "),
      fields: error.problems.map(function (p) { return p.field; })
    };
  }
  if (error.code === "invalid_request" && error.details.length) {
    var fields = error.details.map(function (d) { return String((d && d.field) || "").split(".")[0]; });
    var texts = [];
    fields.forEach(function (f) {
      var t = FIELD_PROBLEMS[f];
      if (t && texts.indexOf(t) < 0) texts.push(t);
    });
    return { text: texts.join(" ") || error.message, fields: fields };
  }
  var named = error.code === "capacity_below_registered" ? ["capacity"] : [];
  return { text: error.message, fields: named };
}

function submit(ev) {
  ev.preventDefault();
  var box = $("community-form-error");
  var values = body();
  var lacking = missing(values);
  if (lacking) {
    showError(box, lacking[1]);
    markInvalid([lacking[0]]);
    return;
  }
  var changing = editing;
  var form = $("community-form");
  setDisabled(form, true);
  showError(box, "");
  var request = changing
    ? api("PUT", "/api/events/" + changing.id, values)
    : api("POST", "/api/events", values);
  request.then(function (event) {
    stopEditing(false);
    announce(changing ? "Evento guardado." : "Evento creado.");
    saved(event, !!changing);
  }).catch(function (error) {
    if (error.status === 401) return;
    var why = refusal(error);
    showError(box, why.text);
    markInvalid(why.fields);
  }).then(function () {
    setDisabled(form, false);
  });
}
