// Agents' console: the REST API under /api/ (bot/handoff/api.py) plus live events over the
// WebSocket /api/console/events. Every text written by a citizen or an agent goes into the page
// with textContent, never as HTML.
(function () {
  "use strict";

  var TITLE = "Consola de asesores";
  var PING_MS = 30000;
  var REFETCH_DELAY_MS = 150;
  var STATS_EVERY_MS = 15000;
  var DESK_EVERY_MS = 60000;
  var REASONS = {
    pedido: "Pidió una persona",
    tema: "Tema derivado",
    frustracion: "Molestia",
    no_entiende: "No se le entendió",
    repite: "Repite la pregunta"
  };
  var CHANNELS = { webchat: "Web", messenger: "Messenger", whatsapp: "WhatsApp", twilio: "WhatsApp (Twilio)" };
  var STATES = { pending: "En espera", agent: "En atención", callback: "Dejando sus datos", closed: "Cerrada" };
  var ROLES = { agent: "Asesor", supervisor: "Supervisor", admin: "Administrador" };
  var AUDIT = {
    escalated: "Derivada por el asistente", claimed: "Tomada", replied: "Respuesta enviada",
    noted: "Nota agregada", transferred: "Transferida", closed: "Cerrada",
    callback_left: "Dejó sus datos"
  };

  function $(id) { return document.getElementById(id); }

  var state = {
    me: null,
    csrf: "",
    desk: { teams: {}, resolutions: {}, agents: [] },
    handoffs: [],
    fetchedAt: 0,          // performance.now() when the list arrived (waiting times count from it)
    knownPending: null,    // ids of the waiting chats already seen (null before the first list)
    selected: null,        // id of the open chat
    detail: null,
    rendered: { id: null, count: 0, keys: [] },
    goneReason: "",        // why the open chat left our sight (our own transfer), if we know
    ws: null,
    wsTimer: null,
    pingTimer: null,
    backoff: 1000,
    timers: [],
    audio: null
  };

  // --- small helpers ---------------------------------------------------------------------------

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        if (key === "className") node.className = attrs[key];
        else if (key === "dataset") Object.keys(attrs[key]).forEach(function (d) { node.dataset[d] = attrs[key][d]; });
        else node.setAttribute(key, attrs[key]);
      });
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function isSupervisor() {
    return !!state.me && (state.me.role === "supervisor" || state.me.role === "admin");
  }

  function durationText(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) return "menos de 1 min";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min";
    var hours = Math.floor(minutes / 60);
    var rest = minutes % 60;
    return rest ? hours + " h " + rest + " min" : hours + " h";
  }

  function agoText(seconds) { return "hace " + durationText(seconds); }

  function waitingNow(handoff) {
    return (handoff.waiting_seconds || 0) + (performance.now() - state.fetchedAt) / 1000;
  }

  function clock(iso) {
    if (!iso) return "";
    var date = new Date(iso);
    if (isNaN(date.getTime())) return "";
    try {
      return date.toLocaleTimeString("es-PE", { hour: "2-digit", minute: "2-digit", timeZone: "America/Lima" });
    } catch (e) {
      return date.toLocaleTimeString();
    }
  }

  function dateTime(iso) {
    if (!iso) return "";
    var date = new Date(iso);
    if (isNaN(date.getTime())) return "";
    try {
      return date.toLocaleString("es-PE", { dateStyle: "short", timeStyle: "short", timeZone: "America/Lima" });
    } catch (e) {
      return date.toLocaleString();
    }
  }

  function teamLabel(team) { return (team && state.desk.teams[team]) || team || "Sin equipo"; }
  function channelLabel(channel) { return CHANNELS[channel] || channel || "Canal desconocido"; }
  function reasonLabel(reason) { return REASONS[reason] || reason || "Sin motivo"; }
  function confidenceLabel(confidence) {
    return typeof confidence === "number" ? Math.round(confidence * 100) + " %" : "—";
  }

  function showError(box, text) {
    box.textContent = text || "";
    box.hidden = !text;
  }

  function announce(text) {
    var box = $("announcer");
    box.textContent = "";
    window.setTimeout(function () { box.textContent = text; }, 50);
  }

  // --- the API ---------------------------------------------------------------------------------

  function ApiError(status, body) {
    this.status = status;
    this.code = (body && body.error) || "error";
    this.message = (body && body.message) || (status ? "Error del servidor (" + status + ")." : "Sin conexión con el servidor.");
    this.details = (body && Array.isArray(body.details)) ? body.details : [];
    this.problems = (body && Array.isArray(body.problems)) ? body.problems : [];
  }

  function api(method, path, body) {
    var options = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (method !== "GET") {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRF-Token"] = state.csrf;
      options.body = JSON.stringify(body || {});
    }
    return fetch(path, options).then(function (res) { return jsonResult(res, path); },
      function () { throw new ApiError(0, null); });
  }

  // The JSON body of a response, or an ApiError (a 401 ends the session).
  function jsonResult(res, path) {
    return res.json().catch(function () { return null; }).then(function (data) {
      if (res.ok) return data;
      var error = new ApiError(res.status, data);
      if (res.status === 401 && state.me && path !== "/api/auth/login") sessionEnded();
      throw error;
    });
  }

  // --- signing in and out ----------------------------------------------------------------------

  function showLogin(message, notice) {
    $("desk-view").hidden = true;
    $("sections").hidden = true;
    $("admin-view").hidden = true;
    resetAdmin();
    $("session-bar").hidden = true;
    $("login-view").hidden = false;
    showError($("login-error"), notice ? "" : message || "");
    showError($("login-notice"), notice ? message : "");
    document.title = TITLE;
    $("login-username").focus();
  }

  function sessionEnded() {
    stopLive();
    state.me = null;
    state.csrf = "";
    state.selected = null;
    state.detail = null;
    closeChat();
    showLogin("Tu sesión terminó. Inicia sesión de nuevo.");
  }

  function started(session) {
    state.me = session.agent;
    state.csrf = session.csrf_token;
    state.knownPending = null;
    $("login-view").hidden = true;
    $("session-bar").hidden = false;
    setUpSections();
    showWho();
    $("stats").hidden = !isSupervisor();
    $("others-panel").hidden = !isSupervisor();
    $("callbacks-panel").hidden = !isSupervisor();
    loadDesk().then(showWho);
    refreshList();
    refreshStats();
    refreshCallbacks();
    connect();
    state.timers.push(window.setInterval(tick, 1000));
    state.timers.push(window.setInterval(function () { refreshStats(); refreshCallbacks(); }, STATS_EVERY_MS));
    state.timers.push(window.setInterval(loadDesk, DESK_EVERY_MS));
  }

  function showWho() {
    var me = state.me;
    if (!me) return;
    $("who").textContent = me.display_name + " · " + (ROLES[me.role] || me.role) +
      (me.team ? " · " + teamLabel(me.team) : "");
  }

  $("login-form").addEventListener("submit", function (ev) {
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
        started(session);
      })
      .catch(function (error) {
        var text = error.message;
        if (error.status === 422) text = "Escribe tu usuario y tu contraseña.";
        showError($("login-error"), text);
        $("login-password").select();
      })
      .then(function () { button.disabled = false; });
  });

  $("logout").addEventListener("click", function () {
    api("POST", "/api/auth/logout").catch(function () {}).then(function () {
      stopLive();
      state.me = null;
      state.csrf = "";
      state.selected = null;
      state.detail = null;
      closeChat();
      showLogin("Cerraste sesión.", true);
    });
  });

  // --- desk information ------------------------------------------------------------------------

  function loadDesk() {
    return api("GET", "/api/desk").then(function (desk) {
      state.desk = desk;
      var hours = $("office-hours");
      hours.textContent = (desk.office_hours_text ? "Horario: " + desk.office_hours_text : "Sin horario fijo") +
        " · " + (desk.open_now ? "Abierto" : "Fuera de horario");
      fillResolutions();
      fillTransferTargets();
      renderLists();
      if (state.detail) renderHeader();
    }).catch(function () {});
  }

  function fillResolutions() {
    var select = $("close-resolution");
    var chosen = select.value;
    select.textContent = "";
    select.appendChild(el("option", { value: "" }, "Elige cómo terminó…"));
    Object.keys(state.desk.resolutions || {}).forEach(function (code) {
      select.appendChild(el("option", { value: code }, state.desk.resolutions[code]));
    });
    select.value = chosen;
  }

  function fillTransferTargets() {
    var select = $("transfer-to");
    var chosen = select.value;
    select.textContent = "";
    select.appendChild(el("option", { value: "" }, "Elige un equipo o un asesor…"));
    var teams = el("optgroup", { label: "Equipos (vuelve a la fila)" });
    Object.keys(state.desk.teams || {}).forEach(function (name) {
      teams.appendChild(el("option", { value: "team:" + name }, state.desk.teams[name]));
    });
    select.appendChild(teams);
    var people = el("optgroup", { label: "Asesores" });
    (state.desk.agents || []).forEach(function (agent) {
      if (state.me && agent.id === state.me.id) return;
      people.appendChild(el("option", { value: "agent:" + agent.id },
        agent.display_name + (agent.team ? " · " + teamLabel(agent.team) : "") +
        (agent.online ? " (conectado)" : " (desconectado)")));
    });
    if (people.children.length) select.appendChild(people);
    select.value = chosen;
  }

  // --- the lists -------------------------------------------------------------------------------

  function refreshList() {
    return api("GET", "/api/handoffs?state=pending&state=agent").then(function (list) {
      state.handoffs = list || [];
      state.fetchedAt = performance.now();
      noticeNewChats();
      renderLists();
    }).catch(function () {});
  }

  function noticeNewChats() {
    var pending = state.handoffs.filter(function (h) { return h.state === "pending"; });
    var ids = pending.map(function (h) { return h.id; });
    if (state.knownPending !== null) {
      var fresh = ids.filter(function (id) { return state.knownPending.indexOf(id) < 0; });
      if (fresh.length) {
        beep();
        announce(fresh.length === 1 ? "Nueva conversación en espera." : fresh.length + " conversaciones nuevas en espera.");
      }
    }
    state.knownPending = ids;
    document.title = ids.length ? "(" + ids.length + ") " + TITLE : TITLE;
  }

  function renderLists() {
    if (!state.me) return;
    var me = state.me.id;
    var queue = state.handoffs.filter(function (h) { return h.state === "pending"; });
    queue.sort(function (a, b) { return b.waiting_seconds - a.waiting_seconds; });
    var mine = state.handoffs.filter(function (h) { return h.state === "agent" && h.agent_id === me; });
    var others = state.handoffs.filter(function (h) { return h.state === "agent" && h.agent_id !== me; });
    renderCards($("queue"), queue, "queue-item", true);
    renderCards($("mine"), mine, "mine-item", false);
    renderCards($("others"), others, "others-item", false);
    setCount("queue", queue.length);
    setCount("mine", mine.length);
    setCount("others", others.length);
  }

  function setCount(name, count) {
    $(name + "-count").textContent = String(count);
    $(name + "-empty").hidden = count > 0;
  }

  function renderCards(list, handoffs, testid, claimable) {
    list.textContent = "";
    handoffs.forEach(function (h) {
      var item = el("li", { className: "card" + (h.id === state.selected ? " card--selected" : ""),
        "data-testid": testid, "data-handoff-id": String(h.id) });
      var open = el("button", { type: "button", className: "card__open",
        "aria-current": h.id === state.selected ? "true" : "false" });
      var top = el("span", { className: "card__top" });
      top.appendChild(el("span", { className: "card__id" }, "#" + h.id + " · " + channelLabel(h.channel)));
      var time;
      if (h.state === "pending") {
        time = el("time", { className: "card__wait", "data-testid": "wait", datetime: h.created_at,
          title: "En espera desde " + dateTime(h.created_at) }, agoText(waitingNow(h)));
        time.dataset.waiting = String(h.id);
      } else if (h.agent_id === state.me.id) {
        time = el("time", { className: "card__wait", datetime: h.claimed_at || h.created_at },
          "Tomada " + clock(h.claimed_at || h.created_at));
      } else {
        time = el("span", { className: "card__wait" }, h.agent ? "Con " + h.agent : "");
      }
      top.appendChild(time);
      open.appendChild(top);
      open.appendChild(el("span", { className: "card__topic", "data-testid": "topic" },
        reasonLabel(h.reason) + (h.topic || h.intent ? " · " + (h.topic || h.intent) : "") +
        (isSupervisor() || !state.me.team ? " · " + teamLabel(h.team) : "")));
      open.appendChild(el("span", { className: "card__last", "data-testid": "last-message" },
        h.last_message ? "«" + h.last_message + "»" : "Sin mensajes del ciudadano"));
      open.addEventListener("click", function () { select(h.id); });
      item.appendChild(open);
      if (claimable) {
        var claim = el("button", { type: "button", className: "btn btn--primary card__claim", "data-testid": "claim",
          "aria-label": "Tomar la conversación " + h.id }, "Tomar");
        claim.addEventListener("click", function () { claimChat(h.id, claim); });
        item.appendChild(claim);
      }
      list.appendChild(item);
    });
  }

  function tick() {
    document.querySelectorAll("time[data-waiting]").forEach(function (node) {
      var id = Number(node.dataset.waiting);
      var h = state.handoffs.find(function (x) { return x.id === id; });
      if (h) node.textContent = agoText(waitingNow(h));
    });
  }

  // --- supervisors ---------------------------------------------------------------------------

  function refreshStats() {
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

  function refreshCallbacks() {
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

  // --- one chat ----------------------------------------------------------------------------------

  function select(id) {
    if (state.selected !== id) {
      state.selected = id;
      state.detail = null;
      state.rendered = { id: null, count: 0, keys: [] };
      $("canned-results").textContent = "";
      $("canned-status").textContent = "";
      $("canned-q").value = "";
      $("reply-input").value = "";
      $("note-input").value = "";
      showError($("chat-error"), "");
      showError($("chat-info"), "");
      state.goneReason = "";
    }
    renderLists();
    loadDesk();
    return refreshDetail().then(function () { $("chat").focus(); });
  }

  function closeChat() {
    $("chat-body").hidden = true;
    $("chat-placeholder").hidden = false;
  }

  function refreshDetail() {
    var id = state.selected;
    if (id === null) return Promise.resolve();
    return api("GET", "/api/handoffs/" + id).then(function (detail) {
      if (state.selected !== id) return;
      state.detail = detail;
      renderDetail();
    }).catch(function (error) {
      if (state.selected !== id) return;
      if (error.status === 404 && state.detail) {
        // Closed or moved out of our sight: keep what we read, without actions.
        if (state.detail.handoff.state !== "closed") {
          state.detail.handoff.state = "gone";
          if (state.goneReason) showError($("chat-info"), state.goneReason);
          else showError($("chat-error"), "Esta conversación ya no está a tu cargo.");
        }
        renderHeader();
      } else if (error.status !== 401) {
        showError($("chat-error"), error.message);
      }
    });
  }

  function renderDetail() {
    $("chat-placeholder").hidden = true;
    $("chat-body").hidden = false;
    renderHeader();
    renderTranscript();
    renderNotes();
    renderAudit();
  }

  function renderHeader() {
    var h = state.detail.handoff;
    var mine = h.state === "agent" && state.me && h.agent_id === state.me.id;
    var holderOrSupervisor = (mine || isSupervisor()) && (h.state === "agent" || h.state === "pending");
    $("chat-title").textContent = "Conversación #" + h.id;
    var meta = channelLabel(h.channel) + " · derivada " + dateTime(h.created_at);
    if (h.agent) meta += " · atiende " + h.agent;
    $("chat-meta").textContent = meta;
    var label = h.state === "gone" ? "Fuera de tu bandeja" : (STATES[h.state] || h.state);
    if (h.state === "closed" && h.resolution) label += ": " + ((state.desk.resolutions || {})[h.resolution] || h.resolution);
    $("chat-state").textContent = label;
    $("chat-state").dataset.state = h.state;
    $("esc-reason").textContent = reasonLabel(h.reason);
    $("esc-intent").textContent = h.intent ? (h.topic ? h.topic + " (" + h.intent + ")" : h.intent) : "—";
    $("esc-confidence").textContent = confidenceLabel(h.confidence);
    $("esc-team").textContent = teamLabel(h.team);
    $("claim").hidden = h.state !== "pending";
    $("transfer-form").hidden = !holderOrSupervisor;
    $("close-form").hidden = !holderOrSupervisor;
    setDisabled($("reply-form"), !mine);
    $("reply-input").placeholder = mine ? "Escribe tu respuesta…" :
      h.state === "pending" ? "Toma la conversación para responder." :
      h.state === "closed" ? "La conversación está cerrada." : "Solo responde el asesor que la tomó.";
    var canNote = h.state === "pending" || holderOrSupervisor;
    setDisabled($("note-form"), !canNote);
  }

  function setDisabled(form, disabled) {
    Array.prototype.forEach.call(form.elements, function (control) { control.disabled = disabled; });
  }

  function authorOf(item) {
    if (item.direction === "in") return { kind: "citizen", label: "Ciudadano" };
    if (item.author === "asistente") return { kind: "bot", label: "Asistente virtual" };
    if (item.author === "asesor") return { kind: "agent", label: "Asesor" };
    if (item.author === "aviso") return { kind: "bot", label: "Aviso automático" };
    return { kind: "agent", label: (item.author || "Asesor") + " (asesor)" };
  }

  function messageNode(item) {
    var who = authorOf(item);
    var node = el("article", { className: "msg msg--" + who.kind, "data-testid": "message",
      "data-author": who.kind, "data-direction": item.direction });
    var head = el("header", { className: "msg__head" });
    head.appendChild(el("span", { className: "msg__author" }, who.label));
    head.appendChild(el("time", { datetime: item.at, title: dateTime(item.at) }, clock(item.at)));
    node.appendChild(head);
    node.appendChild(el("p", { className: "msg__text", "data-testid": "message-text" }, item.text || ""));
    if (item.buttons && item.buttons.length) {
      node.appendChild(el("p", { className: "msg__buttons" }, "Botones: " + item.buttons.join(" · ")));
    }
    return node;
  }

  function keyOf(item) { return item.direction + "|" + item.at + "|" + item.text; }

  function renderTranscript() {
    var log = $("transcript");
    var detail = state.detail;
    var items = detail.transcript || [];
    var keys = items.map(keyOf);
    var r = state.rendered;
    var sameStart = r.id === detail.handoff.id && keys.length >= r.count &&
      r.keys.every(function (k, i) { return keys[i] === k; });
    var nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    if (!sameStart) {
      log.textContent = "";
      r.count = 0;
      r.divider = false;
      nearBottom = true;
    }
    var since = Date.parse(detail.handoff.created_at);
    for (var i = r.count; i < items.length; i++) {
      if (!r.divider && Date.parse(items[i].at) >= since - 1000) {
        log.appendChild(el("p", { className: "divider", "data-testid": "handoff-divider" },
          "Derivada a un asesor · " + reasonLabel(detail.handoff.reason) + " · " + clock(detail.handoff.created_at)));
        r.divider = true;
      }
      log.appendChild(messageNode(items[i]));
    }
    if (!items.length) log.appendChild(el("p", { className: "empty" }, "Sin mensajes."));
    state.rendered = { id: detail.handoff.id, count: items.length, keys: keys, divider: r.divider };
    if (nearBottom) log.scrollTop = log.scrollHeight;
  }

  function renderNotes() {
    var list = $("notes");
    list.textContent = "";
    var notes = state.detail.notes || [];
    notes.forEach(function (n) {
      var item = el("li", { className: "note", "data-testid": "note" });
      var head = el("span", { className: "note__head" });
      head.appendChild(el("strong", null, n.agent));
      head.appendChild(document.createTextNode(" · "));
      head.appendChild(el("time", { datetime: n.at }, dateTime(n.at)));
      item.appendChild(head);
      item.appendChild(el("p", { className: "note__text" }, n.text));
      list.appendChild(item);
    });
    if (!notes.length) list.appendChild(el("li", { className: "empty" }, "Sin notas."));
  }

  function renderAudit() {
    var list = $("audit");
    list.textContent = "";
    (state.detail.audit || []).slice().reverse().forEach(function (a) {
      var detail = a.detail || {};
      var extra = [];
      if (detail.team) extra.push(teamLabel(detail.team));
      if (detail.agent) extra.push(detail.agent);
      if (detail.resolution) extra.push((state.desk.resolutions || {})[detail.resolution] || detail.resolution);
      list.appendChild(el("li", null, dateTime(a.at) + " · " + a.actor + " · " + (AUDIT[a.action] || a.action) +
        (extra.length ? " (" + extra.join(", ") + ")" : "")));
    });
  }

  // --- actions on a chat -------------------------------------------------------------------------

  function claimChat(id, button) {
    if (button) button.disabled = true;
    return api("POST", "/api/handoffs/" + id + "/claim").then(function () {
      if (state.selected === id) showError($("chat-info"), "");
      return Promise.all([refreshList(), select(id)]).then(function () { $("reply-input").focus(); });
    }).catch(function (error) {
      if (button) button.disabled = false;
      if (state.selected === id) showError($("chat-error"), error.message);
      else announce(error.message);
      if (error.status === 409 || error.status === 404) refreshList();
    });
  }

  $("claim").addEventListener("click", function () {
    if (state.selected !== null) claimChat(state.selected, $("claim"));
  });

  function sendReply() {
    var input = $("reply-input");
    var text = input.value.trim();
    if (!text || state.selected === null) return;
    var id = state.selected;
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

  $("reply-form").addEventListener("submit", function (ev) { ev.preventDefault(); sendReply(); });
  $("reply-input").addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); sendReply(); }
  });

  $("note-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var input = $("note-input");
    var text = input.value.trim();
    if (!text || state.selected === null) return;
    api("POST", "/api/handoffs/" + state.selected + "/notes", { text: text }).then(function () {
      input.value = "";
      return refreshDetail();
    }).catch(function (error) { showError($("chat-error"), error.message); });
  });

  $("transfer-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var value = $("transfer-to").value;
    if (!value || state.selected === null) {
      showError($("chat-error"), "Elige un equipo o un asesor.");
      return;
    }
    var body = value.indexOf("team:") === 0 ? { team: value.slice(5) } : { agent_id: Number(value.slice(6)) };
    var target = $("transfer-to").selectedOptions[0].textContent.replace(/ \((des)?conectado\)$/, "");
    api("POST", "/api/handoffs/" + state.selected + "/transfer", body).then(function (h) {
      $("transfer-to").value = "";
      showError($("chat-error"), "");
      state.goneReason = "Transferiste esta conversación a " + target + ".";
      showError($("chat-info"), state.goneReason);
      if (state.detail) state.detail.handoff = h;
      return Promise.all([refreshList(), refreshDetail()]);
    }).catch(function (error) { showError($("chat-error"), error.message); });
  });

  $("close-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var resolution = $("close-resolution").value;
    if (!resolution || state.selected === null) {
      showError($("chat-error"), "Elige cómo terminó la conversación.");
      $("close-resolution").focus();
      return;
    }
    api("POST", "/api/handoffs/" + state.selected + "/close", { resolution: resolution }).then(function (h) {
      $("close-resolution").value = "";
      showError($("chat-error"), "");
      showError($("chat-info"), "Conversación cerrada. El asistente vuelve a atender al ciudadano.");
      if (state.detail) { state.detail.handoff = h; renderHeader(); }
      return Promise.all([refreshList(), refreshDetail()]);
    }).catch(function (error) { showError($("chat-error"), error.message); });
  });

  // --- knowledge-base answers ----------------------------------------------------------------

  var cannedTimer = null;
  var cannedSeq = 0;

  function searchCanned() {
    var q = $("canned-q").value.trim();
    var seq = ++cannedSeq;
    var list = $("canned-results");
    if (!q) { list.textContent = ""; $("canned-status").textContent = ""; return; }
    api("GET", "/api/canned?q=" + encodeURIComponent(q)).then(function (hits) {
      if (seq !== cannedSeq) return;
      list.textContent = "";
      (hits || []).forEach(function (hit) {
        var item = el("li", { className: "canned__item", "data-testid": "canned-item" });
        var use = el("button", { type: "button", className: "canned__use",
          "aria-label": "Insertar en la respuesta: " + hit.title });
        use.appendChild(el("strong", null, hit.title));
        use.appendChild(el("span", { className: "canned__text" }, hit.text));
        use.addEventListener("click", function () { insertReply(hit.text); });
        item.appendChild(use);
        if (hit.source && /^https?:\/\//.test(hit.source)) {
          item.appendChild(el("a", { href: hit.source, target: "_blank", rel: "noopener noreferrer",
            className: "canned__source" }, "Fuente"));
        }
        list.appendChild(item);
      });
      $("canned-status").textContent = hits && hits.length ?
        hits.length + (hits.length === 1 ? " respuesta encontrada." : " respuestas encontradas.") :
        "No se encontraron respuestas.";
    }).catch(function (error) {
      if (seq === cannedSeq) $("canned-status").textContent = error.message;
    });
  }

  function insertReply(text) {
    var input = $("reply-input");
    if (input.disabled) {
      showError($("chat-error"), "Toma la conversación para responder.");
      return;
    }
    var start = input.selectionStart || 0;
    var end = input.selectionEnd || 0;
    var before = input.value.slice(0, start);
    var after = input.value.slice(end);
    var glue = before && !/\s$/.test(before) ? "\n" : "";
    input.value = before + glue + text + after;
    var caret = (before + glue + text).length;
    input.focus();
    input.setSelectionRange(caret, caret);
  }

  $("canned-form").addEventListener("submit", function (ev) { ev.preventDefault(); searchCanned(); });
  $("canned-q").addEventListener("input", function () {
    window.clearTimeout(cannedTimer);
    cannedTimer = window.setTimeout(searchCanned, 300);
  });

  // --- sound --------------------------------------------------------------------------------------

  var SOUND_KEY = "consola.sonido";
  $("sound").checked = localStorage.getItem(SOUND_KEY) !== "no";
  $("sound").addEventListener("change", function () {
    localStorage.setItem(SOUND_KEY, $("sound").checked ? "si" : "no");
    if ($("sound").checked) unlockAudio();
  });

  function unlockAudio() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    try {
      if (!state.audio) state.audio = new Context();
      if (state.audio.state === "suspended") state.audio.resume();
    } catch (e) { state.audio = null; }
  }
  document.addEventListener("click", unlockAudio, { once: true });
  document.addEventListener("keydown", unlockAudio, { once: true });

  function beep() {
    if (!$("sound").checked) return;
    unlockAudio();
    var ctx = state.audio;
    if (!ctx) return;
    try {
      var now = ctx.currentTime;
      [0, 0.18].forEach(function (offset) {
        var osc = ctx.createOscillator();
        var gain = ctx.createGain();
        osc.type = "sine";
        osc.frequency.value = 880;
        gain.gain.setValueAtTime(0.0001, now + offset);
        gain.gain.exponentialRampToValueAtTime(0.2, now + offset + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.14);
        osc.connect(gain);
        gain.connect(ctx.destination);
        osc.start(now + offset);
        osc.stop(now + offset + 0.15);
      });
    } catch (e) { /* no sound: the title badge still shows */ }
  }

  // --- live updates -----------------------------------------------------------------------------

  var refetchTimer = null;
  var refetchDetail = false;

  function scheduleRefetch(detail) {
    refetchDetail = refetchDetail || detail;
    if (refetchTimer) return;
    refetchTimer = window.setTimeout(function () {
      var withDetail = refetchDetail;
      refetchTimer = null;
      refetchDetail = false;
      refreshList();
      refreshStats();
      if (withDetail) refreshDetail();
    }, REFETCH_DELAY_MS);
  }

  function setConnection(status, text) {
    var node = $("connection");
    node.dataset.state = status;
    node.textContent = text;
  }

  function connect() {
    if (!state.me) return;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var ws;
    try {
      ws = new WebSocket(scheme + location.host + "/api/console/events");
    } catch (e) {
      retry();
      return;
    }
    state.ws = ws;
    setConnection("connecting", "Conectando…");
    ws.addEventListener("open", function () {
      state.backoff = 1000;
      setConnection("open", "Conectado");
      window.clearInterval(state.pingTimer);
      state.pingTimer = window.setInterval(function () {
        if (ws.readyState === WebSocket.OPEN) ws.send("ping");
      }, PING_MS);
      // Events may have been missed while disconnected.
      scheduleRefetch(true);
    });
    ws.addEventListener("message", function (ev) {
      var event;
      try { event = JSON.parse(ev.data); } catch (e) { return; }
      var id = event.handoff_id || (event.handoff && event.handoff.id);
      scheduleRefetch(id !== undefined && id === state.selected);
    });
    ws.addEventListener("close", function (ev) {
      if (state.ws !== ws) return;
      state.ws = null;
      window.clearInterval(state.pingTimer);
      // 4401: the session ended (logged out, deactivated, expired) — the server closed it.
      if (ev.code === 4401) { sessionEnded(); return; }
      // 4429: too many consoles open for this session or address — try again much later.
      if (ev.code === 4429) {
        state.backoff = 30000;
        setConnection("closed", "Demasiadas consolas abiertas: cierra alguna. Reintentando…");
        window.clearTimeout(state.wsTimer);
        state.wsTimer = window.setTimeout(connect, state.backoff);
        return;
      }
      retry();
    });
  }

  function retry() {
    if (!state.me) return;
    setConnection("closed", "Sin conexión: reintentando…");
    var wait = state.backoff + Math.random() * 500;
    state.backoff = Math.min(state.backoff * 2, 30000);
    window.clearTimeout(state.wsTimer);
    state.wsTimer = window.setTimeout(connect, wait);
  }

  function stopLive() {
    var ws = state.ws;
    state.ws = null;
    if (ws) ws.close();
    window.clearTimeout(state.wsTimer);
    window.clearInterval(state.pingTimer);
    state.timers.forEach(function (t) { window.clearInterval(t); });
    state.timers = [];
    setConnection("closed", "Sin conexión");
  }

  // --- administration (administrators only) ----------------------------------------------------
  // The API refuses these calls to anyone else; the section is not even shown to them.

  var WEEKDAYS = [["mon", "Lunes"], ["tue", "Martes"], ["wed", "Miércoles"], ["thu", "Jueves"],
    ["fri", "Viernes"], ["sat", "Sábado"], ["sun", "Domingo"]];
  var DEFAULT_HOURS = ["08:30", "17:00"];
  var TEAM_NAME = /^[a-z][a-z0-9_]{0,39}$/;
  // What a field refused by the API's validation means (its own message is a general one).
  var FIELD_PROBLEMS = {
    username: "El usuario debe tener de 2 a 64 caracteres.",
    password: "Escribe una contraseña (hasta 256 caracteres).",
    display_name: "El nombre visible puede tener hasta 120 caracteres.",
    team: "Elige un equipo de la lista.",
    role: "Elige un rol de la lista.",
    active: "Indica si la cuenta está activa.",
    name: "El código del equipo empieza con una letra y solo lleva minúsculas, números y _ (hasta 40).",
    label: "Escribe el nombre del equipo (hasta 120 caracteres).",
    // The workbench's forms.
    items: "Elige al menos un grupo de la bandeja.",
    intent: "El nombre de la intención va en minúsculas, sin tildes ni espacios (letras, números y _), de 3 a 64 caracteres.",
    title: "Escribe el título del artículo (hasta 120 caracteres).",
    answer: "Escribe el texto de la respuesta (hasta 4000 caracteres).",
    source_name: "Escribe el nombre de la fuente oficial (hasta 120 caracteres).",
    source_url: "Escribe el enlace https:// de la fuente oficial (hasta 300 caracteres).",
    extra_examples: "Hasta 200 ejemplos adicionales, uno por línea.",
    override_reason: "El motivo puede tener hasta 500 caracteres."
  };
  var TABS = ["tab-desk", "tab-admin"];

  var admin = { users: [], teams: {}, editing: null, hoursLoaded: false };

  function isAdmin() { return !!state.me && state.me.role === "admin"; }

  function problemText(error) {
    if (error.code === "invalid_request") {
      var texts = [];
      error.details.forEach(function (d) {
        var text = FIELD_PROBLEMS[String((d && d.field) || "").split(".")[0]];
        if (text && texts.indexOf(text) < 0) texts.push(text);
      });
      if (texts.length) return texts.join(" ");
    }
    return error.message;
  }

  function setUpSections() {
    var on = isAdmin();
    var desk = $("desk-view");
    $("sections").hidden = !on;
    if (on) {
      desk.setAttribute("role", "tabpanel");
      desk.setAttribute("aria-labelledby", "tab-desk");
    } else {
      desk.removeAttribute("role");
      desk.removeAttribute("aria-labelledby");
    }
    // /admin sends administrators to /agent#admin: the workbench opens first.
    showSection(location.hash === "#admin" ? "admin" : "desk");
  }

  function showSection(name) {
    var adminOn = name === "admin" && isAdmin();
    $("desk-view").hidden = adminOn;
    $("admin-view").hidden = !adminOn;
    TABS.forEach(function (id) {
      var selected = (id === "tab-admin") === adminOn;
      $(id).setAttribute("aria-selected", selected ? "true" : "false");
      $(id).tabIndex = selected ? 0 : -1;
    });
    if (adminOn) showAdminPane(wb.pane, false);
  }

  TABS.forEach(function (id, index) {
    var tab = $(id);
    tab.addEventListener("click", function () { showSection(id === "tab-admin" ? "admin" : "desk"); });
    tab.addEventListener("keydown", function (ev) {
      var next = null;
      if (ev.key === "ArrowRight") next = (index + 1) % TABS.length;
      else if (ev.key === "ArrowLeft") next = (index + TABS.length - 1) % TABS.length;
      else if (ev.key === "Home") next = 0;
      else if (ev.key === "End") next = TABS.length - 1;
      if (next === null) return;
      ev.preventDefault();
      showSection(TABS[next] === "tab-admin" ? "admin" : "desk");
      $(TABS[next]).focus();
    });
  });

  function loadAdmin() {
    var loads = [loadTeams(), loadUsers()];
    if (!admin.hoursLoaded) loads.push(loadHours());
    return Promise.all(loads);
  }

  function resetAdmin() {
    resetWorkbench();
    closeEditor(false);
    admin.users = [];
    admin.teams = {};
    admin.hoursLoaded = false;
    $("users").textContent = "";
    $("teams").textContent = "";
    ["user-create-form", "team-form", "hours-form"].forEach(function (id) { $(id).reset(); });
    ["users-info", "users-error", "user-create-error", "user-create-info", "team-error", "team-info",
      "hours-error", "hours-info"].forEach(function (id) { showError($(id), ""); });
    $("hours-text").textContent = "";
    WEEKDAYS.forEach(function (pair) { dayToggled(pair[0]); });
  }

  function adminTeamLabel(team) {
    return (team && (admin.teams[team] || state.desk.teams[team])) || team || "Sin equipo";
  }

  function fillRoles(select, chosen) {
    select.textContent = "";
    Object.keys(ROLES).forEach(function (role) {
      select.appendChild(el("option", { value: role }, ROLES[role]));
    });
    select.value = chosen || "agent";
  }

  function fillTeams(select, chosen) {
    select.textContent = "";
    select.appendChild(el("option", { value: "" }, "Sin equipo"));
    Object.keys(admin.teams).forEach(function (name) {
      select.appendChild(el("option", { value: name }, admin.teams[name]));
    });
    if (chosen && !admin.teams[chosen]) select.appendChild(el("option", { value: chosen }, chosen));
    select.value = chosen || "";
  }

  function findUser(id) {
    return admin.users.find(function (u) { return u.id === id; }) || null;
  }

  // Users.

  function loadUsers() {
    return api("GET", "/api/admin/users").then(function (users) {
      admin.users = users || [];
      showError($("users-error"), "");
      renderUsers();
    }).catch(function (error) { if (error.status !== 401) showError($("users-error"), error.message); });
  }

  function renderUsers() {
    var body = $("users");
    body.textContent = "";
    var users = admin.users.slice().sort(function (a, b) { return a.username < b.username ? -1 : 1; });
    users.forEach(function (u) {
      var row = el("tr", { "data-testid": "user-row", "data-username": u.username, "data-user-id": String(u.id),
        className: u.active ? "" : "is-inactive" });
      var who = el("th", { scope: "row", "data-testid": "user-username" }, u.username);
      if (state.me && u.id === state.me.id) who.appendChild(el("span", { className: "hint" }, " (tú)"));
      row.appendChild(who);
      row.appendChild(el("td", { "data-testid": "user-name" }, u.display_name));
      row.appendChild(el("td", { "data-testid": "user-role" }, ROLES[u.role] || u.role));
      row.appendChild(el("td", { "data-testid": "user-team" }, u.team ? adminTeamLabel(u.team) : "Sin equipo"));
      row.appendChild(el("td", { "data-testid": "user-state" }, u.active ? "Activa" : "Desactivada"));
      var actions = el("td");
      var edit = el("button", { type: "button", className: "btn", "data-testid": "user-edit",
        "aria-label": "Editar la cuenta " + u.username }, "Editar");
      edit.addEventListener("click", function () { openEditor(u.id); });
      actions.appendChild(edit);
      row.appendChild(actions);
      body.appendChild(row);
    });
    if (!users.length) {
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
    admin.editing = id;
    var self = !!state.me && u.id === state.me.id;
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
    var id = admin.editing;
    admin.editing = null;
    $("edit-password").value = "";
    $("user-edit-form").hidden = true;
    showError($("user-edit-error"), "");
    if (focusRow && id !== null) focusUserRow(id);
  }

  $("user-edit-cancel").addEventListener("click", function () { closeEditor(true); });
  $("user-edit-form").addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") { ev.preventDefault(); closeEditor(true); }
  });

  $("user-edit-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var u = findUser(admin.editing);
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
      admin.users = admin.users.map(function (x) { return x.id === changed.id ? changed : x; });
      if (state.me && changed.id === state.me.id) {
        state.me.display_name = changed.display_name;
        state.me.team = changed.team;
        showWho();
      }
      closeEditor(false);
      renderUsers();
      focusUserRow(changed.id);
      showError($("users-info"), "Cambios guardados en la cuenta «" + changed.username + "»." +
        (change.password ? " La contraseña nueva ya rige y se cerraron sus sesiones." : ""));
      loadDesk();
    }).catch(function (error) {
      showError(box, problemText(error));
      if (error.code === "weak_password") $("edit-password").select();
    }).then(function () {
      setDisabled(form, false);
      if (admin.editing !== null) {
        var self = !!state.me && admin.editing === state.me.id;
        $("edit-role").disabled = self;
        $("edit-active").disabled = self;
      }
    });
  });

  $("user-create-form").addEventListener("submit", function (ev) {
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
      admin.users = admin.users.filter(function (x) { return x.id !== created.id; }).concat([created]);
      renderUsers();
      showError($("user-create-info"), "Usuario «" + created.username + "» creado (" +
        (ROLES[created.role] || created.role) + (created.team ? ", " + adminTeamLabel(created.team) : "") + ").");
      $("new-username").focus();
      loadDesk();
    }).catch(function (error) {
      showError(box, problemText(error));
      if (error.code === "weak_password") $("new-password").select();
      else if (error.code === "username_taken" || error.code === "invalid_username") $("new-username").select();
    }).then(function () { button.disabled = false; });
  });

  // Teams.

  function loadTeams() {
    return api("GET", "/api/admin/teams").then(function (teams) {
      admin.teams = teams || {};
      renderTeams();
    }).catch(function (error) { if (error.status !== 401) showError($("team-error"), error.message); });
  }

  function renderTeams() {
    var list = $("teams");
    list.textContent = "";
    Object.keys(admin.teams).forEach(function (name) {
      var item = el("li", { className: "admin__item", "data-testid": "team-item", "data-team": name });
      item.appendChild(el("span", { className: "admin__item-label" }, admin.teams[name]));
      item.appendChild(el("code", { className: "admin__code" }, name));
      list.appendChild(item);
    });
    if (!list.children.length) list.appendChild(el("li", { className: "empty" }, "No hay equipos."));
    fillTeams($("new-team"), $("new-team").value);
    if (admin.editing !== null) fillTeams($("edit-team"), $("edit-team").value);
    if (!$("new-role").options.length) fillRoles($("new-role"), "agent");
    renderUsers();
  }

  $("team-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var box = $("team-error");
    var name = $("team-name").value.trim();
    var label = $("team-label").value.trim();
    showError($("team-info"), "");
    if (!TEAM_NAME.test(name)) {
      showError(box, FIELD_PROBLEMS.name);
      $("team-name").focus();
      return;
    }
    if (!label) {
      showError(box, FIELD_PROBLEMS.label);
      $("team-label").focus();
      return;
    }
    var form = $("team-form");
    setDisabled(form, true);
    showError(box, "");
    api("POST", "/api/admin/teams", { name: name, label: label }).then(function (teams) {
      admin.teams = teams || {};
      form.reset();
      renderTeams();
      showError($("team-info"), "Equipo «" + (admin.teams[name] || label) + "» agregado.");
      loadDesk();
    }).catch(function (error) {
      showError(box, problemText(error));
    }).then(function () {
      setDisabled(form, false);
      if (box.textContent) $("team-name").focus();
    });
  });

  // Office hours: one row per weekday.

  function buildHoursRows() {
    var body = $("hours-days");
    WEEKDAYS.forEach(function (pair) {
      var day = pair[0];
      var name = pair[1];
      var row = el("tr", { "data-testid": "hours-" + day, "data-day": day });
      row.appendChild(el("th", { scope: "row" }, name));
      var onCell = el("td");
      var onLabel = el("label", { className: "check" });
      var on = el("input", { type: "checkbox", id: "hours-" + day + "-on" });
      onLabel.appendChild(on);
      onLabel.appendChild(el("span", { className: "visually-hidden" }, name + ": "));
      onLabel.appendChild(document.createTextNode("atiende"));
      onCell.appendChild(onLabel);
      row.appendChild(onCell);
      [["opens", "abre"], ["closes", "cierra"]].forEach(function (part) {
        var cell = el("td");
        var id = "hours-" + day + "-" + part[0];
        cell.appendChild(el("label", { "for": id, className: "visually-hidden" }, name + ": " + part[1]));
        cell.appendChild(el("input", { type: "time", id: id, "data-part": part[0] }));
        row.appendChild(cell);
      });
      on.addEventListener("change", function () { dayToggled(day); });
      body.appendChild(row);
    });
  }

  function dayToggled(day) {
    var on = $("hours-" + day + "-on").checked;
    var opens = $("hours-" + day + "-opens");
    var closes = $("hours-" + day + "-closes");
    opens.disabled = !on;
    closes.disabled = !on;
    if (on && !opens.value) opens.value = DEFAULT_HOURS[0];
    if (on && !closes.value) closes.value = DEFAULT_HOURS[1];
  }

  function fillHours(data) {
    var hours = (data && data.hours) || {};
    WEEKDAYS.forEach(function (pair) {
      var day = pair[0];
      var span = typeof hours[day] === "string" ? hours[day].split("-") : null;
      $("hours-" + day + "-on").checked = !!span;
      $("hours-" + day + "-opens").value = span ? span[0] : "";
      // A time field cannot hold 24:00: the end of the day is 00:00 there.
      $("hours-" + day + "-closes").value = span ? (span[1] === "24:00" ? "00:00" : span[1]) : "";
      dayToggled(day);
    });
    if (data && data.timezone) $("hours-timezone").textContent = data.timezone;
    $("hours-text").textContent = hoursText(data);
  }

  function hoursText(data) {
    return data && data.text ? data.text : "sin horario fijo, se atiende siempre";
  }

  function loadHours() {
    return api("GET", "/api/admin/office-hours").then(function (data) {
      admin.hoursLoaded = true;
      fillHours(data);
    }).catch(function (error) { if (error.status !== 401) showError($("hours-error"), error.message); });
  }

  $("hours-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var box = $("hours-error");
    var hours = {};
    var problems = [];
    var firstBad = null;
    WEEKDAYS.forEach(function (pair) {
      var day = pair[0];
      if (!$("hours-" + day + "-on").checked) return;
      var opens = $("hours-" + day + "-opens").value.slice(0, 5);
      var closes = $("hours-" + day + "-closes").value.slice(0, 5);
      var ends = closes === "00:00" ? "24:00" : closes;
      if (!opens || !closes) problems.push(pair[1] + ": escribe la hora en que abre y la hora en que cierra.");
      else if (ends <= opens) problems.push(pair[1] + ": la hora de cierre debe ser posterior a la de apertura.");
      else { hours[day] = opens + "-" + ends; return; }
      if (!firstBad) firstBad = $("hours-" + day + "-" + (opens ? "closes" : "opens"));
    });
    showError($("hours-info"), "");
    if (problems.length) {
      showError(box, problems.join(" "));
      firstBad.focus();
      return;
    }
    var form = $("hours-form");
    setDisabled(form, true);
    showError(box, "");
    api("PUT", "/api/admin/office-hours", hours).then(function (data) {
      admin.hoursLoaded = true;
      fillHours(data);
      showError($("hours-info"), "Horario guardado: " + hoursText(data));
      loadDesk();
    }).catch(function (error) {
      showError(box, problemText(error));
    }).then(function () {
      setDisabled(form, false);
      WEEKDAYS.forEach(function (pair) { dayToggled(pair[0]); });
    });
  });

  buildHoursRows();
  WEEKDAYS.forEach(function (pair) { dayToggled(pair[0]); });
  fillRoles($("new-role"), "agent");
  fillTeams($("new-team"), "");

  // --- the workbench: review inbox, training, models (administrators only) ----------------------
  // Sub-sections of the administration. Every text that comes from the server (messages of
  // citizens, intent names, logs, errors) goes into the page with textContent.

  var POLL_MS = 2000;
  var INBOX_DEBOUNCE_MS = 300;
  var CHANGED_SHOWN = 100;
  var ADMIN_PANES = ["people", "inbox", "training", "models", "articles"];
  var INTENT_NAME = /^[a-z][a-z0-9_]{2,63}$/;
  var INBOX_STATUSES = {
    open: "Por revisar", annotated: "Asignados a una intención", out_of_scope: "Fuera de alcance",
    spam: "Spam", dismissed: "Descartados"
  };
  var INBOX_SOURCES = { clarification: "El asistente dudó", feedback: "Valoración negativa (👎)" };
  var JOB_STATES = { queued: "En cola", running: "En curso", succeeded: "Listo", failed: "Falló" };
  var MODEL_STATES = { trained: "Entrenado", live: "En uso", retired: "Retirado" };
  var VERDICTS = {
    better: "Mejor que el modelo en uso", worse: "Peor que el modelo en uso", same: "Igual que el modelo en uso"
  };

  var wb = {
    pane: "people",
    groups: [], counts: {}, picked: {}, intents: [], inboxSeq: 0, inboxTimer: null,
    jobs: [], jobsSeq: 0, watched: null, pollTimer: null, logId: null,
    models: [], modelId: null, detail: null, overriding: false
  };

  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

  function setText(node, text) {
    // Live regions re-announce a text set again; only real changes are written.
    if (node.textContent !== text) node.textContent = text;
  }

  function decimal(value, digits) {
    if (typeof value !== "number") return "—";
    return value.toLocaleString("es-PE", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }

  function signed(value) {
    if (typeof value !== "number") return "—";
    return (value > 0 ? "+" : value < 0 ? "−" : "") + decimal(Math.abs(value), 3);
  }

  function percentText(value) {
    return typeof value === "number" ? decimal(value * 100, 1) + " %" : "—";
  }

  function secondsText(seconds) {
    if (typeof seconds !== "number") return "";
    return seconds < 60 ? Math.max(1, Math.round(seconds)) + " s" : durationText(seconds);
  }

  // Sub-sections.

  function selectPaneTab(name) {
    ADMIN_PANES.forEach(function (pane) {
      var on = pane === name;
      $("admin-" + pane).hidden = !on;
      $("admin-tab-" + pane).setAttribute("aria-selected", on ? "true" : "false");
      $("admin-tab-" + pane).tabIndex = on ? 0 : -1;
    });
  }

  function showAdminPane(name, focus) {
    if (ADMIN_PANES.indexOf(name) < 0) name = "people";
    wb.pane = name;
    selectPaneTab(name);
    if (focus) $("admin-tab-" + name).focus();
    if (name === "people") return loadAdmin();
    if (name === "inbox") return Promise.all([loadIntents(), loadInbox()]);
    if (name === "training") return Promise.all([loadJobs(), loadLiveModel()]);
    if (name === "articles") return loadArticles();
    return loadModels();
  }

  ADMIN_PANES.forEach(function (pane, index) {
    var tab = $("admin-tab-" + pane);
    tab.addEventListener("click", function () { showAdminPane(pane, false); });
    tab.addEventListener("keydown", function (ev) {
      var next = null;
      if (ev.key === "ArrowRight") next = (index + 1) % ADMIN_PANES.length;
      else if (ev.key === "ArrowLeft") next = (index + ADMIN_PANES.length - 1) % ADMIN_PANES.length;
      else if (ev.key === "Home") next = 0;
      else if (ev.key === "End") next = ADMIN_PANES.length - 1;
      if (next === null) return;
      ev.preventDefault();
      showAdminPane(ADMIN_PANES[next], true);
    });
  });

  function resetWorkbench() {
    window.clearTimeout(wb.pollTimer);
    window.clearTimeout(wb.inboxTimer);
    wb.pane = "people";
    wb.groups = [];
    wb.counts = {};
    wb.picked = {};
    wb.intents = [];
    wb.inboxSeq++;
    wb.jobs = [];
    wb.jobsSeq++;
    wb.watched = null;
    wb.pollTimer = null;
    wb.logId = null;
    wb.models = [];
    wb.modelId = null;
    wb.detail = null;
    wb.overriding = false;
    selectPaneTab("people");
    ["inbox-groups", "inbox-problems", "inbox-intent", "training-jobs", "training-log", "models", "per-intent",
      "changed"].forEach(function (id) { $(id).textContent = ""; });
    ["inbox-filters", "new-intent-form", "deploy-form"].forEach(function (id) { $(id).reset(); });
    ["inbox-error", "inbox-info", "new-intent-error", "training-error", "training-info", "models-error",
      "models-info", "deploy-error", "deploy-info"].forEach(function (id) { showError($(id), ""); });
    ["inbox-problems-box", "new-intent-form", "training-current", "training-log-box", "model-detail", "confusion",
      "override-box"].forEach(function (id) { $(id).hidden = true; });
    $("inbox-new").setAttribute("aria-expanded", "false");
    $("inbox-summary").textContent = "";
    $("training-live").textContent = "";
    $("inbox-empty").hidden = true;
    $("confusion-img").removeAttribute("src");
    updateStartButton();
    resetArticles();
  }

  // Review inbox.

  function inboxPath() {
    var params = ["status=" + encodeURIComponent($("inbox-status").value || "open")];
    var q = $("inbox-q").value.trim();
    if (q) params.push("q=" + encodeURIComponent(q));
    if ($("inbox-channel").value) params.push("channel=" + encodeURIComponent($("inbox-channel").value));
    if ($("inbox-source").value) params.push("source=" + encodeURIComponent($("inbox-source").value));
    if ($("inbox-days").value) params.push("days=" + encodeURIComponent($("inbox-days").value));
    params.push("show_personal_data=" + ($("inbox-personal").checked ? "true" : "false"));
    return "/api/admin/inbox?" + params.join("&");
  }

  function loadInbox() {
    var seq = ++wb.inboxSeq;
    var list = $("inbox-groups");
    list.setAttribute("aria-busy", "true");
    if (!wb.groups.length) setText($("inbox-summary"), "Cargando la bandeja…");
    return api("GET", inboxPath()).then(function (data) {
      if (seq !== wb.inboxSeq) return;
      wb.groups = (data && data.groups) || [];
      wb.counts = (data && data.counts) || {};
      var present = {};
      wb.groups.forEach(function (g) { present[g.key] = true; });
      Object.keys(wb.picked).forEach(function (key) { if (!present[key]) delete wb.picked[key]; });
      renderInbox();
    }).catch(function (error) {
      if (seq !== wb.inboxSeq) return;
      setText($("inbox-summary"), "");
      if (error.status !== 401) showError($("inbox-error"), problemText(error));
    }).then(function () {
      if (seq === wb.inboxSeq) list.removeAttribute("aria-busy");
    });
  }

  function loadIntents() {
    return api("GET", "/api/admin/intents").then(function (intents) {
      wb.intents = (intents || []).slice().sort(function (a, b) { return a.name < b.name ? -1 : 1; });
      fillIntents();
    }).catch(function (error) { if (error.status !== 401) showError($("inbox-error"), error.message); });
  }

  function pickedGroups() {
    return wb.groups.filter(function (g) { return wb.picked[g.key]; });
  }

  function itemsOf(groups) {
    var items = [];
    groups.forEach(function (g) { items = items.concat(g.items || []); });
    return items;
  }

  // The model's current top guesses for these groups: the intents offered first.
  function suggestions(groups) {
    var best = {};
    groups.forEach(function (g) {
      (g.predicted || []).slice(0, 3).forEach(function (p) {
        if (!p || !p.name || p.name === "nlu_fallback") return;
        var confidence = typeof p.confidence === "number" ? p.confidence : 0;
        if (!(p.name in best) || best[p.name] < confidence) best[p.name] = confidence;
      });
    });
    return Object.keys(best).map(function (name) { return { name: name, confidence: best[name] }; })
      .sort(function (a, b) { return b.confidence - a.confidence; }).slice(0, 3);
  }

  function fillIntents() {
    var select = $("inbox-intent");
    var chosen = select.value;
    var suggested = suggestions(pickedGroups());
    var names = suggested.map(function (s) { return s.name; });
    select.textContent = "";
    select.appendChild(el("option", { value: "" }, "Elige una intención…"));
    if (suggested.length) {
      var first = el("optgroup", { label: "Sugeridas por el modelo" });
      suggested.forEach(function (s) {
        first.appendChild(el("option", { value: s.name }, s.name + " · " + confidenceLabel(s.confidence)));
      });
      select.appendChild(first);
    }
    var all = el("optgroup", { label: "Todas las intenciones" });
    wb.intents.forEach(function (intent) {
      if (names.indexOf(intent.name) >= 0) return;
      all.appendChild(el("option", { value: intent.name },
        intent.name + " (" + plural(intent.examples || 0, "ejemplo", "ejemplos") + ")"));
    });
    if (all.children.length) select.appendChild(all);
    select.value = chosen;
    if (select.value !== chosen) select.value = "";
  }

  function renderInbox() {
    var status = $("inbox-status");
    Array.prototype.forEach.call(status.options, function (option) {
      option.textContent = (INBOX_STATUSES[option.value] || option.value) + " (" + (wb.counts[option.value] || 0) + ")";
    });
    var list = $("inbox-groups");
    list.textContent = "";
    var messages = 0;
    wb.groups.forEach(function (g, index) {
      messages += g.count || 0;
      list.appendChild(groupNode(g, index));
    });
    $("inbox-empty").hidden = wb.groups.length > 0;
    setText($("inbox-summary"), wb.groups.length ?
      plural(wb.groups.length, "grupo", "grupos") + " · " + plural(messages, "mensaje", "mensajes") +
      ($("inbox-personal").checked ? " · datos personales a la vista" : "") : "");
    renderPicked();
  }

  function datesText(g) {
    var first = dateTime(g.first_at);
    var last = dateTime(g.last_at);
    if (!first && !last) return "";
    if (!first || first === last || !last) return "El " + (last || first);
    return "Del " + first + " al " + last;
  }

  function guessesNode(term, guesses, testid, none) {
    var row = el("div");
    row.appendChild(el("dt", null, term));
    var value = el("dd", { "data-testid": testid });
    var top = (guesses || []).slice(0, 3);
    if (!top.length) value.appendChild(el("span", { className: "hint" }, none));
    top.forEach(function (guess, i) {
      if (i) value.appendChild(document.createTextNode(" · "));
      value.appendChild(el("code", null, guess.name || "?"));
      value.appendChild(document.createTextNode(" " + confidenceLabel(guess.confidence)));
    });
    row.appendChild(value);
    return row;
  }

  function groupNode(g, index) {
    var id = "inbox-pick-" + index;
    var item = el("li", { className: "inbox__group" + (wb.picked[g.key] ? " is-picked" : ""),
      "data-testid": "inbox-group", "data-key": g.key });
    var head = el("div", { className: "inbox__head" });
    var box = el("input", { type: "checkbox", id: id, "data-testid": "inbox-pick" });
    box.checked = !!wb.picked[g.key];
    box.addEventListener("change", function () {
      if (box.checked) wb.picked[g.key] = true;
      else delete wb.picked[g.key];
      item.classList.toggle("is-picked", box.checked);
      renderPicked();
    });
    head.appendChild(box);
    head.appendChild(el("label", { "for": id, className: "inbox__text", "data-testid": "inbox-text" }, g.text));
    head.appendChild(el("span", { className: "inbox__count", "data-testid": "inbox-count" },
      plural(g.count || 0, "mensaje", "mensajes")));
    item.appendChild(head);

    var meta = el("p", { className: "inbox__meta" });
    meta.appendChild(el("span", { "data-testid": "inbox-channels" },
      (g.channels || []).map(channelLabel).join(", ") || "Canal desconocido"));
    var sources = (g.sources || []).map(function (source) { return INBOX_SOURCES[source] || source; });
    if (sources.length) meta.appendChild(el("span", { "data-testid": "inbox-sources" }, sources.join(", ")));
    var dates = datesText(g);
    if (dates) meta.appendChild(el("span", { "data-testid": "inbox-dates" }, dates));
    if (g.handoffs) {
      meta.appendChild(el("span", { "data-testid": "inbox-handoffs" },
        "Se derivó a un asesor " + (g.handoffs === 1 ? "1 vez" : g.handoffs + " veces")));
    }
    item.appendChild(meta);

    var models = el("dl", { className: "inbox__models" });
    models.appendChild(guessesNode("Entendió entonces", g.guessed, "inbox-guessed", "Sin dato"));
    models.appendChild(guessesNode("Predice ahora", g.predicted, "inbox-predicted",
      g.predicted === null || g.predicted === undefined ? "Sin calcular (solo los primeros 50 grupos)" :
        "El modelo no respondió"));
    if (g.picked && g.picked.length) {
      var picked = el("div");
      picked.appendChild(el("dt", null, g.picked.length === 1 ? "Botón que eligió" : "Botones que eligió"));
      picked.appendChild(el("dd", null, g.picked.join(" · ")));
      models.appendChild(picked);
    }
    item.appendChild(models);

    var offered = suggestions([g]);
    if (offered.length) {
      var quick = el("div", { className: "inbox__quick", role: "group",
        "aria-label": "Asignar «" + g.text + "» a una intención sugerida" });
      quick.appendChild(el("span", { className: "inbox__quick-label", "aria-hidden": "true" }, "Asignar a:"));
      offered.forEach(function (s) {
        var button = el("button", { type: "button", className: "btn btn--small", "data-testid": "inbox-quick",
          "data-intent": s.name }, s.name + " · " + confidenceLabel(s.confidence));
        button.addEventListener("click", function () {
          annotate([g], "intent", s.name).then(function () { $("inbox-all").focus(); });
        });
        quick.appendChild(button);
      });
      item.appendChild(quick);
    }
    return item;
  }

  function renderPicked() {
    var groups = pickedGroups();
    var messages = itemsOf(groups).length;
    setText($("inbox-picked"), groups.length ?
      (groups.length === 1 ? "1 grupo elegido" : groups.length + " grupos elegidos") +
      " (" + plural(messages, "mensaje", "mensajes") + ")" : "Ningún grupo elegido");
    var all = $("inbox-all");
    all.checked = groups.length > 0 && groups.length === wb.groups.length;
    all.indeterminate = groups.length > 0 && groups.length < wb.groups.length;
    all.disabled = !wb.groups.length;
    fillIntents();
  }

  function renderProblems(problems) {
    var list = $("inbox-problems");
    list.textContent = "";
    problems.forEach(function (p) {
      list.appendChild(el("li", null, p.kind === "duplicate" && p.intent ?
        "«" + p.text + "» ya es un ejemplo de «" + p.intent + "»." : "«" + p.text + "»: " + (p.kind || "omitido") + "."));
    });
    $("inbox-problems-box").hidden = !problems.length;
  }

  function setInboxBusy(busy) {
    document.querySelectorAll("#admin-inbox .inbox__bulk button, #admin-inbox .inbox__bulk select, " +
      "#admin-inbox .inbox__quick button").forEach(function (control) { control.disabled = busy; });
    if (!busy) $("inbox-all").disabled = !wb.groups.length;
  }

  function doneText(count, action, intent) {
    var s = count === 1 ? "" : "s";
    var what = {
      intent: "asignado" + s + " a «" + intent + "»",
      out_of_scope: "marcado" + s + " como fuera de alcance",
      spam: "marcado" + s + " como spam",
      dismiss: "descartado" + s
    }[action];
    var text = plural(count, "mensaje", "mensajes") + " " + what + ".";
    if (action === "intent" || action === "out_of_scope") text += " Entrena el modelo para que lo aprenda.";
    return text;
  }

  function annotate(groups, action, intent) {
    showError($("inbox-error"), "");
    showError($("inbox-info"), "");
    renderProblems([]);
    if (!groups.length) {
      showError($("inbox-error"), "Elige al menos un grupo de la bandeja.");
      return Promise.resolve();
    }
    if (action === "intent" && !intent) {
      showError($("inbox-error"), "Elige la intención.");
      $("inbox-intent").focus();
      return Promise.resolve();
    }
    var body = { items: itemsOf(groups), action: action };
    if (action === "intent") body.intent = intent;
    setInboxBusy(true);
    return api("POST", "/api/admin/inbox/annotate", body).then(function (result) {
      groups.forEach(function (g) { delete wb.picked[g.key]; });
      if (action === "intent") $("inbox-intent").value = "";
      showError($("inbox-info"), doneText(result.decided, action, result.intent || intent));
      renderProblems(result.problems || []);
      return Promise.all([loadInbox(), loadIntents()]);
    }).catch(function (error) {
      showError($("inbox-error"), problemText(error));
    }).then(function () { setInboxBusy(false); });
  }

  $("inbox-filters").addEventListener("submit", function (ev) {
    ev.preventDefault();
    window.clearTimeout(wb.inboxTimer);
    loadInbox();
  });
  $("inbox-q").addEventListener("input", function () {
    window.clearTimeout(wb.inboxTimer);
    wb.inboxTimer = window.setTimeout(loadInbox, INBOX_DEBOUNCE_MS);
  });
  ["inbox-status", "inbox-channel", "inbox-source", "inbox-days"].forEach(function (id) {
    $(id).addEventListener("change", function () {
      wb.picked = {};
      showError($("inbox-info"), "");
      renderProblems([]);
      loadInbox();
    });
  });
  $("inbox-personal").addEventListener("change", loadInbox);
  $("inbox-all").addEventListener("change", function () {
    var on = $("inbox-all").checked;
    wb.picked = {};
    if (on) wb.groups.forEach(function (g) { wb.picked[g.key] = true; });
    document.querySelectorAll("#inbox-groups [data-testid=inbox-group]").forEach(function (item) {
      item.classList.toggle("is-picked", on);
      item.querySelector("input[type=checkbox]").checked = on;
    });
    renderPicked();
  });
  $("inbox-assign").addEventListener("submit", function (ev) {
    ev.preventDefault();
    annotate(pickedGroups(), "intent", $("inbox-intent").value);
  });
  document.querySelectorAll("[data-inbox-action]").forEach(function (button) {
    button.addEventListener("click", function () { annotate(pickedGroups(), button.dataset.inboxAction); });
  });

  function openNewIntent() {
    $("new-intent-form").hidden = false;
    $("inbox-new").setAttribute("aria-expanded", "true");
    showError($("new-intent-error"), "");
    $("ni-intent").focus();
  }

  function closeNewIntent(focusButton) {
    $("new-intent-form").hidden = true;
    $("inbox-new").setAttribute("aria-expanded", "false");
    showError($("new-intent-error"), "");
    if (focusButton) $("inbox-new").focus();
  }

  $("inbox-new").addEventListener("click", function () {
    if ($("new-intent-form").hidden) openNewIntent();
    else closeNewIntent(true);
  });
  $("new-intent-cancel").addEventListener("click", function () { closeNewIntent(true); });
  $("new-intent-form").addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") { ev.preventDefault(); closeNewIntent(true); }
  });

  $("new-intent-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var box = $("new-intent-error");
    var groups = pickedGroups();
    var body = {
      items: itemsOf(groups),
      intent: $("ni-intent").value.trim(),
      title: $("ni-title").value.trim(),
      answer: $("ni-answer").value.trim(),
      source_name: $("ni-source-name").value.trim(),
      source_url: $("ni-source-url").value.trim(),
      extra_examples: $("ni-extra").value.split("\n").map(function (line) { return line.trim(); })
        .filter(function (line) { return line; })
    };
    var problems = [
      [!groups.length, "Elige en la bandeja al menos un grupo: sus mensajes serán los ejemplos.", "inbox-all"],
      [!INTENT_NAME.test(body.intent), FIELD_PROBLEMS.intent, "ni-intent"],
      [!body.title, "Escribe el título del artículo.", "ni-title"],
      [!body.answer, "Escribe el texto de la respuesta.", "ni-answer"],
      [!body.source_name, "Escribe el nombre de la fuente oficial.", "ni-source-name"],
      [!/^https:\/\/[^\s/]+\.[^\s]+$/.test(body.source_url), "La fuente oficial debe ser un enlace https://.", "ni-source-url"],
      [body.extra_examples.length > 200, FIELD_PROBLEMS.extra_examples, "ni-extra"]
    ].filter(function (p) { return p[0]; });
    if (problems.length) {
      showError(box, problems[0][1]);
      $(problems[0][2]).focus();
      return;
    }
    var form = $("new-intent-form");
    setDisabled(form, true);
    showError(box, "");
    showError($("inbox-info"), "");
    renderProblems([]);
    api("POST", "/api/admin/inbox/new-intent", body).then(function (created) {
      groups.forEach(function (g) { delete wb.picked[g.key]; });
      form.reset();
      closeNewIntent(false);
      showError($("inbox-info"), "Intención «" + created.intent + "» creada con " +
        plural(created.examples, "ejemplo", "ejemplos") + " y su artículo (" +
        plural(created.decided, "mensaje asignado", "mensajes asignados") + "). Entrena el modelo para que la aprenda.");
      $("inbox-new").focus();
      return Promise.all([loadInbox(), loadIntents()]);
    }).catch(function (error) {
      showError(box, problemText(error));
      var field = { invalid_intent: "ni-intent", intent_exists: "ni-intent", invalid_source: "ni-source-url",
        empty_answer: "ni-answer", few_examples: "ni-extra" }[error.code];
      if (field) $(field).focus();
    }).then(function () { setDisabled(form, false); });
  });

  // Training.

  function isActive(job) { return !!job && (job.status === "queued" || job.status === "running"); }

  function findJob(id) {
    return wb.jobs.find(function (job) { return job.id === id; }) || null;
  }

  function upsertJob(job) {
    wb.jobs = wb.jobs.filter(function (j) { return j.id !== job.id; }).concat([job]);
    wb.jobs.sort(function (a, b) { return b.id - a.id; });
  }

  function loadJobs() {
    var seq = ++wb.jobsSeq;
    return api("GET", "/api/admin/training").then(function (jobs) {
      if (seq !== wb.jobsSeq) return;  // a training was asked for meanwhile: a newer list follows
      wb.jobs = (jobs || []).slice().sort(function (a, b) { return b.id - a.id; });
      var active = wb.jobs.filter(isActive);
      // The one that runs first: the oldest active job.
      if (active.length && !isActive(findJob(wb.watched))) watch(active[active.length - 1].id);
      renderJobs();
    }).catch(function (error) { if (error.status !== 401) showError($("training-error"), error.message); });
  }

  function watch(id) {
    wb.watched = id;
    schedulePoll();
  }

  function schedulePoll() {
    window.clearTimeout(wb.pollTimer);
    wb.pollTimer = window.setTimeout(pollJob, POLL_MS);
  }

  function pollJob() {
    wb.pollTimer = null;
    var id = wb.watched;
    if (id === null || !isAdmin()) return;
    api("GET", "/api/admin/training/" + id).then(function (job) {
      if (wb.watched !== id) return;
      upsertJob(job);
      renderJobs();
      if (wb.logId === id && !$("training-log-box").hidden) loadLog(id, false);
      if (isActive(job)) schedulePoll();
      else jobEnded(job);
    }).catch(function (error) {
      if (error.status !== 401 && wb.watched === id) schedulePoll();  // a hiccup: try again
    });
  }

  function jobEnded(job) {
    if (job.status === "succeeded") {
      var text = "Entrenamiento n.º " + job.id + " listo" +
        (job.model_id ? ": modelo n.º " + job.model_id + " evaluado. Revisa su evaluación en «Modelos» antes de desplegarlo." : ".");
      showError($("training-error"), "");
      showError($("training-info"), text);
      announce(text);
    } else {
      var failed = "El entrenamiento n.º " + job.id + " falló" + (job.error ? ": " + job.error : "") + ". Revisa su registro.";
      showError($("training-info"), "");
      showError($("training-error"), failed);
    }
    if (wb.pane === "models") loadModels();
    loadJobs();
  }

  function updateStartButton() {
    var busy = wb.jobs.some(isActive);
    $("training-start").disabled = busy;
    $("training-busy").hidden = !busy;
    if (busy) $("training-start").setAttribute("aria-describedby", "training-busy");
    else $("training-start").removeAttribute("aria-describedby");
  }

  function progressText(job) {
    var p = job.progress || {};
    var stage = job.stage || "";
    var trained = p.expected ? p.steps + " de " + plural(p.expected, "componente", "componentes") : "";
    if (job.status === "queued") return "Espera su turno: empieza cuando termine el entrenamiento anterior.";
    if (job.status === "failed") return (trained ? trained + " · " : "") + "Falló" + (job.error ? ": " + job.error : "") + ".";
    if (job.status === "succeeded") {
      return (trained ? trained + " · " : "") + (typeof p.seconds === "number" ? "duró " + secondsText(p.seconds) : "terminado") +
        (job.model_id ? " · modelo n.º " + job.model_id : "");
    }
    if (stage.indexOf("evaluando") === 0) return (trained ? trained + " entrenados · " : "") + "evaluando con ejemplos de prueba…";
    if (!p.expected) return "Revisando los datos de entrenamiento…";
    var text = trained + (p.component ? " · último: " + p.component : "");
    if (!p.steps) return text + " · calculando el tiempo que falta…";
    return text + " · " + (p.seconds_left > 0 ? "quedan unos " + secondsText(p.seconds_left) : "casi listo");
  }

  function renderCurrent() {
    var job = findJob(wb.watched) || wb.jobs[0] || null;
    var box = $("training-current");
    box.hidden = !job;
    if (!job) return;
    box.dataset.status = job.status;
    box.dataset.jobId = String(job.id);
    if (job.model_id) box.dataset.modelId = String(job.model_id);
    else delete box.dataset.modelId;
    setText($("training-current-title"), "Entrenamiento n.º " + job.id + " · " + (JOB_STATES[job.status] || job.status));
    setText($("training-stage"), "Etapa: " + (job.stage || "—"));
    var p = job.progress || {};
    var bar = $("training-progress");
    if (p.expected && job.status !== "queued") {
      bar.max = p.expected;
      bar.value = Math.min(p.steps || 0, p.expected);
      bar.hidden = false;
    } else if (isActive(job)) {
      bar.removeAttribute("value");  // indeterminate
      bar.hidden = false;
    } else {
      bar.hidden = true;
    }
    setText($("training-progress-text"), progressText(job));
    $("training-open-model").hidden = !job.model_id;
  }

  function renderJobs() {
    var body = $("training-jobs");
    body.textContent = "";
    wb.jobs.forEach(function (job) {
      var row = el("tr", { "data-testid": "training-row", "data-job-id": String(job.id), "data-status": job.status });
      row.appendChild(el("th", { scope: "row" }, "n.º " + job.id));
      row.appendChild(el("td", null, job.requested_by));
      row.appendChild(el("td", null, dateTime(job.requested_at)));
      var state = (JOB_STATES[job.status] || job.status) + (job.status === "running" && job.stage ? ": " + job.stage : "");
      row.appendChild(el("td", { className: "job-state job-state--" + job.status, "data-testid": "training-row-status" }, state));
      var p = job.progress || {};
      var took = typeof p.seconds === "number" ? secondsText(p.seconds) :
        job.started_at && job.finished_at ? secondsText((Date.parse(job.finished_at) - Date.parse(job.started_at)) / 1000) : "—";
      row.appendChild(el("td", null, took));
      var modelCell = el("td");
      if (job.model_id) {
        var open = el("button", { type: "button", className: "btn btn--link",
          "aria-label": "Ver la evaluación del modelo n.º " + job.model_id }, "n.º " + job.model_id);
        open.addEventListener("click", function () { openModelPane(job.model_id); });
        modelCell.appendChild(open);
      } else {
        modelCell.textContent = "—";
      }
      row.appendChild(modelCell);
      var logCell = el("td");
      var log = el("button", { type: "button", className: "btn", "data-testid": "training-log-open",
        "aria-label": "Ver registro del entrenamiento n.º " + job.id }, "Ver registro");
      log.addEventListener("click", function () { showLog(job.id); });
      logCell.appendChild(log);
      row.appendChild(logCell);
      body.appendChild(row);
    });
    if (!wb.jobs.length) {
      var none = el("tr");
      none.appendChild(el("td", { colspan: "7", className: "empty" }, "Todavía no se pidió ningún entrenamiento."));
      body.appendChild(none);
    }
    renderCurrent();
    updateStartButton();
  }

  function fetchText(path) {
    return fetch(path, { credentials: "same-origin", headers: { Accept: "text/plain" } }).then(function (res) {
      if (res.ok) return res.text();
      return res.json().catch(function () { return null; }).then(function (data) {
        if (res.status === 401 && state.me) sessionEnded();
        throw new ApiError(res.status, data);
      });
    }, function () { throw new ApiError(0, null); });
  }

  function loadLog(id, first) {
    var pre = $("training-log");
    return fetchText("/api/admin/training/" + id + "/log").then(function (text) {
      if (wb.logId !== id) return;
      var atEnd = first || pre.scrollHeight - pre.scrollTop - pre.clientHeight < 40;
      if (pre.textContent !== text) pre.textContent = text || "(El registro está vacío).";
      if (atEnd) pre.scrollTop = pre.scrollHeight;
    }).catch(function (error) {
      if (wb.logId === id && first) pre.textContent = error.message;
    });
  }

  function showLog(id) {
    wb.logId = id;
    var path = "/api/admin/training/" + id + "/log";
    $("training-log-box").hidden = false;
    $("training-log-title").textContent = "Registro del entrenamiento n.º " + id;
    $("training-log-link").href = path;
    $("training-log").textContent = "Cargando el registro…";
    $("training-log-title").focus();
    return loadLog(id, true);
  }

  $("training-log-close").addEventListener("click", function () {
    var id = wb.logId;
    wb.logId = null;
    $("training-log-box").hidden = true;
    $("training-log").textContent = "";
    var button = document.querySelector('#training-jobs tr[data-job-id="' + id + '"] [data-testid=training-log-open]');
    if (button) button.focus();
  });

  $("training-start").addEventListener("click", function () {
    var button = $("training-start");
    button.disabled = true;
    showError($("training-error"), "");
    showError($("training-info"), "");
    wb.jobsSeq++;
    // The list of models also registers the model Rasa has loaded: the new one is compared with it.
    loadLiveModel().then(function () {
      return api("POST", "/api/admin/training");
    }).then(function (job) {
      upsertJob(job);
      wb.watched = job.id;
      renderJobs();
      showError($("training-info"), "Entrenamiento n.º " + job.id + " pedido. El modelo en uso sigue respondiendo; aquí verás el avance.");
      schedulePoll();
    }).catch(function (error) {
      showError($("training-error"), problemText(error));
      return loadJobs();
    }).then(updateStartButton);
  });

  function loadLiveModel() {
    return api("GET", "/api/admin/models").then(function (models) {
      wb.models = (models || []).slice().sort(function (a, b) { return b.id - a.id; });
      var live = wb.models.find(function (m) { return m.status === "live"; });
      $("training-live").textContent = live ?
        "Modelo en uso: n.º " + live.id + (typeof live.macro_f1 === "number" ? " (macro-F1 " + decimal(live.macro_f1, 3) + ")" : "") +
        ". El modelo nuevo se evaluará frente a él." :
        "Todavía no hay un modelo en uso registrado: el modelo nuevo se evaluará solo.";
    }).catch(function (error) { if (error.status !== 401) $("training-live").textContent = ""; });
  }

  $("training-open-model").addEventListener("click", function () {
    var id = Number($("training-current").dataset.modelId);
    if (id) openModelPane(id);
  });

  // Models.

  function openModelPane(id) {
    wb.modelId = id;
    wb.detail = null;
    showAdminPane("models", true);
  }

  function loadModels() {
    return api("GET", "/api/admin/models").then(function (models) {
      wb.models = (models || []).slice().sort(function (a, b) { return b.id - a.id; });
      renderModels();
      if (wb.modelId === null && wb.models.length) return openModel(wb.models[0].id, false);
      if (wb.modelId !== null) return wb.detail && wb.detail.id === wb.modelId ? refreshModel() : openModel(wb.modelId, true);
    }).catch(function (error) { if (error.status !== 401) showError($("models-error"), error.message); });
  }

  function conversationsText(passed) {
    return passed === true ? "Pasaron" : passed === false ? "Fallaron" : "—";
  }

  function renderModels() {
    var body = $("models");
    body.textContent = "";
    wb.models.forEach(function (m) {
      var row = el("tr", { "data-testid": "model-row", "data-model-id": String(m.id), "data-status": m.status,
        className: (m.status === "live" ? "is-live" : "") + (m.id === wb.modelId ? " is-selected" : "") });
      var name = el("th", { scope: "row", title: m.file }, "n.º " + m.id);
      row.appendChild(name);
      row.appendChild(el("td", null, dateTime(m.created_at)));
      row.appendChild(el("td", null, m.created_by || "—"));
      row.appendChild(el("td", null, decimal(m.macro_f1, 3)));
      row.appendChild(el("td", null, percentText(m.accuracy)));
      row.appendChild(el("td", null, conversationsText(m.conversations_passed)));
      var status = el("td", { "data-testid": "model-status" });
      if (m.status === "live") {
        status.appendChild(el("span", { className: "pill pill--live" }, "En uso"));
        if (m.deployed_at) status.appendChild(el("span", { className: "hint" }, " desde " + dateTime(m.deployed_at)));
      } else {
        status.textContent = MODEL_STATES[m.status] || m.status;
      }
      row.appendChild(status);
      var actions = el("td");
      var view = el("button", { type: "button", className: "btn", "data-testid": "model-open",
        "aria-label": "Ver evaluación del modelo n.º " + m.id,
        "aria-pressed": m.id === wb.modelId ? "true" : "false" }, "Ver evaluación");
      view.addEventListener("click", function () { openModel(m.id, true); });
      actions.appendChild(view);
      row.appendChild(actions);
      body.appendChild(row);
    });
    if (!wb.models.length) {
      var none = el("tr");
      none.appendChild(el("td", { colspan: "8", className: "empty" }, "Todavía no hay modelos registrados."));
      body.appendChild(none);
    }
  }

  function openModel(id, focus) {
    wb.modelId = id;
    wb.overriding = false;
    $("override-reason").value = "";
    $("per-intent-all").checked = false;
    showError($("deploy-error"), "");
    showError($("deploy-info"), "");
    renderModels();
    return refreshModel().then(function () {
      if (focus && wb.detail && wb.detail.id === id) $("model-title").focus();
    });
  }

  function refreshModel() {
    var id = wb.modelId;
    if (id === null) return Promise.resolve();
    return api("GET", "/api/admin/models/" + id).then(function (detail) {
      if (wb.modelId !== id) return;
      wb.detail = detail;
      renderModel();
    }).catch(function (error) {
      if (wb.modelId !== id || error.status === 401) return;
      showError($("models-error"), error.message);
      if (error.status === 404) { wb.modelId = null; wb.detail = null; $("model-detail").hidden = true; }
    });
  }

  function verdictText(m, c) {
    if (!c || !c.macro_f1) return "Sin comparación: este modelo no se evaluó frente a otro modelo en uso.";
    if (c.verdict === "first") {
      return "Primer modelo evaluado: macro-F1 " + decimal(c.macro_f1.new, 3) + " (no había otro modelo en uso con qué compararlo).";
    }
    return (VERDICTS[c.verdict] || c.verdict) + ": macro-F1 " + decimal(c.macro_f1.new, 3) + " frente a " +
      decimal(c.macro_f1.live, 3) + " (diferencia " + signed(c.macro_f1.delta) + ").";
  }

  function renderModel() {
    var m = wb.detail;
    var c = m.comparison || null;
    var detail = $("model-detail");
    detail.hidden = false;
    detail.dataset.modelId = String(m.id);
    detail.dataset.status = m.status;
    $("model-title").textContent = "Evaluación del modelo n.º " + m.id + (m.status === "live" ? " (en uso)" : "");
    var meta = "Archivo " + m.file + " · creado el " + dateTime(m.created_at) + " por " + (m.created_by || "—");
    if (m.data_hash) meta += " · datos " + String(m.data_hash).slice(0, 12);
    if (m.deployed_at) meta += " · desplegado el " + dateTime(m.deployed_at) + (m.deployed_by ? " por " + m.deployed_by : "");
    $("model-meta").textContent = meta;

    var verdict = $("model-verdict");
    verdict.textContent = verdictText(m, c);
    verdict.dataset.verdict = c && c.verdict ? c.verdict : "none";
    $("model-verdict-note").textContent = c && c.verdict && c.verdict !== "first" ?
      "Comparado con el modelo que estaba en uso cuando se entrenó, con los mismos ejemplos de prueba." : "";

    var accuracy = c && c.accuracy ? c.accuracy : null;
    $("model-accuracy").textContent = accuracy && typeof accuracy.live === "number" ?
      "Exactitud: " + percentText(accuracy.new) + " frente a " + percentText(accuracy.live) + " del modelo en uso." :
      "Exactitud: " + percentText(accuracy ? accuracy.new : m.accuracy) + ".";
    var passed = c && typeof c.conversations_passed === "boolean" ? c.conversations_passed : m.conversations_passed;
    var conversations = $("model-conversations");
    conversations.textContent = passed === true ? "Conversaciones de prueba: todas pasaron." :
      passed === false ? "Conversaciones de prueba: alguna falló. Revisa el registro del entrenamiento antes de desplegarlo." :
        "Conversaciones de prueba: sin resultado.";
    conversations.dataset.passed = passed === true ? "true" : passed === false ? "false" : "unknown";
    conversations.className = passed === true ? "ok" : passed === false ? "bad" : "";

    renderDeploy();
    renderPerIntent();
    renderChanged();

    var figure = $("confusion");
    figure.hidden = !m.has_confusion_matrix;
    var img = $("confusion-img");
    if (m.has_confusion_matrix) {
      var src = "/api/admin/models/" + m.id + "/confusion.png";
      if (img.getAttribute("src") !== src) img.setAttribute("src", src);
      img.alt = "Matriz de confusión del modelo n.º " + m.id + ": intenciones esperadas frente a las predichas.";
      $("confusion-link").href = src;
    } else {
      img.removeAttribute("src");
      img.alt = "";
    }
  }

  function renderDeploy() {
    var m = wb.detail;
    var live = m.status === "live";
    $("deploy-button").hidden = live;
    $("deploy-live").hidden = !live;
    $("override-box").hidden = live || !wb.overriding;
    $("deploy-button").textContent = wb.overriding ? "Desplegar de todos modos" : "Desplegar";
  }

  function perIntentRows() {
    var m = wb.detail;
    var c = m.comparison || {};
    if (c.per_intent && c.per_intent.length) return { compared: true, rows: c.per_intent };
    var own = m.per_intent || {};
    return {
      compared: false,
      rows: Object.keys(own).sort().map(function (name) {
        return { intent: name, "new": own[name], live: {}, delta_f1: null };
      })
    };
  }

  function renderPerIntent() {
    var found = perIntentRows();
    var changed = found.rows.filter(function (r) { return typeof r.delta_f1 === "number" && r.delta_f1 !== 0; })
      .sort(function (a, b) { return Math.abs(b.delta_f1) - Math.abs(a.delta_f1); });
    var rest = found.rows.filter(function (r) { return changed.indexOf(r) < 0; });
    var toggle = $("per-intent-all");
    toggle.parentNode.hidden = !found.compared || !rest.length;
    var all = !found.compared || toggle.checked;
    var rows = all ? changed.concat(rest) : changed;
    $("per-intent-note").textContent = !found.rows.length ? "Sin datos por intención." :
      !found.compared ? "Sin modelo en uso con qué comparar: se muestran las " + found.rows.length + " intenciones." :
        changed.length ? plural(changed.length, "intención cambió", "intenciones cambiaron") + " su F1 (de " +
          found.rows.length + ")" + (all ? "; debajo, las demás." : ". Marca «Mostrar todas» para ver las demás.") :
          "Ninguna intención cambió su F1.";
    var body = $("per-intent");
    body.textContent = "";
    rows.forEach(function (r) {
      var n = r["new"] || {};
      var old = r.live || {};
      var row = el("tr", { "data-testid": "per-intent-row", "data-intent": r.intent });
      row.appendChild(el("th", { scope: "row" }, r.intent));
      row.appendChild(el("td", null, decimal(n.f1, 3)));
      row.appendChild(el("td", null, decimal(old.f1, 3)));
      var delta = el("td", { className: typeof r.delta_f1 === "number" && r.delta_f1 > 0 ? "up" :
        typeof r.delta_f1 === "number" && r.delta_f1 < 0 ? "down" : "" }, signed(r.delta_f1));
      row.appendChild(delta);
      row.appendChild(el("td", null, decimal(n.precision, 3)));
      row.appendChild(el("td", null, decimal(n.recall, 3)));
      row.appendChild(el("td", null, typeof n.support === "number" ? String(n.support) : "—"));
      body.appendChild(row);
    });
  }

  $("per-intent-all").addEventListener("change", function () { if (wb.detail) renderPerIntent(); });

  function predictionCell(predicted, expected) {
    var right = predicted === expected;
    var cell = el("td", { className: right ? "ok" : "bad" });
    cell.appendChild(el("code", null, predicted || "—"));
    cell.appendChild(el("span", { className: "visually-hidden" }, right ? " (correcta)" : " (incorrecta)"));
    cell.appendChild(el("span", { className: "mark", "aria-hidden": "true" }, right ? " ✓" : " ✗"));
    return cell;
  }

  function renderChanged() {
    var c = wb.detail.comparison || null;
    var changed = (c && c.changed) || [];
    var body = $("changed");
    body.textContent = "";
    changed.slice(0, CHANGED_SHOWN).forEach(function (x) {
      var row = el("tr", { "data-testid": "changed-row" });
      row.appendChild(el("td", { className: "changed__text" }, x.text));
      var expected = el("td");
      expected.appendChild(el("code", null, x.expected));
      row.appendChild(expected);
      row.appendChild(predictionCell(x.live, x.expected));
      row.appendChild(predictionCell(x["new"], x.expected));
      body.appendChild(row);
    });
    $("changed-note").textContent = !c || c.verdict === "first" ? "Sin modelo en uso con qué comparar." :
      !changed.length ? "Ningún ejemplo de prueba cambió de predicción." :
        changed.length > CHANGED_SHOWN ? "Se muestran " + CHANGED_SHOWN + " de " + changed.length + " ejemplos." :
          plural(changed.length, "ejemplo cambió", "ejemplos cambiaron") + " de predicción.";
  }

  $("deploy-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var m = wb.detail;
    if (!m || m.status === "live") return;
    var body = {};
    if (wb.overriding) {
      var reason = $("override-reason").value.trim();
      if (!reason) {
        showError($("deploy-error"), "Escribe el motivo para desplegar este modelo aunque la evaluación lo desaconseje.");
        $("override-reason").focus();
        return;
      }
      body.override_reason = reason;
    }
    var id = m.id;
    var button = $("deploy-button");
    button.disabled = true;
    showError($("deploy-error"), "");
    showError($("models-info"), "");
    showError($("deploy-info"), "Desplegando el modelo n.º " + id + "… el modelo en uso sigue respondiendo mientras tanto.");
    api("POST", "/api/admin/models/" + id + "/deploy", body).then(function (live) {
      wb.overriding = false;
      $("override-reason").value = "";
      showError($("deploy-info"), "Modelo n.º " + live.id + " desplegado: ya responde a los ciudadanos.");
      return loadModels();
    }).catch(function (error) {
      showError($("deploy-info"), "");
      if (error.status === 409 && (error.code === "worse" || error.code === "not_evaluated")) {
        wb.overriding = true;
        if (wb.detail && wb.detail.id === id) renderDeploy();
        showError($("deploy-error"), error.message);
        $("override-reason").focus();
      } else {
        showError($("deploy-error"), problemText(error));
      }
    }).then(function () { button.disabled = false; });
  });

  $("models-rollback").addEventListener("click", function () {
    var button = $("models-rollback");
    button.disabled = true;
    showError($("models-error"), "");
    showError($("deploy-error"), "");
    showError($("deploy-info"), "");
    showError($("models-info"), "Volviendo al modelo anterior… el modelo en uso sigue respondiendo mientras tanto.");
    api("POST", "/api/admin/models/rollback").then(function (live) {
      showError($("models-info"), "Se volvió al modelo n.º " + live.id + " (" + live.file + "): ya responde a los ciudadanos.");
      return loadModels();
    }).catch(function (error) {
      showError($("models-info"), "");
      showError($("models-error"), problemText(error));
    }).then(function () { button.disabled = false; });
  });

  // --- the knowledge base: articles, previews, versions; the project as a zip -------------------

  // The limits an article's file must keep (bot/knowledge/articles.py); the API accepts longer texts
  // but the file would be refused.
  var ARTICLE_LIMITS = { title: 40, answer: 1000, button: 20, payload: 200, source: 120, url: 300 };
  var ARTICLE_BUTTONS = 3;
  var PREVIEW_DEBOUNCE_MS = 700;
  var UPLOAD_MAX_BYTES = 10 * 1024 * 1024;
  var PREVIEW_CHANNELS = ["webchat", "messenger", "whatsapp"];
  var SAVED_TEXT = "Guardado: ya está en uso (sin reentrenar)";
  var ARTICLE_FIELDS = {
    id: "Código", title: "Título", answer: "Respuesta", buttons: "Botones", source: "Fuente",
    "source.name": "Nombre de la fuente", "source.url": "Enlace de la fuente", reviewed: "Fecha de revisión",
    tags: "Etiquetas", templates: "Plantillas", variants: "Versiones por canal"
  };
  var VARIANT_LABELS = { webchat: "Web", messenger: "Messenger", whatsapp: "WhatsApp", twilio: "WhatsApp (Twilio)" };

  var kb = {
    articles: [], loaded: false, listSeq: 0,
    article: null, openSeq: 0, saving: false, discard: null, conflict: null, conflictSeq: 0,
    previewSeq: 0, previewTimer: null,
    versionSeq: 0, versionId: null
  };

  function plainText(text) {
    return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function limaToday() {
    try {
      return new Intl.DateTimeFormat("en-CA", { timeZone: "America/Lima", year: "numeric", month: "2-digit", day: "2-digit" })
        .format(new Date());
    } catch (e) {
      return new Date().toISOString().slice(0, 10);
    }
  }

  function dayText(iso) {
    var parts = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
    return parts ? parts[3] + "/" + parts[2] + "/" + parts[1] : (iso || "—");
  }

  function safeUrl(url) {
    return /^https?:\/\//i.test(url || "") ? url : null;
  }

  function hostOf(url) {
    try { return new URL(url).hostname; } catch (e) { return url; }
  }

  // A field of an article in words: "buttons[0].payload" → "Botón 1: acción".
  function articleFieldLabel(field) {
    var button = /^buttons[.[](\d+)\]?\.(title|payload)$/.exec(field);
    if (button) return "Botón " + (Number(button[1]) + 1) + (button[2] === "title" ? ": texto" : ": acción");
    var variant = /^variants\.(\w+)$/.exec(field);
    if (variant) return "Versión para " + (VARIANT_LABELS[variant[1]] || variant[1]);
    var template = /^templates\.(.+)$/.exec(field);
    if (template) return "Plantilla «" + template[1] + "»";
    return ARTICLE_FIELDS[field] || field;
  }

  function problemWhat(what) {
    var m;
    if (what === "must be a non-empty string") return "no puede estar vacío";
    if ((m = /^(\d+) characters, at most (\d+)$/.exec(what))) return "tiene " + m[1] + " caracteres; el máximo es " + m[2];
    if (what === "must be an https:// URL") return "debe ser un enlace https://";
    if (what === "must be '/<intent>'") return "debe ser «/» seguido de la intención, ej.: /ruc_inscripcion_dni";
    if ((m = /^(\S+) is in the future$/.exec(what))) return "la fecha " + dayText(m[1]) + " está en el futuro";
    if (what === "must be a date (YYYY-MM-DD)") return "debe ser una fecha válida";
    if ((m = /^(\d+) buttons, at most (\d+)$/.exec(what))) return m[1] + " botones; el máximo es " + m[2];
    if (what === "is missing") return "falta";
    if (what === "must name the official source") return "escribe el nombre de la fuente oficial";
    return what;
  }

  // A problem the server found in an article ("<file>: field 'x': what"), in Spanish; the
  // file's name is kept only when asked (the articles of a zip), never the server's own path.
  function articleProblem(text, keepFile) {
    var m = /^(.*?): field '([^']+)': (.*)$/.exec(String(text || ""));
    if (!m) return String(text || "");
    var line = articleFieldLabel(m[2]) + ": " + problemWhat(m[3]);
    return keepFile ? m[1] + ": " + line : line;
  }

  // A 422 of the request's shape (fields the API checks before the article is validated).
  function articleRequestProblems(error) {
    var texts = [];
    error.details.forEach(function (d) {
      var field = String((d && d.field) || "");
      var text;
      if (field.indexOf("source.url") === 0) text = "El enlace de la fuente debe empezar con https:// (hasta 300 caracteres).";
      else if (field.indexOf("source") === 0) text = "Escribe el nombre de la fuente oficial (hasta 120 caracteres).";
      else if (field.indexOf("reviewed") === 0) text = "La fecha de revisión no es una fecha válida.";
      else if (field.indexOf("buttons") === 0) text = "Cada botón necesita su texto y su acción (hasta 3 botones).";
      else if (field.indexOf("title") === 0) text = "Escribe el título del artículo.";
      else if (field.indexOf("answer") === 0) text = "Escribe el texto de la respuesta.";
      else if (field.indexOf("variants") === 0) text = "Las versiones por canal deben ser textos.";
      else text = (d && d.problem) ? field + ": " + d.problem : "";
      if (text && texts.indexOf(text) < 0) texts.push(text);
    });
    return texts;
  }

  function showList(box, list, items) {
    list.textContent = "";
    items.forEach(function (text) { list.appendChild(el("li", null, text)); });
    box.hidden = !items.length;
  }

  // The list.

  function loadArticles() {
    var seq = ++kb.listSeq;
    var body = $("articles");
    body.setAttribute("aria-busy", "true");
    if (!kb.loaded) setText($("articles-summary"), "Cargando los artículos…");
    return api("GET", "/api/admin/articles").then(function (articles) {
      if (seq !== kb.listSeq) return;
      kb.articles = (articles || []).slice();
      kb.loaded = true;
      showError($("articles-error"), "");
      renderArticles();
    }).catch(function (error) {
      if (seq !== kb.listSeq) return;
      setText($("articles-summary"), "");
      if (error.status !== 401) showError($("articles-error"), problemText(error));
    }).then(function () {
      if (seq === kb.listSeq) body.removeAttribute("aria-busy");
    });
  }

  function shownArticles() {
    var q = plainText($("articles-q").value.trim());
    var overdueOnly = $("articles-overdue").checked;
    return kb.articles.filter(function (a) {
      if (overdueOnly && !a.overdue) return false;
      return !q || plainText(a.title).indexOf(q) >= 0 || plainText(a.id).indexOf(q) >= 0;
    });
  }

  function renderArticles() {
    var body = $("articles");
    var shown = shownArticles();
    var overdue = kb.articles.filter(function (a) { return a.overdue; }).length;
    body.textContent = "";
    shown.forEach(function (a) {
      var open = kb.article && kb.article.id === a.id;
      var row = el("tr", { "data-testid": "article-row", "data-article-id": a.id,
        "data-overdue": a.overdue ? "true" : "false" });
      if (a.overdue) row.classList.add("is-overdue");
      if (open) row.classList.add("is-selected");
      var head = el("th", { scope: "row" });
      var button = el("button", { type: "button", className: "btn btn--link article__open", "data-testid": "article-open" }, a.title);
      if (open) button.setAttribute("aria-current", "true");
      button.addEventListener("click", function () { requestArticle(a.id); });
      head.appendChild(button);
      row.appendChild(head);
      row.appendChild(el("td", { className: "article__id" }, a.id));
      row.appendChild(el("td", null, dayText(a.reviewed)));
      var stateCell = el("td");
      stateCell.appendChild(a.overdue ?
        el("span", { className: "pill pill--overdue", "data-testid": "article-overdue" }, "⚠ Revisión vencida") :
        el("span", { className: "article__ok" }, "Al día"));
      row.appendChild(stateCell);
      var sourceCell = el("td");
      var url = safeUrl(a.source);
      if (url) {
        var link = el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, hostOf(url));
        link.appendChild(el("span", { className: "visually-hidden" }, " (se abre en otra pestaña)"));
        sourceCell.appendChild(link);
      } else {
        sourceCell.textContent = a.source || "—";
      }
      row.appendChild(sourceCell);
      body.appendChild(row);
    });
    $("articles-empty").hidden = !kb.loaded || shown.length > 0;
    var total = kb.articles.length;
    var text = (shown.length === total ? plural(total, "artículo", "artículos") :
      "Mostrando " + shown.length + " de " + plural(total, "artículo", "artículos")) +
      " · " + (overdue === 1 ? "1 con la revisión vencida" : overdue + " con la revisión vencida");
    setText($("articles-summary"), kb.loaded ? text : "");
  }

  $("articles-filters").addEventListener("submit", function (ev) { ev.preventDefault(); renderArticles(); });
  $("articles-q").addEventListener("input", renderArticles);
  $("articles-overdue").addEventListener("change", renderArticles);

  // The editor.

  function buttonInputs(n) {
    return { title: $("art-button-title-" + n), payload: $("art-button-payload-" + n) };
  }

  function clearArticleMessages() {
    showError($("article-error"), "");
    showError($("article-info"), "");
    showList($("article-problems-box"), $("article-problems"), []);
    document.querySelectorAll("#article-form [aria-invalid]").forEach(function (field) {
      field.removeAttribute("aria-invalid");
    });
  }

  function unsaved() {
    return !!kb.article && !$("article-editor").hidden && Object.keys(articleChanges(kb.article)).length > 0;
  }

  // Leaving an article with unsaved changes takes a second click (no dialogs): the first warns.
  function mayLeave(target, box) {
    if (!unsaved() || kb.discard === target) {
      kb.discard = null;
      return true;
    }
    kb.discard = target;
    showError(box, target === "close" ?
      "Hay cambios sin guardar en «" + kb.article.title + "». Pulsa «Cerrar» otra vez para descartarlos." :
      "Hay cambios sin guardar en «" + kb.article.title + "». Guárdalos, o vuelve a elegir el artículo para descartarlos.");
    return false;
  }

  function requestArticle(id) {
    if (kb.article && kb.article.id === id && !$("article-editor").hidden) {
      $("article-title").focus();
      return;
    }
    if (mayLeave(id, $("articles-error"))) openArticle(id);
  }

  function openArticle(id) {
    var seq = ++kb.openSeq;
    kb.discard = null;
    showError($("articles-error"), "");
    return api("GET", "/api/admin/articles/" + encodeURIComponent(id)).then(function (article) {
      if (seq !== kb.openSeq) return;
      kb.article = article;
      clearArticleMessages();
      hideConflict();
      hideVersion(false);
      fillArticle(article);
      $("article-editor").hidden = false;
      renderArticles();
      $("article-title").focus();
      $("article-editor").scrollIntoView({ block: "start" });
      refreshPreview();
    }).catch(function (error) {
      if (seq === kb.openSeq && error.status !== 401) showError($("articles-error"), problemText(error));
    });
  }

  function fillArticle(a) {
    setText($("article-title"), "Editar: " + a.title);
    var meta = "Código: " + a.id + " · Revisado el " + dayText(a.reviewed) +
      (a.overdue ? " · ⚠ Revisión vencida: compruébalo con la fuente y actualiza la fecha." : "");
    setText($("article-meta"), meta);
    $("article-meta").classList.toggle("is-overdue", !!a.overdue);
    $("art-title").value = a.title || "";
    $("art-answer").value = a.answer || "";
    for (var n = 1; n <= ARTICLE_BUTTONS; n++) {
      var b = (a.buttons || [])[n - 1] || { title: "", payload: "" };
      buttonInputs(n).title.value = b.title || "";
      buttonInputs(n).payload.value = b.payload || "";
    }
    $("art-source-name").value = (a.source && a.source.name) || "";
    $("art-source-url").value = (a.source && a.source.url) || "";
    $("art-reviewed").value = a.reviewed || "";
    $("art-reviewed").max = limaToday();
    var variants = a.variants || {};
    $("art-variant-messenger").value = variants.messenger || "";
    $("art-variant-whatsapp").value = variants.whatsapp || "";
    $("art-variants").open = !!(variants.messenger || variants.whatsapp);
    var others = Object.keys(variants).filter(function (c) { return c !== "messenger" && c !== "whatsapp"; });
    var notes = [];
    if (others.length) {
      notes.push("También tiene versión para " + others.map(function (c) { return VARIANT_LABELS[c] || c; }).join(", ") +
        " (se conserva; se edita en el archivo).");
    }
    if ((a.templates || []).length) {
      notes.push("Plantillas que completa el asistente: " + a.templates.join(", ") + " (se editan en el archivo).");
    }
    $("art-templates").textContent = notes.join(" ");
    $("art-templates").hidden = !notes.length;
    answerCount();
    renderVersions(a);
  }

  function answerCount() {
    var length = $("art-answer").value.trim().length;
    var box = $("art-answer-count");
    setText(box, length + " de " + ARTICLE_LIMITS.answer + " caracteres");
    box.classList.toggle("bad", length > ARTICLE_LIMITS.answer);
  }

  function formButtons() {
    var buttons = [];
    for (var n = 1; n <= ARTICLE_BUTTONS; n++) {
      var inputs = buttonInputs(n);
      buttons.push({ n: n, title: inputs.title.value.trim(), payload: inputs.payload.value.trim() });
    }
    return buttons;
  }

  function completeButtons() {
    return formButtons().filter(function (b) { return b.title && b.payload; })
      .map(function (b) { return { title: b.title, payload: b.payload }; });
  }

  // The fields of the form, checked; [problem text, field id] of the first problem if any.
  function checkArticle() {
    var title = $("art-title").value.trim();
    var answer = $("art-answer").value.trim();
    var problems = [
      [!title, "Escribe el título del artículo.", "art-title"],
      [title.length > ARTICLE_LIMITS.title, "El título puede tener hasta " + ARTICLE_LIMITS.title + " caracteres.", "art-title"],
      [!answer, "Escribe el texto de la respuesta.", "art-answer"],
      [answer.length > ARTICLE_LIMITS.answer, "La respuesta puede tener hasta " + ARTICLE_LIMITS.answer + " caracteres.", "art-answer"]
    ];
    formButtons().forEach(function (b) {
      var inputs = buttonInputs(b.n);
      problems.push([b.payload && !b.title, "Escribe el texto del botón " + b.n + ".", inputs.title.id]);
      problems.push([b.title && !b.payload, "Escribe la acción del botón " + b.n + " (ej.: /ruc_inscripcion_dni).", inputs.payload.id]);
      problems.push([b.title.length > ARTICLE_LIMITS.button, "El texto del botón " + b.n + " puede tener hasta " +
        ARTICLE_LIMITS.button + " caracteres.", inputs.title.id]);
      problems.push([!!b.payload && !/^\/\S+$/.test(b.payload), "La acción del botón " + b.n +
        " debe ser «/» seguido de la intención, sin espacios (ej.: /ruc_inscripcion_dni).", inputs.payload.id]);
    });
    var url = $("art-source-url").value.trim();
    problems.push([!$("art-source-name").value.trim(), "Escribe el nombre de la fuente oficial.", "art-source-name"]);
    problems.push([!/^https:\/\/\S+$/.test(url),
      "El enlace de la fuente debe empezar con https:// (la página oficial, con conexión segura).", "art-source-url"]);
    problems.push([!/^\d{4}-\d{2}-\d{2}$/.test($("art-reviewed").value), "Elige la fecha de revisión.", "art-reviewed"]);
    [["messenger", "Messenger"], ["whatsapp", "WhatsApp"]].forEach(function (pair) {
      problems.push([$("art-variant-" + pair[0]).value.trim().length > ARTICLE_LIMITS.answer, "La versión para " + pair[1] +
        " puede tener hasta " + ARTICLE_LIMITS.answer + " caracteres.", "art-variant-" + pair[0]]);
    });
    var found = problems.filter(function (p) { return p[0]; });
    return found.length ? [found[0][1], found[0][2]] : null;
  }

  // What changed against the article as loaded: the body of the PUT.
  function articleChanges(a) {
    var body = {};
    var title = $("art-title").value.trim();
    if (title !== a.title) body.title = title;
    var answer = $("art-answer").value.trim();
    if (answer !== String(a.answer || "").trim()) body.answer = answer;
    var buttons = completeButtons();
    var before = (a.buttons || []).map(function (b) { return { title: b.title, payload: b.payload }; });
    if (JSON.stringify(buttons) !== JSON.stringify(before)) body.buttons = buttons;
    var source = { name: $("art-source-name").value.trim(), url: $("art-source-url").value.trim() };
    if (!a.source || source.name !== a.source.name || source.url !== a.source.url) body.source = source;
    var reviewed = $("art-reviewed").value;
    if (reviewed !== a.reviewed) body.reviewed = reviewed;
    var variants = {};
    var old = a.variants || {};
    Object.keys(old).forEach(function (channel) { variants[channel] = old[channel]; });  // others are kept
    var changed = false;
    ["messenger", "whatsapp"].forEach(function (channel) {
      var text = $("art-variant-" + channel).value.trim();
      if (text !== String(old[channel] || "").trim()) changed = true;
      if (text) variants[channel] = text;
      else delete variants[channel];
    });
    if (changed) body.variants = variants;
    return body;
  }

  $("article-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var a = kb.article;
    if (!a || kb.saving) return;
    clearArticleMessages();
    var problem = checkArticle();
    if (problem) {
      showError($("article-error"), problem[0]);
      $(problem[1]).setAttribute("aria-invalid", "true");
      if (problem[1].indexOf("art-variant-") === 0) $("art-variants").open = true;
      $(problem[1]).focus();
      return;
    }
    var body = articleChanges(a);
    if (!Object.keys(body).length) {
      showError($("article-info"), "No hay cambios que guardar.");
      return;
    }
    var id = a.id;
    var form = $("article-form");
    var mine = formText();
    body.version = a.version;  // the version this edit was made on: an older one is a 409
    kb.saving = true;
    setDisabled(form, true);
    api("PUT", "/api/admin/articles/" + encodeURIComponent(id), body).then(function (saved) {
      if (!kb.article || kb.article.id !== id) return;
      kb.article = saved;
      hideConflict();
      fillArticle(saved);
      showError($("article-info"), SAVED_TEXT);
      refreshPreview();
      return loadArticles();
    }).catch(function (error) {
      if (error.status === 401) return;
      if (error.code === "stale_version") return showConflict(id, mine, error);
      var problems = error.problems.map(function (p) { return articleProblem(p, false); });
      if (error.code === "invalid_request") problems = articleRequestProblems(error);
      showError($("article-error"), error.code === "invalid_request" ?
        "El artículo no tiene el formato esperado: nada se cambió." : problemText(error));
      showList($("article-problems-box"), $("article-problems"), problems);
    }).then(function () {
      kb.saving = false;
      setDisabled(form, false);
    });
  });

  // Someone else saved (or an upload changed the article) since it was opened: nothing was
  // written. Both texts are shown; the admin loads the current one or keeps theirs to merge.

  function articleText(title, answer) {
    return "Título: " + (title || "") + "\n\n" + String(answer || "").trim();
  }

  function formText() {
    return articleText($("art-title").value.trim(), $("art-answer").value);
  }

  function showConflict(id, mine, error) {
    var seq = ++kb.conflictSeq;
    return api("GET", "/api/admin/articles/" + encodeURIComponent(id)).then(function (current) {
      if (seq !== kb.conflictSeq || !kb.article || kb.article.id !== id) return;
      kb.conflict = current;
      $("article-conflict-current").textContent = articleText(current.title, current.answer);
      $("article-conflict-mine").textContent = mine;
      $("article-conflict-actions").hidden = false;
      $("article-conflict").hidden = false;
      showError($("article-error"), error.message);
      $("article-conflict-title").focus();
    }).catch(function (failed) {
      if (seq === kb.conflictSeq && failed.status !== 401) showError($("article-error"), problemText(failed));
    });
  }

  function hideConflict() {
    kb.conflictSeq++;
    kb.conflict = null;
    $("article-conflict").hidden = true;
    $("article-conflict-current").textContent = "";
    $("article-conflict-mine").textContent = "";
  }

  $("article-conflict-reload").addEventListener("click", function () {
    var current = kb.conflict;
    if (!current) return;
    kb.article = current;
    kb.discard = null;
    clearArticleMessages();
    hideConflict();
    fillArticle(current);
    refreshPreview();
    showError($("article-info"), "Se cargó el texto actual; tus cambios se descartaron.");
    $("art-answer").focus();
  });

  $("article-conflict-keep").addEventListener("click", function () {
    var current = kb.conflict;
    if (!current) return;
    // The form keeps the admin's text; the next save is made on the current version. The
    // current text stays in sight to copy from.
    kb.article = current;
    renderVersions(current);
    $("article-conflict-actions").hidden = true;
    clearArticleMessages();
    showError($("article-info"), "Combina en el formulario lo que quieras conservar del texto actual y " +
      "pulsa «Guardar cambios»: se guardará sobre la versión actual.");
    $("art-answer").focus();
  });

  function closeArticle() {
    var id = kb.article && kb.article.id;
    kb.openSeq++;
    kb.previewSeq++;
    window.clearTimeout(kb.previewTimer);
    kb.article = null;
    hideVersion(false);
    hideConflict();
    clearArticleMessages();
    $("article-editor").hidden = true;
    renderArticles();
    var row = id && document.querySelector('#articles tr[data-article-id="' + id + '"] [data-testid=article-open]');
    if (row) row.focus();
    else $("articles-q").focus();
  }

  $("article-close").addEventListener("click", function () {
    if (mayLeave("close", $("article-error"))) closeArticle();
  });
  $("art-answer").addEventListener("input", answerCount);

  // The preview per channel.

  function schedulePreview() {
    window.clearTimeout(kb.previewTimer);
    kb.previewTimer = window.setTimeout(refreshPreview, PREVIEW_DEBOUNCE_MS);
  }

  function clearPreview() {
    PREVIEW_CHANNELS.forEach(function (channel) {
      $("preview-" + channel).textContent = "";
      $("preview-" + channel + "-warnings").textContent = "";
      $("preview-" + channel + "-limits").textContent = "";
    });
  }

  function refreshPreview() {
    window.clearTimeout(kb.previewTimer);
    if (!kb.article) return Promise.resolve();
    var seq = ++kb.previewSeq;
    var answer = $("art-answer").value.trim();
    if (!answer) {
      clearPreview();
      setText($("preview-status"), "Escribe la respuesta para ver la vista previa.");
      return Promise.resolve();
    }
    var buttons = completeButtons().filter(function (b) { return b.title.length <= 80 && b.payload.length <= 200; })
      .slice(0, ARTICLE_BUTTONS);
    setText($("preview-status"), "Actualizando la vista previa…");
    return api("POST", "/api/admin/articles/preview", { answer: answer.slice(0, 4000), buttons: buttons }).then(function (shown) {
      if (seq !== kb.previewSeq) return;
      renderPreview(shown || {});
      setText($("preview-status"), "Vista previa actualizada.");
    }).catch(function (error) {
      if (seq !== kb.previewSeq) return;
      setText($("preview-status"), "No se pudo mostrar la vista previa: " + problemText(error));
    });
  }

  // One message as the citizen sees it: its text and the titles of its buttons.
  function bubble(text, buttons, note) {
    var node = el("div", { className: "preview__msg", "data-testid": "preview-message" });
    if (note) node.appendChild(el("p", { className: "preview__note" }, note));
    if (text) node.appendChild(el("p", { className: "preview__text" }, text));
    var titles = (buttons || []).filter(function (t) { return t; });
    if (titles.length) {
      var list = el("ul", { className: "preview__chips", "aria-label": "Botones" });
      titles.forEach(function (title) { list.appendChild(el("li", { className: "preview__chip" }, title)); });
      node.appendChild(list);
    }
    return node;
  }

  function webchatBubble(m) {
    return bubble(m.text, (m.buttons || []).map(function (b) { return b && b.title; }));
  }

  function messengerBubble(m) {
    if (m.attachment) {
      var attachment = m.attachment;
      var payload = attachment.payload || {};
      if (attachment.type === "template") {
        return bubble(payload.text, (payload.buttons || []).map(function (b) { return b && b.title; }));
      }
      if (attachment.type === "image") return bubble("", [], "[Imagen]");
      return bubble("", [], "[" + (attachment.type || "Adjunto") + "]");
    }
    return bubble(m.text, (m.quick_replies || []).map(function (q) { return q && q.title; }));
  }

  function whatsappBubble(m) {
    if (m.type === "text") return bubble(m.text && m.text.body, []);
    if (m.type === "interactive") {
      var interactive = m.interactive || {};
      var action = interactive.action || {};
      var text = interactive.body && interactive.body.text;
      if (action.buttons) {
        return bubble(text, action.buttons.map(function (b) { return b && b.reply && b.reply.title; }));
      }
      var rows = [];
      (action.sections || []).forEach(function (section) {
        (section.rows || []).forEach(function (row) { rows.push(row && row.title); });
      });
      return bubble(text, rows, action.button ? "Lista «" + action.button + "»:" : null);
    }
    if (m.type === "image") return bubble("", [], "[Imagen]");
    return bubble("", [], "[" + (m.type || "Mensaje") + "]");
  }

  function renderPreview(shown) {
    var channels = shown.channels || {};
    var warnings = shown.warnings || {};
    var limits = shown.limits || {};
    var render = { webchat: webchatBubble, messenger: messengerBubble, whatsapp: whatsappBubble };
    PREVIEW_CHANNELS.forEach(function (channel) {
      var box = $("preview-" + channel);
      box.textContent = "";
      (channels[channel] || []).forEach(function (m) { if (m) box.appendChild(render[channel](m)); });
      var limit = limits[channel];
      $("preview-" + channel + "-limits").textContent = limit ?
        "Límites: " + limit.text + " caracteres por mensaje, " + limit.buttons + " botones de hasta " +
        limit.button_title + " caracteres." : "";
      var list = $("preview-" + channel + "-warnings");
      list.textContent = "";
      var found = warnings[channel] || [];
      found.forEach(function (w) { list.appendChild(el("li", { className: "preview__warning" }, "⚠ Aviso: " + w)); });
      if (!found.length) list.appendChild(el("li", { className: "preview__fine" }, "Sin avisos: cabe en los límites."));
    });
  }

  $("article-preview").addEventListener("click", refreshPreview);
  $("article-form").addEventListener("input", function (ev) {
    var id = ev.target && ev.target.id;
    if (id === "art-answer" || /^art-button-/.test(id || "")) schedulePreview();
    if (ev.target && ev.target.hasAttribute("aria-invalid")) ev.target.removeAttribute("aria-invalid");
    kb.discard = null;
  });

  // Versions.

  function renderVersions(a) {
    var list = $("article-versions");
    var versions = a.versions || [];
    list.textContent = "";
    versions.forEach(function (v) {
      var item = el("li", { className: "admin__item", "data-testid": "article-version", "data-version-id": String(v.id) });
      var when = dateTime(v.at) || v.at;
      item.appendChild(el("span", { className: "admin__item-label" }, when + " · " + v.author));
      var button = el("button", { type: "button", className: "btn btn--small",
        "aria-label": "Ver la versión del " + when + " (" + v.author + ")" }, "Ver");
      button.addEventListener("click", function () { showVersion(a.id, v, when); });
      item.appendChild(button);
      list.appendChild(item);
    });
    $("article-versions-empty").hidden = versions.length > 0;
  }

  function showVersion(articleId, v, when) {
    var seq = ++kb.versionSeq;
    kb.versionId = v.id;
    $("article-version-box").hidden = false;
    setText($("article-version-title"), "Versión guardada el " + when + " por " + v.author + " (como era antes del cambio)");
    $("article-version-text").textContent = "Cargando la versión…";
    $("article-version-title").focus();
    return fetchText("/api/admin/articles/" + encodeURIComponent(articleId) + "/versions/" + encodeURIComponent(v.id))
      .then(function (text) {
        if (seq === kb.versionSeq) $("article-version-text").textContent = text;
      }).catch(function (error) {
        if (seq === kb.versionSeq) $("article-version-text").textContent = error.message;
      });
  }

  function hideVersion(focus) {
    var id = kb.versionId;
    kb.versionSeq++;
    kb.versionId = null;
    $("article-version-box").hidden = true;
    $("article-version-text").textContent = "";
    if (focus) {
      var button = document.querySelector('#article-versions [data-version-id="' + id + '"] button');
      if (button) button.focus();
    }
  }

  $("article-version-close").addEventListener("click", function () { hideVersion(true); });

  // The project as a zip.

  function projectMessages() {
    showError($("project-error"), "");
    showList($("project-problems-box"), $("project-problems"), []);
    $("project-info").hidden = true;
    $("project-info-text").textContent = "";
    $("project-written").textContent = "";
  }

  $("project-download").addEventListener("click", function (ev) {
    // Fetched first, so an error (an ended session) is shown instead of saved as the file.
    ev.preventDefault();
    var link = $("project-download");
    if (link.getAttribute("aria-disabled") === "true") return;
    link.setAttribute("aria-disabled", "true");
    projectMessages();
    fetch(link.getAttribute("href"), { credentials: "same-origin" }).then(function (res) {
      if (!res.ok) return jsonResult(res, link.getAttribute("href"));
      return res.blob().then(function (blob) {
        var url = URL.createObjectURL(blob);
        var save = el("a", { href: url, download: "asistente-datos.zip", hidden: "" });
        document.body.appendChild(save);
        save.click();
        save.remove();
        window.setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
      });
    }, function () { throw new ApiError(0, null); }).catch(function (error) {
      if (error.status !== 401) showError($("project-error"), problemText(error));
    }).then(function () { link.removeAttribute("aria-disabled"); });
  });

  $("project-upload-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    projectMessages();
    var input = $("project-file");
    var file = input.files && input.files[0];
    if (!file) {
      showError($("project-error"), "Elige el archivo .zip que quieres subir.");
      input.focus();
      return;
    }
    if (file.size > UPLOAD_MAX_BYTES) {
      showError($("project-error"), "El archivo pasa de 10 MB: no se puede subir.");
      input.focus();
      return;
    }
    var form = $("project-upload-form");
    setDisabled(form, true);
    $("project-info-text").textContent = "Revisando y subiendo «" + file.name + "»…";
    $("project-info").hidden = false;
    var path = "/api/admin/project.zip";
    fetch(path, {
      method: "PUT",
      credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/zip", "X-CSRF-Token": state.csrf },
      body: file
    }).then(function (res) { return jsonResult(res, path); }, function () { throw new ApiError(0, null); })
      .then(function (result) {
        var written = (result && (result.changed || result.written)) || [];
        var kept = result && result.version;
        $("project-info-text").textContent = plural(written.length, "archivo actualizado", "archivos actualizados") +
          ". Los artículos ya están en uso; para los datos de entrenamiento, entrena un modelo." +
          (kept ? " El proyecto anterior quedó guardado como la versión " + kept.id + " (se puede restaurar)." : "");
        written.forEach(function (name) { $("project-written").appendChild(el("li", null, name)); });
        input.value = "";
        var open = kb.article && kb.article.id;
        return Promise.all([loadArticles(), open ? openArticle(open) : null]);
      }).catch(function (error) {
        if (error.status === 401) return;
        $("project-info").hidden = true;
        $("project-info-text").textContent = "";
        showError($("project-error"), error.status === 413 ? "El archivo es demasiado grande (hasta 10 MB)." :
          problemText(error));
        showList($("project-problems-box"), $("project-problems"),
          error.problems.map(function (p) { return articleProblem(p, true); }));
      }).then(function () { setDisabled(form, false); });
  });

  function resetArticles() {
    window.clearTimeout(kb.previewTimer);
    kb.articles = [];
    kb.loaded = false;
    kb.listSeq++;
    kb.article = null;
    kb.openSeq++;
    kb.saving = false;
    kb.discard = null;
    kb.previewSeq++;
    kb.versionSeq++;
    kb.versionId = null;
    hideConflict();
    ["articles", "article-versions", "article-version-text"].forEach(function (id) { $(id).textContent = ""; });
    ["articles-filters", "article-form", "project-upload-form"].forEach(function (id) { $(id).reset(); });
    ["articles-error", "article-error", "article-info"].forEach(function (id) { showError($(id), ""); });
    ["article-editor", "article-version-box", "articles-empty"].forEach(function (id) { $(id).hidden = true; });
    $("articles-summary").textContent = "";
    $("preview-status").textContent = "";
    clearPreview();
    clearArticleMessages();
    projectMessages();
  }

  // --- start ------------------------------------------------------------------------------------

  api("GET", "/api/auth/me").then(started, function () { showLogin(""); });
})();
