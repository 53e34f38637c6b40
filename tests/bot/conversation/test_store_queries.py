"""The shared queries on both databases: what each dialect is given, and how values are bound."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.conversation.store import SENT, ConversationStore, Outbound
from bot.conversation.store_queries import _NEW_CONVERSATION, _NEW_INBOUND
from bot.storage.tables import Message

LIMA = dt.timezone(dt.timedelta(hours=-5))


def test_each_dialect_gets_its_own_insert_that_leaves_a_duplicate_alone() -> None:
    assert set(_NEW_CONVERSATION) == set(_NEW_INBOUND) == {"sqlite", "postgresql"}
    for name, dialect in (("sqlite", sqlite.dialect()), ("postgresql", postgresql.dialect())):
        conversation = str(_NEW_CONVERSATION[name].compile(dialect=dialect))
        inbound = str(_NEW_INBOUND[name].compile(dialect=dialect))
        assert "ON CONFLICT (channel, sender_id) DO NOTHING" in conversation
        assert "ON CONFLICT (platform_id) DO NOTHING RETURNING" in inbound


async def test_a_message_without_payload_is_stored_with_a_null_payload(
    store: ConversationStore, inspect: AsyncEngine
) -> None:
    conversation = await store.open_conversation("webchat", "ana")
    message = await store.record_inbound(conversation, "hola", None)
    await store.record_outcome(message, "answered", conversation, [Outbound("Hola", None)])
    async with inspect.connect() as db:
        nulls = await db.scalar(
            select(func.count()).select_from(Message).where(Message.payload.is_(None))
        )
    assert nulls == 2  # SQL NULL, not the JSON value null


async def test_moments_in_another_zone_are_bound_as_the_same_moment(
    store: ConversationStore,
) -> None:
    conversation = await store.open_conversation("messenger", "ana")
    await store.record_outbound(conversation, [Outbound("uno", None)], SENT)
    now_in_lima = dt.datetime.now(LIMA)
    # Five hours behind UTC on the clock: compared as the wall time, nothing would be read.
    assert await store.mark_read(conversation, now_in_lima) == 1
    history = await store.history(conversation, 10)
    assert history[0].created_at <= now_in_lima
    assert history[0].created_at.utcoffset() == dt.timedelta(0)
