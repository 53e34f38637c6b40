// The project as a zip («Datos del proyecto»): the training data and the articles, downloaded to
// be edited outside the console, and uploaded back (everything is checked before anything is
// written; the previous project is kept as a version).

import { ApiError, jsonResult } from "../lib/api.js";
import { articleProblem } from "../lib/article-problems.js";
import { $, el, setDisabled, showError, showList } from "../lib/dom.js";
import { plural } from "../lib/format.js";
import { problemText } from "../lib/problems.js";
import { csrfToken } from "../lib/session.js";
import * as editor from "./article-editor.js";
import * as articles from "./articles.js";

var UPLOAD_MAX_BYTES = 10 * 1024 * 1024;

export function mount() {
  $("project-download").addEventListener("click", download);
  $("project-upload-form").addEventListener("submit", upload);
}

export function reset() {
  $("project-upload-form").reset();
  messages();
}

function messages() {
  showError($("project-error"), "");
  showList($("project-problems-box"), $("project-problems"), []);
  $("project-info").hidden = true;
  $("project-info-text").textContent = "";
  $("project-written").textContent = "";
}

function download(ev) {
  // Fetched first, so an error (an ended session) is shown instead of saved as the file.
  ev.preventDefault();
  var link = $("project-download");
  if (link.getAttribute("aria-disabled") === "true") return;
  link.setAttribute("aria-disabled", "true");
  messages();
  fetch(link.getAttribute("href"), { credentials: "same-origin" }).then(function (res) {
    if (!res.ok) return jsonResult(res, link.getAttribute("href"));
    return res.blob().then(function (blob) {
      var url = URL.createObjectURL(blob);
      var save = el("a", { href: url, download: "asistente-datos.zip", hidden: "" });
      document.body.appendChild(save);
      save.click();
      save.remove();
      window.setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
    });
  }, function () { throw new ApiError(0, null); }).catch(function (error) {
    if (error.status !== 401) showError($("project-error"), problemText(error));
  }).then(function () { link.removeAttribute("aria-disabled"); });
}

function upload(ev) {
  ev.preventDefault();
  messages();
  var input = $("project-file");
  var file = input.files && input.files[0];
  if (!file) {
    showError($("project-error"), "Elige el archivo .zip que quieres subir.");
    input.focus();
    return;
  }
  if (file.size > UPLOAD_MAX_BYTES) {
    showError($("project-error"), "El archivo pasa de 10 MB: no se puede subir.");
    input.focus();
    return;
  }
  var form = $("project-upload-form");
  setDisabled(form, true);
  $("project-info-text").textContent = "Revisando y subiendo «" + file.name + "»…";
  $("project-info").hidden = false;
  var path = "/api/admin/project.zip";
  fetch(path, {
    method: "PUT",
    credentials: "same-origin",
    headers: { Accept: "application/json", "Content-Type": "application/zip", "X-CSRF-Token": csrfToken() },
    body: file
  }).then(function (res) { return jsonResult(res, path); }, function () { throw new ApiError(0, null); })
    .then(function (result) {
      var written = (result && (result.changed || result.written)) || [];
      var kept = result && result.version;
      $("project-info-text").textContent = plural(written.length, "archivo actualizado", "archivos actualizados") +
        ". Los artículos ya están en uso; para los datos de entrenamiento, entrena un modelo." +
        (kept ? " El proyecto anterior quedó guardado como la versión " + kept.id + " (se puede restaurar)." : "");
      written.forEach(function (name) { $("project-written").appendChild(el("li", null, name)); });
      input.value = "";
      var open = editor.currentId();
      return Promise.all([articles.load(), open ? editor.open(open) : null]);
    }).catch(function (error) {
      if (error.status === 401) return;
      $("project-info").hidden = true;
      $("project-info-text").textContent = "";
      showError($("project-error"), error.status === 413 ? "El archivo es demasiado grande (hasta 10 MB)." :
        problemText(error));
      showList($("project-problems-box"), $("project-problems"),
        error.problems.map(function (p) { return articleProblem(p, true); }));
    }).then(function () { setDisabled(form, false); });
}
