"""Listening on the fanpage: what happens to a comment from the webhook to the staff's answer.

1. ``accept`` (the webhook, before its 200; :class:`bot.conversation.page_feed.PageFeed`):
   each comment is stored once, its personal data masked (as in the review inbox); an edit
   replaces the text, a removal marks it ``eliminado``.
2. In the background, a few at a time: its topic from the assistant's own NLU (Rasa's
   ``/model/parse``: intent and confidence), its sentiment from the packaged Spanish model
   (``bot/listening/sentiment.py``), and whether staff should look at it (the rules in
   ``data/listening/listening.yml``). With the engine down the comment is kept without a topic
   and tried again every ``retry_seconds`` (for a week); nothing fails.
3. Staff answer from the console (``bot/listening/api.py``): publicly under the comment, or
   privately (one Messenger message per comment, within Meta's 7 days), or dismiss it. A
   reply Meta refuses marks nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.conversation.page_feed import FeedComment
from bot.conversation.rasa_client import EngineUnavailable
from bot.knowledge.personal_data import mask
from bot.listening.replies import PRIVATE_REPLY_WINDOW, PageReplies, ReplyRefused
from bot.listening.rules import FlagRules
from bot.listening.sentiment import SentimentModel
from bot.listening.store import Analysis, Comment, CommentStore, ReplyKind, Status
from bot.storage.time import utcnow

logger = logging.getLogger(__name__)

#: What the NLU understands of a text (Rasa's ``/model/parse`` answer).
Parse = Callable[[str], Awaitable[dict[str, Any]]]
#: How long a comment's topic is tried again while the engine is down.
RETRY_FOR = dt.timedelta(days=7)


class ReplyError(Exception):
    """Why a reply or a dismissal was refused: ``code`` for programs, a Spanish message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class Listening:
    def __init__(
        self,
        store: CommentStore,
        parse: Parse,
        sentiment: SentimentModel | None,
        rules: FlagRules,
        replies: PageReplies | None,
        retry_seconds: float = 60.0,
        concurrency: int = 4,
    ) -> None:
        self.store = store
        self._parse = parse
        #: The sentiment model (None: comments are kept without one); replaceable, e.g. by a
        #: test's fake.
        self.sentiment = sentiment
        self._rules = rules
        self._replies = replies
        self._retry_seconds = retry_seconds
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._retrying: asyncio.Task[None] | None = None

    # --- in -------------------------------------------------------------------------------

    async def accept(self, comments: list[FeedComment]) -> tuple[int, int]:
        """Store the webhook's comments; (new, changed or removed; redeliveries)."""
        new = repeated = 0
        for comment in comments:
            if comment.verb == "remove":
                if await self.store.remove(comment.platform_id):
                    new += 1
                else:
                    repeated += 1
                continue
            text = mask(comment.text)
            comment_id = None
            if comment.verb == "edited":
                comment_id = await self.store.edit(comment.platform_id, text)
            if comment_id is None:
                comment_id = await self.store.add(comment, text)
            if comment_id is None:
                repeated += 1
                continue
            new += 1
            self._later(comment_id)
        return new, repeated

    def _later(self, comment_id: int) -> None:
        task = asyncio.create_task(self._analyse_in_turn(comment_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _analyse_in_turn(self, comment_id: int) -> None:
        async with self._slots:
            try:
                await self.analyse(comment_id)
            except Exception:  # a background job must not die silently, nor kill the app
                logger.exception("comment %s: analysis failed", comment_id)

    async def analyse(self, comment_id: int) -> Comment | None:
        """Settle a stored comment's topic, sentiment and flag (the engine down: no topic yet)."""
        comment = await self.store.get(comment_id)
        if comment is None:
            return None
        topic: str | None = None
        confidence: float | None = None
        settled = True
        if comment.text.strip():
            try:
                intent = (await self._parse(comment.text)).get("intent") or {}
            except EngineUnavailable as exc:
                logger.warning("comment %s: no topic yet (%s)", comment_id, exc)
                settled = False
            else:
                name, score = intent.get("name"), intent.get("confidence")
                topic = str(name)[:128] if name else None
                confidence = round(float(score), 4) if isinstance(score, int | float) else None
        sentiment = None
        if self.sentiment is not None and comment.text.strip():
            sentiment = await self.sentiment.estimate(comment.text)
        label = sentiment.label if sentiment else None
        await self.store.analysed(
            comment_id,
            Analysis(
                topic=topic,
                topic_confidence=confidence,
                sentiment=label,
                sentiment_score=sentiment.score if sentiment else None,
                flag_reason=self._rules.reason(topic, confidence, label),
                settled=settled,
            ),
        )
        return await self.store.get(comment_id)

    # --- the retries ------------------------------------------------------------------------

    async def start(self) -> None:
        """Analyse what was stored but not settled (a restart, the engine down), now and every
        ``retry_seconds``."""
        self._retrying = asyncio.create_task(self._retry_forever())

    async def _retry_forever(self) -> None:
        while True:
            try:
                for comment_id in await self.store.unanalysed(utcnow() - RETRY_FOR):
                    await self._analyse_in_turn(comment_id)
            except Exception:
                logger.exception("listening: retrying the analyses failed")
            await asyncio.sleep(self._retry_seconds)

    async def close(self) -> None:
        tasks = [*self._tasks, *([self._retrying] if self._retrying else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- staff's answers ----------------------------------------------------------------------

    async def _answerable(self, comment_id: int) -> Comment:
        comment = await self.store.get(comment_id)
        if comment is None:
            raise ReplyError(404, "not_found", "No existe ese comentario.")
        if comment.status is Status.REMOVED:
            raise ReplyError(409, "comment_removed", "Su autor eliminó el comentario en Facebook.")
        return comment

    async def reply(self, comment_id: int, kind: ReplyKind, text: str, agent_id: int) -> Comment:
        """Answer publicly or privately through the Graph API; recorded once Meta took it."""
        comment = await self._answerable(comment_id)
        if self._replies is None:
            raise ReplyError(
                409, "channel_disabled", "El canal Messenger no está configurado: no se puede "
                "responder en Facebook desde aquí."
            )  # fmt: skip
        if kind is ReplyKind.PUBLIC:
            try:
                await self._replies.public(comment.platform_id, text)
            except ReplyRefused as exc:
                raise _refused(comment_id, exc) from exc
        else:
            now = utcnow()
            if now - comment.created_at > PRIVATE_REPLY_WINDOW:
                raise ReplyError(
                    409, "private_reply_expired", "Facebook solo permite responder en privado "
                    "durante los 7 días siguientes al comentario."
                )  # fmt: skip
            if not await self.store.claim_private_reply(comment_id, now):
                raise ReplyError(
                    409, "private_reply_used", "Este comentario ya recibió su respuesta privada: "
                    "Facebook permite una sola."
                )  # fmt: skip
            try:
                await self._replies.private(comment.platform_id, text)
            except ReplyRefused as exc:
                await self.store.release_private_reply(comment_id, now)
                raise _refused(comment_id, exc) from exc
        await self.store.replied(comment_id, kind, text, agent_id)
        answered = await self.store.get(comment_id)
        assert answered is not None
        return answered

    async def dismiss(self, comment_id: int) -> Comment:
        """A new comment needs no answer."""
        await self._answerable(comment_id)
        if not await self.store.dismiss(comment_id):
            raise ReplyError(409, "not_new", "Solo se descarta un comentario nuevo.")
        dismissed = await self.store.get(comment_id)
        assert dismissed is not None
        return dismissed


def _refused(comment_id: int, exc: ReplyRefused) -> ReplyError:
    logger.warning("comment %s: reply refused by Meta (%s)", comment_id, exc.reason)
    return ReplyError(
        502, "graph_error", "Facebook no aceptó la respuesta. Inténtalo de nuevo en un momento."
    )
