"""The gateway's conversation service: it owns conversation state.

Every inbound message is stored before the engine sees it, the engine's answers are stored
next to it, and when the engine is down the citizen gets a Spanish notice (from the knowledge
base) while the message stays recorded as ``failed``.

What the engine reports besides its answers (``bot/contract.py``: a handoff request, a
clarification, the article answered) is taken out of the replies here. Conversations handed to
people belong to :class:`Escalations` (the agents' desk, ``bot/handoff/``, passed in by the app):
this module knows only the few calls it makes. The services the gateway runs itself (tickets,
event sign-ups, the satisfaction survey: ``bot/conversation/services.py``) take a message before
the engine or add to its answer.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from bot import contract
from bot.contract import Clarification, HandoffRequest, engine_sender_id
from bot.conversation.channel import BotMessage, InboundMessage
from bot.conversation.push import PushHub
from bot.conversation.rasa_client import EngineUnavailable, RasaClient, take_report
from bot.conversation.services import CitizenService, Turn
from bot.conversation.store import SENT, ConversationStore, HistoryEntry, NewReview, Outbound
from bot.knowledge.articles import KnowledgeStore
from bot.storage.time import utcnow

__all__ = ["ConversationService", "Escalations", "HistoryEntry", "engine_sender_id"]

logger = logging.getLogger(__name__)

#: Conversations whose row id is kept in memory (least recently used are forgotten).
ID_CACHE_SIZE = 10_000
#: An inbound message's status when it went to the agents' desk instead of the engine.
TO_PEOPLE = "to_agent"
#: A citizen's rating of an answer (the web chat's 👍/👎, quick replies elsewhere).
RATE_UP, RATE_DOWN = "/valorar_si", "/valorar_no"
#: The article with the rating's wording.
RATING = "valoracion"
#: Web chat messages the page shows 👍/👎 under.
RATEABLE_KEY = "valorar"
#: The gateway's own article, shown when the engine cannot answer.
ENGINE_DOWN_ARTICLE = "error_servicio"


class Escalations(Protocol):
    """Who takes the conversations the engine hands to people (the agents' desk)."""

    def owns(self, conversation_id: int) -> bool:
        """People own this conversation now: its messages go to them, not to the engine."""

    async def take_inbound(self, conversation_id: int, inbound: InboundMessage) -> list[BotMessage]:
        """A citizen's message (already stored) in a conversation people own; the replies."""

    async def escalate(
        self, conversation_id: int, channel: str, request: HandoffRequest
    ) -> list[BotMessage]:
        """The engine asked for a person; what to tell the citizen."""


class ConversationService:
    def __init__(
        self,
        store: ConversationStore,
        rasa: RasaClient,
        knowledge: KnowledgeStore,
        push: PushHub,
        session_idle: dt.timedelta = dt.timedelta(hours=1),
        clock: Callable[[], dt.datetime] = utcnow,
        desk: Escalations | None = None,
        services: tuple[CitizenService, ...] = (),
    ) -> None:
        self._store = store
        #: Asked in this order before the engine, and after it (see ``services.py``).
        self._services = services
        #: Owns the conversations handed to people (their messages never reach the engine).
        self._desk = desk
        self._session_idle = session_idle
        self._clock = clock
        #: When each conversation was last active here: a lower bound of its last activity
        #: (another gateway may have answered it since), enough to know it is not idle; when
        #: it looks idle, the database's ``updated_at`` (every gateway's last write) decides.
        self._last_active: dict[int, dt.datetime] = {}
        self._rasa = rasa
        self._knowledge = knowledge
        self._push = push
        #: Row ids never change: right on every gateway. A clarification waiting for the
        #: citizen's next message and the answer a 👎 rates are read from the database (the
        #: next message may reach another gateway, or come after a restart).
        self._ids: OrderedDict[tuple[str, str], int] = OrderedDict()

    async def handle(self, inbound: InboundMessage) -> list[BotMessage]:
        """Record the message, ask the engine, record and return the answers."""
        conversation_id = await self._conversation_id(inbound.channel, inbound.sender_id)
        message_id = await self._store.record_inbound(
            conversation_id,
            inbound.text,
            {"metadata": inbound.metadata} if inbound.metadata else None,
        )
        return await self.answer(conversation_id, message_id, inbound)

    async def conversation_id(self, channel: str, sender_id: str) -> int:
        return await self._conversation_id(channel, sender_id)

    async def answer(
        self,
        conversation_id: int,
        message_id: int,
        inbound: InboundMessage,
        reply_status: str = SENT,
        replies: list[BotMessage] | None = None,
        notice_when_down: bool = True,
    ) -> list[BotMessage]:
        """Ask the engine about a recorded message (unless ``replies`` are given), record the
        outcome and the replies (``pending`` ones wait in the outbox) and return them.

        When the engine cannot answer, the reply is the Spanish notice and the message is
        recorded as ``failed``; with ``notice_when_down`` False, :class:`EngineUnavailable` is
        raised instead and nothing is recorded (the message waits to be answered later)."""
        started = time.perf_counter()
        status = "answered"
        desk = self._desk
        if replies is None and desk is not None and desk.owns(conversation_id):
            replies = await desk.take_inbound(conversation_id, inbound)
            await self._store.record_outcome(
                message_id,
                TO_PEOPLE,
                conversation_id,
                [Outbound.of(m) for m in replies],
                reply_status,
                citizen_text=inbound.text,
            )
            self._last_active[conversation_id] = self._clock()
            return replies
        if replies is None and inbound.text in (RATE_UP, RATE_DOWN):
            replies = await self._rate(conversation_id, message_id, inbound)
        turn = Turn(conversation_id, message_id, inbound.channel, inbound.sender_id, inbound.text)
        asked_engine = False
        if replies is None:
            for service in self._services:
                replies = await service.take(turn)
                if replies is not None:
                    break
        if replies is None:
            asked_engine = True
            await self._expire_idle_session(conversation_id, inbound)
            try:
                replies = await self._rasa.send(
                    engine_sender_id(inbound.channel, inbound.sender_id),
                    inbound.text,
                    {**inbound.metadata, contract.CHANNEL: inbound.channel},
                )
            except EngineUnavailable as exc:
                logger.warning("engine unavailable for conversation %s: %s", conversation_id, exc)
                if not notice_when_down:
                    raise
                replies = [self._knowledge.current.require(ENGINE_DOWN_ARTICLE).as_bot_message()]
                status = "failed"

        replies, clarification = _take_clarification(replies)
        replies, handoff = _take_handoff_request(replies)
        replies, article = _take_rated_article(replies)
        if article is not None and handoff is None:
            _offer_rating(replies, inbound.channel, self._knowledge.current.require(RATING))
        if handoff is not None and desk is not None:
            replies += await desk.escalate(conversation_id, inbound.channel, handoff)
        elif asked_engine and status != "failed":
            for service in self._services:
                replies += await service.follow(turn, article)
        await self._store.record_outcome(
            message_id,
            status,
            conversation_id,
            [Outbound.of(m) for m in replies],
            reply_status,
            topic=article,
            citizen_text=inbound.text,  # resolves the clarification this message answers
        )
        if clarification is not None:
            intents, offered = clarification
            review = NewReview(conversation_id, message_id, inbound.text, intents, offered)
            await self._store.record_review(review)  # open until the next message
        logger.info(
            "message handled: channel=%s conversation=%s status=%s replies=%d in %.0f ms",
            inbound.channel,
            conversation_id,
            status,
            len(replies),
            (time.perf_counter() - started) * 1000,
        )
        return replies

    async def _rate(
        self, conversation_id: int, message_id: int, inbound: InboundMessage
    ) -> list[BotMessage]:
        """A citizen's 👍/👎 on the last answer; a 👎 goes to the admins' review inbox with the
        question and the article that answered it. Not sent to the engine."""
        article = self._knowledge.current.require(RATING)
        if inbound.text == RATE_UP:
            return [{"text": article.render("gracias_si")}]
        rated = await self._store.rated_question(conversation_id, message_id)
        question_id, question, answered_with = rated or (message_id, "", "")
        intents = [{"name": answered_with, "confidence": 1.0}] if answered_with else []
        await self._store.record_review(
            NewReview(
                conversation_id,
                question_id,
                question or "(respuesta sin pregunta)",
                intents,
                [],
                source="feedback",
            )
        )
        return [{"text": article.render("gracias_no")}]

    async def _expire_idle_session(self, conversation_id: int, inbound: InboundMessage) -> None:
        """After ``session_idle`` without messages, the engine starts the conversation afresh
        (what it remembered, like the RUC, is forgotten). The gateway owns this clock."""
        now = self._clock()
        last = self._last_active.get(conversation_id)
        if last is None or now - last > self._session_idle:
            stored = await self._store.last_activity(conversation_id)
            if stored is not None and (last is None or stored > last):
                last = stored
        if last is not None and now - last > self._session_idle:
            try:
                await self._rasa.start_session(engine_sender_id(inbound.channel, inbound.sender_id))
            except EngineUnavailable as exc:
                # Not marked active: the next attempt restarts the session again first.
                logger.warning("could not restart the session of %s: %s", conversation_id, exc)
                return
            logger.info("session expired: conversation=%s idle=%s", conversation_id, now - last)
        self._last_active[conversation_id] = now
        if len(self._last_active) > ID_CACHE_SIZE:
            self._last_active.pop(next(iter(self._last_active)))

    async def push(self, channel: str, sender_id: str, messages: list[BotMessage]) -> int:
        """Record bot messages that arrive outside a request and push them to open pages."""
        conversation_id = await self._conversation_id(channel, sender_id)
        await self._store.record_outbound(conversation_id, [Outbound.of(m) for m in messages])
        key = engine_sender_id(channel, sender_id)
        return sum(self._push.publish(key, m) for m in messages)

    async def _conversation_id(self, channel: str, sender_id: str) -> int:
        """The conversation's row id, created on first contact (cached: rows never change id)."""
        key = (channel, sender_id)
        cached = self._ids.get(key)
        if cached is not None:
            self._ids.move_to_end(key)
            return cached
        conversation_id = await self._store.open_conversation(channel, sender_id)
        self._ids[key] = conversation_id
        if len(self._ids) > ID_CACHE_SIZE:
            self._ids.popitem(last=False)
        return conversation_id

    async def history(self, channel: str, sender_id: str, limit: int = 200) -> list[HistoryEntry]:
        conversation_id = self._ids.get((channel, sender_id))
        if conversation_id is None:
            conversation_id = await self._store.find_conversation(channel, sender_id)
        if conversation_id is None:
            return []
        return await self._store.history(conversation_id, limit)


def _take_handoff_request(
    replies: list[BotMessage],
) -> tuple[list[BotMessage], HandoffRequest | None]:
    """The engine's request for a person, taken out of the replies (channels never see it)."""
    replies, raw = take_report(replies, contract.HANDOFF)
    return replies, HandoffRequest.read(raw)


def _take_clarification(
    replies: list[BotMessage],
) -> tuple[list[BotMessage], tuple[list[dict[str, Any]], list[str]] | None]:
    """The engine's report of a clarification: the intents it guessed and what it offered."""
    replies, raw = take_report(replies, contract.CLARIFICATION)
    report = Clarification.read(raw)
    return replies, (report.intents, report.offered) if report is not None else None


def _take_rated_article(replies: list[BotMessage]) -> tuple[list[BotMessage], str | None]:
    """The article an answer came from (the engine marks answers that can be rated)."""
    replies, article = take_report(replies, contract.ARTICLE)
    return replies, article if isinstance(article, str) else None


def _offer_rating(replies: list[BotMessage], channel: str, article: Any) -> None:
    """Mark the answer for the web chat's 👍/👎, or add them as quick replies elsewhere (when
    the platform still has room for two more buttons)."""
    answer = next((r for r in reversed(replies) if r.get("text")), None)
    if answer is None:
        return
    if channel == "webchat":
        custom = answer.get("custom")
        answer["custom"] = {**(custom if isinstance(custom, dict) else {}), RATEABLE_KEY: True}
        return
    buttons = list(answer.get("buttons") or [])
    if len(buttons) + 2 > 3:
        return
    answer["buttons"] = [
        *buttons,
        {"title": article.render("boton_si"), "payload": RATE_UP},
        {"title": article.render("boton_no"), "payload": RATE_DOWN},
    ]
