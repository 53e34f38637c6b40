"""Where the satisfaction surveys live (``satisfaction_surveys``, :class:`SurveyRow`):
SQLAlchemy Core on the gateway's database, SQLite or PostgreSQL.

Never twice in a session, with one gateway or several: a survey is *claimed* by inserting its
row before anything is sent. Each row takes the next number of its conversation (1, 2, …) under
a unique constraint, so of two gateways claiming the same session only one insert goes in. A
new number is taken only when the conversation's last survey belongs to an earlier session: the
conversation was idle ``session_idle`` (the gateway's session clock, ``SESSION_IDLE_MINUTES``)
at least once since it was asked. Never during a handoff: no claim while the conversation has
an open one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.storage.tables import Conversation, HandoffRow, Message, SurveyRow
from bot.storage.time import aware, utcnow

#: Why a survey was asked (``SurveyRow.trigger``).
GOODBYE, IDLE, HANDOFF = "despedida", "inactividad", "handoff"
#: A longer comment is cut to this length.
MAX_COMMENT_CHARS = 1000
#: Messages read to see whether a session ended since the last survey; a session that runs
#: longer without a pause counts as the same one (never twice).
SESSION_SCAN = 500
#: Conversations read at a time by :meth:`SurveyStore.idle_conversations`.
IDLE_BATCH = 100


@dataclass(frozen=True)
class Survey:
    id: int
    conversation_id: int
    number: int
    channel: str
    trigger: str
    handoff_id: int | None
    asked_at: dt.datetime
    rating: int | None
    comment: str | None
    answered_at: dt.datetime | None


@dataclass(frozen=True)
class IdleConversation:
    """A conversation the assistant answered last, quiet since."""

    id: int
    channel: str
    sender_id: str


_OPEN_HANDOFF = exists().where(
    HandoffRow.conversation_id == Conversation.id, HandoffRow.state != "closed"
)


class SurveyStore:
    def __init__(
        self,
        engine: AsyncEngine,
        session_idle: dt.timedelta,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._engine = engine
        self._session_idle = session_idle
        self._clock = clock

    async def claim(
        self, conversation_id: int, channel: str, trigger: str, handoff_id: int | None = None
    ) -> int | None:
        """A new survey's id, recorded as asked now; None when this conversation's session
        already had one, a handoff is open, or another gateway claimed it first."""
        now = self._clock()
        async with self._engine.connect() as db:
            in_handoff = await db.scalar(
                select(
                    exists().where(
                        HandoffRow.conversation_id == conversation_id,
                        HandoffRow.state != "closed",
                    )
                )
            )
            if in_handoff:
                return None
            last = (
                await db.execute(
                    select(SurveyRow.number, SurveyRow.asked_at)
                    .where(SurveyRow.conversation_id == conversation_id)
                    .order_by(SurveyRow.number.desc())
                    .limit(1)
                )
            ).first()
            if last is not None and not await self._session_ended(
                db, conversation_id, aware(last.asked_at), now
            ):
                return None
        try:
            async with self._engine.begin() as db:
                new_id = await db.scalar(
                    insert(SurveyRow)
                    .values(
                        conversation_id=conversation_id,
                        number=1 if last is None else last.number + 1,
                        channel=channel,
                        trigger=trigger,
                        handoff_id=handoff_id,
                        asked_at=now,
                    )
                    .returning(SurveyRow.id)
                )
        except IntegrityError:
            return None  # the same number went in first: this session is claimed
        return int(new_id) if new_id is not None else None

    async def _session_ended(
        self, db: AsyncConnection, conversation_id: int, since: dt.datetime, now: dt.datetime
    ) -> bool:
        """Whether the conversation was idle ``session_idle`` at least once since ``since``."""
        moments = (
            await db.scalars(
                select(Message.created_at)
                .where(Message.conversation_id == conversation_id, Message.created_at > since)
                .order_by(Message.created_at, Message.id)
                .limit(SESSION_SCAN)
            )
        ).all()
        previous = since
        for moment in (aware(m) for m in moments):
            if moment - previous >= self._session_idle:
                return True
            previous = moment
        return len(moments) < SESSION_SCAN and now - previous >= self._session_idle

    async def rate(self, survey_id: int, rating: int) -> bool:
        """Record the rating; False when the survey was rated already (or is unknown)."""
        async with self._engine.begin() as db:
            result = await db.execute(
                update(SurveyRow)
                .where(SurveyRow.id == survey_id, SurveyRow.rating.is_(None))
                .values(rating=rating, answered_at=self._clock())
            )
        return bool(result.rowcount)

    async def comment(self, survey_id: int, text: str) -> None:
        """Record the comment (already masked), cut to :data:`MAX_COMMENT_CHARS`."""
        async with self._engine.begin() as db:
            await db.execute(
                update(SurveyRow)
                .where(SurveyRow.id == survey_id)
                .values(comment=text.strip()[:MAX_COMMENT_CHARS])
            )

    async def latest(self, conversation_id: int) -> Survey | None:
        """The conversation's last survey."""
        async with self._engine.connect() as db:
            row = (
                await db.execute(
                    select(SurveyRow)
                    .where(SurveyRow.conversation_id == conversation_id)
                    .order_by(SurveyRow.number.desc())
                    .limit(1)
                )
            ).first()
        if row is None:
            return None
        return Survey(
            row.id, row.conversation_id, row.number, row.channel, row.trigger, row.handoff_id,
            aware(row.asked_at), row.rating, row.comment, aware(row.answered_at),
        )  # fmt: skip

    async def idle_conversations(
        self, idle: dt.timedelta, after: int = 0, limit: int = IDLE_BATCH
    ) -> list[IdleConversation]:
        """Conversations quiet for ``idle`` (but not for longer than ``idle`` plus a session:
        older ones are not asked late) whose last message is the assistant's answer to the
        citizen (not a failure notice, not a handoff's), with no open handoff and no survey
        in the last session; by id, those after ``after``, ``limit`` at a time."""
        now = self._clock()
        last_direction = (
            select(Message.direction)
            .where(Message.conversation_id == Conversation.id)
            .order_by(Message.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        last_inbound = (
            select(Message.status)
            .where(Message.conversation_id == Conversation.id, Message.direction == "in")
            .order_by(Message.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        # A survey asked less than a session ago is in this session (the exact check is the
        # claim's; this keeps the claimed ones out of every later round).
        recent_survey = exists().where(
            SurveyRow.conversation_id == Conversation.id,
            SurveyRow.asked_at > now - self._session_idle,
        )
        query = (
            select(Conversation.id, Conversation.channel, Conversation.sender_id)
            .where(
                Conversation.updated_at <= now - idle,
                Conversation.updated_at > now - idle - self._session_idle,
                Conversation.id > after,
                last_direction == "out",
                last_inbound == "answered",
                ~_OPEN_HANDOFF,
                ~recent_survey,
            )
            .order_by(Conversation.id)
            .limit(limit)
        )
        async with self._engine.connect() as db:
            rows = (await db.execute(query)).all()
        return [IdleConversation(r.id, r.channel, r.sender_id) for r in rows]
