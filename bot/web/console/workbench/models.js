// «Modelos»: the trained models, the evaluation of the one chosen (evaluation.js), deploying it
// (a worse or unevaluated model needs a reason) and rolling back to the previous one.

import { api } from "../lib/api.js";
import { $, el, showError } from "../lib/dom.js";
import { dateTime, decimal, percentText } from "../lib/format.js";
import { problemText } from "../lib/problems.js";
import * as evaluation from "./evaluation.js";

var MODEL_STATES = { trained: "Entrenado", live: "En uso", retired: "Retirado" };

var models = [];
var modelId = null;     // the model chosen
var detail = null;      // its evaluation, as GET /api/admin/models/{id} answered
var overriding = false; // deploying it needs a reason (the API refused it without one)

export function mount() {
  evaluation.mount({ current: function () { return detail; } });
  $("deploy-form").addEventListener("submit", deploy);
  $("models-rollback").addEventListener("click", rollback);
}

export function reset() {
  models = [];
  modelId = null;
  detail = null;
  overriding = false;
  $("models").textContent = "";
  $("deploy-form").reset();
  ["models-error", "models-info", "deploy-error", "deploy-info"].forEach(function (id) { showError($(id), ""); });
  ["model-detail", "override-box"].forEach(function (id) { $(id).hidden = true; });
  evaluation.reset();
}

// The model to show when the sub-section is shown next (from a training).
export function choose(id) {
  modelId = id;
  detail = null;
}

// The sub-section is shown: the list, and the chosen model (the newest if none).
export function load() {
  return api("GET", "/api/admin/models").then(function (loaded) {
    models = (loaded || []).slice().sort(function (a, b) { return b.id - a.id; });
    renderModels();
    if (modelId === null && models.length) return openModel(models[0].id, false);
    if (modelId !== null) return detail && detail.id === modelId ? refreshModel() : openModel(modelId, true);
  }).catch(function (error) { if (error.status !== 401) showError($("models-error"), error.message); });
}

function conversationsText(passed) {
  return passed === true ? "Pasaron" : passed === false ? "Fallaron" : "—";
}

function renderModels() {
  var body = $("models");
  body.textContent = "";
  models.forEach(function (m) {
    var row = el("tr", { "data-testid": "model-row", "data-model-id": String(m.id), "data-status": m.status,
      className: (m.status === "live" ? "is-live" : "") + (m.id === modelId ? " is-selected" : "") });
    var name = el("th", { scope: "row", title: m.file }, "n.º " + m.id);
    row.appendChild(name);
    row.appendChild(el("td", null, dateTime(m.created_at)));
    row.appendChild(el("td", null, m.created_by || "—"));
    row.appendChild(el("td", null, decimal(m.macro_f1, 3)));
    row.appendChild(el("td", null, percentText(m.accuracy)));
    row.appendChild(el("td", null, conversationsText(m.conversations_passed)));
    var status = el("td", { "data-testid": "model-status" });
    if (m.status === "live") {
      status.appendChild(el("span", { className: "pill pill--live" }, "En uso"));
      if (m.deployed_at) status.appendChild(el("span", { className: "hint" }, " desde " + dateTime(m.deployed_at)));
    } else {
      status.textContent = MODEL_STATES[m.status] || m.status;
    }
    row.appendChild(status);
    var actions = el("td");
    var view = el("button", { type: "button", className: "btn", "data-testid": "model-open",
      "aria-label": "Ver evaluación del modelo n.º " + m.id,
      "aria-pressed": m.id === modelId ? "true" : "false" }, "Ver evaluación");
    view.addEventListener("click", function () { openModel(m.id, true); });
    actions.appendChild(view);
    row.appendChild(actions);
    body.appendChild(row);
  });
  if (!models.length) {
    var none = el("tr");
    none.appendChild(el("td", { colspan: "8", className: "empty" }, "Todavía no hay modelos registrados."));
    body.appendChild(none);
  }
}

