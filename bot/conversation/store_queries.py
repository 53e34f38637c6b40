"""Every query of the conversation store, written once in SQLAlchemy Core for SQLite and
PostgreSQL.

:class:`QueryStore` implements :class:`~bot.conversation.store.ConversationStore` with these
queries; a subclass only says where a query runs, on a :class:`Db` (a synchronous connection):

- :class:`~bot.conversation.store_sqlite.SqliteStore`: on its writer thread, in its group commit
  (each statement compiled by SQLAlchemy once, run by ``sqlite3``);
- :class:`~bot.conversation.store_sql.SqlStore`: a SQLAlchemy ``Connection`` in a transaction of
  an ``AsyncEngine`` (``AsyncConnection.run_sync``).

The dialects differ in one statement only: an ``INSERT`` that leaves a duplicate alone
(``ON CONFLICT … DO NOTHING``, :func:`_insert_ignoring`). The statements are built once, here,
with named parameters, and compiled once per dialect.

Moments are bound in UTC: SQLite keeps them as naive text (compared as text) and gives them back
without a zone (:func:`~bot.storage.time.aware`). A ``None`` payload is SQL ``NULL``.
"""

from __future__ import annotations

import datetime as dt
from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import JSON, DateTime, bindparam, case, exists, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Executable
from sqlalchemy.sql.dml import Insert

from bot.conversation.store import (
    DELIVERED,
    PENDING,
    READ,
    SENT,
    ConversationStore,
    HistoryEntry,
    NewReview,
    Outbound,
    Pending,
    Review,
)
from bot.conversation.store_leases import LeaseQueries
from bot.storage.tables import Base, Conversation, Message, ReviewItem
from bot.storage.time import aware, utcnow

T = TypeVar("T")

Params = Mapping[str, Any]


