"""Human handoff: who owns a conversation, the assistant or people.

One explicit state machine, owned by the gateway and persisted (``bot/handoff/store.py``)::

    BOT ──escalate──▶ PENDING ──claim──▶ AGENT ──close──▶ BOT
     │                 │  ▲                │
     │                 │  └──transfer to a team──┘   (transfer to an agent: AGENT → AGENT)
     │                 └──citizen cancels / supervisor closes──▶ BOT
     └──escalate, out of hours or nobody online──▶ CALLBACK ──request left / cancelled──▶ BOT

The engine asks for a handoff (an action attaches a :class:`bot.contract.HandoffRequest`:
reason, team, intent, confidence); the conversation service (``bot/conversation/service.py``)
hands it to :meth:`HandoffDesk.escalate`, and the desk decides what happens and tells the
citizen (place in the queue, expected wait, office hours, or a callback request). While a
conversation is PENDING, AGENT or CALLBACK the citizen's messages go to the console and never to
Rasa; they are appended to Rasa's tracker so its history stays whole. Every transition is in
the audit log (``bot/accounts/audit.py``).

Requests are limited per conversation (:class:`CitizenLimits`): over the limit the citizen is
told in the chat when to try again, and nothing is queued.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import statistics
from collections.abc import Awaitable, Callable
from typing import Any

from bot.accounts.agents import AgentDirectory, AgentInfo, Role
from bot.accounts.audit import AuditLog
from bot.contract import ASKED, FRUSTRATION, HandoffRequest, engine_sender_id
from bot.conversation.channel import BotMessage, InboundMessage
from bot.conversation.delivery import AGENT_NAME_KEY
from bot.conversation.rasa_client import EngineUnavailable, RasaClient
from bot.handoff.access import may_see
from bot.handoff.hub import ConsoleHub
from bot.handoff.owners import HandoffOwners
from bot.handoff.presence import DeskPresence
from bot.handoff.requests import LIMIT_NOTICES, CitizenLimits, wait_in_words
from bot.handoff.store import OPEN_STATES, Handoff, HandoffStore, State
from bot.handoff.summary import summary
from bot.knowledge.articles import Article, KnowledgeStore
from bot.knowledge.contact import contact_of
from bot.knowledge.handoff_rules import HandoffRules, HandoffRulesStore, OfficeHours
from bot.knowledge.text import fold
from bot.storage.time import utcnow
from bot.web.rate_limits import LimitExceeded, RateLimits

logger = logging.getLogger(__name__)

ARTICLE = "derivacion"
#: Shown when the engine asks for a person and no agent account exists (no desk set up).
NO_DESK_ARTICLE = "pedir_humano"
#: Marks the desk's own notices in stored messages ("Ana te atiende desde ahora").
DESK_NOTICE = "desk"
#: The button that takes a waiting citizen back to the assistant.
CANCEL_PAYLOAD = "/seguir_con_asistente"
MAX_TEXT_CHARS = 4096
#: Closed this way when the citizen goes back to the assistant, or leaves a callback request.
CANCELLED, CALLBACK_LEFT = "cancelado", "callback"


class HandoffError(Exception):
    """A refused desk action: HTTP status, a code for programs, a Spanish message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


#: Sends messages to the citizen of a handoff through their channel (``agent``: written by a
#: person, which Messenger may deliver later than the assistant's answers).
Deliver = Callable[[Handoff, list[BotMessage], bool], Awaitable[None]]


