// The console's accounts: the list, the editor of one account and the form that creates one.
// An administrator cannot take away their own role nor deactivate themselves.

import { api } from "../lib/api.js";
import { $, el, setDisabled, showError } from "../lib/dom.js";
import { ROLES } from "../lib/format.js";
import { problemText } from "../lib/problems.js";
import { currentAgent, updateAgent } from "../lib/session.js";
import { loadDesk } from "../desk/info.js";
import { fillTeams, teamLabel } from "./teams.js";

var users = [];
var editing = null;   // id of the account in the editor

export function mount() {
  $("user-edit-cancel").addEventListener("click", function () { closeEditor(true); });
  $("user-edit-form").addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") { ev.preventDefault(); closeEditor(true); }
  });
  $("user-edit-form").addEventListener("submit", saveUser);
  $("user-create-form").addEventListener("submit", createUser);
  fillRoles($("new-role"), "agent");
  fillTeams($("new-team"), "");
}

export function reset() {
  closeEditor(false);
  users = [];
  $("users").textContent = "";
  $("user-create-form").reset();
  ["users-info", "users-error", "user-create-error", "user-create-info"].forEach(function (id) {
    showError($(id), "");
  });
}

export function load() {
  return api("GET", "/api/admin/users").then(function (loaded) {
    users = loaded || [];
    showError($("users-error"), "");
    render();
  }).catch(function (error) { if (error.status !== 401) showError($("users-error"), error.message); });
}

// The teams changed: the forms offer them, the list names them.
export function teamsChanged() {
  fillTeams($("new-team"), $("new-team").value);
  if (editing !== null) fillTeams($("edit-team"), $("edit-team").value);
  if (!$("new-role").options.length) fillRoles($("new-role"), "agent");
  render();
}

function isMe(id) {
  var me = currentAgent();
  return !!me && id === me.id;
}

function fillRoles(select, chosen) {
  select.textContent = "";
  Object.keys(ROLES).forEach(function (role) {
    select.appendChild(el("option", { value: role }, ROLES[role]));
  });
  select.value = chosen || "agent";
}

function findUser(id) {
  return users.find(function (u) { return u.id === id; }) || null;
}

function render() {
  var body = $("users");
  body.textContent = "";
  var sorted = users.slice().sort(function (a, b) { return a.username < b.username ? -1 : 1; });
  sorted.forEach(function (u) {
    var row = el("tr", { "data-testid": "user-row", "data-username": u.username, "data-user-id": String(u.id),
      className: u.active ? "" : "is-inactive" });
    var who = el("th", { scope: "row", "data-testid": "user-username" }, u.username);
    if (isMe(u.id)) who.appendChild(el("span", { className: "hint" }, " (tú)"));
    row.appendChild(who);
    row.appendChild(el("td", { "data-testid": "user-name" }, u.display_name));
    row.appendChild(el("td", { "data-testid": "user-role" }, ROLES[u.role] || u.role));
    row.appendChild(el("td", { "data-testid": "user-team" }, u.team ? teamLabel(u.team) : "Sin equipo"));
    row.appendChild(el("td", { "data-testid": "user-state" }, u.active ? "Activa" : "Desactivada"));
    var actions = el("td");
    var edit = el("button", { type: "button", className: "btn", "data-testid": "user-edit",
      "aria-label": "Editar la cuenta " + u.username }, "Editar");
    edit.addEventListener("click", function () { openEditor(u.id); });
    actions.appendChild(edit);
    row.appendChild(actions);
    body.appendChild(row);
  });
  if (!sorted.length) {
    var none = el("tr");
    none.appendChild(el("td", { colspan: "6", className: "empty" }, "No hay usuarios."));
    body.appendChild(none);
  }
}

function focusUserRow(id) {
  var button = document.querySelector('#users tr[data-user-id="' + id + '"] button');
  if (button) button.focus();
}

