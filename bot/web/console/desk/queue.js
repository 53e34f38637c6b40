// The lists of chats: the queue ("En espera"), the agent's own chats and — for supervisors —
// those of the other agents. A new chat in the queue beeps and is announced; waiting times
// tick every second.

import { api } from "../lib/api.js";
import { $, PAGE_TITLE, announce, el, setCount } from "../lib/dom.js";
import { agoText, channelLabel, clock, dateTime, reasonLabel } from "../lib/format.js";
import { currentAgent, isSupervisor, signedIn } from "../lib/session.js";
import { beep } from "../lib/sound.js";
import { teamLabel } from "./info.js";

var handoffs = [];
var fetchedAt = 0;         // performance.now() when the list arrived (waiting times count from it)
var knownPending = null;   // ids of the waiting chats already seen (null before the first list)
var hooks = { open: function () {}, claim: function () {}, selected: function () { return null; } };

// on.open(id): open a chat; on.claim(id, button): take it; on.selected(): the open chat's id.
export function mount(on) {
  hooks = on;
}

// Signing out forgets the chats: the next agent on this page sees only their own list.
export function reset() {
  knownPending = null;
  handoffs = [];
  fetchedAt = 0;
  ["queue", "mine", "others"].forEach(function (id) {
    $(id).replaceChildren();
    setCount(id, 0);
  });
}

export function refreshList() {
  return api("GET", "/api/handoffs?state=pending&state=agent").then(function (list) {
    handoffs = list || [];
    fetchedAt = performance.now();
    noticeNewChats();
    renderLists();
  }).catch(function () {});
}

function waitingNow(handoff) {
  return (handoff.waiting_seconds || 0) + (performance.now() - fetchedAt) / 1000;
}

function noticeNewChats() {
  var pending = handoffs.filter(function (h) { return h.state === "pending"; });
  var ids = pending.map(function (h) { return h.id; });
  if (knownPending !== null) {
    var known = knownPending;
    var fresh = ids.filter(function (id) { return known.indexOf(id) < 0; });
    if (fresh.length) {
      beep();
      announce(fresh.length === 1 ? "Nueva conversación en espera." : fresh.length + " conversaciones nuevas en espera.");
    }
  }
  knownPending = ids;
  document.title = ids.length ? "(" + ids.length + ") " + PAGE_TITLE : PAGE_TITLE;
}

export function renderLists() {
  if (!signedIn()) return;
  var me = currentAgent().id;
  var queue = handoffs.filter(function (h) { return h.state === "pending"; });
  queue.sort(function (a, b) { return b.waiting_seconds - a.waiting_seconds; });
  var mine = handoffs.filter(function (h) { return h.state === "agent" && h.agent_id === me; });
  var others = handoffs.filter(function (h) { return h.state === "agent" && h.agent_id !== me; });
  renderCards($("queue"), queue, "queue-item", true);
  renderCards($("mine"), mine, "mine-item", false);
  renderCards($("others"), others, "others-item", false);
  setCount("queue", queue.length);
  setCount("mine", mine.length);
  setCount("others", others.length);
}

function renderCards(list, shown, testid, claimable) {
  var me = currentAgent();
  var selected = hooks.selected();
  list.textContent = "";
  shown.forEach(function (h) {
    var item = el("li", { className: "card" + (h.id === selected ? " card--selected" : ""),
      "data-testid": testid, "data-handoff-id": String(h.id) });
    var open = el("button", { type: "button", className: "card__open",
      "aria-current": h.id === selected ? "true" : "false" });
    var top = el("span", { className: "card__top" });
    top.appendChild(el("span", { className: "card__id" }, "#" + h.id + " · " + channelLabel(h.channel)));
    var time;
    if (h.state === "pending") {
      time = el("time", { className: "card__wait", "data-testid": "wait", datetime: h.created_at,
        title: "En espera desde " + dateTime(h.created_at) }, agoText(waitingNow(h)));
      time.dataset.waiting = String(h.id);
    } else if (h.agent_id === me.id) {
      time = el("time", { className: "card__wait", datetime: h.claimed_at || h.created_at },
        "Tomada " + clock(h.claimed_at || h.created_at));
    } else {
      time = el("span", { className: "card__wait" }, h.agent ? "Con " + h.agent : "");
    }
    top.appendChild(time);
    open.appendChild(top);
    open.appendChild(el("span", { className: "card__topic", "data-testid": "topic" },
      reasonLabel(h.reason) + (h.topic || h.intent ? " · " + (h.topic || h.intent) : "") +
      (isSupervisor() || !me.team ? " · " + teamLabel(h.team) : "")));
    open.appendChild(el("span", { className: "card__last", "data-testid": "last-message" },
      h.last_message ? "«" + h.last_message + "»" : "Sin mensajes del ciudadano"));
    open.addEventListener("click", function () { hooks.open(h.id); });
    item.appendChild(open);
    if (claimable) {
      var claim = el("button", { type: "button", className: "btn btn--primary card__claim", "data-testid": "claim",
        "aria-label": "Tomar la conversación " + h.id }, "Tomar");
      claim.addEventListener("click", function () { hooks.claim(h.id, claim); });
      item.appendChild(claim);
    }
    list.appendChild(item);
  });
}

// Every second: the waiting times.
export function tick() {
  document.querySelectorAll("time[data-waiting]").forEach(function (node) {
    var id = Number(node.dataset.waiting);
    var h = handoffs.find(function (x) { return x.id === id; });
    if (h) node.textContent = agoText(waitingNow(h));
  });
}
