// Signing in and out: the login form, who is signed in (top bar) and the logout button.

import { api } from "./lib/api.js";
import { $, PAGE_TITLE, showError } from "./lib/dom.js";
import { ROLES } from "./lib/format.js";
import { currentAgent, onAgentChanged } from "./lib/session.js";
import { unlockAudio } from "./lib/sound.js";
import { teamLabel } from "./desk/info.js";

var hooks = { signedIn: function () {}, signedOut: function () {} };

// on.signedIn(session): the login succeeded; on.signedOut(): the agent logged out.
export function mount(on) {
  hooks = on;
  $("login-form").addEventListener("submit", logIn);
  $("logout").addEventListener("click", function () {
    api("POST", "/api/auth/logout").catch(function () {}).then(function () { hooks.signedOut(); });
  });
  onAgentChanged(showWho);
}

// The login form, with a message (an error, or a notice such as "Cerraste sesión.").
export function show(message, notice) {
  $("session-bar").hidden = true;
  $("login-view").hidden = false;
  showError($("login-error"), notice ? "" : message || "");
  showError($("login-notice"), notice ? message : "");
  document.title = PAGE_TITLE;
  $("login-username").focus();
}

// Signed in: the top bar instead of the form.
export function reset() {
  $("login-view").hidden = true;
  $("session-bar").hidden = false;
}

export function showWho() {
  var me = currentAgent();
  if (!me) return;
  $("who").textContent = me.display_name + " · " + (ROLES[me.role] || me.role) +
    (me.team ? " · " + teamLabel(me.team) : "");
}

function logIn(ev) {
  ev.preventDefault();
  unlockAudio();
  var username = $("login-username").value.trim();
  var password = $("login-password").value;
  if (!username || !password) {
    showError($("login-error"), "Escribe tu usuario y tu contraseña.");
    return;
  }
  var button = $("login-submit");
  button.disabled = true;
  showError($("login-error"), "");
  showError($("login-notice"), "");
  api("POST", "/api/auth/login", { username: username, password: password })
    .then(function (session) {
      $("login-password").value = "";
      hooks.signedIn(session);
    })
    .catch(function (error) {
      var text = error.message;
      if (error.status === 422) text = "Escribe tu usuario y tu contraseña.";
      showError($("login-error"), text);
      $("login-password").select();
    })
    .then(function () { button.disabled = false; });
}
