// «Entrenamiento»: training jobs (one runs at a time; the model in use keeps answering). The
// running one is polled every 2 s for its stage and progress; its log can be followed.

import { api, fetchText } from "../lib/api.js";
import { $, announce, el, setText, showError } from "../lib/dom.js";
import { dateTime, decimal, plural, secondsText } from "../lib/format.js";
import { problemText } from "../lib/problems.js";
import { isAdmin } from "../lib/session.js";

var POLL_MS = 2000;
var JOB_STATES = { queued: "En cola", running: "En curso", succeeded: "Listo", failed: "Falló" };

var jobs = [];
var jobsSeq = 0;
var watched = null;    // id of the job followed
var pollTimer = null;
var logId = null;      // id of the job whose log is shown
var hooks = { openModel: function () {}, jobEnded: function () {} };

// on.openModel(id): show a model's evaluation; on.jobEnded(): a training ended.
export function mount(on) {
  hooks = on;
  $("training-log-close").addEventListener("click", closeLog);
  $("training-start").addEventListener("click", startTraining);
  $("training-open-model").addEventListener("click", function () {
    var id = Number($("training-current").dataset.modelId);
    if (id) hooks.openModel(id);
  });
}

export function reset() {
  window.clearTimeout(pollTimer);
  jobs = [];
  jobsSeq++;
  watched = null;
  pollTimer = null;
  logId = null;
  ["training-jobs", "training-log"].forEach(function (id) { $(id).textContent = ""; });
  ["training-error", "training-info"].forEach(function (id) { showError($(id), ""); });
  ["training-current", "training-log-box"].forEach(function (id) { $(id).hidden = true; });
  $("training-live").textContent = "";
  updateStartButton();
}

// The sub-section is shown.
export function load() {
  return Promise.all([loadJobs(), loadLiveModel()]);
}

function isActive(job) { return !!job && (job.status === "queued" || job.status === "running"); }

function findJob(id) {
  return jobs.find(function (job) { return job.id === id; }) || null;
}

function upsertJob(job) {
  jobs = jobs.filter(function (j) { return j.id !== job.id; }).concat([job]);
  jobs.sort(function (a, b) { return b.id - a.id; });
}

function loadJobs() {
  var seq = ++jobsSeq;
  return api("GET", "/api/admin/training").then(function (loaded) {
    if (seq !== jobsSeq) return;  // a training was asked for meanwhile: a newer list follows
    jobs = (loaded || []).slice().sort(function (a, b) { return b.id - a.id; });
    var active = jobs.filter(isActive);
    // The one that runs first: the oldest active job.
    if (active.length && !isActive(findJob(watched))) watch(active[active.length - 1].id);
    renderJobs();
  }).catch(function (error) { if (error.status !== 401) showError($("training-error"), error.message); });
}

function watch(id) {
  watched = id;
  schedulePoll();
}

function schedulePoll() {
  window.clearTimeout(pollTimer);
  pollTimer = window.setTimeout(pollJob, POLL_MS);
}

function pollJob() {
  pollTimer = null;
  var id = watched;
  if (id === null || !isAdmin()) return;
  api("GET", "/api/admin/training/" + id).then(function (job) {
    if (watched !== id) return;
    upsertJob(job);
    renderJobs();
    if (logId === id && !$("training-log-box").hidden) loadLog(id, false);
    if (isActive(job)) schedulePoll();
    else jobEnded(job);
  }).catch(function (error) {
    if (error.status !== 401 && watched === id) schedulePoll();  // a hiccup: try again
  });
}

function jobEnded(job) {
  if (job.status === "succeeded") {
    var text = "Entrenamiento n.º " + job.id + " listo" +
      (job.model_id ? ": modelo n.º " + job.model_id + " evaluado. Revisa su evaluación en «Modelos» antes de desplegarlo." : ".");
    showError($("training-error"), "");
    showError($("training-info"), text);
    announce(text);
  } else {
    var failed = "El entrenamiento n.º " + job.id + " falló" + (job.error ? ": " + job.error : "") + ". Revisa su registro.";
    showError($("training-info"), "");
    showError($("training-error"), failed);
  }
  hooks.jobEnded();
  loadJobs();
}

function updateStartButton() {
  var busy = jobs.some(isActive);
  $("training-start").disabled = busy;
  $("training-busy").hidden = !busy;
  if (busy) $("training-start").setAttribute("aria-describedby", "training-busy");
  else $("training-start").removeAttribute("aria-describedby");
}

function progressText(job) {
  var p = job.progress || {};
  var stage = job.stage || "";
  var trained = p.expected ? p.steps + " de " + plural(p.expected, "componente", "componentes") : "";
  if (job.status === "queued") return "Espera su turno: empieza cuando termine el entrenamiento anterior.";
  if (job.status === "failed") return (trained ? trained + " · " : "") + "Falló" + (job.error ? ": " + job.error : "") + ".";
  if (job.status === "succeeded") {
    return (trained ? trained + " · " : "") + (typeof p.seconds === "number" ? "duró " + secondsText(p.seconds) : "terminado") +
      (job.model_id ? " · modelo n.º " + job.model_id : "");
  }
  if (stage.indexOf("evaluando") === 0) return (trained ? trained + " entrenados · " : "") + "evaluando con ejemplos de prueba…";
  if (!p.expected) return "Revisando los datos de entrenamiento…";
  var text = trained + (p.component ? " · último: " + p.component : "");
  if (!p.steps) return text + " · calculando el tiempo que falta…";
  return text + " · " + (p.seconds_left > 0 ? "quedan unos " + secondsText(p.seconds_left) : "casi listo");
}