class HandoffDesk(DeskPresence):
    def __init__(
        self,
        store: HandoffStore,
        agents: AgentDirectory,
        knowledge: KnowledgeStore,
        rules: HandoffRulesStore,
        hub: ConsoleHub,
        rasa: RasaClient | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        limits: CitizenLimits | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self.store = store
        #: Every transition, and what agents do, is written here.
        self.audit = audit or AuditLog(store.engine)
        self._limits = limits or CitizenLimits(RateLimits())
        self.agents = agents
        self.hub = hub
        self._knowledge = knowledge
        self._rules = rules
        self._rasa = rasa
        self._clock = clock
        self._deliver: Deliver | None = None
        self._on_close: list[Callable[[Handoff], Awaitable[None]]] = []
        #: Conversations people own now, known by every gateway (bot/handoff/owners.py).
        self._owned = HandoffOwners(store, hub)
        self._track()  # who is at the console (bot/handoff/presence.py)
        self._has_agents = False
        self._tasks: set[asyncio.Task[None]] = set()

    def connect(self, deliver: Deliver) -> None:
        self._deliver = deliver

    def when_closed(self, listener: Callable[[Handoff], Awaitable[None]]) -> None:
        self._on_close.append(listener)

    async def start(self) -> None:
        """Load who owns which conversation (a restart keeps every state) and the teams."""
        await self.store.add_teams(dict(self.rules.desk.teams))
        await self._owned.start()
        self._has_agents = await self.agents.count() > 0
        if self._owned:
            logger.info("handoffs open at start: %d", len(self._owned))
        await self.hub.start()

    async def close(self) -> None:
        await self._owned.close()
        await self.hub.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def rules(self) -> HandoffRules:
        return self._rules.current

    def _article(self) -> Article:
        return self._knowledge.current.require(ARTICLE)

    def _say(self, template: str, buttons: bool = False, **values: str) -> BotMessage:
        article = self._article()
        text = re.sub(r"\n\s*\n", "\n", article.render(template, **values))
        message: BotMessage = {"text": text, DESK_NOTICE: True}
        if buttons:
            message["buttons"] = [
                {"title": article.render("boton_seguir"), "payload": CANCEL_PAYLOAD}
            ]
        return message

    # --- who owns a conversation --------------------------------------------------------------

    def owns(self, conversation_id: int) -> bool:
        """People (not the assistant) own this conversation now: PENDING, AGENT or CALLBACK."""
        return self._owned.owns(conversation_id)

    def agents_changed(self) -> None:
        """An account was created: a handoff can be taken now."""
        self._has_agents = True

    async def office_hours(self) -> OfficeHours:
        stored = await self.store.setting("office_hours")
        desk = self.rules.desk
        if isinstance(stored, dict):
            return OfficeHours.parse(stored, desk.office_hours.timezone)
        return desk.office_hours

    # --- the assistant hands over -------------------------------------------------------------

    async def escalate(
        self, conversation_id: int, channel: str, request: HandoffRequest
    ) -> list[BotMessage]:
        """Open a handoff for the engine's request; what to tell the citizen."""
        if not self._has_agents:  # accounts may have been created since (create-user)
            self._has_agents = await self.agents.count() > 0
        if not self._has_agents:
            # No desk set up: the citizen gets the ways to reach a person.
            if request.reason in (ASKED, FRUSTRATION):
                return [self._knowledge.current.require(NO_DESK_ARTICLE).as_bot_message()]
            return []
        if self.owns(conversation_id):
            return []
        teams = await self.store.teams()
        team = request.team if request.team in teams else self.rules.escalation.default_team
        hours = await self.office_hours()
        now = self._clock()
        available = hours.is_open(now) and bool(await self.online_now())
        state = State.PENDING if available else State.CALLBACK
        refused = await self._over_limit(conversation_id, state)
        if refused is not None:
            return [refused]
        handoff_id = await self.store.open(
            conversation_id, state, request.reason, team, request.intent, request.confidence,
            None if available else {"step": "nombre"}, now,
        )  # fmt: skip
        if handoff_id is None:
            return []
        self._owned.changed(conversation_id, handoff_id, True)
        await self.hub.bus.flush()  # the other gateways know before the citizen is answered
        await self.audit.record(
            "asistente", "escalated", handoff_id, reason=request.reason, team=team,
            intent=request.intent, confidence=request.confidence, state=state.value,
        )  # fmt: skip
        handoff = await self.store.get(handoff_id)
        assert handoff is not None
        self._publish(handoff)
        logger.info(
            "handoff %s opened: conversation=%s reason=%s state=%s",
            handoff_id, conversation_id, request.reason, state.value,
        )  # fmt: skip
        described = hours.describe()
        if not available:
            horario = self._article().render("horario", horario=described) if described else ""
            return [self._say("fuera_de_horario", buttons=True, horario=horario)]
        position = await self.store.queue_position(handoff)
        waits = await self.store.recent_waits()
        espera = ""
        if len(waits) >= 3:
            minutes = max(1, round(statistics.median(waits) / 60))
            espera = self._article().render("espera", minutos=str(minutes))
        horario = self._article().render("horario", horario=described) if described else ""
        return [
            self._say("en_cola", buttons=True, puesto=str(position), espera=espera, horario=horario)
        ]

    async def _over_limit(self, conversation_id: int, state: State) -> BotMessage | None:
        """Count this request; over a limit, what the citizen is told instead (nothing queued)."""
        key = str(conversation_id)
        counter = self._limits.counter
        try:
            await counter.hit(self._limits.handoffs, "handoffs", key)
        except LimitExceeded as over:
            return self._limit_notice("limite_derivaciones", over, conversation_id)
        if state == State.CALLBACK:
            try:
                await counter.hit(self._limits.callbacks, "callbacks", key)
            except LimitExceeded as over:
                return self._limit_notice("limite_callbacks", over, conversation_id)
        return None

    def _limit_notice(self, template: str, over: LimitExceeded, conversation_id: int) -> BotMessage:
        logger.info("handoff refused: conversation=%s over %s", conversation_id, template)
        article = self._article()
        wording = article.templates.get(template) or LIMIT_NOTICES[template]
        return {"text": wording.format(espera=wait_in_words(over.retry_after)), DESK_NOTICE: True}

    # --- the citizen writes while people own the conversation ---------------------------------

    async def take_inbound(self, conversation_id: int, inbound: InboundMessage) -> list[BotMessage]:
        """A citizen's message in a conversation people own (already stored): to the console,
        or the next step of a callback request. The assistant stays silent."""
        handoff_id = self._owned.handoff_of(conversation_id)
        handoff = await self.store.get(handoff_id) if handoff_id is not None else None
        if handoff is None or handoff.state not in OPEN_STATES:
            self._owned.forget(conversation_id)
            return []
        text = inbound.text.strip()
        wants_bot = text == CANCEL_PAYLOAD or fold(text).strip(" .!¡") in self.rules.desk.cancel
        if wants_bot and handoff.state in (State.PENDING, State.CALLBACK):
            if await self._finish(handoff, [State.PENDING, State.CALLBACK], CANCELLED, "ciudadano"):
                return [self._say("cancelado")]
            return []
        if handoff.state == State.CALLBACK:
            return await self._callback_step(handoff, text)
        self._publish(handoff, {"type": "message", "direction": "in", "text": inbound.text})
        self._to_tracker(
            handoff, [_user_event(inbound.text), {"event": "action", "name": "action_listen"}]
        )
        return []

    async def _callback_step(self, handoff: Handoff, text: str) -> list[BotMessage]:
        data = dict(handoff.callback or {"step": "nombre"})
        step = data.get("step")
        if not text:
            return []
        if step == "nombre":
            data.update(step="contacto", nombre=text[:120])
            await self.store.change(handoff.id, [State.CALLBACK], callback=data)
            return [self._say("pide_contacto", buttons=True, nombre=text[:60])]
        if step == "contacto":
            contact = contact_of(text)
            if contact is None:
                return [self._say("contacto_invalido", buttons=True)]
            data.update(step="tema", contacto=contact)
            await self.store.change(handoff.id, [State.CALLBACK], callback=data)
            return [self._say("pide_tema", buttons=True)]
        ticket = await self.store.add_callback(
            handoff.id, str(data.get("nombre", "")), str(data.get("contacto", "")),
            text[:MAX_TEXT_CHARS],
        )  # fmt: skip
        await self._finish(handoff, [State.CALLBACK], CALLBACK_LEFT, "ciudadano", callback=None)
        await self.audit.record("ciudadano", "callback_left", handoff.id, ticket=ticket)
        return [self._say("callback_listo", numero=str(ticket))]

    # --- agents -------------------------------------------------------------------------------

    async def visible(self, handoff_id: int, agent: AgentInfo) -> Handoff:
        """The handoff if ``agent`` may see it (``bot/handoff/access.py``), else 404."""
        handoff = await self.store.get(handoff_id)
        if handoff is None or not may_see(agent, handoff):
            raise HandoffError(404, "not_found", "No existe esa conversación o no es tuya.")
        return handoff

    async def claim(self, handoff_id: int, agent: AgentInfo) -> Handoff:
        handoff = await self.store.get(handoff_id)
        if handoff is None:
            raise HandoffError(404, "not_found", "No existe esa conversación.")
        if handoff.state == State.PENDING and not may_see(agent, handoff):
            raise HandoffError(403, "other_team", "Esta conversación es de otro equipo.")
        if handoff.state == State.CLOSED:
            raise HandoffError(409, "closed", "Esta conversación ya está cerrada.")
        if handoff.state == State.CALLBACK:
            raise HandoffError(
                409, "callback", "Esta persona está dejando sus datos para que la contacten: "
                "aparecerá en «Pedidos de contacto»."
            )  # fmt: skip
        if handoff.state != State.PENDING:
            raise HandoffError(409, "already_claimed", "Otro asesor ya tomó esta conversación.")
        won = await self.store.change(
            handoff_id, [State.PENDING], state=State.AGENT, agent_id=agent.id,
            claimed_at=self._clock(),
        )  # fmt: skip
        if not won:
            raise HandoffError(409, "already_claimed", "Otro asesor ya tomó esta conversación.")
        await self.audit.record(agent.username, "claimed", handoff_id, agent.id)
        claimed = await self.store.get(handoff_id)
        assert claimed is not None
        self._publish(claimed)
        await self._send(claimed, [self._say("asignado", agente=agent.display_name)], False)
        return claimed

    def _holder_or_supervisor(self, handoff: Handoff, agent: AgentInfo) -> None:
        if handoff.state == State.CLOSED:
            raise HandoffError(409, "closed", "Esta conversación ya está cerrada.")
        if agent.may(Role.SUPERVISOR):
            return
        if handoff.state != State.AGENT or handoff.agent_id != agent.id:
            raise HandoffError(403, "not_yours", "Esta conversación la atiende otro asesor.")

    async def reply(self, handoff_id: int, agent: AgentInfo, text: str) -> None:
        text = _text(text)
        handoff = await self.visible(handoff_id, agent)
        if handoff.state == State.CLOSED:
            raise HandoffError(409, "closed", "Esta conversación ya está cerrada.")
        if handoff.state != State.AGENT or handoff.agent_id != agent.id:
            raise HandoffError(
                403, "not_yours", "Solo el asesor que tomó la conversación puede responder."
            )
        await self._send(handoff, [{"text": text, AGENT_NAME_KEY: agent.display_name}], True)
        await self.audit.record(agent.username, "replied", handoff_id, agent.id)
        self._publish(handoff, {"type": "message", "direction": "out", "text": text,
                                "agent": agent.display_name})  # fmt: skip
        self._to_tracker(handoff, [{"event": "bot", "text": text,
                                    "metadata": {"agent": agent.display_name}}])  # fmt: skip

    async def note(self, handoff_id: int, agent: AgentInfo, text: str) -> None:
        text = _text(text)
        handoff = await self.visible(handoff_id, agent)
        if handoff.state != State.PENDING:
            self._holder_or_supervisor(handoff, agent)
        await self.store.add_note(handoff_id, agent.id, text)
        await self.audit.record(agent.username, "noted", handoff_id, agent.id)
        self._publish(handoff, {"type": "note"})

    async def transfer(
        self, handoff_id: int, agent: AgentInfo, to_team: str | None, to_agent: int | None
    ) -> Handoff:
        handoff = await self.visible(handoff_id, agent)
        self._holder_or_supervisor(handoff, agent)
        if (to_team is None) == (to_agent is None):
            raise HandoffError(422, "invalid_transfer", "Elige un equipo o un asesor.")
        if to_team is not None:
            if to_team not in await self.store.teams():
                raise HandoffError(422, "unknown_team", f"No existe el equipo «{to_team}».")
            changed = await self.store.change(
                handoff_id, [handoff.state], state=State.PENDING, team=to_team, agent_id=None,
                claimed_at=None,
            )  # fmt: skip
            detail: dict[str, Any] = {"team": to_team}
        else:
            assert to_agent is not None
            target = await self.agents.get(to_agent)
            if target is None or not target.active:
                raise HandoffError(422, "unknown_agent", "Ese asesor no existe o está inactivo.")
            changed = await self.store.change(
                handoff_id, [handoff.state], state=State.AGENT, agent_id=target.id,
                claimed_at=handoff.claimed_at or self._clock(),
            )  # fmt: skip
            detail = {"agent": target.username}
        if not changed:
            raise HandoffError(409, "changed", "La conversación cambió mientras tanto: recarga.")
        await self.audit.record(agent.username, "transferred", handoff_id, agent.id, **detail)
        moved = await self.store.get(handoff_id)
        assert moved is not None
        self._publish(moved)
        await self._send(moved, [self._say("transferido")], False)
        return moved

    async def close_handoff(self, handoff_id: int, agent: AgentInfo, resolution: str) -> Handoff:
        handoff = await self.visible(handoff_id, agent)
        self._holder_or_supervisor(handoff, agent)
        if resolution not in self.rules.desk.resolutions:
            raise HandoffError(422, "unknown_resolution", "Elige cómo terminó la conversación.")
        if not await self._finish(handoff, [handoff.state], resolution, agent.username, agent.id):
            raise HandoffError(409, "changed", "La conversación cambió mientras tanto: recarga.")
        closed = await self.store.get(handoff_id)
        assert closed is not None
        await self._send(closed, [self._say("cerrado")], False)
        for listener in self._on_close:  # after the citizen was told (the survey); never raise
            await listener(closed)
        return closed

    async def _finish(
        self,
        handoff: Handoff,
        expected: list[State],
        resolution: str,
        actor: str,
        actor_id: int | None = None,
        **values: Any,
    ) -> bool:
        """Close the handoff (the assistant answers again)."""
        changed = await self.store.change(
            handoff.id, expected, state=State.CLOSED, closed_at=self._clock(),
            resolution=resolution, **values,
        )  # fmt: skip
        if not changed:
            return False
        self._owned.changed(handoff.conversation_id, handoff.id, False)
        await self.audit.record(actor, "closed", handoff.id, actor_id, resolution=resolution)
        closed = await self.store.get(handoff.id)
        if closed is not None:
            self._publish(closed)
        return True

    # --- plumbing -----------------------------------------------------------------------------

    async def _send(self, handoff: Handoff, messages: list[BotMessage], agent: bool) -> None:
        if self._deliver is not None:
            await self._deliver(handoff, messages, agent)

    def _publish(self, handoff: Handoff, extra: dict[str, Any] | None = None) -> None:
        event: dict[str, Any] = {"type": "handoff", "handoff": summary(handoff, self._clock())}
        if extra:
            event = {**extra, "handoff_id": handoff.id, "handoff": event["handoff"],
                     "at": self._clock().isoformat()}  # fmt: skip
        self.hub.publish(event, handoff)

    def _to_tracker(self, handoff: Handoff, events: list[dict[str, Any]]) -> None:
        """Append to Rasa's tracker in the background (its history stays whole)."""
        if self._rasa is None:
            return
        rasa = self._rasa
        key = engine_sender_id(handoff.channel, handoff.sender_id)

        async def append() -> None:
            try:
                await rasa.append_events(key, events)
            except EngineUnavailable as exc:
                logger.warning("handoff %s: tracker not updated: %s", handoff.id, exc)

        task = asyncio.create_task(append())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def idle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def _text(text: str) -> str:
    text = text.strip()
    if not text:
        raise HandoffError(422, "empty", "Escribe un mensaje.")
    if len(text) > MAX_TEXT_CHARS:
        raise HandoffError(
            413, "too_long", f"El mensaje es muy largo: máximo {MAX_TEXT_CHARS} caracteres."
        )
    return text


def _user_event(text: str) -> dict[str, Any]:
    return {
        "event": "user",
        "text": text,
        "parse_data": {"intent": {"name": "handoff_message", "confidence": 1.0}, "entities": []},
        "metadata": {"handoff": True},
    }
