"""The dashboard's figures, read from the tables where the gateway keeps what happened (no
second source of truth): SQLAlchemy Core, one query per figure, for SQLite and PostgreSQL.

Days are days in Lima (:func:`bot.storage.time.lima_day`). The figures over ``messages`` (the
large table) are read through the index made for them (``ix_messages_inbound_day``: citizens'
messages by that day, with every column these queries read), so they are written with the same
expression and the same literal condition (``direction = 'in'``) as the index, or the databases
would not use it; a channel is filtered on ``conversation_id + 0``, so SQLite does not prefer
the index on ``conversation_id`` (reading every message of the channel's conversations). The
other tables are small next to it; their queries use their own ``created_at`` / ``asked_at``
indexes with the period's bounds in UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import InstrumentedAttribute

from bot.dashboard.filters import Filters, lima_day_of
from bot.storage.tables import (
    CommunityEvent,
    Conversation,
    EventRegistration,
    HandoffRow,
    Message,
    PageComment,
    ReviewItem,
    SurveyRow,
    TicketRow,
)
from bot.storage.time import aware, lima_day

#: An inbound message the assistant handled (the rest went to people, or wait to be answered).
HANDLED = ("answered", "failed")
#: A review item of a message the assistant was unsure about (not a citizen's 👎).
CLARIFICATION = "clarification"
#: Ticket statuses still waiting for an answer (their deadline runs against now).
OPEN_TICKETS = ("recibido", "en_proceso")

_INBOUND = Message.direction == literal_column("'in'")
_MESSAGE_DAY = lima_day(Message.created_at)


def _day(value: Any) -> dt.date:
    """A day as the database gives it back (a date; SQLite's text is parsed by SQLAlchemy)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _in_channel(
    conversation_id: ColumnElement[int] | InstrumentedAttribute[int], channel: str
) -> ColumnElement[bool]:
    """The conversation is on ``channel``."""
    return conversation_id.in_(select(Conversation.id).where(Conversation.channel == channel))


def _message_in_channel(channel: str) -> ColumnElement[bool]:
    """The message's conversation is on ``channel``, tested row by row on the day's index."""
    return _in_channel(Message.conversation_id + literal_column("0"), channel)


# --- conversations and questions ----------------------------------------------------------------


@dataclass(frozen=True)
class ChannelDay:
    """One channel's day: conversations with a citizen's message, those messages, and the ones
    the assistant handled (questions)."""

    day: dt.date
    channel: str
    conversations: int
    messages: int
    questions: int


async def channel_days(db: AsyncConnection, f: Filters) -> list[ChannelDay]:
    """Per day and channel: conversations in which the citizen wrote that day, their messages,
    and the questions among them (messages the assistant handled, not those to an agent)."""
    handled = case((Message.status.in_(HANDLED), 1), else_=0)
    where = [_INBOUND, _MESSAGE_DAY.between(f.first, f.last)]
    if f.channel is not None:
        where.append(_message_in_channel(f.channel))
    g = (
        select(
            _MESSAGE_DAY.label("day"),
            Message.conversation_id.label("conversation_id"),
            func.count().label("messages"),
            func.sum(handled).label("questions"),
        )
        .where(*where)
        .group_by(_MESSAGE_DAY, Message.conversation_id)
        .subquery()
    )
    # Each conversation's day once, then its channel: one lookup per conversation and day.
    stmt = (
        select(g.c.day, Conversation.channel, func.count(), func.sum(g.c.messages),
               func.sum(g.c.questions))
        .join_from(g, Conversation, Conversation.id == g.c.conversation_id)
        .group_by(g.c.day, Conversation.channel)
    )  # fmt: skip
    rows = (await db.execute(stmt)).all()
    return [ChannelDay(_day(d), ch, int(c), int(m), int(q or 0)) for d, ch, c, m, q in rows]


async def topics(db: AsyncConnection, f: Filters) -> list[tuple[str, int]]:
    """Questions answered with each knowledge article (its id) in the period, most first."""
    where = [_INBOUND, _MESSAGE_DAY.between(f.first, f.last), Message.topic.is_not(None)]
    if f.channel is not None:
        where.append(_message_in_channel(f.channel))
    count = func.count()
    stmt = select(Message.topic, count).where(*where).group_by(Message.topic)
    rows = (await db.execute(stmt.order_by(count.desc(), Message.topic))).all()
    return [(str(topic), int(n)) for topic, n in rows]


@dataclass(frozen=True)
class UnsureDay:
    """Questions of a day the assistant did not answer with an article: it offered choices
    (``¿Quisiste decir…?``) or said it did not understand."""

    day: dt.date
    clarified: int
    not_understood: int


async def unsure_days(db: AsyncConnection, f: Filters) -> list[UnsureDay]:
    """Per day: questions the assistant was unsure about (a clarification in the review inbox)
    that got no article in the end (the knowledge search did not answer them alone), split by
    whether choices were offered. Read from the questions of the period (their index), each
    looked up in the review inbox by its message."""
    nothing_offered = case((func.json_array_length(ReviewItem.offered) == 0, 1), else_=0)
    stmt = (
        select(_MESSAGE_DAY, func.count(), func.sum(nothing_offered))
        .select_from(Message)
        .join(ReviewItem, ReviewItem.message_id == Message.id)
        .where(
            _INBOUND,
            _MESSAGE_DAY.between(f.first, f.last),
            Message.topic.is_(None),
            ReviewItem.source == CLARIFICATION,
        )
        .group_by(_MESSAGE_DAY)
    )
    if f.channel is not None:
        stmt = stmt.where(_message_in_channel(f.channel))
    rows = (await db.execute(stmt)).all()
    return [UnsureDay(_day(d), int(n) - int(none or 0), int(none or 0)) for d, n, none in rows]