function openEditor(id) {
  var u = findUser(id);
  if (!u) return;
  editing = id;
  var self = isMe(u.id);
  $("user-edit-title").textContent = "Editar la cuenta «" + u.username + "»";
  $("edit-display-name").value = u.display_name || "";
  fillRoles($("edit-role"), u.role);
  fillTeams($("edit-team"), u.team || "");
  $("edit-active").checked = !!u.active;
  $("edit-password").value = "";
  $("edit-role").disabled = self;
  $("edit-active").disabled = self;
  $("edit-self-hint").hidden = !self;
  showError($("user-edit-error"), "");
  showError($("users-info"), "");
  $("user-edit-form").hidden = false;
  $("edit-display-name").focus();
}

function closeEditor(focusRow) {
  var id = editing;
  editing = null;
  $("edit-password").value = "";
  $("user-edit-form").hidden = true;
  showError($("user-edit-error"), "");
  if (focusRow && id !== null) focusUserRow(id);
}

function saveUser(ev) {
  ev.preventDefault();
  var u = findUser(editing);
  var box = $("user-edit-error");
  if (!u) { closeEditor(false); return; }
  var name = $("edit-display-name").value.trim();
  if (!name) {
    showError(box, "Escribe el nombre visible.");
    $("edit-display-name").focus();
    return;
  }
  var change = {};
  if (name !== u.display_name) change.display_name = name;
  if (!$("edit-role").disabled && $("edit-role").value !== u.role) change.role = $("edit-role").value;
  if ($("edit-team").value !== (u.team || "")) change.team = $("edit-team").value;
  if (!$("edit-active").disabled && $("edit-active").checked !== !!u.active) change.active = $("edit-active").checked;
  if ($("edit-password").value) change.password = $("edit-password").value;
  if (!Object.keys(change).length) {
    showError(box, "No hay cambios que guardar.");
    return;
  }
  var form = $("user-edit-form");
  setDisabled(form, true);
  showError(box, "");
  api("PATCH", "/api/admin/users/" + u.id, change).then(function (changed) {
    users = users.map(function (x) { return x.id === changed.id ? changed : x; });
    if (isMe(changed.id)) updateAgent({ display_name: changed.display_name, team: changed.team });
    closeEditor(false);
    render();
    focusUserRow(changed.id);
    showError($("users-info"), "Cambios guardados en la cuenta «" + changed.username + "»." +
      (change.password ? " La contraseña nueva ya rige y se cerraron sus sesiones." : ""));
    loadDesk();
  }).catch(function (error) {
    showError(box, problemText(error));
    if (error.code === "weak_password") $("edit-password").select();
  }).then(function () {
    setDisabled(form, false);
    if (editing !== null) {
      var self = isMe(editing);
      $("edit-role").disabled = self;
      $("edit-active").disabled = self;
    }
  });
}

function createUser(ev) {
  ev.preventDefault();
  var box = $("user-create-error");
  var username = $("new-username").value.trim();
  var password = $("new-password").value;
  showError($("user-create-info"), "");
  if (!username) {
    showError(box, "Escribe el usuario.");
    $("new-username").focus();
    return;
  }
  if (!password) {
    showError(box, "Escribe una contraseña inicial.");
    $("new-password").focus();
    return;
  }
  var body = { username: username, password: password, role: $("new-role").value };
  var name = $("new-display-name").value.trim();
  if (name) body.display_name = name;
  if ($("new-team").value) body.team = $("new-team").value;
  var button = $("user-create-submit");
  button.disabled = true;
  showError(box, "");
  api("POST", "/api/admin/users", body).then(function (created) {
    $("new-username").value = "";
    $("new-display-name").value = "";
    $("new-password").value = "";
    users = users.filter(function (x) { return x.id !== created.id; }).concat([created]);
    render();
    showError($("user-create-info"), "Usuario «" + created.username + "» creado (" +
      (ROLES[created.role] || created.role) + (created.team ? ", " + teamLabel(created.team) : "") + ").");
    $("new-username").focus();
    loadDesk();
  }).catch(function (error) {
    showError(box, problemText(error));
    if (error.code === "weak_password") $("new-password").select();
    else if (error.code === "username_taken" || error.code === "invalid_username") $("new-username").select();
  }).then(function () { button.disabled = false; });
}
