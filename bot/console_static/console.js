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
    this.details = (body && Array.isArray(body.details)) ? body.details : [];
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
    showSection("desk");
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

  // --- start ------------------------------------------------------------------------------------

  api("GET", "/api/auth/me").then(started, function () { showLogin(""); });
})();