# --- people: handoffs, satisfaction --------------------------------------------------------------


@dataclass(frozen=True)
class HandoffFact:
    day: dt.date
    reason: str
    #: Seconds from the request to an agent's claim; None: never claimed.
    wait_seconds: float | None


async def handoffs(db: AsyncConnection, f: Filters) -> list[HandoffFact]:
    """Every handoff requested in the period: its day, reason and wait (few next to messages;
    the medians are taken in Python, the same on both databases)."""
    stmt = select(HandoffRow.created_at, HandoffRow.reason, HandoffRow.claimed_at).where(
        HandoffRow.created_at >= f.start, HandoffRow.created_at < f.end
    )
    if f.channel is not None:
        stmt = stmt.where(_in_channel(HandoffRow.conversation_id, f.channel))
    facts = []
    for created, reason, claimed in (await db.execute(stmt)).all():
        created = aware(created)
        wait = (aware(claimed) - created).total_seconds() if claimed is not None else None
        facts.append(HandoffFact(lima_day_of(created), str(reason), wait))
    return facts


@dataclass(frozen=True)
class SurveyDay:
    day: dt.date
    asked: int
    answered: int
    #: Answers with each rating, 1 to 5.
    ratings: tuple[int, int, int, int, int]


async def survey_days(db: AsyncConnection, f: Filters) -> list[SurveyDay]:
    """Per day the survey was asked: how many, how many answered, and each rating's count."""
    day = lima_day(SurveyRow.asked_at)
    each = [func.sum(case((SurveyRow.rating == n, 1), else_=0)) for n in range(1, 6)]
    stmt = (
        select(day, func.count(), func.count(SurveyRow.rating), *each)
        .where(SurveyRow.asked_at >= f.start, SurveyRow.asked_at < f.end)
        .group_by(day)
    )
    if f.channel is not None:
        stmt = stmt.where(SurveyRow.channel == f.channel)
    return [
        SurveyDay(_day(d), int(asked), int(answered), _five(ratings))
        for d, asked, answered, *ratings in (await db.execute(stmt)).all()
    ]


def _five(values: Sequence[Any]) -> tuple[int, int, int, int, int]:
    one, two, three, four, five = (int(v or 0) for v in values)
    return one, two, three, four, five


# --- comments, tickets, events -------------------------------------------------------------------


async def comment_sentiments(
    db: AsyncConnection, f: Filters
) -> list[tuple[str | None, str | None, int]]:
    """(topic, sentiment, comments) of the fanpage's comments written in the period. Comments
    belong to no conversation channel: the channel filter does not apply."""
    stmt = (
        select(PageComment.topic, PageComment.sentiment, func.count())
        .where(PageComment.created_at >= f.start, PageComment.created_at < f.end)
        .group_by(PageComment.topic, PageComment.sentiment)
    )
    return [(t, s, int(n)) for t, s, n in (await db.execute(stmt)).all()]


@dataclass(frozen=True)
class TicketStatus:
    status: str
    tickets: int
    #: Answered or closed after their deadline, or still open past it.
    overdue: int


async def ticket_statuses(db: AsyncConnection, f: Filters, now: dt.datetime) -> list[TicketStatus]:
    """Tickets opened in the period, per status, and how many missed their deadline: answered
    (or closed) after ``due_at``, or still open with ``due_at`` past."""
    settled = func.coalesce(TicketRow.answered_at, TicketRow.closed_at)
    late = case(
        (settled > TicketRow.due_at, 1),
        (settled.is_(None) & TicketRow.status.in_(OPEN_TICKETS) & (TicketRow.due_at < now), 1),
        else_=0,
    )
    stmt = (
        select(TicketRow.status, func.count(), func.sum(late))
        .where(TicketRow.created_at >= f.start, TicketRow.created_at < f.end)
        .group_by(TicketRow.status)
    )
    if f.channel is not None:
        stmt = stmt.where(TicketRow.channel == f.channel)
    return [TicketStatus(s, int(n), int(o or 0)) for s, n, o in (await db.execute(stmt)).all()]


@dataclass(frozen=True)
class EventRegistrations:
    event_id: int
    title: str
    starts_at: dt.datetime
    capacity: int
    #: Registrations made in the period, by status (``inscrito``, ``en_espera``, ``cancelado``).
    by_status: dict[str, int]


async def registrations(db: AsyncConnection, f: Filters) -> list[EventRegistrations]:
    """Per event: the registrations made in the period, by their status now."""
    stmt = (
        select(
            CommunityEvent.id, CommunityEvent.title, CommunityEvent.starts_at,
            CommunityEvent.capacity, EventRegistration.status, func.count(),
        )
        .join(CommunityEvent, CommunityEvent.id == EventRegistration.event_id)
        .where(EventRegistration.created_at >= f.start, EventRegistration.created_at < f.end)
        .group_by(
            CommunityEvent.id, CommunityEvent.title, CommunityEvent.starts_at,
            CommunityEvent.capacity, EventRegistration.status,
        )
    )  # fmt: skip
    if f.channel is not None:
        stmt = stmt.where(_in_channel(EventRegistration.conversation_id, f.channel))
    events: dict[int, EventRegistrations] = {}
    for event_id, title, starts_at, capacity, status, n in (await db.execute(stmt)).all():
        event = events.setdefault(
            event_id, EventRegistrations(event_id, title, aware(starts_at), capacity, {})
        )
        event.by_status[status] = int(n)
    return sorted(events.values(), key=lambda e: (e.starts_at, e.event_id))
