// The live updates: the WebSocket /api/console/events (bot/handoff/events.py). It reconnects
// with a growing wait, pings every 30 s, and shows its state in the top bar ("connection").
// The server closes it with 4401 when the session ends, 4429 when too many consoles are open.

import { $ } from "./dom.js";
import { sessionEnded, signedIn } from "./session.js";

var PING_MS = 30000;

var ws = null;
var wsTimer = null;
var pingTimer = null;
var backoff = 1000;
var handlers = { open: function () {}, event: function () {} };

// Connects; on.open() after every (re)connection (events may have been missed meanwhile),
// on.event(event) for every event.
export function start(on) {
  handlers = on;
  connect();
}

export function stop() {
  var socket = ws;
  ws = null;
  if (socket) socket.close();
  window.clearTimeout(wsTimer);
  window.clearInterval(pingTimer);
  setConnection("closed", "Sin conexión");
}

function setConnection(status, text) {
  var node = $("connection");
  node.dataset.state = status;
  node.textContent = text;
}

function connect() {
  if (!signedIn()) return;
  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  var socket;
  try {
    socket = new WebSocket(scheme + location.host + "/api/console/events");
  } catch (e) {
    retry();
    return;
  }
  ws = socket;
  setConnection("connecting", "Conectando…");
  socket.addEventListener("open", function () {
    backoff = 1000;
    setConnection("open", "Conectado");
    window.clearInterval(pingTimer);
    pingTimer = window.setInterval(function () {
      if (socket.readyState === WebSocket.OPEN) socket.send("ping");
    }, PING_MS);
    handlers.open();
  });
  socket.addEventListener("message", function (ev) {
    var event;
    try { event = JSON.parse(ev.data); } catch (e) { return; }
    handlers.event(event);
  });
  socket.addEventListener("close", function (ev) {
    if (ws !== socket) return;
    ws = null;
    window.clearInterval(pingTimer);
    // 4401: the session ended (logged out, deactivated, expired) — the server closed it.
    if (ev.code === 4401) { sessionEnded(); return; }
    // 4429: too many consoles open for this session or address — try again much later.
    if (ev.code === 4429) {
      backoff = 30000;
      setConnection("closed", "Demasiadas consolas abiertas: cierra alguna. Reintentando…");
      window.clearTimeout(wsTimer);
      wsTimer = window.setTimeout(connect, backoff);
      return;
    }
    retry();
  });
}

function retry() {
  if (!signedIn()) return;
  setConnection("closed", "Sin conexión: reintentando…");
  var wait = backoff + Math.random() * 500;
  backoff = Math.min(backoff * 2, 30000);
  window.clearTimeout(wsTimer);
  wsTimer = window.setTimeout(connect, wait);
}
