// The console's REST API (bot/handoff/api.py, bot/accounts/api.py, bot/workbench/api.py):
// JSON in and out, the session cookie, and the CSRF token on every call that changes something.
// A 401 ends the session.

import { csrfToken, sessionEnded, signedIn } from "./session.js";

export function ApiError(status, body) {
  this.status = status;
  this.code = (body && body.error) || "error";
  this.message = (body && body.message) || (status ? "Error del servidor (" + status + ")." : "Sin conexión con el servidor.");
  this.details = (body && Array.isArray(body.details)) ? body.details : [];
  this.problems = (body && Array.isArray(body.problems)) ? body.problems : [];
}

export function api(method, path, body) {
  var options = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (method !== "GET") {
    options.headers["Content-Type"] = "application/json";
    options.headers["X-CSRF-Token"] = csrfToken();
    options.body = JSON.stringify(body || {});
  }
  return fetch(path, options).then(function (res) { return jsonResult(res, path); },
    function () { throw new ApiError(0, null); });
}

// The JSON body of a response, or an ApiError (a 401 ends the session).
export function jsonResult(res, path) {
  return res.json().catch(function () { return null; }).then(function (data) {
    if (res.ok) return data;
    var error = new ApiError(res.status, data);
    if (res.status === 401 && signedIn() && path !== "/api/auth/login") sessionEnded();
    throw error;
  });
}

// A plain-text answer (a training log, an article's old version).
export function fetchText(path) {
  return fetch(path, { credentials: "same-origin", headers: { Accept: "text/plain" } }).then(function (res) {
    if (res.ok) return res.text();
    return res.json().catch(function () { return null; }).then(function (data) {
      if (res.status === 401 && signedIn()) sessionEnded();
      throw new ApiError(res.status, data);
    });
  }, function () { throw new ApiError(0, null); });
}
