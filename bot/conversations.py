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
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.db import Conversation, Message, utcnow
from bot.knowledge import KnowledgeStore
from bot.push import PushHub
from bot.rasa_client import EngineUnavailable, RasaClient
from connectors.base import BotMessage, InboundMessage

logger = logging.getLogger(__name__)

#: Conversations whose row id is kept in memory (least recently used are forgotten).
ID_CACHE_SIZE = 10_000
#: The gateway's own article, shown when the engine cannot answer.
ENGINE_DOWN_ARTICLE = "error_servicio"


@dataclass(frozen=True)
class HistoryEntry:
    direction: str
    text: str | None
    payload: dict[str, Any] | None
    created_at: dt.datetime


def engine_sender_id(channel: str, sender_id: str) -> str:
    """The conversation's id inside Rasa: channel-qualified so channels never collide."""
    return f"{channel}:{sender_id}"


class ConversationService:
    def __init__(
        self,
        engine: AsyncEngine,
        rasa: RasaClient,
        knowledge: KnowledgeStore,
        push: PushHub,
    ) -> None:
        self._engine = engine
        self._rasa = rasa
        self._knowledge = knowledge
        self._push = push
        self._ids: OrderedDict[tuple[str, str], int] = OrderedDict()

    async def handle(self, inbound: InboundMessage) -> list[BotMessage]:
        """Record the message, ask the engine, record and return the answers."""
        started = time.perf_counter()
        conversation_id = await self._conversation_id(inbound.channel, inbound.sender_id)
        async with self._engine.begin() as db:
            message_id = await db.scalar(
                insert(Message)
                .values(
                    conversation_id=conversation_id,
                    direction="in",
                    text=inbound.text,
                    payload={"metadata": inbound.metadata} if inbound.metadata else None,
                    status="received",
                    created_at=utcnow(),
                )
                .returning(Message.id)
            )

        try:
            replies = await self._rasa.send(
                engine_sender_id(inbound.channel, inbound.sender_id),
                inbound.text,
                {**inbound.metadata, "channel": inbound.channel},
            )
            status = "answered"
        except EngineUnavailable as exc:
            logger.warning("engine unavailable for conversation %s: %s", conversation_id, exc)
            replies = [self._knowledge.current.require(ENGINE_DOWN_ARTICLE).as_bot_message()]
            status = "failed"

        async with self._engine.begin() as db:
            await db.execute(update(Message).where(Message.id == message_id).values(status=status))
            await self._record_outbound(db, conversation_id, replies)
        logger.info(
            "message handled: channel=%s conversation=%s status=%s replies=%d in %.0f ms",
            inbound.channel,
            conversation_id,
            status,
            len(replies),
            (time.perf_counter() - started) * 1000,
        )
        return replies

    async def push(self, channel: str, sender_id: str, messages: list[BotMessage]) -> int:
        """Record bot messages that arrive outside a request and push them to open pages."""
        conversation_id = await self._conversation_id(channel, sender_id)
        async with self._engine.begin() as db:
            await self._record_outbound(db, conversation_id, messages)
        key = engine_sender_id(channel, sender_id)
        return sum(self._push.publish(key, m) for m in messages)

    @staticmethod
    async def _record_outbound(
        db: AsyncConnection, conversation_id: int, messages: list[BotMessage]
    ) -> None:
        now = utcnow()
        await db.execute(
            update(Conversation).where(Conversation.id == conversation_id).values(updated_at=now)
        )
        if messages:
            await db.execute(
                insert(Message),
                [
                    {
                        "conversation_id": conversation_id,
                        "direction": "out",
                        "text": m.get("text"),
                        "payload": _payload_of(m),
                        "status": "sent",
                        "created_at": now,
                    }
                    for m in messages
                ],
            )

    async def _conversation_id(self, channel: str, sender_id: str) -> int:
        """The conversation's row id, created on first contact (cached: rows never change id)."""
        key = (channel, sender_id)
        cached = self._ids.get(key)
        if cached is not None:
            self._ids.move_to_end(key)
            return cached
        # Two first messages of a new sender may race to create its conversation: the loser
        # of the unique constraint retries and finds the winner's row.
        for attempt in range(2):
            try:
                async with self._engine.begin() as db:
                    conversation_id = await _find_conversation(db, channel, sender_id)
                    if conversation_id is None:
                        now = utcnow()
                        conversation_id = await db.scalar(
                            insert(Conversation)
                            .values(
                                channel=channel, sender_id=sender_id, created_at=now,
                                updated_at=now,
                            )
                            .returning(Conversation.id)
                        )  # fmt: skip
                break
            except IntegrityError:
                if attempt:
                    raise
        assert conversation_id is not None
        self._ids[key] = conversation_id
        if len(self._ids) > ID_CACHE_SIZE:
            self._ids.popitem(last=False)
        return conversation_id

    async def history(self, channel: str, sender_id: str, limit: int = 200) -> list[HistoryEntry]:
        async with self._engine.connect() as db:
            conversation_id = await _find_conversation(db, channel, sender_id)
            if conversation_id is None:
                return []
            rows = await db.execute(
                select(Message.direction, Message.text, Message.payload, Message.created_at)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.id.desc())
                .limit(limit)
            )
            return [
                HistoryEntry(direction, text, payload, _as_utc(created_at))
                for direction, text, payload, created_at in reversed(rows.all())
            ]


async def _find_conversation(db: AsyncConnection, channel: str, sender_id: str) -> int | None:
    """The row id of the channel's conversation with ``sender_id``, if there is one."""
    conversation_id: int | None = await db.scalar(
        select(Conversation.id).where(
            Conversation.channel == channel, Conversation.sender_id == sender_id
        )
    )
    return conversation_id


def _as_utc(moment: dt.datetime) -> dt.datetime:
    """SQLite hands timestamps back without their zone; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _payload_of(message: BotMessage) -> dict[str, Any] | None:
    extra = {k: v for k, v in message.items() if k not in ("text", "recipient_id")}
    return extra or None
