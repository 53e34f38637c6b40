// The desk ("Atención"): where agents take and answer the chats the assistant escalated. This
// module puts its markup (desk.html) in place, wires its parts together and runs the live
// updates while someone is signed in:
//   info.js        the desk's teams, resolutions, agents and office hours
//   queue.js       the lists of chats
//   chat.js        the open chat
//   replies.js     claim, reply, note, transfer, close
//   canned.js      answers of the knowledge base
//   supervisor.js  the queue's figures and the callback requests

import * as events from "../lib/events.js";
import { $, loadFragment } from "../lib/dom.js";
import * as canned from "./canned.js";
import * as chat from "./chat.js";
import * as info from "./info.js";
import * as queue from "./queue.js";
import * as replies from "./replies.js";
import * as supervisor from "./supervisor.js";

var REFETCH_DELAY_MS = 150;
var STATS_EVERY_MS = 15000;
var DESK_EVERY_MS = 60000;

var timers = [];
var refetchTimer = null;
var refetchDetail = false;

export function mount() {
  return loadFragment($("desk-view"), new URL("./desk.html", import.meta.url)).then(function () {
    info.mount({ changed: deskChanged });
    queue.mount({ open: chat.select, claim: replies.claimChat, selected: chat.selectedId });
    chat.mount();
    replies.mount();
    canned.mount();
    supervisor.mount();
  });
}

// Someone signed in: load everything and follow the live updates. The promise: the desk's
// information is loaded.
export function start() {
  supervisor.showPanels();
  var loaded = info.loadDesk();
  queue.refreshList();
  supervisor.refreshStats();
  supervisor.refreshCallbacks();
  events.start({
    open: function () { scheduleRefetch(true); },
    event: function (event) {
      var id = event.handoff_id || (event.handoff && event.handoff.id);
      scheduleRefetch(id !== undefined && id === chat.selectedId());
    }
  });
  timers.push(window.setInterval(queue.tick, 1000));
  timers.push(window.setInterval(function () { supervisor.refreshStats(); supervisor.refreshCallbacks(); }, STATS_EVERY_MS));
  timers.push(window.setInterval(info.loadDesk, DESK_EVERY_MS));
  return loaded;
}

// Signed out: no live updates, no timers, no open chat.
export function reset() {
  events.stop();
  timers.forEach(function (t) { window.clearInterval(t); });
  timers = [];
  window.clearTimeout(refetchTimer);
  refetchTimer = null;
  refetchDetail = false;
  chat.reset();
  queue.reset();
  replies.reset();
  canned.reset();
  supervisor.reset();
  info.reset();
}

function deskChanged() {
  replies.fillChoices();
  queue.renderLists();
  chat.deskChanged();
}

// Something changed on the server: the lists (and the open chat, if it was about it) are read
// again, once for a burst of events.
function scheduleRefetch(detail) {
  refetchDetail = refetchDetail || detail;
  if (refetchTimer) return;
  refetchTimer = window.setTimeout(function () {
    var withDetail = refetchDetail;
    refetchTimer = null;
    refetchDetail = false;
    queue.refreshList();
    supervisor.refreshStats();
    if (withDetail) chat.refreshDetail();
  }, REFETCH_DELAY_MS);
}
