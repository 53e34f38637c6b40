// Web chat client: sends to /webhooks/webchat, restores /webchat/history, listens to /webchat/stream.
(function () {
  "use strict";
  var KEY = "asistente.sender";
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("input");
  var send = document.getElementById("send");
  var typing = document.getElementById("typing");
  var errorBox = document.getElementById("error");

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "w" + Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  var sender = localStorage.getItem(KEY);
  if (!sender) { sender = newId(); localStorage.setItem(KEY, sender); }

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

  // 👍/👎 under answers the assistant took from its knowledge base (custom.valorar).
  function addRating(holder) {
    var group = document.createElement("div");
    group.className = "rating";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "¿Te sirvió esta respuesta?");
    [["👍", "/valorar_si", "Me sirvió"], ["👎", "/valorar_no", "No me sirvió"]].forEach(function (r) {
      var btn = document.createElement("button");
      btn.type = "button";
      btn.className = "rating__button";
      btn.textContent = r[0];
      btn.setAttribute("aria-label", r[2]);
      btn.title = r[2];
      btn.addEventListener("click", function () {
        group.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
        btn.setAttribute("aria-pressed", "true");
        submit(r[1], r[0] + " " + r[2]);
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

  function submit(message, shown) {
    if (!message || !message.trim()) return;
    showError("");
    clearReplies();
    addText(shown || message, "user");
    setBusy(true);
    fetch("/webhooks/webchat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(shown && shown !== message
        ? { sender: sender, message: message, metadata: { button_title: shown } }
        : { sender: sender, message: message })
    }).then(function (res) {
      return res.json().then(function (body) { return { ok: res.ok, body: body }; });
    }).then(function (r) {
      if (r.ok) showBot(r.body);
      else showError(r.body && r.body.message ? r.body.message : "No pudimos enviar tu mensaje.");
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

  function restore() {
    return fetch("/webchat/history?sender=" + encodeURIComponent(sender))
      .then(function (res) { return res.ok ? res.json() : []; })
      .then(function (items) {
        items.forEach(function (item) {
          if (item.direction === "in") { clearReplies(); if (item.text) addText(item.text, "user"); }
          else { if (item.text) addText(item.text, "bot"); }
        });
        var last = items[items.length - 1];
        if (last && last.direction === "out") addButtons(last.buttons);
        if (!items.length) submit("/saludo", "Hola");
      }).catch(function () {});
  }

  function listen() {
    if (!window.EventSource) return;
    var stream = new EventSource("/webchat/stream?sender=" + encodeURIComponent(sender));
    stream.addEventListener("message", function (ev) {
      try { showBot([JSON.parse(ev.data)]); } catch (e) { /* ignore malformed event */ }
    });
  }

  restore().then(listen);
  input.focus();
})();
