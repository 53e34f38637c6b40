"""The gateway's conversation service: it owns conversation state.

Every inbound message is stored before the engine sees it, the engine's answers are stored
next to it, and when the engine is down the citizen gets a Spanish notice (from the knowledge
base) while the message stays recorded as ``failed``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from bot.conversation_store import SENT, ConversationStore, HistoryEntry, NewReview, Outbound
from bot.db import utcnow
from bot.handoff import HandoffDesk, take_handoff_request
from bot.knowledge import KnowledgeStore
from bot.push import PushHub
from bot.rasa_client import EngineUnavailable, RasaClient
from connectors.base import BotMessage, InboundMessage

__all__ = ["ConversationService", "HistoryEntry", "engine_sender_id"]

logger = logging.getLogger(__name__)

#: Conversations whose row id is kept in memory (least recently used are forgotten).
ID_CACHE_SIZE = 10_000
#: An inbound message's status when it went to the agents' desk instead of the engine.
TO_PEOPLE = "to_agent"
#: The gateway's own article, shown when the engine cannot answer.
ENGINE_DOWN_ARTICLE = "error_servicio"


def engine_sender_id(channel: str, sender_id: str) -> str:
    """The conversation's id inside Rasa: channel-qualified so channels never collide."""
    return f"{channel}:{sender_id}"


class ConversationService:
    def __init__(
        self,
        store: ConversationStore,
        rasa: RasaClient,
        knowledge: KnowledgeStore,
        push: PushHub,
        session_idle: dt.timedelta = dt.timedelta(hours=1),
        clock: Callable[[], dt.datetime] = utcnow,
        desk: HandoffDesk | None = None,
    ) -> None:
        self._store = store
        #: Owns the conversations handed to people (their messages never reach the engine).
        self._desk = desk
        self._session_idle = session_idle
        self._clock = clock
        #: When each conversation was last active (kept with the id cache).
        self._last_active: dict[int, dt.datetime] = {}
        self._rasa = rasa
        self._knowledge = knowledge
        self._push = push
        self._ids: OrderedDict[tuple[str, str], int] = OrderedDict()
        #: Clarifications waiting for the citizen's next message: conversation → (review
        #: item, offered payloads). Lost on restart: the item then stays without a pick.
        self._open_reviews: dict[int, tuple[int, list[str]]] = {}

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
    ) -> list[BotMessage]:
        """Ask the engine about a recorded message (unless ``replies`` are given), record the
        outcome and the replies (``pending`` ones wait in the outbox) and return them."""
        started = time.perf_counter()
        open_review = self._open_reviews.pop(conversation_id, None)
        if open_review is not None:
            review_id, offered = open_review
            picked = inbound.text if inbound.text in offered else ""
            await self._store.resolve_review(review_id, picked)
        status = "answered"
        desk = self._desk
        if replies is None and desk is not None and desk.owns(conversation_id):
            replies = await desk.take_inbound(conversation_id, inbound)
            await self._store.record_outcome(
                message_id, TO_PEOPLE, conversation_id, [Outbound.of(m) for m in replies],
                reply_status,
            )  # fmt: skip
            self._last_active[conversation_id] = self._clock()
            return replies
        if replies is None:
            await self._expire_idle_session(conversation_id, inbound)
            try:
                replies = await self._rasa.send(
                    engine_sender_id(inbound.channel, inbound.sender_id),
                    inbound.text,
                    {**inbound.metadata, "channel": inbound.channel},
                )
            except EngineUnavailable as exc:
                logger.warning("engine unavailable for conversation %s: %s", conversation_id, exc)
                replies = [self._knowledge.current.require(ENGINE_DOWN_ARTICLE).as_bot_message()]
                status = "failed"

        replies, clarification = _take_clarification(replies)
        replies, handoff = take_handoff_request(replies)
        if handoff is not None and desk is not None:
            replies += await desk.escalate(conversation_id, inbound.channel, handoff)
        await self._store.record_outcome(
            message_id, status, conversation_id, [Outbound.of(m) for m in replies], reply_status
        )
        if clarification is not None:
            intents, offered = clarification
            review = NewReview(conversation_id, message_id, inbound.text, intents, offered)
            self._open_reviews[conversation_id] = (await self._store.record_review(review), offered)
            if len(self._open_reviews) > ID_CACHE_SIZE:
                self._open_reviews.pop(next(iter(self._open_reviews)))
        logger.info(
            "message handled: channel=%s conversation=%s status=%s replies=%d in %.0f ms",
            inbound.channel,
            conversation_id,
            status,
            len(replies),
            (time.perf_counter() - started) * 1000,
        )
        return replies

    async def _expire_idle_session(self, conversation_id: int, inbound: InboundMessage) -> None:
        """After ``session_idle`` without messages, the engine starts the conversation afresh
        (what it remembered, like the RUC, is forgotten). The gateway owns this clock."""
        now = self._clock()
        last = self._last_active.get(conversation_id)
        if last is None:
            last = await self._store.last_activity(conversation_id)
        self._last_active[conversation_id] = now
        if len(self._last_active) > ID_CACHE_SIZE:
            self._last_active.pop(next(iter(self._last_active)))
        if last is None or now - last <= self._session_idle:
            return
        try:
            await self._rasa.start_session(engine_sender_id(inbound.channel, inbound.sender_id))
            logger.info("session expired: conversation=%s idle=%s", conversation_id, now - last)
        except EngineUnavailable as exc:
            logger.warning("could not restart the session of %s: %s", conversation_id, exc)

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


def _take_clarification(
    replies: list[BotMessage],
) -> tuple[list[BotMessage], tuple[list[dict[str, Any]], list[str]] | None]:
    """Take the engine's report of a clarification out of the replies (channels never see it;
    Rasa's REST channel sends it as a message of its own) and return its intents and offered
    payloads."""
    found = None
    kept: list[BotMessage] = []
    for reply in replies:
        custom = reply.get("custom")
        if isinstance(custom, dict) and "clarification" in custom:
            report = custom.pop("clarification")
            if not custom:
                del reply["custom"]
            if isinstance(report, dict):
                intents = [i for i in report.get("intents") or [] if isinstance(i, dict)]
                offered = [str(p) for p in report.get("offered") or [] if isinstance(p, str)]
                found = (intents, offered)
            if not any(key != "recipient_id" for key in reply):
                continue  # nothing left to show
        kept.append(reply)
    return kept, found
