"""The gateway's conversation service: it owns conversation state.

Every inbound message is stored before the engine sees it, the engine's answers are stored
next to it, and when the engine is down the citizen gets a Spanish notice (from the knowledge
base) while the message stays recorded as ``failed``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import Conversation, Message, utcnow
from bot.knowledge import KnowledgeStore
from bot.push import PushHub
from bot.rasa_client import EngineUnavailable, RasaClient
from connectors.base import BotMessage, InboundMessage

logger = logging.getLogger(__name__)

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
        sessions: async_sessionmaker[AsyncSession],
        rasa: RasaClient,
        knowledge: KnowledgeStore,
        push: PushHub,
    ) -> None:
        self._sessions = sessions
        self._rasa = rasa
        self._knowledge = knowledge
        self._push = push

    async def handle(self, inbound: InboundMessage) -> list[BotMessage]:
        """Record the message, ask the engine, record and return the answers."""
        started = time.perf_counter()
        conversation_id, message_id = await self._record_inbound(inbound)

        try:
            replies = await self._rasa.send(
                engine_sender_id(inbound.channel, inbound.sender_id),
                inbound.text,
                {"channel": inbound.channel, **inbound.metadata},
            )
            status = "answered"
        except EngineUnavailable as exc:
            logger.warning("engine unavailable for conversation %s: %s", conversation_id, exc)
            replies = [self._knowledge.current.require(ENGINE_DOWN_ARTICLE).as_bot_message()]
            status = "failed"

        async with self._sessions.begin() as session:
            inbound_record = await session.get(Message, message_id)
            if inbound_record is not None:
                inbound_record.status = status
            for reply in replies:
                session.add(
                    Message(
                        conversation_id=conversation_id,
                        direction="out",
                        text=reply.get("text"),
                        payload=_payload_of(reply),
                        status="sent",
                    )
                )
        logger.info(
            "message handled: channel=%s conversation=%s status=%s replies=%d in %.0f ms",
            inbound.channel,
            conversation_id,
            status,
            len(replies),
            (time.perf_counter() - started) * 1000,
        )
        return replies

    async def _record_inbound(self, inbound: InboundMessage) -> tuple[int, int]:
        # Two first messages of a new sender may race to create its conversation: the loser
        # of the unique constraint retries and finds the winner's row.
        for attempt in range(2):
            try:
                async with self._sessions.begin() as session:
                    conversation = await self._conversation(
                        session, inbound.channel, inbound.sender_id
                    )
                    record = Message(
                        conversation_id=conversation.id,
                        direction="in",
                        text=inbound.text,
                        payload={"metadata": inbound.metadata} if inbound.metadata else None,
                        status="received",
                    )
                    session.add(record)
                    await session.flush()
                    return conversation.id, record.id
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def push(self, channel: str, sender_id: str, messages: list[BotMessage]) -> int:
        """Record bot messages that arrive outside a request and push them to open pages."""
        async with self._sessions.begin() as session:
            conversation = await self._conversation(session, channel, sender_id)
            for message in messages:
                session.add(
                    Message(
                        conversation_id=conversation.id,
                        direction="out",
                        text=message.get("text"),
                        payload=_payload_of(message),
                        status="sent",
                    )
                )
        key = engine_sender_id(channel, sender_id)
        return sum(self._push.publish(key, m) for m in messages)

    async def history(self, channel: str, sender_id: str, limit: int = 200) -> list[HistoryEntry]:
        async with self._sessions() as session:
            conversation = await session.scalar(
                select(Conversation).where(
                    Conversation.channel == channel, Conversation.sender_id == sender_id
                )
            )
            if conversation is None:
                return []
            rows = await session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation.id)
                .order_by(Message.id.desc())
                .limit(limit)
            )
            return [
                HistoryEntry(m.direction, m.text, m.payload, m.created_at)
                for m in reversed(rows.all())
            ]

    @staticmethod
    async def _conversation(session: AsyncSession, channel: str, sender_id: str) -> Conversation:
        conversation = await session.scalar(
            select(Conversation).where(
                Conversation.channel == channel, Conversation.sender_id == sender_id
            )
        )
        if conversation is None:
            conversation = Conversation(channel=channel, sender_id=sender_id)
            session.add(conversation)
            await session.flush()
        else:
            conversation.updated_at = utcnow()
        return conversation


def _payload_of(message: BotMessage) -> dict[str, Any] | None:
    extra = {k: v for k, v in message.items() if k not in ("text", "recipient_id")}
    return extra or None
