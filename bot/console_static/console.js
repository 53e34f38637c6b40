// Agents' console: the REST API under /api/ (bot/console.py) plus live events over the
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
  }

  function api(method, path, body) {
    var options = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (method !== "GET") {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRF-Token"] = state.csrf;
      options.body = JSON.stringify(body || {});
    }
    return fetch(path, options).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (data) {
        if (res.ok) return data;
        var error = new ApiError(res.status, data);
        if (res.status === 401 && state.me && path !== "/api/auth/login") sessionEnded();
        throw error;
      });
    }, function () { throw new ApiError(0, null); });
  }

  // --- signing in and out ----------------------------------------------------------------------

  function showLogin(message, notice) {
    $("desk-view").hidden = true;
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
    $("desk-view").hidden = false;
    $("session-bar").hidden = false;
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
      if (ev.code === 4401) { sessionEnded(); return; }
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

  // --- start ------------------------------------------------------------------------------------

  api("GET", "/api/auth/me").then(started, function () { showLogin(""); });
})();
