"""Where the fanpage's comments live (``page_comments``, :class:`bot.storage.tables.PageComment`):
SQLAlchemy Core on the gateway's database, SQLite or PostgreSQL.

- A comment is stored once: the platform's id is unique, so a redelivered webhook (or two at
  once) inserts nothing the second time, on either database.
- Meta allows one private reply per comment: it is claimed by one conditional update
  (``... WHERE private_replied_at IS NULL``) before the Graph API is called, so two agents at
  once cannot both send one; the claim is released if Meta refuses the reply.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.conversation.page_feed import FeedComment
from bot.storage.tables import Agent, PageComment
from bot.storage.time import aware, utcnow


class Status(StrEnum):
    #: Waiting for staff.
    NEW = "nuevo"
    #: Answered from the console (publicly or privately).
    REPLIED = "respondido"
    #: Staff decided it needs no answer.
    DISMISSED = "descartado"
    #: Its author took it down on Facebook: nothing more to do.
    REMOVED = "eliminado"


class ReplyKind(StrEnum):
    PUBLIC = "publica"
    PRIVATE = "privada"


@dataclass(frozen=True)
class Comment:
    id: int
    platform_id: str
    post_id: str
    parent_id: str | None
    author_name: str | None
    #: With personal data masked (it is stored so).
    text: str
    created_at: dt.datetime
    received_at: dt.datetime
    topic: str | None
    topic_confidence: float | None
    sentiment: str | None
    sentiment_score: float | None
    flagged: bool
    flag_reason: str | None
    status: Status
    reply_kind: ReplyKind | None
    reply_text: str | None
    replied_by: str | None
    replied_at: dt.datetime | None
    private_replied_at: dt.datetime | None
    analysed_at: dt.datetime | None

    def public(self) -> dict[str, Any]:
        """The comment as the console shows it."""
        reply = None
        if self.reply_kind is not None:
            reply = {
                "kind": self.reply_kind.value,
                "text": self.reply_text,
                "by": self.replied_by,
                "at": _iso(self.replied_at),
            }
        return {
            "id": self.id,
            "post_id": self.post_id,
            "parent_id": self.parent_id,
            "author_name": self.author_name,
            "text": self.text,
            "created_at": _iso(self.created_at),
            "received_at": _iso(self.received_at),
            "topic": self.topic,
            "topic_confidence": self.topic_confidence,
            "sentiment": self.sentiment,
            "sentiment_score": self.sentiment_score,
            "flagged": self.flagged,
            "flag_reason": self.flag_reason,
            "status": self.status.value,
            "reply": reply,
            "private_replied": self.private_replied_at is not None,
            "analysed": self.analysed_at is not None,
        }


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


_COLUMNS = (*PageComment.__table__.c, Agent.display_name.label("agent_name"))


def _comment(row: Any) -> Comment:
    return Comment(
        id=row.id,
        platform_id=row.platform_id,
        post_id=row.post_id,
        parent_id=row.parent_id,
        author_name=row.author_name,
        text=row.text,
        created_at=aware(row.created_at),
        received_at=aware(row.received_at),
        topic=row.topic,
        topic_confidence=row.topic_confidence,
        sentiment=row.sentiment,
        sentiment_score=row.sentiment_score,
        flagged=bool(row.flagged),
        flag_reason=row.flag_reason,
        status=Status(row.status),
        reply_kind=ReplyKind(row.reply_kind) if row.reply_kind else None,
        reply_text=row.reply_text,
        replied_by=row.agent_name,
        replied_at=aware(row.replied_at),
        private_replied_at=aware(row.private_replied_at),
        analysed_at=aware(row.analysed_at),
    )


@dataclass(frozen=True)
class Analysis:
    """What the listening room settled about a comment."""

    topic: str | None
    topic_confidence: float | None
    sentiment: str | None
    sentiment_score: float | None
    flag_reason: str | None
    #: False when the engine could not be asked (the topic is tried again later).
    settled: bool


@dataclass(frozen=True)
class Filters:
    statuses: tuple[Status, ...] = ()
    flagged: bool | None = None
    sentiment: str | None = None
    topic: str | None = None


class CommentStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    def _select(self) -> Any:
        return select(*_COLUMNS).outerjoin(Agent, Agent.id == PageComment.replied_by)

    async def add(self, comment: FeedComment, text: str) -> int | None:
        """Store a new comment (``text`` already masked); None when it was stored before."""
        values = {
            "platform_id": comment.platform_id,
            "post_id": comment.post_id,
            "parent_id": comment.parent_id,
            "author_id": comment.author_id,
            "author_name": comment.author_name,
            "text": text,
            "created_at": comment.created_at,
            "received_at": utcnow(),
            "status": Status.NEW.value,
            "flagged": False,
        }
        try:
            async with self._engine.begin() as db:
                result = await db.execute(insert(PageComment).values(**values))
        except IntegrityError:
            return None
        key = result.inserted_primary_key
        return int(key[0]) if key else None

    async def edit(self, platform_id: str, text: str) -> int | None:
        """Its author changed it: the new (masked) text, to be analysed again. None when the
        comment is not here."""
        async with self._engine.begin() as db:
            found = await db.scalar(
                select(PageComment.id).where(PageComment.platform_id == platform_id)
            )
            if found is None:
                return None
            await db.execute(
                update(PageComment)
                .where(PageComment.id == found)
                .values(text=text, analysed_at=None)
            )
        return int(found)

    async def remove(self, platform_id: str) -> bool:
        """Its author took it down; False when it is not here (or was removed already)."""
        async with self._engine.begin() as db:
            result = await db.execute(
                update(PageComment)
                .where(
                    PageComment.platform_id == platform_id,
                    PageComment.status != Status.REMOVED.value,
                )
                .values(status=Status.REMOVED.value)
            )
        return bool(result.rowcount)

    async def analysed(self, comment_id: int, analysis: Analysis) -> None:
        async with self._engine.begin() as db:
            await db.execute(
                update(PageComment)
                .where(PageComment.id == comment_id)
                .values(
                    topic=analysis.topic,
                    topic_confidence=analysis.topic_confidence,
                    sentiment=analysis.sentiment,
                    sentiment_score=analysis.sentiment_score,
                    flagged=analysis.flag_reason is not None,
                    flag_reason=analysis.flag_reason,
                    analysed_at=utcnow() if analysis.settled else None,
                )
            )

    async def unanalysed(self, since: dt.datetime, limit: int = 50) -> list[int]:
        """Comments received since ``since`` whose topic is not settled, oldest first."""
        query = (
            select(PageComment.id)
            .where(
                PageComment.analysed_at.is_(None),
                PageComment.received_at >= since,
                PageComment.status != Status.REMOVED.value,
            )
            .order_by(PageComment.id)
            .limit(limit)
        )
        async with self._engine.connect() as db:
            return [int(i) for i in (await db.scalars(query)).all()]

    async def get(self, comment_id: int) -> Comment | None:
        async with self._engine.connect() as db:
            row = (await db.execute(self._select().where(PageComment.id == comment_id))).first()
        return _comment(row) if row is not None else None

    async def listing(self, filters: Filters, limit: int, offset: int = 0) -> list[Comment]:
        """Flagged comments first, then the newest."""
        conditions: list[Any] = []
        if filters.statuses:
            conditions.append(PageComment.status.in_([s.value for s in filters.statuses]))
        if filters.flagged is not None:
            conditions.append(PageComment.flagged.is_(filters.flagged))
        if filters.sentiment is not None:
            conditions.append(PageComment.sentiment == filters.sentiment)
        if filters.topic is not None:
            conditions.append(PageComment.topic == filters.topic)
        query = (
            self._select()
            .where(and_(True, *conditions))
            .order_by(
                PageComment.flagged.desc(), PageComment.created_at.desc(), PageComment.id.desc()
            )
            .limit(limit)
            .offset(offset)
        )
        async with self._engine.connect() as db:
            return [_comment(r) for r in (await db.execute(query)).all()]

    async def counts(self) -> dict[str, int]:
        """How many comments there are in each status, and how many flagged wait (``nuevo``)."""
        async with self._engine.connect() as db:
            rows = (
                await db.execute(
                    select(PageComment.status, func.count()).group_by(PageComment.status)
                )
            ).all()
            flagged = await db.scalar(
                select(func.count()).where(
                    PageComment.flagged.is_(True), PageComment.status == Status.NEW.value
                )
            )
        counts = {s.value: 0 for s in Status}
        counts.update({str(status): int(n) for status, n in rows})
        counts["flagged_waiting"] = int(flagged or 0)
        return counts

    async def claim_private_reply(self, comment_id: int, at: dt.datetime) -> bool:
        """Take the comment's one private reply; False when it was taken already."""
        async with self._engine.begin() as db:
            result = await db.execute(
                update(PageComment)
                .where(PageComment.id == comment_id, PageComment.private_replied_at.is_(None))
                .values(private_replied_at=at)
            )
        return bool(result.rowcount)

    async def release_private_reply(self, comment_id: int, at: dt.datetime) -> None:
        """Meta refused the private reply claimed at ``at``: it may be tried again."""
        async with self._engine.begin() as db:
            await db.execute(
                update(PageComment)
                .where(PageComment.id == comment_id, PageComment.private_replied_at == at)
                .values(private_replied_at=None)
            )

    async def replied(self, comment_id: int, kind: ReplyKind, text: str, agent_id: int) -> None:
        """Meta took the reply: the comment is answered."""
        async with self._engine.begin() as db:
            await db.execute(
                update(PageComment)
                .where(PageComment.id == comment_id)
                .values(
                    reply_kind=kind.value,
                    reply_text=text,
                    replied_by=agent_id,
                    replied_at=utcnow(),
                    status=Status.REPLIED.value,
                )
            )

    async def dismiss(self, comment_id: int) -> bool:
        """A new comment needs no answer; False unless it was waiting (``nuevo``)."""
        async with self._engine.begin() as db:
            result = await db.execute(
                update(PageComment)
                .where(PageComment.id == comment_id, PageComment.status == Status.NEW.value)
                .values(status=Status.DISMISSED.value)
            )
        return bool(result.rowcount)
