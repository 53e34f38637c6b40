"""Where conversations and their messages are kept: one interface, two stores.

- :class:`SqliteStore` (embedded default): one writer thread owns a ``sqlite3`` connection and
  commits whatever accumulated while the previous commit ran in one transaction (group
  commit). A caller's ``await`` returns only after its own write is committed, so "stored
  before the engine sees it" holds, at a fraction of the cost of a transaction per message.
- :class:`SqlStore` (scale path, PostgreSQL through asyncpg): SQLAlchemy Core on an
  ``AsyncEngine``, one transaction per write.

The schema is the Alembic one (:mod:`bot.storage.tables`); both stores read what the other wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import queue
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import case, func, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.conversation.channel import BotMessage
from bot.storage.database import create_engine, migrate
from bot.storage.tables import Conversation, Message, ReviewItem
from bot.storage.time import utcnow

logger = logging.getLogger(__name__)

T = TypeVar("T")


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
    ) -> None:
        """Mark an inbound message ``answered``/``failed`` and store the replies, atomically
        (``pending`` replies are in the outbox until a platform takes them)."""

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
    """Migrate the database to the latest schema and open the store that suits it."""
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


# --- SQLite: one writer thread, group commit -------------------------------------------------

#: SQLAlchemy's storage format for DateTime on SQLite (naive, UTC here), so both read it.
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"
_STOP = object()


def _sqlite_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime(_SQLITE_TIME)


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _json_list(value: list[Any]) -> str:
    return json.dumps(value, ensure_ascii=False)


def _from_sqlite(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


class SqliteStore(ConversationStore):
    """The embedded store. Every operation runs on the writer thread, in arrival order."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="sqlite-writer", daemon=True)
        self._ready = threading.Event()
        self._open_error: BaseException | None = None
        self._stopping = False

    @classmethod
    async def open(cls, path: Path) -> SqliteStore:
        store = cls(path)
        store._thread.start()
        await asyncio.to_thread(store._ready.wait)
        if store._open_error is not None:
            raise store._open_error
        return store

    async def _call(self, job: Callable[[sqlite3.Connection], T]) -> T:
        if self._stopping or not self._thread.is_alive():
            raise RuntimeError("the SQLite writer is not running")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((job, future, loop))
        return await future

    def _run(self) -> None:
        try:
            db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=5000")
            db.execute("PRAGMA foreign_keys=ON")
        except BaseException as exc:  # reported to open()
            self._open_error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while True:
                batch = [self._jobs.get()]
                while True:
                    try:
                        batch.append(self._jobs.get_nowait())
                    except queue.Empty:
                        break
                stopping = any(item is _STOP for item in batch)
                jobs = [item for item in batch if item is not _STOP]
                if jobs:
                    self._commit(db, jobs)
                if stopping:
                    return
        finally:
            db.close()
            # Whatever is still queued will never run: its callers must not wait forever.
            leftover: list[Any] = []
            while True:
                try:
                    item = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if item is not _STOP:
                    leftover.append(item)
            error = RuntimeError("the SQLite writer stopped")
            for _job, future, loop in leftover:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(_settle, [(future, None, error)])

    @staticmethod
    def _commit(db: sqlite3.Connection, jobs: list[Any]) -> None:
        """Run ``jobs`` in one transaction, each in a savepoint so one failure stays its own."""
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            db.execute("BEGIN IMMEDIATE")
            for job, future, _loop in jobs:
                db.execute("SAVEPOINT job")
                try:
                    outcomes.append((future, job(db), None))
                    db.execute("RELEASE job")
                except Exception as exc:
                    db.execute("ROLLBACK TO job")
                    db.execute("RELEASE job")
                    outcomes.append((future, None, exc))
            db.execute("COMMIT")
        except Exception as exc:  # the transaction itself failed: nothing in it was stored
            logger.error("SQLite commit failed: %s", type(exc).__name__)
            if db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
            outcomes = [(future, None, exc) for _job, future, _loop in jobs]
        by_loop: dict[asyncio.AbstractEventLoop, list[Any]] = {}
        for (_job, _future, loop), outcome in zip(jobs, outcomes, strict=True):
            by_loop.setdefault(loop, []).append(outcome)
        for loop, settled in by_loop.items():
            # A closed loop has nobody waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, settled)

    async def close(self) -> None:
        self._stopping = True
        if self._thread.is_alive():
            self._jobs.put(_STOP)
            await asyncio.to_thread(self._thread.join)

    async def find_conversation(self, channel: str, sender_id: str) -> int | None:
        def job(db: sqlite3.Connection) -> int | None:
            row = db.execute(
                "SELECT id FROM conversations WHERE channel = ? AND sender_id = ?",
                (channel, sender_id),
            ).fetchone()
            return None if row is None else int(row[0])

        return await self._call(job)

    async def open_conversation(self, channel: str, sender_id: str) -> int:
        def job(db: sqlite3.Connection) -> int:
            now = _sqlite_time(utcnow())
            db.execute(
                "INSERT INTO conversations (channel, sender_id, created_at, updated_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (channel, sender_id) DO NOTHING",
                (channel, sender_id, now, now),
            )
            row = db.execute(
                "SELECT id FROM conversations WHERE channel = ? AND sender_id = ?",
                (channel, sender_id),
            ).fetchone()
            return int(row[0])

        return await self._call(job)

    async def accept_inbound(
        self,
        conversation_id: int,
        text: str,
        payload: dict[str, Any] | None,
        platform_id: str | None,
    ) -> int | None:
        row = (conversation_id, text, _json(payload), _sqlite_time(utcnow()), platform_id)

        def job(db: sqlite3.Connection) -> int | None:
            cursor = db.execute(
                "INSERT INTO messages (conversation_id, direction, text, payload, status, "
                "created_at, platform_id) VALUES (?, 'in', ?, ?, 'received', ?, ?) "
                "ON CONFLICT (platform_id) DO NOTHING",
                row,
            )
            return cursor.lastrowid if cursor.rowcount == 1 else None

        return await self._call(job)

    async def record_outcome(
        self,
        message_id: int,
        status: str,
        conversation_id: int,
        replies: Sequence[Outbound],
        reply_status: str = SENT,
    ) -> None:
        def job(db: sqlite3.Connection) -> None:
            db.execute("UPDATE messages SET status = ? WHERE id = ?", (status, message_id))
            _insert_outbound(db, conversation_id, replies, reply_status)

        await self._call(job)

    async def record_outbound(
        self, conversation_id: int, messages: Sequence[Outbound], status: str = SENT
    ) -> None:
        await self._call(lambda db: _insert_outbound(db, conversation_id, messages, status))

    async def pending(
        self, direction: str, channels: Sequence[str], conversation_id: int | None = None
    ) -> list[Pending]:
        status = "received" if direction == "in" else PENDING
        marks = ",".join("?" * len(channels))
        only = "AND m.conversation_id = ? " if conversation_id is not None else ""
        params = (status, direction, *channels) + (
            (conversation_id,) if conversation_id is not None else ()
        )

        def job(db: sqlite3.Connection) -> list[Pending]:
            rows = db.execute(
                "SELECT m.id, m.conversation_id, c.channel, c.sender_id, m.text, m.payload, "
                "m.attempts, m.created_at, m.next_attempt_at FROM messages m JOIN conversations c "
                "ON c.id = m.conversation_id WHERE m.status = ? AND m.direction = ? "
                f"AND c.channel IN ({marks}) {only}ORDER BY m.id",
                params,
            ).fetchall()
            return [
                Pending(
                    i, c, ch, snd, t, json.loads(p) if p else None, a, _from_sqlite(at),
                    _from_sqlite(nxt) if nxt else None,
                )
                for i, c, ch, snd, t, p, a, at, nxt in rows
            ]  # fmt: skip

        return await self._call(job) if channels else []

    async def update_outbound(self, message_id: int, status: str, **fields: Any) -> None:
        values = {"status": status, **_outbound_fields(fields)}
        assignments = ", ".join(f"{name} = ?" for name in values)
        params = (*(_sqlite_value(v) for v in values.values()), message_id)
        await self._call(
            lambda db: db.execute(f"UPDATE messages SET {assignments} WHERE id = ?", params)
        )

    async def mark_delivered(self, platform_ids: Sequence[str], moment: dt.datetime) -> int:
        marks = ",".join("?" * len(platform_ids))
        params = (_sqlite_time(moment), *platform_ids)

        def job(db: sqlite3.Connection) -> int:
            return db.execute(
                "UPDATE messages SET status = CASE WHEN status = 'read' THEN status ELSE "
                "'delivered' END, delivered_at = COALESCE(delivered_at, ?) "
                f"WHERE direction = 'out' AND platform_id IN ({marks})",
                params,
            ).rowcount

        return await self._call(job) if platform_ids else 0

    async def mark_by_platform_id(
        self, platform_ids: Sequence[str], status: str, moment: dt.datetime, error: str | None
    ) -> int:
        marks = ",".join("?" * len(platform_ids))
        read_at = _sqlite_time(moment) if status == READ else None
        params = (status, read_at, error and error[:300], *platform_ids)

        def job(db: sqlite3.Connection) -> int:
            return db.execute(
                "UPDATE messages SET status = ?, read_at = COALESCE(?, read_at), "
                f"error = COALESCE(?, error) WHERE direction = 'out' AND platform_id IN ({marks})",
                params,
            ).rowcount

        return await self._call(job) if platform_ids else 0

    async def mark_read(self, conversation_id: int, watermark: dt.datetime) -> int:
        params = (_sqlite_time(watermark), conversation_id, _sqlite_time(watermark))

        def job(db: sqlite3.Connection) -> int:
            return db.execute(
                "UPDATE messages SET status = 'read', read_at = ? WHERE conversation_id = ? "
                "AND direction = 'out' AND status IN ('sent', 'delivered') AND created_at <= ?",
                params,
            ).rowcount

        return await self._call(job)

    async def last_inbound_at(self, conversation_id: int) -> dt.datetime | None:
        def job(db: sqlite3.Connection) -> dt.datetime | None:
            row = db.execute(
                "SELECT max(created_at) FROM messages WHERE conversation_id = ? "
                "AND direction = 'in'",
                (conversation_id,),
            ).fetchone()
            return _from_sqlite(row[0]) if row and row[0] else None

        return await self._call(job)

    async def history(self, conversation_id: int, limit: int) -> list[HistoryEntry]:
        def job(db: sqlite3.Connection) -> list[HistoryEntry]:
            rows = db.execute(
                "SELECT direction, text, payload, created_at FROM messages "
                "WHERE conversation_id = ? ORDER BY id DESC LIMIT ?",
                (conversation_id, limit),
            ).fetchall()
            return [
                HistoryEntry(
                    direction,
                    text_,
                    json.loads(payload) if payload is not None else None,
                    _from_sqlite(created_at),
                )
                for direction, text_, payload, created_at in reversed(rows)
            ]

        return await self._call(job)

    async def last_activity(self, conversation_id: int) -> dt.datetime | None:
        def job(db: sqlite3.Connection) -> dt.datetime | None:
            row = db.execute(
                "SELECT updated_at FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
            return None if row is None else _from_sqlite(row[0])

        return await self._call(job)

    async def record_review(self, item: NewReview) -> int:
        row = (
            item.conversation_id, item.message_id, item.text, _json_list(item.intents),
            _json_list(item.offered), _sqlite_time(utcnow()), item.source,
        )  # fmt: skip

        def job(db: sqlite3.Connection) -> int:
            cursor = db.execute(
                "INSERT INTO review_items (conversation_id, message_id, text, intents, offered, "
                "created_at, source) VALUES (?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            assert cursor.lastrowid is not None
            return cursor.lastrowid

        return await self._call(job)

    async def resolve_review(self, review_id: int, picked: str) -> None:
        params = (picked, _sqlite_time(utcnow()), review_id)
        await self._call(
            lambda db: db.execute(
                "UPDATE review_items SET picked = ?, resolved_at = ? WHERE id = ?", params
            )
        )

    async def reviews(self, limit: int) -> list[Review]:
        def job(db: sqlite3.Connection) -> list[Review]:
            rows = db.execute(
                "SELECT conversation_id, message_id, text, intents, offered, id, picked, "
                "created_at, source FROM review_items ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
            return [
                Review(c, m, t, json.loads(i), json.loads(o), id_, p, _from_sqlite(at), source=src)
                for c, m, t, i, o, id_, p, at, src in rows
            ]

        return await self._call(job)

    async def ping(self) -> bool:
        try:
            return await asyncio.wait_for(self._call(_select_one), timeout=3.0)
        except (TimeoutError, RuntimeError, sqlite3.Error):
            logger.warning("database health check failed", exc_info=True)
            return False


def _select_one(db: sqlite3.Connection) -> bool:
    return bool(db.execute("SELECT 1").fetchone())


def _insert_outbound(
    db: sqlite3.Connection, conversation_id: int, messages: Sequence[Outbound], status: str
) -> None:
    now = _sqlite_time(utcnow())
    db.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id))
    db.executemany(
        "INSERT INTO messages (conversation_id, direction, text, payload, status, created_at) "
        "VALUES (?, 'out', ?, ?, ?, ?)",
        [(conversation_id, m.text, _json(m.payload), status, now) for m in messages],
    )


_OUTBOUND_FIELDS = ("platform_id", "attempts", "next_attempt_at", "error")


def _outbound_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(_OUTBOUND_FIELDS)
    if unknown:
        raise ValueError(f"not an outbound field: {sorted(unknown)}")
    if isinstance(fields.get("error"), str):
        fields = {**fields, "error": fields["error"][:300]}
    return fields


def _sqlite_value(value: Any) -> Any:
    return _sqlite_time(value) if isinstance(value, dt.datetime) else value


def _settle(outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for future, result, error in outcomes:
        if future.cancelled():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)


# --- SQLAlchemy (PostgreSQL at scale) ---------------------------------------------------------


class SqlStore(ConversationStore):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def find_conversation(self, channel: str, sender_id: str) -> int | None:
        async with self._engine.connect() as db:
            return await _find_conversation(db, channel, sender_id)

    async def open_conversation(self, channel: str, sender_id: str) -> int:
        # Two first messages of a new sender may race to create its conversation: the loser
        # of the unique constraint retries and finds the winner's row.
        for attempt in range(2):
            try:
                async with self._engine.begin() as db:
                    found = await _find_conversation(db, channel, sender_id)
                    if found is not None:
                        return found
                    now = utcnow()
                    created = await db.scalar(
                        insert(Conversation)
                        .values(
                            channel=channel, sender_id=sender_id, created_at=now,
                            updated_at=now,
                        )
                        .returning(Conversation.id)
                    )  # fmt: skip
                    assert created is not None
                    return int(created)
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def accept_inbound(
        self,
        conversation_id: int,
        text: str,
        payload: dict[str, Any] | None,
        platform_id: str | None,
    ) -> int | None:
        try:
            async with self._engine.begin() as db:
                message_id = await db.scalar(
                    insert(Message)
                    .values(
                        conversation_id=conversation_id, direction="in", text=text,
                        payload=payload, status="received", created_at=utcnow(),
                        platform_id=platform_id,
                    )
                    .returning(Message.id)
                )  # fmt: skip
        except IntegrityError:
            if platform_id is None:
                raise
            async with self._engine.connect() as db:
                seen = await db.scalar(select(Message.id).where(Message.platform_id == platform_id))
            if seen is None:
                raise  # another constraint: not a redelivery
            return None  # seen before: a redelivery
        return None if message_id is None else int(message_id)

    async def record_outcome(
        self,
        message_id: int,
        status: str,
        conversation_id: int,
        replies: Sequence[Outbound],
        reply_status: str = SENT,
    ) -> None:
        async with self._engine.begin() as db:
            await db.execute(update(Message).where(Message.id == message_id).values(status=status))
            await _sql_outbound(db, conversation_id, replies, reply_status)

    async def record_outbound(
        self, conversation_id: int, messages: Sequence[Outbound], status: str = SENT
    ) -> None:
        async with self._engine.begin() as db:
            await _sql_outbound(db, conversation_id, messages, status)

    async def pending(
        self, direction: str, channels: Sequence[str], conversation_id: int | None = None
    ) -> list[Pending]:
        if not channels:
            return []
        status = "received" if direction == "in" else PENDING
        query = (
            select(
                Message.id, Message.conversation_id, Conversation.channel,
                Conversation.sender_id, Message.text, Message.payload, Message.attempts,
                Message.created_at, Message.next_attempt_at,
            )
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(
                Message.status == status, Message.direction == direction,
                Conversation.channel.in_(list(channels)),
            )
            .order_by(Message.id)
        )  # fmt: skip
        if conversation_id is not None:
            query = query.where(Message.conversation_id == conversation_id)
        async with self._engine.connect() as db:
            rows = await db.execute(query)
            return [
                Pending(i, c, ch, snd, t, p, a, _as_utc(at), _as_utc(n) if n else None)
                for i, c, ch, snd, t, p, a, at, n in rows
            ]

    async def update_outbound(self, message_id: int, status: str, **fields: Any) -> None:
        async with self._engine.begin() as db:
            await db.execute(
                update(Message)
                .where(Message.id == message_id)
                .values(status=status, **_outbound_fields(fields))
            )

    async def mark_delivered(self, platform_ids: Sequence[str], moment: dt.datetime) -> int:
        if not platform_ids:
            return 0
        async with self._engine.begin() as db:
            result = await db.execute(
                update(Message)
                .where(Message.direction == "out", Message.platform_id.in_(list(platform_ids)))
                .values(
                    status=case((Message.status == READ, READ), else_=DELIVERED),
                    delivered_at=func.coalesce(Message.delivered_at, moment),
                )
            )
            return int(result.rowcount)

    async def mark_by_platform_id(
        self, platform_ids: Sequence[str], status: str, moment: dt.datetime, error: str | None
    ) -> int:
        if not platform_ids:
            return 0
        values: dict[str, Any] = {"status": status}
        if status == READ:
            values["read_at"] = moment
        if error:
            values["error"] = error[:300]
        async with self._engine.begin() as db:
            result = await db.execute(
                update(Message)
                .where(Message.direction == "out", Message.platform_id.in_(list(platform_ids)))
                .values(**values)
            )
            return int(result.rowcount)

    async def mark_read(self, conversation_id: int, watermark: dt.datetime) -> int:
        async with self._engine.begin() as db:
            result = await db.execute(
                update(Message)
                .where(
                    Message.conversation_id == conversation_id, Message.direction == "out",
                    Message.status.in_([SENT, DELIVERED]), Message.created_at <= watermark,
                )
                .values(status=READ, read_at=watermark)
            )  # fmt: skip
            return int(result.rowcount)

    async def last_inbound_at(self, conversation_id: int) -> dt.datetime | None:
        async with self._engine.connect() as db:
            moment = await db.scalar(
                select(func.max(Message.created_at)).where(
                    Message.conversation_id == conversation_id, Message.direction == "in"
                )
            )
        return None if moment is None else _as_utc(moment)

    async def history(self, conversation_id: int, limit: int) -> list[HistoryEntry]:
        async with self._engine.connect() as db:
            rows = await db.execute(
                select(Message.direction, Message.text, Message.payload, Message.created_at)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.id.desc())
                .limit(limit)
            )
            return [
                HistoryEntry(direction, text_, payload, _as_utc(created_at))
                for direction, text_, payload, created_at in reversed(rows.all())
            ]

    async def last_activity(self, conversation_id: int) -> dt.datetime | None:
        async with self._engine.connect() as db:
            moment = await db.scalar(
                select(Conversation.updated_at).where(Conversation.id == conversation_id)
            )
        return None if moment is None else _as_utc(moment)

    async def record_review(self, item: NewReview) -> int:
        async with self._engine.begin() as db:
            review_id = await db.scalar(
                insert(ReviewItem)
                .values(
                    conversation_id=item.conversation_id, message_id=item.message_id,
                    text=item.text, intents=item.intents, offered=item.offered,
                    created_at=utcnow(), source=item.source,
                )
                .returning(ReviewItem.id)
            )  # fmt: skip
        assert review_id is not None
        return int(review_id)

    async def resolve_review(self, review_id: int, picked: str) -> None:
        async with self._engine.begin() as db:
            await db.execute(
                update(ReviewItem)
                .where(ReviewItem.id == review_id)
                .values(picked=picked, resolved_at=utcnow())
            )

    async def reviews(self, limit: int) -> list[Review]:
        async with self._engine.connect() as db:
            rows = await db.execute(
                select(
                    ReviewItem.conversation_id, ReviewItem.message_id, ReviewItem.text,
                    ReviewItem.intents, ReviewItem.offered, ReviewItem.id, ReviewItem.picked,
                    ReviewItem.created_at, ReviewItem.source,
                )
                .order_by(ReviewItem.id.desc())
                .limit(limit)
            )  # fmt: skip
            return [
                Review(c, m, t, i, o, id_, p, _as_utc(at), source=src)
                for c, m, t, i, o, id_, p, at, src in rows
            ]

    async def ping(self) -> bool:
        try:
            async with self._engine.connect() as db:
                await db.execute(text("SELECT 1"))
        except Exception:
            logger.warning("database health check failed", exc_info=True)
            return False
        return True

    async def close(self) -> None:
        await self._engine.dispose()


async def _find_conversation(db: AsyncConnection, channel: str, sender_id: str) -> int | None:
    conversation_id: int | None = await db.scalar(
        select(Conversation.id).where(
            Conversation.channel == channel, Conversation.sender_id == sender_id
        )
    )
    return conversation_id


async def _sql_outbound(
    db: AsyncConnection, conversation_id: int, messages: Sequence[Outbound], status: str
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
                    "conversation_id": conversation_id, "direction": "out", "text": m.text,
                    "payload": m.payload, "status": status, "created_at": now,
                }
                for m in messages
            ],
        )  # fmt: skip


def _as_utc(moment: dt.datetime) -> dt.datetime:
    """SQLite hands timestamps back without their zone; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
