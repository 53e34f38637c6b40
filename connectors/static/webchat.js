// Web chat client. The conversation is a session the gateway keeps in an HttpOnly cookie
// (POST /webchat/session starts one, DELETE ends it): this script never sees or stores an id.
// Sends to /webhooks/webchat, restores /webchat/history, listens to /webchat/stream.
(function () {
  "use strict";
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("input");
  var send = document.getElementById("send");
  var typing = document.getElementById("typing");
  var errorBox = document.getElementById("error");
  var endButton = document.getElementById("end");
  var SVG = "http://www.w3.org/2000/svg";
  // A thumb drawn as a path: no emoji font or web font is needed to show it.
  var THUMB = "M2 21h4V9H2v12zm21-11c0-1.1-.9-2-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.5-1.1L14.2 1 7.6 7.6C7.2 8 7 8.5 7 9v10c0 1.1.9 2 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z";
  var stream = null;
  var ended = false;

  function scroll() { log.scrollTop = log.scrollHeight; }

  function addText(text, who) {
    var p = document.createElement("p");
    p.className = "msg msg--" + who;
    p.textContent = text;
    var label = document.createElement("span");
    label.className = "visually-hidden";
    label.textContent = who === "bot" ? "Asistente: " : "Tú: ";
    p.prepend(label);
    log.appendChild(p);
    scroll();
  }

  function addNotice(text) {
    var p = document.createElement("p");
    p.className = "chat__notice";
    p.textContent = text;
    log.appendChild(p);
    scroll();
  }

  function clearReplies() {
    log.querySelectorAll(".replies").forEach(function (el) { el.remove(); });
  }

  function addButtons(buttons) {
    if (!buttons || !buttons.length) return;
    var group = document.createElement("div");
    group.className = "replies";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Respuestas sugeridas");
    buttons.forEach(function (b) {
      var btn = document.createElement("button");
      btn.type = "button";
      btn.textContent = b.title;
      btn.addEventListener("click", function () { submit(b.payload, b.title); });
      group.appendChild(btn);
    });
    log.appendChild(group);
    scroll();
  }

  function thumb(down) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "20");
    svg.setAttribute("height", "20");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "rating__icon" + (down ? " rating__icon--down" : ""));
    var path = document.createElementNS(SVG, "path");
    path.setAttribute("d", THUMB);
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }

  // Thumbs up/down under answers the assistant took from its knowledge base (custom.valorar).
  function addRating(holder) {
    var group = document.createElement("div");
    group.className = "rating";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "¿Te sirvió esta respuesta?");
    [[false, "/valorar_si", "Me sirvió"], [true, "/valorar_no", "No me sirvió"]].forEach(function (r) {
      var btn = document.createElement("button");
      btn.type = "button";
      btn.className = "rating__button";
      btn.appendChild(thumb(r[0]));
      btn.setAttribute("aria-label", r[2]);
      btn.title = r[2];
      btn.addEventListener("click", function () {
        group.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
        btn.setAttribute("aria-pressed", "true");
        submit(r[1], r[2]);
      });
      group.appendChild(btn);
    });
    holder.appendChild(group);
    scroll();
  }

  function showBot(messages) {
    clearReplies();
    messages.forEach(function (m) {
      if (m.text) addText(m.text, "bot");
      if (m.text && m.custom && m.custom.valorar) addRating(log);
      if (m.image) {
        var img = document.createElement("img");
        img.src = m.image; img.alt = "Imagen enviada por el asistente"; img.className = "msg msg--bot";
        log.appendChild(img);
      }
      addButtons(m.buttons);
    });
  }

  function setBusy(busy) {
    typing.hidden = !busy;
    send.disabled = busy;
    if (busy) scroll();
  }

  function showError(text) {
    errorBox.textContent = text || "";
    errorBox.hidden = !text;
  }

  function json(res) {
    return res.json().catch(function () { return null; }).then(function (body) {
      return { status: res.status, ok: res.ok, body: body };
    });
  }

  function errorText(r, fallback) {
    return r.body && r.body.message ? r.body.message : fallback;
  }

  // A new session (the cookie is set by the answer); resolves to whether it was started.
  function startSession() {
    return fetch("/webchat/session", { method: "POST", credentials: "same-origin" })
      .then(json).then(function (r) {
        if (!r.ok) showError(errorText(r, "No pudimos iniciar la conversación."));
        else { ended = false; listen(); }
        return r.ok;
      });
  }

  function post(message, shown) {
    return fetch("/webhooks/webchat", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(shown && shown !== message
        ? { message: message, metadata: { button_title: shown } }
        : { message: message })
    }).then(json);
  }

  function submit(message, shown) {
    if (!message || !message.trim()) return;
    showError("");
    clearReplies();
    addText(shown || message, "user");
    setBusy(true);
    post(message, shown).then(function (r) {
      if (r.status !== 401) return r;
      // No session (never started, ended, or idle too long): start one and send again.
      if (!ended) addNotice("Tu conversación anterior terminó. Empezamos una nueva.");
      return startSession().then(function (started) { return started ? post(message, shown) : null; });
    }).then(function (r) {
      if (!r) return;
      if (r.ok) showBot(r.body);
      else showError(errorText(r, "No pudimos enviar tu mensaje."));
    }).catch(function () {
      showError("Sin conexión. Revisa tu internet e intenta de nuevo.");
    }).then(function () { setBusy(false); input.focus(); });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value;
    input.value = "";
    submit(text);
  });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); }
  });

  // "Terminar conversación": the session ends on the server and the screen is cleared, so the
  // next person at this computer sees nothing of it.
  endButton.addEventListener("click", function () {
    endButton.disabled = true;
    if (stream) { stream.close(); stream = null; }
    fetch("/webchat/session", { method: "DELETE", credentials: "same-origin" })
      .catch(function () {})
      .then(function () {
        ended = true;
        log.textContent = "";
        showError("");
        addNotice("Conversación terminada. Escribe tu consulta para empezar una nueva.");
        endButton.disabled = false;
        input.focus();
      });
  });

  function restore() {
    return fetch("/webchat/history", { credentials: "same-origin" }).then(json).then(function (r) {
      if (r.status === 401) {
        return startSession().then(function (started) { if (started) submit("/saludo", "Hola"); });
      }
      var items = r.ok && Array.isArray(r.body) ? r.body : [];
      render(items);
      listen();
      if (!items.length) submit("/saludo", "Hola");
    }).catch(function () {});
  }

  function render(items) {
    items.forEach(function (item) {
      if (item.direction === "in") { clearReplies(); if (item.text) addText(item.text, "user"); }
      else { if (item.text) addText(item.text, "bot"); }
    });
    var last = items[items.length - 1];
    if (last && last.direction === "out") addButtons(last.buttons);
  }

  // The stream reopened (the gateway restarted, or it missed messages and ended the stream):
  // what arrived meanwhile is in the history, so the conversation is drawn again from it.
  function redraw() {
    fetch("/webchat/history", { credentials: "same-origin" }).then(json).then(function (r) {
      if (!r.ok || !Array.isArray(r.body)) return;
      log.textContent = "";
      render(r.body);
    }).catch(function () {});
  }

  function listen() {
    if (!window.EventSource) return;
    if (stream) stream.close();
    var opened = false;
    stream = new EventSource("/webchat/stream");
    stream.addEventListener("open", function () {
      if (opened) redraw();
      opened = true;
    });
    stream.addEventListener("message", function (ev) {
      try { showBot([JSON.parse(ev.data)]); } catch (e) { /* ignore malformed event */ }
    });
  }

  restore();
  input.focus();
})();
