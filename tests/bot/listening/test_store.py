"""The comments' store on SQLite and PostgreSQL: stored once (also when two deliveries race),
edits and removals, the one private reply claimed by one agent only, flagged first."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.listening.store import Analysis, CommentStore, Filters, ReplyKind, Status
from bot.storage.tables import PageComment
from tests.bot.listening.conftest import feed_comment


async def rows(engine: AsyncEngine) -> int:
    async with engine.connect() as db:
        return int(await db.scalar(select(func.count()).select_from(PageComment)) or 0)


async def test_a_comment_is_stored_once_even_when_two_deliveries_race(engine: AsyncEngine) -> None:
    store = CommentStore(engine)
    first, second = await asyncio.gather(
        store.add(feed_comment("1_1"), "hola"), store.add(feed_comment("1_1"), "hola")
    )
    assert sorted([first is None, second is None]) == [False, True]
    assert await store.add(feed_comment("1_1"), "hola") is None  # a later redelivery
    assert await rows(engine) == 1
    stored = await store.get(first or second or 0)
    assert stored is not None
    assert (stored.platform_id, stored.status, stored.author_name) == (
        "1_1",
        Status.NEW,
        "Rosa Quispe",
    )
    assert stored.analysed_at is None and not stored.flagged


async def test_an_edit_replaces_the_text_and_asks_for_a_new_analysis(engine: AsyncEngine) -> None:
    store = CommentStore(engine)
    comment_id = await store.add(feed_comment("1_1"), "antes")
    assert comment_id is not None
    await store.analysed(comment_id, Analysis("saludo", 0.9, "neutral", 0.5, None, True))
    assert await store.unanalysed(dt.datetime.now(dt.UTC) - dt.timedelta(days=1)) == []
    assert await store.edit("1_1", "después") == comment_id
    edited = await store.get(comment_id)
    assert edited is not None and edited.text == "después" and edited.analysed_at is None
    assert await store.unanalysed(dt.datetime.now(dt.UTC) - dt.timedelta(days=1)) == [comment_id]
    assert await store.edit("no_such", "x") is None


async def test_a_removed_comment_is_marked_once(engine: AsyncEngine) -> None:
    store = CommentStore(engine)
    comment_id = await store.add(feed_comment("1_1"), "hola")
    assert await store.remove("1_1") is True
    assert await store.remove("1_1") is False
    assert await store.remove("no_such") is False
    removed = await store.get(comment_id or 0)
    assert removed is not None and removed.status is Status.REMOVED


async def test_one_private_reply_per_comment_whoever_asks_first(
    engine: AsyncEngine, agent_id: int
) -> None:
    store = CommentStore(engine)
    comment_id = await store.add(feed_comment("1_1"), "hola")
    assert comment_id is not None
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    claims = await asyncio.gather(*(store.claim_private_reply(comment_id, now) for _ in range(5)))
    assert sorted(claims) == [False, False, False, False, True]
    # Meta refused it: released, and then it may be claimed again.
    await store.release_private_reply(comment_id, now)
    assert await store.claim_private_reply(comment_id, now) is True
    await store.replied(comment_id, ReplyKind.PRIVATE, "Te escribimos por interno.", agent_id)
    answered = await store.get(comment_id)
    assert answered is not None
    assert (answered.status, answered.reply_kind, answered.replied_by) == (
        Status.REPLIED, ReplyKind.PRIVATE, "Ana",
    )  # fmt: skip
    assert answered.private_replied_at is not None


async def test_flagged_comments_come_first_and_filters_apply(engine: AsyncEngine) -> None:
    store = CommentStore(engine)
    ids = {}
    base = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    for minute, (name, reason, sentiment) in enumerate(
        [("a", None, "positivo"), ("b", "queja", "negativo"), ("c", None, "neutral"),
         ("d", "negativo", "negativo")]
    ):  # fmt: skip
        created = base + dt.timedelta(minutes=minute)
        comment_id = await store.add(feed_comment(f"1_{name}", created_at=created), name)
        assert comment_id is not None
        topic = "quejas_sugerencias" if reason == "queja" else "saludo"
        await store.analysed(comment_id, Analysis(topic, 0.9, sentiment, 0.5, reason, True))
        ids[name] = comment_id
    everything = await store.listing(Filters(), 50)
    assert [c.text for c in everything] == ["d", "b", "c", "a"]  # flagged (newest first), rest
    assert [c.text for c in await store.listing(Filters(flagged=False), 50)] == ["c", "a"]
    assert [c.text for c in await store.listing(Filters(sentiment="negativo"), 50)] == ["d", "b"]
    assert [c.text for c in await store.listing(Filters(topic="quejas_sugerencias"), 50)] == ["b"]
    assert [c.text for c in await store.listing(Filters(), 2, offset=2)] == ["c", "a"]
    assert await store.dismiss(ids["a"]) is True
    assert await store.dismiss(ids["a"]) is False  # only a new one
    done = await store.listing(Filters(statuses=(Status.DISMISSED,)), 50)
    assert [c.text for c in done] == ["a"]
    counts = await store.counts()
    assert counts["nuevo"] == 3 and counts["descartado"] == 1 and counts["flagged_waiting"] == 2
