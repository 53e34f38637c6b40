"""The store contract (:class:`ConversationStore`) on both databases, through ``open_store``.

What only one store does is in ``test_store_sqlite.py`` (the group-committing writer) and
``test_store_sql.py`` (the ``AsyncEngine``); how the shared queries bind and spell things per
dialect in ``test_store_queries.py``."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError as SqlIntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.conversation.store import (
    FAILED,
    PENDING,
    READ,
    SENT,
    ConversationStore,
    NewReview,
    Outbound,
)
from bot.conversation.store_sql import SqlStore
from bot.conversation.store_sqlite import SqliteStore
from bot.storage.tables import Conversation, Message


async def _rows(engine: AsyncEngine) -> list[tuple[object, ...]]:
    async with engine.connect() as db:
        result = await db.execute(
            select(Message.direction, Message.text, Message.payload, Message.status).order_by(
                Message.id
            )
        )
        return [tuple(row) for row in result.all()]


async def test_sqlite_gets_the_group_commit_writer_and_postgresql_sqlalchemy(
    url: str, store: ConversationStore
) -> None:
    assert isinstance(store, SqliteStore if url.startswith("sqlite") else SqlStore)


async def test_a_message_and_its_outcome_are_committed(
    store: ConversationStore, inspect: AsyncEngine
) -> None:
    conversation = await store.open_conversation("webchat", "ana")
    message = await store.record_inbound(conversation, "hola ñandú", {"metadata": {"a": 1}})
    assert await _rows(inspect) == [("in", "hola ñandú", {"metadata": {"a": 1}}, "received")]

    buttons = {"buttons": [{"title": "Sí", "payload": "/afirmar"}]}
    await store.record_outcome(
        message, "answered", conversation, [Outbound("¡Hola!", buttons), Outbound("Dos", None)]
    )
    assert await _rows(inspect) == [
        ("in", "hola ñandú", {"metadata": {"a": 1}}, "answered"),
        ("out", "¡Hola!", buttons, "sent"),
        ("out", "Dos", None, "sent"),
    ]


async def test_concurrent_first_contacts_create_one_conversation(
    store: ConversationStore, inspect: AsyncEngine
) -> None:
    ids = await asyncio.gather(*(store.open_conversation("webchat", "nuevo") for _ in range(8)))
    assert len(set(ids)) == 1
    assert await store.find_conversation("webchat", "nuevo") == ids[0]
    assert await store.find_conversation("messenger", "nuevo") is None
    async with inspect.connect() as db:
        assert await db.scalar(select(func.count()).select_from(Conversation)) == 1


async def test_history_is_the_last_messages_oldest_first_with_utc_times(
    store: ConversationStore,
) -> None:
    before = dt.datetime.now(dt.UTC)
    ana = await store.open_conversation("webchat", "ana")
    other = await store.open_conversation("webchat", "otro")
    for i in range(5):
        await store.record_outbound(ana, [Outbound(f"m{i}", {"image": f"i{i}"} if i else None)])
    await store.record_outbound(other, [Outbound("ajeno", None)])
    history = await store.history(ana, limit=3)
    assert [(h.text, h.payload) for h in history] == [
        ("m2", {"image": "i2"}),
        ("m3", {"image": "i3"}),
        ("m4", {"image": "i4"}),
    ]
    assert all(h.direction == "out" for h in history)
    assert all(before <= h.created_at <= dt.datetime.now(dt.UTC) for h in history)


async def test_a_failing_write_fails_alone(store: ConversationStore, inspect: AsyncEngine) -> None:
    conversation = await store.open_conversation("webchat", "ana")
    writes = [store.record_inbound(conversation, f"ok {i}", None) for i in range(20)]
    writes.insert(10, store.record_inbound(999_999, "conversation that does not exist", None))
    results = await asyncio.gather(*writes, return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    assert len(failed) == 1
    assert isinstance(failed[0], sqlite3.IntegrityError | SqlIntegrityError)
    assert sorted(str(r[1]) for r in await _rows(inspect)) == sorted(f"ok {i}" for i in range(20))


async def test_ping_says_whether_the_database_answers(store: ConversationStore) -> None:
    assert await store.ping()


async def test_a_redelivered_message_is_stored_once(
    store: ConversationStore, inspect: AsyncEngine
) -> None:
    conversation = await store.open_conversation("messenger", "ana")
    first = await store.accept_inbound(conversation, "hola", {"mid": 1}, "messenger:m_1")
    assert first is not None
    assert await store.accept_inbound(conversation, "hola", {"mid": 1}, "messenger:m_1") is None
    other = await store.accept_inbound(conversation, "otra", None, "messenger:m_2")
    waiting = await store.pending("in", ["messenger"])
    assert [(p.message_id, p.text, p.payload, p.sender_id) for p in waiting] == [
        (first, "hola", {"mid": 1}, "ana"),
        (other, "otra", None, "ana"),
    ]
    assert await store.pending("in", ["whatsapp"]) == []
    assert await store.pending("in", []) == []
    assert len(await _rows(inspect)) == 2


async def test_the_outbox_its_retries_and_the_platforms_receipts(
    store: ConversationStore, inspect: AsyncEngine
) -> None:
    conversation = await store.open_conversation("messenger", "ana")
    elsewhere = await store.open_conversation("messenger", "otro")
    message = await store.accept_inbound(conversation, "hola", None, "messenger:m_1")
    assert message is not None
    await store.record_outcome(
        message, "answered", conversation, [Outbound("uno", None), Outbound("dos", {"a": 1})],
        PENDING,
    )  # fmt: skip
    await store.record_outbound(elsewhere, [Outbound("ajeno", None)], PENDING)
    outbox = await store.pending("out", ["messenger"], conversation)
    assert [(p.text, p.payload, p.attempts, p.next_attempt_at) for p in outbox] == [
        ("uno", None, 0, None),
        ("dos", {"a": 1}, 0, None),
    ]
    assert len(await store.pending("out", ["messenger"])) == 3

    later = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)).replace(microsecond=0)
    await store.update_outbound(
        outbox[0].message_id, PENDING, attempts=1, next_attempt_at=later, error="x" * 400
    )
    retried = (await store.pending("out", ["messenger"], conversation))[0]
    assert (retried.attempts, retried.next_attempt_at) == (1, later)
    with pytest.raises(ValueError, match="not an outbound field"):
        await store.update_outbound(outbox[0].message_id, SENT, colour="red")

    await store.update_outbound(outbox[0].message_id, SENT, platform_id="messenger:out_1")
    await store.update_outbound(outbox[1].message_id, SENT, platform_id="messenger:out_2")
    assert await store.pending("out", ["messenger"], conversation) == []
    moment = dt.datetime.now(dt.UTC)
    assert await store.mark_delivered([], moment) == 0
    assert await store.mark_delivered(["messenger:out_1", "messenger:unknown"], moment) == 1
    assert await store.mark_by_platform_id([], FAILED, moment, "no") == 0
    assert await store.mark_by_platform_id(["messenger:out_2"], FAILED, moment, "e" * 400) == 1
    assert await store.mark_read(conversation, moment) == 1  # the failed one stays failed
    assert await store.mark_delivered(["messenger:out_1"], moment) == 1  # late: stays read
    async with inspect.connect() as db:
        rows = await db.execute(
            select(Message.text, Message.status, Message.error, Message.delivered_at,
                   Message.read_at)
            .where(Message.direction == "out", Message.conversation_id == conversation)
            .order_by(Message.id)
        )  # fmt: skip
        (uno, dos) = rows.all()
    assert (uno.status, uno.error) == (READ, "x" * 300)
    assert uno.delivered_at is not None and uno.read_at is not None
    assert (dos.status, dos.error, dos.read_at) == (FAILED, "e" * 300, None)

    before = dt.datetime.now(dt.UTC)
    await store.accept_inbound(conversation, "¿y?", None, None)
    last_in = await store.last_inbound_at(conversation)
    assert last_in is not None and before <= last_in <= dt.datetime.now(dt.UTC)
    assert await store.last_inbound_at(elsewhere) is None
    activity = await store.last_activity(elsewhere)
    assert activity is not None and activity <= before
    assert await store.last_activity(999_999) is None


async def test_the_review_inbox(store: ConversationStore) -> None:
    conversation = await store.open_conversation("webchat", "ana")
    message = await store.record_inbound(conversation, "mi ruc", None)
    intents = [
        {"name": "ruc_que_es", "confidence": 0.41},
        {"name": "consulta_ruc", "confidence": 0.4},
    ]
    unsure = await store.record_review(
        NewReview(conversation, message, "mi ruc", intents, ["/ruc_que_es", "/consulta_ruc"])
    )
    await store.record_review(
        NewReview(conversation, message, "no sirve 👎", [], [], source="feedback")
    )
    await store.resolve_review(unsure, "/consulta_ruc")
    reviews = await store.reviews(10)
    assert [(r.text, r.picked, r.source) for r in reviews] == [
        ("no sirve 👎", None, "feedback"),
        ("mi ruc", "/consulta_ruc", "clarification"),
    ]
    assert (reviews[1].id, reviews[1].intents, reviews[1].offered) == (
        unsure, intents, ["/ruc_que_es", "/consulta_ruc"],
    )  # fmt: skip
    assert reviews[1].created_at.tzinfo is not None
    assert len(await store.reviews(1)) == 1
