"""The surveys' store on both databases: one survey per conversation session (also with two
gateways racing), none while a handoff is open, a rating recorded once and in range, and the
idle conversations the job asks."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.conversation.store import ConversationStore, Outbound
from bot.satisfaction.store import GOODBYE, IDLE, MAX_COMMENT_CHARS, SurveyStore
from bot.storage.database import create_engine
from bot.storage.tables import HandoffRow, SurveyRow
from bot.storage.time import utcnow
from tests.bot.satisfaction.timeline import move_back

SESSION = dt.timedelta(minutes=60)
TEN = dt.timedelta(minutes=10)


async def exchange(store: ConversationStore, sender: str, status: str = "answered") -> int:
    """A conversation where the citizen asked and the assistant answered (``status``)."""
    conversation = await store.open_conversation("webchat", sender)
    asked = await store.record_inbound(conversation, "que es el ruc", None)
    await store.record_outcome(asked, status, conversation, [Outbound.of({"text": "El RUC…"})])
    return conversation


async def handoff(engine: AsyncEngine, conversation: int, state: str = "pending") -> int:
    async with engine.begin() as db:
        new_id = await db.scalar(
            insert(HandoffRow)
            .values(conversation_id=conversation, state=state, reason="pedido",
                    team="orientacion", created_at=utcnow())
            .returning(HandoffRow.id)
        )  # fmt: skip
    return int(new_id or 0)


async def surveys(engine: AsyncEngine, conversation: int) -> list[Any]:
    async with engine.connect() as db:
        return list(
            (
                await db.execute(
                    select(SurveyRow)
                    .where(SurveyRow.conversation_id == conversation)
                    .order_by(SurveyRow.number)
                )
            ).all()
        )


async def test_a_session_is_asked_once_and_again_once_it_ended(
    store: ConversationStore, engine: AsyncEngine
) -> None:
    surveys_store = SurveyStore(engine, SESSION)
    conversation = await exchange(store, "ana")
    first = await surveys_store.claim(conversation, "webchat", GOODBYE)
    assert first is not None
    assert await surveys_store.claim(conversation, "webchat", IDLE) is None
    # Still talking 40 minutes apart for two hours: the same session.
    for _ in range(3):
        await move_back(engine, conversation, dt.timedelta(minutes=40))
        await exchange(store, "ana")
    assert await surveys_store.claim(conversation, "webchat", GOODBYE) is None
    # An hour without messages ends it.
    await move_back(engine, conversation, SESSION)
    await exchange(store, "ana")
    second = await surveys_store.claim(conversation, "webchat", GOODBYE)
    assert second is not None and second != first
    rows = await surveys(engine, conversation)
    assert [(r.number, r.trigger) for r in rows] == [(1, GOODBYE), (2, GOODBYE)]


async def test_gateways_racing_for_one_session_ask_once(
    store: ConversationStore, engine: AsyncEngine, url: str
) -> None:
    other_gateway = create_engine(url)
    try:
        mine, theirs = SurveyStore(engine, SESSION), SurveyStore(other_gateway, SESSION)
        conversation = await exchange(store, "ana")
        claims = await asyncio.gather(
            *(s.claim(conversation, "webchat", IDLE) for s in [mine, theirs] * 4)
        )
    finally:
        await other_gateway.dispose()
    assert len([c for c in claims if c is not None]) == 1
    assert len(await surveys(engine, conversation)) == 1


async def test_never_while_a_handoff_is_open(store: ConversationStore, engine: AsyncEngine) -> None:
    surveys_store = SurveyStore(engine, SESSION)
    conversation = await exchange(store, "ana")
    handoff_id = await handoff(engine, conversation)
    assert await surveys_store.claim(conversation, "webchat", GOODBYE) is None
    async with engine.begin() as db:
        await db.execute(update(HandoffRow).values(state="closed"))
    claimed = await surveys_store.claim(conversation, "webchat", "handoff", handoff_id)
    assert claimed is not None
    [row] = await surveys(engine, conversation)
    assert (row.trigger, row.handoff_id, row.rating) == ("handoff", handoff_id, None)


async def test_a_rating_is_recorded_once_in_range_and_a_comment_is_cut(
    store: ConversationStore, engine: AsyncEngine
) -> None:
    surveys_store = SurveyStore(engine, SESSION)
    conversation = await exchange(store, "ana")
    survey = await surveys_store.claim(conversation, "webchat", GOODBYE)
    assert survey is not None
    assert await surveys_store.rate(survey, 4)
    assert not await surveys_store.rate(survey, 5)  # a second button press changes nothing
    await surveys_store.comment(survey, "  " + "a" * (MAX_COMMENT_CHARS + 50))
    latest = await surveys_store.latest(conversation)
    assert latest is not None and latest.id == survey
    assert latest.rating == 4 and latest.answered_at is not None
    assert latest.comment == "a" * MAX_COMMENT_CHARS
    # The database refuses a rating out of range, whoever writes it.
    with pytest.raises(IntegrityError):
        async with engine.begin() as db:
            await db.execute(update(SurveyRow).values(rating=6))


async def test_the_idle_conversations_are_those_the_assistant_answered_last(
    store: ConversationStore, engine: AsyncEngine
) -> None:
    surveys_store = SurveyStore(engine, SESSION)
    quiet = await exchange(store, "quiet")
    recent = await exchange(store, "recent")
    waiting = await store.open_conversation("webchat", "waiting")  # the citizen wrote last
    await exchange(store, "waiting")
    await store.record_inbound(waiting, "y la clave sol?", None)
    failed = await exchange(store, "failed", status="failed")  # the engine was down
    with_people = await exchange(store, "people", status="to_agent")
    in_handoff = await exchange(store, "handoff")
    await handoff(engine, in_handoff)
    surveyed = await exchange(store, "surveyed")
    assert await surveys_store.claim(surveyed, "webchat", GOODBYE) is not None
    old = await exchange(store, "old")
    for conversation in (quiet, waiting, failed, with_people, in_handoff, surveyed):
        await move_back(engine, conversation, dt.timedelta(minutes=15))
    await move_back(engine, recent, dt.timedelta(minutes=5))
    await move_back(engine, old, dt.timedelta(hours=3))

    found = await surveys_store.idle_conversations(TEN)
    assert [(c.id, c.channel, c.sender_id) for c in found] == [(quiet, "webchat", "quiet")]
    assert await surveys_store.idle_conversations(TEN, after=quiet) == []
    # Once asked, it is not found again.
    assert await surveys_store.claim(quiet, "webchat", IDLE) is not None
    assert await surveys_store.idle_conversations(TEN) == []
    async with engine.connect() as db:
        assert await db.scalar(select(func.count()).select_from(SurveyRow)) == 2