class Rows(Protocol):
    """A statement's result, as the queries use it (SQLAlchemy's ``CursorResult`` is one)."""

    @property
    def rowcount(self) -> int: ...
    def all(self) -> Sequence[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Db(Protocol):
    """A connection, as the queries use it (SQLAlchemy's ``Connection`` is one)."""

    @property
    def dialect(self) -> Dialect: ...
    def execute(self, statement: Executable, parameters: Params | list[Params]) -> Rows: ...
    def scalar(self, statement: Executable, parameters: Params | None = None) -> Any: ...


#: What :meth:`QueryStore._read` and :meth:`QueryStore._write` run.
Query = Callable[[Db], T]


def _insert_ignoring(table: type[Base], *keys: str) -> dict[str, Insert]:
    """``INSERT … ON CONFLICT (keys) DO NOTHING`` in each dialect's spelling, by dialect name."""
    return {
        "sqlite": sqlite.insert(table).on_conflict_do_nothing(index_elements=list(keys)),
        "postgresql": postgresql.insert(table).on_conflict_do_nothing(index_elements=list(keys)),
    }


_PAYLOAD = bindparam("payload", type_=JSON(none_as_null=True))
_MOMENT = DateTime(timezone=True)

_FIND_CONVERSATION = select(Conversation.id).where(
    Conversation.channel == bindparam("channel"), Conversation.sender_id == bindparam("sender_id")
)
_NEW_CONVERSATION = _insert_ignoring(Conversation, "channel", "sender_id")
_TOUCH_CONVERSATION = (
    update(Conversation)
    .where(Conversation.id == bindparam("conversation_id"))
    .values(updated_at=bindparam("now", type_=_MOMENT))
)
_NEW_INBOUND = {
    dialect: statement.values(direction="in", status="received", payload=_PAYLOAD).returning(
        Message.id
    )
    for dialect, statement in _insert_ignoring(Message, "platform_id").items()
}
_NEW_OUTBOUND = insert(Message).values(direction="out", payload=_PAYLOAD)
#: The ``SET`` clause is the execution's parameters other than ``message_id``.
_UPDATE_MESSAGE = update(Message).where(Message.id == bindparam("message_id"))
_PENDING = (
    select(
        Message.id, Message.conversation_id, Conversation.channel, Conversation.sender_id,
        Message.text, Message.payload, Message.attempts, Message.created_at,
        Message.next_attempt_at, Message.platform_id,
    )
    .join(Conversation, Conversation.id == Message.conversation_id)
    .where(
        Message.status == bindparam("status"), Message.direction == bindparam("direction"),
        Conversation.channel.in_(bindparam("channels", expanding=True)),
    )
    .order_by(Message.id)
)  # fmt: skip
_PENDING_OF_CONVERSATION = _PENDING.where(Message.conversation_id == bindparam("conversation_id"))
_OURS = (Message.direction == "out", Message.platform_id.in_(bindparam("ids", expanding=True)))
_MARK_DELIVERED = (
    update(Message)
    .where(*_OURS)
    .values(
        status=case((Message.status == READ, READ), else_=DELIVERED),
        delivered_at=func.coalesce(Message.delivered_at, bindparam("moment", type_=_MOMENT)),
    )
)
#: The ``SET`` clause is the execution's parameters other than ``ids``.
_UPDATE_BY_PLATFORM_ID = update(Message).where(*_OURS)
_WATERMARK = bindparam("watermark", type_=_MOMENT)
_MARK_READ = (
    update(Message)
    .where(
        Message.conversation_id == bindparam("conversation"), Message.direction == "out",
        Message.status.in_([SENT, DELIVERED]), Message.created_at <= _WATERMARK,
    )
    .values(status=READ, read_at=_WATERMARK)
)  # fmt: skip
_LAST_INBOUND_AT = select(func.max(Message.created_at)).where(
    Message.conversation_id == bindparam("conversation_id"), Message.direction == "in"
)
_HISTORY = (
    select(Message.direction, Message.text, Message.payload, Message.created_at)
    .where(Message.conversation_id == bindparam("conversation_id"))
    .order_by(Message.id.desc())
    .limit(bindparam("limit"))
)
_LAST_ACTIVITY = select(Conversation.updated_at).where(
    Conversation.id == bindparam("conversation_id")
)
_NEW_REVIEW = insert(ReviewItem).returning(ReviewItem.id)
_RESOLVE_REVIEW = update(ReviewItem).where(ReviewItem.id == bindparam("review_id"))
_REVIEWS = (
    select(
        ReviewItem.conversation_id, ReviewItem.message_id, ReviewItem.text, ReviewItem.intents,
        ReviewItem.offered, ReviewItem.id, ReviewItem.picked, ReviewItem.created_at,
        ReviewItem.source,
    )
    .order_by(ReviewItem.id.desc())
    .limit(bindparam("limit"))
)  # fmt: skip
_SELECT_ONE = text("SELECT 1")

#: A conversation's clarification still waiting for the citizen's next message.
_OPEN_CLARIFICATION = (
    select(ReviewItem.id, ReviewItem.offered)
    .where(
        ReviewItem.conversation_id == bindparam("conversation_id"), ReviewItem.picked.is_(None),
        ReviewItem.source == "clarification", ReviewItem.message_id < bindparam("message_id"),
    )
    .order_by(ReviewItem.id.desc())
    .limit(1)
)  # fmt: skip
_RATED_DOWN = exists().where(ReviewItem.message_id == Message.id, ReviewItem.source == "feedback")
_RATED_QUESTION = (
    select(Message.id, Message.text, Message.topic, _RATED_DOWN)
    .where(
        Message.conversation_id == bindparam("conversation_id"), Message.direction == "in",
        Message.id < bindparam("message_id"), Message.topic.is_not(None),
    )
    .order_by(Message.id.desc())
    .limit(1)
)  # fmt: skip

_OUTBOUND_FIELDS = ("platform_id", "attempts", "next_attempt_at", "error")


class QueryStore(LeaseQueries, ConversationStore):
    """The store's operations as queries; a subclass runs them (:meth:`_read`, :meth:`_write`)."""

    @abstractmethod
    async def _read(self, query: Query[T]) -> T:
        """Run ``query``, which only reads; its result."""

    @abstractmethod
    async def _write(self, query: Query[T]) -> T:
        """Run ``query`` in a transaction; its result once that is committed."""

    async def find_conversation(self, channel: str, sender_id: str) -> int | None:
        params = {"channel": channel, "sender_id": sender_id}
        return await self._read(lambda db: _find_conversation(db, params))

    async def open_conversation(self, channel: str, sender_id: str) -> int:
        params = {"channel": channel, "sender_id": sender_id}

        def query(db: Db) -> int:
            found = _find_conversation(db, params)
            if found is not None:
                return found
            # Two first messages of a new sender may race: the loser's insert does nothing
            # (PostgreSQL waits for the winner's commit) and both find the winner's row.
            now = utcnow()
            db.execute(
                _NEW_CONVERSATION[db.dialect.name], {**params, "created_at": now, "updated_at": now}
            )
            created = _find_conversation(db, params)
            assert created is not None
            return created

        return await self._write(query)

    async def accept_inbound(
        self,
        conversation_id: int,
        text: str,
        payload: dict[str, Any] | None,
        platform_id: str | None,
    ) -> int | None:
        params = {
            "conversation_id": conversation_id, "text": text, "payload": payload,
            "created_at": utcnow(), "platform_id": platform_id,
        }  # fmt: skip

        def query(db: Db) -> int | None:
            # A platform id seen before is a redelivery: nothing inserted, nothing returned.
            message_id = db.scalar(_NEW_INBOUND[db.dialect.name], params)
            return None if message_id is None else int(message_id)

        return await self._write(query)

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
        # The topic in the same UPDATE (always bound: one compiled statement).
        topic = topic[:64] if topic else None
        params = {"message_id": message_id, "status": status, "topic": topic}
        waiting = {"conversation_id": conversation_id, "message_id": message_id}

        def query(db: Db) -> None:
            db.execute(_UPDATE_MESSAGE, params)
            _insert_outbound(db, conversation_id, replies, reply_status)
            if citizen_text is not None:
                for review_id, offered in db.execute(_OPEN_CLARIFICATION, waiting):
                    picked = citizen_text if citizen_text in (offered or []) else ""
                    db.execute(
                        _RESOLVE_REVIEW,
                        {"review_id": review_id, "picked": picked, "resolved_at": utcnow()},
                    )

        await self._write(query)

    async def record_outbound(
        self, conversation_id: int, messages: Sequence[Outbound], status: str = SENT
    ) -> None:
        await self._write(lambda db: _insert_outbound(db, conversation_id, messages, status))

    async def pending(
        self, direction: str, channels: Sequence[str], conversation_id: int | None = None
    ) -> list[Pending]:
        if not channels:
            return []
        status = "received" if direction == "in" else PENDING
        params: dict[str, Any] = {
            "status": status, "direction": direction, "channels": list(channels),
        }  # fmt: skip
        statement = _PENDING
        if conversation_id is not None:
            statement = _PENDING_OF_CONVERSATION
            params["conversation_id"] = conversation_id

        def query(db: Db) -> list[Pending]:
            return [
                Pending(i, c, ch, snd, t, p, a, aware(at), aware(nxt), pid)
                for i, c, ch, snd, t, p, a, at, nxt, pid in db.execute(statement, params)
            ]

        return await self._read(query)

    async def update_outbound(self, message_id: int, status: str, **fields: Any) -> None:
        params = {"message_id": message_id, "status": status, **_outbound_fields(fields)}
        await self._write(lambda db: db.execute(_UPDATE_MESSAGE, params))

    async def mark_delivered(self, platform_ids: Sequence[str], moment: dt.datetime) -> int:
        if not platform_ids:
            return 0
        params = {"ids": list(platform_ids), "moment": _utc(moment)}
        return await self._write(lambda db: db.execute(_MARK_DELIVERED, params).rowcount)

    async def mark_by_platform_id(
        self, platform_ids: Sequence[str], status: str, moment: dt.datetime, error: str | None
    ) -> int:
        if not platform_ids:
            return 0
        params: dict[str, Any] = {"ids": list(platform_ids), "status": status}
        if status == READ:
            params["read_at"] = _utc(moment)
        if error:
            params["error"] = error[:300]
        return await self._write(lambda db: db.execute(_UPDATE_BY_PLATFORM_ID, params).rowcount)

    async def mark_read(self, conversation_id: int, watermark: dt.datetime) -> int:
        params = {"conversation": conversation_id, "watermark": _utc(watermark)}
        return await self._write(lambda db: db.execute(_MARK_READ, params).rowcount)

    async def last_inbound_at(self, conversation_id: int) -> dt.datetime | None:
        params = {"conversation_id": conversation_id}
        return await self._read(lambda db: aware(db.scalar(_LAST_INBOUND_AT, params)))

    async def history(self, conversation_id: int, limit: int) -> list[HistoryEntry]:
        params = {"conversation_id": conversation_id, "limit": limit}

        def query(db: Db) -> list[HistoryEntry]:
            rows = db.execute(_HISTORY, params).all()
            return [
                HistoryEntry(direction, text_, payload, aware(created_at))
                for direction, text_, payload, created_at in reversed(rows)
            ]

        return await self._read(query)

    async def last_activity(self, conversation_id: int) -> dt.datetime | None:
        params = {"conversation_id": conversation_id}
        return await self._read(lambda db: aware(db.scalar(_LAST_ACTIVITY, params)))

    async def rated_question(
        self, conversation_id: int, before_message_id: int
    ) -> tuple[int, str, str] | None:
        params = {"conversation_id": conversation_id, "message_id": before_message_id}

        def query(db: Db) -> tuple[int, str, str] | None:
            for message_id, question, topic, rated_down in db.execute(_RATED_QUESTION, params):
                if not rated_down:
                    return int(message_id), question or "", topic
            return None

        return await self._read(query)

    async def record_review(self, item: NewReview) -> int:
        params = {
            "conversation_id": item.conversation_id, "message_id": item.message_id,
            "text": item.text, "intents": item.intents, "offered": item.offered,
            "created_at": utcnow(), "source": item.source,
        }  # fmt: skip

        def query(db: Db) -> int:
            review_id = db.scalar(_NEW_REVIEW, params)
            assert review_id is not None
            return int(review_id)

        return await self._write(query)

    async def resolve_review(self, review_id: int, picked: str) -> None:
        params = {"review_id": review_id, "picked": picked, "resolved_at": utcnow()}
        await self._write(lambda db: db.execute(_RESOLVE_REVIEW, params))

    async def reviews(self, limit: int) -> list[Review]:
        def query(db: Db) -> list[Review]:
            return [
                Review(c, m, t, i, o, id_, p, aware(at), source=src)
                for c, m, t, i, o, id_, p, at, src in db.execute(_REVIEWS, {"limit": limit})
            ]

        return await self._read(query)


def select_one(db: Db) -> bool:
    """The health check's query: the database answers."""
    return bool(db.scalar(_SELECT_ONE))


def _find_conversation(db: Db, params: dict[str, Any]) -> int | None:
    found = db.scalar(_FIND_CONVERSATION, params)
    return None if found is None else int(found)


def _insert_outbound(
    db: Db, conversation_id: int, messages: Sequence[Outbound], status: str
) -> None:
    now = utcnow()
    db.execute(_TOUCH_CONVERSATION, {"conversation_id": conversation_id, "now": now})
    if messages:
        db.execute(
            _NEW_OUTBOUND,
            [
                {
                    "conversation_id": conversation_id, "text": m.text, "payload": m.payload,
                    "status": status, "created_at": now,
                }
                for m in messages
            ],
        )  # fmt: skip


def _outbound_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(_OUTBOUND_FIELDS)
    if unknown:
        raise ValueError(f"not an outbound field: {sorted(unknown)}")
    if isinstance(fields.get("error"), str):
        fields = {**fields, "error": fields["error"][:300]}
    if isinstance(fields.get("next_attempt_at"), dt.datetime):
        fields = {**fields, "next_attempt_at": _utc(fields["next_attempt_at"])}
    return fields


def _utc(moment: dt.datetime) -> dt.datetime:
    """The same moment in UTC: SQLite stores the wall time it is given, zone dropped."""
    return moment.astimezone(dt.UTC)
