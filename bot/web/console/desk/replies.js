// What an agent does on the open chat: take it, reply (Enter sends), add an internal note,
// transfer it to a team or an agent, close it with a resolution.

import { api } from "../lib/api.js";
import { $, announce, el, showError } from "../lib/dom.js";
import { currentAgent } from "../lib/session.js";
import { refreshDetail, renderHeader, select, selectedId, setGoneReason, setHandoff } from "./chat.js";
import { info, teamLabel } from "./info.js";
import { refreshList } from "./queue.js";

export function mount() {
  $("claim").addEventListener("click", function () {
    if (selectedId() !== null) claimChat(selectedId(), $("claim"));
  });
  $("reply-form").addEventListener("submit", function (ev) { ev.preventDefault(); sendReply(); });
  $("reply-input").addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); sendReply(); }
  });
  $("note-form").addEventListener("submit", addNote);
  $("transfer-form").addEventListener("submit", transfer);
  $("close-form").addEventListener("submit", closeHandoff);
}

export function reset() {}

// The choices of the close and transfer forms, from the desk's information.
export function fillChoices() {
  fillResolutions();
  fillTransferTargets();
}

function fillResolutions() {
  var resolutions = info().resolutions || {};
  var select = $("close-resolution");
  var chosen = select.value;
  select.textContent = "";
  select.appendChild(el("option", { value: "" }, "Elige cómo terminó…"));
  Object.keys(resolutions).forEach(function (code) {
    select.appendChild(el("option", { value: code }, resolutions[code]));
  });
  select.value = chosen;
}

function fillTransferTargets() {
  var desk = info();
  var me = currentAgent();
  var select = $("transfer-to");
  var chosen = select.value;
  select.textContent = "";
  select.appendChild(el("option", { value: "" }, "Elige un equipo o un asesor…"));
  var teams = el("optgroup", { label: "Equipos (vuelve a la fila)" });
  Object.keys(desk.teams || {}).forEach(function (name) {
    teams.appendChild(el("option", { value: "team:" + name }, desk.teams[name]));
  });
  select.appendChild(teams);
  var people = el("optgroup", { label: "Asesores" });
  (desk.agents || []).forEach(function (agent) {
    if (me && agent.id === me.id) return;
    people.appendChild(el("option", { value: "agent:" + agent.id },
      agent.display_name + (agent.team ? " · " + teamLabel(agent.team) : "") +
      (agent.online ? " (conectado)" : " (desconectado)")));
  });
  if (people.children.length) select.appendChild(people);
  select.value = chosen;
}

// Take a waiting chat (from its card or from the open chat) and open it.
export function claimChat(id, button) {
  if (button) button.disabled = true;
  return api("POST", "/api/handoffs/" + id + "/claim").then(function () {
    if (selectedId() === id) showError($("chat-info"), "");
    return Promise.all([refreshList(), select(id)]).then(function () { $("reply-input").focus(); });
  }).catch(function (error) {
    if (button) button.disabled = false;
    if (selectedId() === id) showError($("chat-error"), error.message);
    else announce(error.message);
    if (error.status === 409 || error.status === 404) refreshList();
  });
}

function sendReply() {
  var input = $("reply-input");
  var text = input.value.trim();
  if (!text || selectedId() === null) return;
  var id = selectedId();
  var button = $("reply-send");
  button.disabled = true;
  showError($("chat-error"), "");
  showError($("chat-info"), "");
  api("POST", "/api/handoffs/" + id + "/messages", { text: text }).then(function () {
    if (input.value.trim() === text) input.value = "";
    return refreshDetail();
  }).catch(function (error) {
    showError($("chat-error"), error.message);
  }).then(function () { button.disabled = false; input.focus(); });
}

function addNote(ev) {
  ev.preventDefault();
  var input = $("note-input");
  var text = input.value.trim();
  if (!text || selectedId() === null) return;
  api("POST", "/api/handoffs/" + selectedId() + "/notes", { text: text }).then(function () {
    input.value = "";
    return refreshDetail();
  }).catch(function (error) { showError($("chat-error"), error.message); });
}

function transfer(ev) {
  ev.preventDefault();
  var value = $("transfer-to").value;
  if (!value || selectedId() === null) {
    showError($("chat-error"), "Elige un equipo o un asesor.");
    return;
  }
  var body = value.indexOf("team:") === 0 ? { team: value.slice(5) } : { agent_id: Number(value.slice(6)) };
  var target = $("transfer-to").selectedOptions[0].textContent.replace(/ \((des)?conectado\)$/, "");
  api("POST", "/api/handoffs/" + selectedId() + "/transfer", body).then(function (h) {
    $("transfer-to").value = "";
    showError($("chat-error"), "");
    var gone = "Transferiste esta conversación a " + target + ".";
    setGoneReason(gone);
    showError($("chat-info"), gone);
    setHandoff(h);
    return Promise.all([refreshList(), refreshDetail()]);
  }).catch(function (error) { showError($("chat-error"), error.message); });
}

function closeHandoff(ev) {
  ev.preventDefault();
  var resolution = $("close-resolution").value;
  if (!resolution || selectedId() === null) {
    showError($("chat-error"), "Elige cómo terminó la conversación.");
    $("close-resolution").focus();
    return;
  }
  api("POST", "/api/handoffs/" + selectedId() + "/close", { resolution: resolution }).then(function (h) {
    $("close-resolution").value = "";
    showError($("chat-error"), "");
    showError($("chat-info"), "Conversación cerrada. El asistente vuelve a atender al ciudadano.");
    if (setHandoff(h)) renderHeader();
    return Promise.all([refreshList(), refreshDetail()]);
  }).catch(function (error) { showError($("chat-error"), error.message); });
}
