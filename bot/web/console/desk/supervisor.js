// What supervisors (and administrators) see besides the chats: the queue's figures, the chats
// of the other agents and the callback requests citizens left.

import { api } from "../lib/api.js";
import { $, announce, el, setCount } from "../lib/dom.js";
import { channelLabel, dateTime, durationText } from "../lib/format.js";
import { isSupervisor } from "../lib/session.js";

export function mount() {}

export function reset() {}

// The panels only supervisors see.
export function showPanels() {
  $("stats").hidden = !isSupervisor();
  $("others-panel").hidden = !isSupervisor();
  $("callbacks-panel").hidden = !isSupervisor();
}

export function refreshStats() {
  if (!isSupervisor()) return Promise.resolve();
  return api("GET", "/api/queue/stats").then(function (s) {
    $("stat-pending").textContent = String(s.pending);
    $("stat-longest").textContent = s.pending ? durationText(s.longest_wait_seconds) : "—";
    $("stat-median").textContent = s.pending ? durationText(s.median_wait_seconds) : "—";
    $("stat-progress").textContent = String(s.in_progress);
    $("stat-callback").textContent = String(s.leaving_callback);
    $("stat-online").textContent = String(s.agents_online);
  }).catch(function () {});
}

export function refreshCallbacks() {
  if (!isSupervisor()) return Promise.resolve();
  return api("GET", "/api/callbacks").then(function (tickets) {
    var list = $("callbacks");
    list.textContent = "";
    (tickets || []).forEach(function (t) {
      var item = el("li", { className: "card card--static", "data-testid": "callback-item" });
      var top = el("span", { className: "card__top" });
      top.appendChild(el("span", { className: "card__id" }, "Pedido " + t.id + " · " + channelLabel(t.channel)));
      top.appendChild(el("time", { className: "card__wait", datetime: t.created_at }, dateTime(t.created_at)));
      item.appendChild(top);
      item.appendChild(el("span", { className: "card__topic" }, t.name + " · " + t.contact));
      item.appendChild(el("span", { className: "card__last" }, t.topic));
      var done = el("button", { type: "button", className: "btn card__claim" }, "Marcar atendido");
      done.addEventListener("click", function () {
        done.disabled = true;
        api("POST", "/api/callbacks/" + t.id + "/done").then(refreshCallbacks, function (error) {
          done.disabled = false;
          announce(error.message);
        });
      });
      item.appendChild(done);
      list.appendChild(item);
    });
    setCount("callbacks", (tickets || []).length);
  }).catch(function () {});
}
