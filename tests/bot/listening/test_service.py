"""The listening room's service over a real store: comments stored once and masked, analysed in
the background (topic from the NLU, sentiment, flag), kept and completed later when the engine
is down, and the refusals of replies (Meta's 7 days, removed comments, no channel, Meta
refusing)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.conversation.rasa_client import EngineUnavailable
from bot.listening.replies import PageReplies
from bot.listening.rules import load_rules
from bot.listening.service import Listening, ReplyError
from bot.listening.store import Comment, CommentStore, Filters, ReplyKind, Status
from bot.ops.settings import ROOT
from bot.storage.tables import PageComment
from tests.bot.listening.conftest import FakeSentiment, feed_comment

RULES = load_rules(ROOT / "data" / "listening")


class Nlu:
    """``RasaClient.parse`` as the service calls it; ``down`` raises like the real client."""

    def __init__(self) -> None:
        self.down = False
        self.texts: list[str] = []

    async def __call__(self, text: str) -> dict[str, Any]:
        if self.down:
            raise EngineUnavailable("rasa unreachable: ConnectError", reached=False)
        self.texts.append(text)
        intent = ("quejas_sugerencias", 0.93) if "queja" in text else ("ruc_inscripcion_dni", 0.8)
        return {"intent": {"name": intent[0], "confidence": intent[1]}}


def service(
    engine: AsyncEngine,
    nlu: Nlu,
    sentiment: FakeSentiment | None = None,
    graph: Callable[[httpx.Request], httpx.Response] | None = None,
) -> Listening:
    replies = None
    if graph is not None:
        http = httpx.AsyncClient(transport=httpx.MockTransport(graph))
        replies = PageReplies(http, "https://graph.test/v21.0", "page-token")
    return Listening(
        CommentStore(engine), nlu, sentiment, RULES, replies, retry_seconds=0.05, concurrency=2
    )


async def settled(listening: Listening, comment_id: int, timeout: float = 5) -> Comment:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        comment = await listening.store.get(comment_id)
        assert comment is not None
        if comment.analysed_at is not None or asyncio.get_running_loop().time() > deadline:
            return comment
        await asyncio.sleep(0.02)


async def only_id(listening: Listening) -> int:
    [comment] = await listening.store.listing(Filters(), 10)
    return comment.id


async def test_a_comment_is_stored_masked_once_then_analysed_and_flagged(
    engine: AsyncEngine,
) -> None:
    nlu, sentiment = Nlu(), FakeSentiment()
    listening = service(engine, nlu, sentiment)
    said = "queja: nadie me atiende, mi RUC 20100070970, escríbanme a rosa@correo.pe o al 987654321"
    assert await listening.accept([feed_comment("1_1", said)]) == (1, 0)
    assert await listening.accept([feed_comment("1_1", said)]) == (0, 1)  # redelivered
    async with engine.connect() as db:
        [stored] = (await db.execute(select(PageComment.text))).scalars().all()
    for value in ("20100070970", "rosa@correo.pe", "987654321"):
        assert value not in stored
    assert "20*****0970" in stored
    comment = await settled(listening, await only_id(listening))
    assert (comment.topic, comment.topic_confidence) == ("quejas_sugerencias", 0.93)
    assert (comment.sentiment, comment.flagged, comment.flag_reason) == ("negativo", True, "queja")
    # Neither the NLU nor the model saw the personal data.
    assert nlu.texts == [stored] and sentiment.texts == [stored]
    await listening.close()


async def test_a_plain_question_is_neither_negative_nor_flagged(engine: AsyncEngine) -> None:
    listening = service(engine, Nlu(), FakeSentiment())
    await listening.accept([feed_comment("1_1", "¿cómo saco mi RUC?")])
    comment = await settled(listening, await only_id(listening))
    assert (comment.topic, comment.sentiment, comment.flagged) == (
        "ruc_inscripcion_dni", "neutral", False,
    )  # fmt: skip
    await listening.close()


async def test_with_the_engine_down_the_comment_is_kept_and_gets_its_topic_later(
    engine: AsyncEngine,
) -> None:
    nlu = Nlu()
    nlu.down = True
    listening = service(engine, nlu, FakeSentiment())
    await listening.accept([feed_comment("1_1", "tengo una queja, pésimo")])
    comment_id = await only_id(listening)
    await asyncio.sleep(0.2)
    waiting = await listening.store.get(comment_id)
    assert waiting is not None and waiting.analysed_at is None and waiting.topic is None
    assert (waiting.sentiment, waiting.flag_reason) == ("negativo", "negativo")  # known already
    await listening.start()  # the retries
    nlu.down = False
    comment = await settled(listening, comment_id)
    assert (comment.topic, comment.flag_reason) == ("quejas_sugerencias", "queja")
    await listening.close()


async def test_without_a_sentiment_model_comments_are_kept_without_one(
    engine: AsyncEngine,
) -> None:
    listening = service(engine, Nlu(), None)
    await listening.accept([feed_comment("1_1", "pésimo, tengo una queja")])
    comment = await settled(listening, await only_id(listening))
    assert (comment.sentiment, comment.flag_reason) == (None, "queja")
    await listening.close()


async def test_edits_are_analysed_again_and_removals_end_the_comment(engine: AsyncEngine) -> None:
    listening = service(engine, Nlu(), FakeSentiment())
    await listening.accept([feed_comment("1_1", "muchas gracias")])
    comment_id = await only_id(listening)
    assert (await settled(listening, comment_id)).sentiment == "positivo"
    assert await listening.accept([feed_comment("1_1", "pésimo, nadie atiende", "edited")]) == (
        1,
        0,
    )
    await asyncio.sleep(0.1)
    edited = await settled(listening, comment_id)
    assert (edited.text, edited.sentiment, edited.flagged) == (
        "pésimo, nadie atiende",
        "negativo",
        True,
    )
    # An edit of a comment never seen (its "add" was lost) is stored as new.
    assert await listening.accept([feed_comment("1_2", "hola", "edited")]) == (1, 0)
    assert await listening.accept([feed_comment("1_1", "", "remove")]) == (1, 0)
    assert await listening.accept([feed_comment("1_1", "", "remove")]) == (0, 1)
    with pytest.raises(ReplyError) as refused:
        await listening.reply(comment_id, ReplyKind.PUBLIC, "Hola", 1)
    assert (refused.value.status, refused.value.code) == (409, "comment_removed")
    await listening.close()


async def test_private_replies_follow_metas_rules(engine: AsyncEngine, agent_id: int) -> None:
    sent: list[dict[str, Any]] = []
    answers = [httpx.Response(500, json={"error": {"code": 2}}), httpx.Response(200, json={})]

    def graph(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        answer = answers.pop(0) if answers else httpx.Response(200, json={"message_id": "m1"})
        return answer

    listening = service(engine, Nlu(), FakeSentiment(), graph)
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=7, minutes=1)
    await listening.accept([feed_comment("1_old", "hola", created_at=old)])
    await listening.accept([feed_comment("1_new", "hola")])
    old_id, new_id = sorted(c.id for c in await listening.store.listing(Filters(), 10))
    with pytest.raises(ReplyError) as late:
        await listening.reply(old_id, ReplyKind.PRIVATE, "Hola", agent_id)
    assert (late.value.status, late.value.code) == (409, "private_reply_expired")
    assert sent == []  # never asked Meta
    # Meta refuses: a 502, nothing recorded, the one private reply still available.
    with pytest.raises(ReplyError) as failed:
        await listening.reply(new_id, ReplyKind.PRIVATE, "Hola", agent_id)
    assert (failed.value.status, failed.value.code) == (502, "graph_error")
    still = await listening.store.get(new_id)
    assert still is not None and still.status is Status.NEW and still.private_replied_at is None
    answered = await listening.reply(new_id, ReplyKind.PRIVATE, "Te escribimos", agent_id)
    assert answered.status is Status.REPLIED and answered.private_replied_at is not None
    assert sent[-1] == {"recipient": {"comment_id": "1_new"}, "message": {"text": "Te escribimos"}}
    with pytest.raises(ReplyError) as again:
        await listening.reply(new_id, ReplyKind.PRIVATE, "Otra vez", agent_id)
    assert (again.value.status, again.value.code) == (409, "private_reply_used")
    assert len(sent) == 2
    await listening.close()


async def test_without_messenger_nothing_can_be_answered(engine: AsyncEngine) -> None:
    listening = service(engine, Nlu(), None)
    await listening.accept([feed_comment("1_1", "hola")])
    with pytest.raises(ReplyError) as refused:
        await listening.reply(await only_id(listening), ReplyKind.PUBLIC, "Hola", 1)
    assert (refused.value.status, refused.value.code) == (409, "channel_disabled")
    with pytest.raises(ReplyError) as missing:
        await listening.dismiss(999)
    assert missing.value.status == 404
    await listening.close()