function openModel(id, focus) {
  modelId = id;
  overriding = false;
  $("override-reason").value = "";
  $("per-intent-all").checked = false;
  showError($("deploy-error"), "");
  showError($("deploy-info"), "");
  renderModels();
  return refreshModel().then(function () {
    if (focus && detail && detail.id === id) $("model-title").focus();
  });
}

function refreshModel() {
  var id = modelId;
  if (id === null) return Promise.resolve();
  return api("GET", "/api/admin/models/" + id).then(function (loaded) {
    if (modelId !== id) return;
    detail = loaded;
    renderModel();
  }).catch(function (error) {
    if (modelId !== id || error.status === 401) return;
    showError($("models-error"), error.message);
    if (error.status === 404) { modelId = null; detail = null; $("model-detail").hidden = true; }
  });
}

function renderModel() {
  var m = detail;
  var box = $("model-detail");
  box.hidden = false;
  box.dataset.modelId = String(m.id);
  box.dataset.status = m.status;
  $("model-title").textContent = "Evaluación del modelo n.º " + m.id + (m.status === "live" ? " (en uso)" : "");
  var meta = "Archivo " + m.file + " · creado el " + dateTime(m.created_at) + " por " + (m.created_by || "—");
  if (m.data_hash) meta += " · datos " + String(m.data_hash).slice(0, 12);
  if (m.deployed_at) meta += " · desplegado el " + dateTime(m.deployed_at) + (m.deployed_by ? " por " + m.deployed_by : "");
  $("model-meta").textContent = meta;
  renderDeploy();
  evaluation.render(m);
}

function renderDeploy() {
  var live = detail.status === "live";
  $("deploy-button").hidden = live;
  $("deploy-live").hidden = !live;
  $("override-box").hidden = live || !overriding;
  $("deploy-button").textContent = overriding ? "Desplegar de todos modos" : "Desplegar";
}

function deploy(ev) {
  ev.preventDefault();
  var m = detail;
  if (!m || m.status === "live") return;
  var body = {};
  if (overriding) {
    var reason = $("override-reason").value.trim();
    if (!reason) {
      showError($("deploy-error"), "Escribe el motivo para desplegar este modelo aunque la evaluación lo desaconseje.");
      $("override-reason").focus();
      return;
    }
    body.override_reason = reason;
  }
  var id = m.id;
  var button = $("deploy-button");
  button.disabled = true;
  showError($("deploy-error"), "");
  showError($("models-info"), "");
  showError($("deploy-info"), "Desplegando el modelo n.º " + id + "… el modelo en uso sigue respondiendo mientras tanto.");
  api("POST", "/api/admin/models/" + id + "/deploy", body).then(function (live) {
    overriding = false;
    $("override-reason").value = "";
    showError($("deploy-info"), "Modelo n.º " + live.id + " desplegado: ya responde a los ciudadanos.");
    return load();
  }).catch(function (error) {
    showError($("deploy-info"), "");
    if (error.status === 409 && (error.code === "worse" || error.code === "not_evaluated")) {
      overriding = true;
      if (detail && detail.id === id) renderDeploy();
      showError($("deploy-error"), error.message);
      $("override-reason").focus();
    } else {
      showError($("deploy-error"), problemText(error));
    }
  }).then(function () { button.disabled = false; });
}

function rollback() {
  var button = $("models-rollback");
  button.disabled = true;
  showError($("models-error"), "");
  showError($("deploy-error"), "");
  showError($("deploy-info"), "");
  showError($("models-info"), "Volviendo al modelo anterior… el modelo en uso sigue respondiendo mientras tanto.");
  api("POST", "/api/admin/models/rollback").then(function (live) {
    showError($("models-info"), "Se volvió al modelo n.º " + live.id + " (" + live.file + "): ya responde a los ciudadanos.");
    return load();
  }).catch(function (error) {
    showError($("models-info"), "");
    showError($("models-error"), problemText(error));
  }).then(function () { button.disabled = false; });
}