function renderCurrent() {
  var job = findJob(watched) || jobs[0] || null;
  var box = $("training-current");
  box.hidden = !job;
  if (!job) return;
  box.dataset.status = job.status;
  box.dataset.jobId = String(job.id);
  if (job.model_id) box.dataset.modelId = String(job.model_id);
  else delete box.dataset.modelId;
  setText($("training-current-title"), "Entrenamiento n.º " + job.id + " · " + (JOB_STATES[job.status] || job.status));
  setText($("training-stage"), "Etapa: " + (job.stage || "—"));
  var p = job.progress || {};
  var bar = $("training-progress");
  if (p.expected && job.status !== "queued") {
    bar.max = p.expected;
    bar.value = Math.min(p.steps || 0, p.expected);
    bar.hidden = false;
  } else if (isActive(job)) {
    bar.removeAttribute("value");  // indeterminate
    bar.hidden = false;
  } else {
    bar.hidden = true;
  }
  setText($("training-progress-text"), progressText(job));
  $("training-open-model").hidden = !job.model_id;
}

function renderJobs() {
  var body = $("training-jobs");
  body.textContent = "";
  jobs.forEach(function (job) {
    var row = el("tr", { "data-testid": "training-row", "data-job-id": String(job.id), "data-status": job.status });
    row.appendChild(el("th", { scope: "row" }, "n.º " + job.id));
    row.appendChild(el("td", null, job.requested_by));
    row.appendChild(el("td", null, dateTime(job.requested_at)));
    var state = (JOB_STATES[job.status] || job.status) + (job.status === "running" && job.stage ? ": " + job.stage : "");
    row.appendChild(el("td", { className: "job-state job-state--" + job.status, "data-testid": "training-row-status" }, state));
    var p = job.progress || {};
    var took = typeof p.seconds === "number" ? secondsText(p.seconds) :
      job.started_at && job.finished_at ? secondsText((Date.parse(job.finished_at) - Date.parse(job.started_at)) / 1000) : "—";
    row.appendChild(el("td", null, took));
    var modelCell = el("td");
    if (job.model_id) {
      var open = el("button", { type: "button", className: "btn btn--link",
        "aria-label": "Ver la evaluación del modelo n.º " + job.model_id }, "n.º " + job.model_id);
      open.addEventListener("click", function () { hooks.openModel(job.model_id); });
      modelCell.appendChild(open);
    } else {
      modelCell.textContent = "—";
    }
    row.appendChild(modelCell);
    var logCell = el("td");
    var log = el("button", { type: "button", className: "btn", "data-testid": "training-log-open",
      "aria-label": "Ver registro del entrenamiento n.º " + job.id }, "Ver registro");
    log.addEventListener("click", function () { showLog(job.id); });
    logCell.appendChild(log);
    row.appendChild(logCell);
    body.appendChild(row);
  });
  if (!jobs.length) {
    var none = el("tr");
    none.appendChild(el("td", { colspan: "7", className: "empty" }, "Todavía no se pidió ningún entrenamiento."));
    body.appendChild(none);
  }
  renderCurrent();
  updateStartButton();
}

function loadLog(id, first) {
  var pre = $("training-log");
  return fetchText("/api/admin/training/" + id + "/log").then(function (text) {
    if (logId !== id) return;
    var atEnd = first || pre.scrollHeight - pre.scrollTop - pre.clientHeight < 40;
    if (pre.textContent !== text) pre.textContent = text || "(El registro está vacío).";
    if (atEnd) pre.scrollTop = pre.scrollHeight;
  }).catch(function (error) {
    if (logId === id && first) pre.textContent = error.message;
  });
}

function showLog(id) {
  logId = id;
  var path = "/api/admin/training/" + id + "/log";
  $("training-log-box").hidden = false;
  $("training-log-title").textContent = "Registro del entrenamiento n.º " + id;
  $("training-log-link").href = path;
  $("training-log").textContent = "Cargando el registro…";
  $("training-log-title").focus();
  return loadLog(id, true);
}

function closeLog() {
  var id = logId;
  logId = null;
  $("training-log-box").hidden = true;
  $("training-log").textContent = "";
  var button = document.querySelector('#training-jobs tr[data-job-id="' + id + '"] [data-testid=training-log-open]');
  if (button) button.focus();
}

function startTraining() {
  var button = $("training-start");
  button.disabled = true;
  showError($("training-error"), "");
  showError($("training-info"), "");
  jobsSeq++;
  // The list of models also registers the model Rasa has loaded: the new one is compared with it.
  loadLiveModel().then(function () {
    return api("POST", "/api/admin/training");
  }).then(function (job) {
    upsertJob(job);
    watched = job.id;
    renderJobs();
    showError($("training-info"), "Entrenamiento n.º " + job.id + " pedido. El modelo en uso sigue respondiendo; aquí verás el avance.");
    schedulePoll();
  }).catch(function (error) {
    showError($("training-error"), problemText(error));
    return loadJobs();
  }).then(updateStartButton);
}

// The model in use, which the new one will be compared with.
function loadLiveModel() {
  return api("GET", "/api/admin/models").then(function (models) {
    var live = (models || []).find(function (m) { return m.status === "live"; });
    $("training-live").textContent = live ?
      "Modelo en uso: n.º " + live.id + (typeof live.macro_f1 === "number" ? " (macro-F1 " + decimal(live.macro_f1, 3) + ")" : "") +
      ". El modelo nuevo se evaluará frente a él." :
      "Todavía no hay un modelo en uso registrado: el modelo nuevo se evaluará solo.";
  }).catch(function (error) { if (error.status !== 401) $("training-live").textContent = ""; });
}

