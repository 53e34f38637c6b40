"""Where conversations and their messages are kept: the interface, and what it stores.

- :class:`ConversationStore` (here): what the gateway asks of a store, and the rows it gets back
  (:class:`HistoryEntry`, :class:`Pending`, :class:`Review`, …).
- :mod:`bot.conversation.store_queries`: every query, written once in SQLAlchemy Core for both
  databases (the dialects differ only in ``INSERT … ON CONFLICT DO NOTHING``).
- :mod:`bot.conversation.store_sqlite` (embedded default): one writer thread owns the SQLite
  connection and commits whatever accumulated while the previous commit ran in one transaction
  (group commit). A caller's ``await`` returns only after its own write is committed, so "stored
  before the engine sees it" holds, at a fraction of the cost of a transaction per message.
- :mod:`bot.conversation.store_sql` (scale path, PostgreSQL through asyncpg): an ``AsyncEngine``,
  one transaction per write.

The schema is the Alembic one (:mod:`bot.storage.tables`); both stores read what the other wrote.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bot.conversation.channel import BotMessage
from bot.storage.database import create_engine, migrate


@dataclass(frozen=True)
class HistoryEntry:
    direction: str
    text: str | None
    payload: dict[str, Any] | None
    created_at: dt.datetime


@dataclass(frozen=True)
class Outbound:
    """A bot message as stored: its text and everything else (buttons, image, custom)."""

    text: str | None
    payload: dict[str, Any] | None

    @classmethod
    def of(cls, message: BotMessage) -> Outbound:
        extra = {k: v for k, v in message.items() if k not in ("text", "recipient_id")}
        return cls(message.get("text"), extra or None)


@dataclass(frozen=True)
class Pending:
    """An inbound message acknowledged but not answered yet, or a reply not sent yet."""

    message_id: int
    conversation_id: int
    channel: str
    sender_id: str
    text: str | None
    payload: dict[str, Any] | None
    attempts: int
    created_at: dt.datetime
    next_attempt_at: dt.datetime | None = None
    #: An inbound message's platform id ("whatsapp:wamid…"): acknowledged with it.
    platform_id: str | None = None


#: Outbound statuses of messages sent through a platform.
PENDING, SENT, DELIVERED, READ, FAILED, NOT_SENT = (
    "pending", "sent", "delivered", "read", "failed", "not_sent",
)  # fmt: skip


@dataclass(frozen=True)
class NewReview:
    conversation_id: int
    message_id: int
    text: str
    intents: list[dict[str, Any]]
    offered: list[str]
    #: ``clarification`` or ``feedback`` (a citizen's 👎 on an answer).
    source: str = field(default="clarification", kw_only=True)


@dataclass(frozen=True)
class Review(NewReview):
    id: int
    picked: str | None
    created_at: dt.datetime


class ConversationStore(ABC):
    @abstractmethod
    async def find_conversation(self, channel: str, sender_id: str) -> int | None:
        """The row id of the channel's conversation with ``sender_id``, if there is one."""

    @abstractmethod
    async def open_conversation(self, channel: str, sender_id: str) -> int:
        """The conversation's row id, created on first contact (safe under concurrency)."""

    @abstractmethod
    async def accept_inbound(
        self,
        conversation_id: int,
        text: str,
        payload: dict[str, Any] | None,
        platform_id: str | None,
    ) -> int | None:
        """Store a message as ``received`` unless its platform id was seen before (a
        redelivery: None). Committed when this returns: the platform may get its 200."""

    async def record_inbound(
        self, conversation_id: int, text: str, payload: dict[str, Any] | None
    ) -> int:
        """Store a message without a platform id (the web chat); return its id once
        committed."""
        message_id = await self.accept_inbound(conversation_id, text, payload, None)
        assert message_id is not None  # without an id there is nothing to be a redelivery of
        return message_id

    @abstractmethod
    async def record_outcome(
        self,
        message_id: int,
        status: str,
        conversation_id: int,
        replies: Sequence[Outbound],
        reply_status: str = SENT,
        topic: str | None = None,
        citizen_text: str | None = None,
    ) -> None:
        """Mark an inbound message ``answered``/``failed`` and store the replies, atomically
        (``pending`` replies are in the outbox until a platform takes them). ``topic``: the
        knowledge article the engine answered it with (the dashboard's top topics).
        ``citizen_text`` (the message's text): the conversation's clarification still waiting
        (its latest review item without a pick, of an earlier message) is resolved with it in
        the same transaction: picked when it is one of the offered payloads, "" otherwise."""

    @abstractmethod
    async def record_outbound(
        self, conversation_id: int, messages: Sequence[Outbound], status: str = SENT
    ) -> None:
        """Store bot messages sent outside a request (pushed later)."""

    @abstractmethod
    async def pending(
        self, direction: str, channels: Sequence[str], conversation_id: int | None = None
    ) -> list[Pending]:
        """Inbound messages still ``received`` or replies still ``pending``, oldest first (of
        one conversation when given)."""

    @abstractmethod
    async def update_outbound(self, message_id: int, status: str, **fields: Any) -> None:
        """Set an outbound message's status and any of ``platform_id``, ``attempts``,
        ``next_attempt_at``, ``error``."""

    @abstractmethod
    async def mark_delivered(self, platform_ids: Sequence[str], moment: dt.datetime) -> int:
        """The platform delivered these messages; returns how many were ours."""

    @abstractmethod
    async def mark_read(self, conversation_id: int, watermark: dt.datetime) -> int:
        """The citizen read everything sent up to ``watermark``."""

    @abstractmethod
    async def mark_by_platform_id(
        self, platform_ids: Sequence[str], status: str, moment: dt.datetime, error: str | None
    ) -> int:
        """A receipt naming the messages: ``read`` or ``failed`` (with the platform's error)."""

    @abstractmethod
    async def last_inbound_at(self, conversation_id: int) -> dt.datetime | None:
        """When the citizen last wrote (the platforms' 24-hour window starts there)."""

    @abstractmethod
    async def history(self, conversation_id: int, limit: int) -> list[HistoryEntry]:
        """The conversation's last ``limit`` messages, oldest first."""

    @abstractmethod
    async def last_activity(self, conversation_id: int) -> dt.datetime | None:
        """When the conversation last had a message (its ``updated_at``)."""

    @abstractmethod
    async def rated_question(
        self, conversation_id: int, before_message_id: int
    ) -> tuple[int, str, str] | None:
        """The citizen's last question answered with a knowledge article before this message
        and not rated down yet: (its message id, its text, the article)."""

    # --- leases: the one gateway answering and sending for a conversation -------------------

    @abstractmethod
    async def claim(
        self, conversation_id: int, owner: str, until: dt.datetime, now: dt.datetime
    ) -> bool:
        """Take the conversation's lease for ``owner`` until ``until``: True when it was free,
        expired (before ``now``) or already ``owner``'s. Atomic across gateways."""

    @abstractmethod
    async def claim_due(
        self, channels: Sequence[str], owner: str, until: dt.datetime, now: dt.datetime,
        limit: int,
    ) -> list[int]:  # fmt: skip
        """Take the leases of up to ``limit`` conversations of ``channels`` with work due (a
        message ``received``, a reply ``pending`` whose next attempt is not later than
        ``now``) whose lease is free or expired; their ids. On PostgreSQL the rows are taken
        ``FOR UPDATE SKIP LOCKED``: gateways sweeping at once take different conversations."""

    @abstractmethod
    async def renew(
        self, conversation_ids: Sequence[int], owner: str, until: dt.datetime
    ) -> set[int]:
        """Extend ``owner``'s leases; the ids whose lease ``owner`` still held (the others
        were taken over after expiring)."""

    @abstractmethod
    async def release(self, conversation_id: int, owner: str, now: dt.datetime) -> bool:
        """Give ``owner``'s lease back unless work is due (checked in the same statement, so
        nothing stored before it is left without a gateway); True when given back."""

    @abstractmethod
    async def release_all(self, owner: str) -> int:
        """Give back every lease of ``owner`` (a gateway stopping); how many."""

    @abstractmethod
    async def mark_invited(
        self, conversation_id: int, now: dt.datetime, interval: dt.timedelta
    ) -> bool:
        """Record that the re-engagement template is being sent now, unless it was within
        ``interval``; True when it is to be sent (once across gateways)."""

    @abstractmethod
    async def record_review(self, item: NewReview) -> int:
        """Keep a message the assistant was unsure about, for the review inbox."""

    @abstractmethod
    async def resolve_review(self, review_id: int, picked: str) -> None:
        """What the citizen chose after the clarification ("" when none was chosen)."""

    @abstractmethod
    async def reviews(self, limit: int) -> list[Review]:
        """The latest review items, newest first."""

    @abstractmethod
    async def ping(self) -> bool:
        """The database answers."""

    @abstractmethod
    async def close(self) -> None: ...


async def open_store(database_url: str) -> ConversationStore:
    """Migrate the database to the latest schema and open the store that suits it: the
    group-committing writer for an SQLite file, the ``AsyncEngine`` for anything else."""
    # The implementations subclass ConversationStore: imported here, not at the top.
    from bot.conversation.store_sql import SqlStore
    from bot.conversation.store_sqlite import SqliteStore

    engine = create_engine(database_url)
    try:
        await migrate(engine)
    except BaseException:
        await engine.dispose()
        raise
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        await engine.dispose()
        return await SqliteStore.open(Path(url.database))
    return SqlStore(engine)
