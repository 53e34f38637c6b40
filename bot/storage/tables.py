"""The gateway database's tables, one class per table, grouped by the room that owns them:
conversations and their messages (and the forms the gateway runs in them), the review inbox,
accounts and their audit log, handoffs, the workbench's models, training jobs and article
versions; tickets, community events, satisfaction surveys and the fanpage's comments.

Their schema is created and changed only by the Alembic migrations (``bot/storage/migrations``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.storage.time import lima_day


class Base(DeclarativeBase):
    pass


class Conversation(Base):
    """One citizen on one channel."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "sender_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    sender_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    #: The gateway answering and sending for it (``bot/conversation/delivery.py``), until when.
    lease_owner: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: When the platform's re-engagement template was last sent (once per 24 hours).
    invited_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Message(Base):
    """A message in or out of a conversation; ``status`` says whether it was answered."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # "in" | "out"
    text: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: in: received|answered|failed; out: sent (in the HTTP answer), or through a platform:
    #: pending → sent → delivered → read, failed (permanent error), not_sent (24-hour window).
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    #: The platform's id ("messenger:m_…", "whatsapp:wamid…"): a redelivery is recognised.
    platform_id: Mapped[str | None] = mapped_column(String(160), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(String(300))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: An inbound message's topic: the knowledge article the engine answered it with (None:
    #: not answered with an article). Read by the dashboard (``bot/dashboard/``).
    topic: Mapped[str | None] = mapped_column(String(64))


#: The dashboard's figures over messages (conversations, questions and their topics by day):
#: citizens' messages by their day in Lima, covering every column those figures read. Partial:
#: the outbox's writes never touch it.
Index(
    "ix_messages_inbound_day",
    lima_day(Message.created_at), Message.conversation_id, Message.status, Message.topic,
    Message.created_at, Message.direction,
    sqlite_where=text("direction = 'in'"), postgresql_where=text("direction = 'in'"),
)  # fmt: skip


class ReviewItem(Base):
    """A message the assistant was unsure about: what it guessed, offered, and what was picked.

    ``picked`` is the payload the citizen chose among ``offered``, "" when they wrote something
    else, NULL while their next message has not come.
    """

    __tablename__ = "review_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    text: Mapped[str] = mapped_column(Text)
    intents: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    offered: Mapped[list[str]] = mapped_column(JSON)
    picked: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: The admins' decision: open, annotated (``label`` is the intent), out_of_scope, spam,
    #: dismissed.
    status: Mapped[str] = mapped_column(String(16), index=True, default="open",
                                        server_default="open")  # fmt: skip
    label: Mapped[str | None] = mapped_column(String(64))
    #: ``clarification`` (the assistant was unsure) or ``feedback`` (a citizen's 👎).
    source: Mapped[str] = mapped_column(
        String(16), default="clarification", server_default="clarification"
    )
    annotated_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    annotated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


#: The dashboard's questions not understood: a question's review item, found by its message.
Index("ix_review_items_message_id", ReviewItem.message_id)
#: A conversation's clarification still waiting for the citizen's next message.
Index("ix_review_items_open", ReviewItem.conversation_id,
      sqlite_where=text("picked IS NULL"), postgresql_where=text("picked IS NULL"))  # fmt: skip


class Team(Base):
    __tablename__ = "teams"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(120))


class Agent(Base):
    """A person who answers escalated chats: ``agent``, ``supervisor`` or ``admin``."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    team: Mapped[str | None] = mapped_column(ForeignKey("teams.name"))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("1"))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AgentSession(Base):
    """A console login: the cookie's token is stored hashed, with its CSRF token."""

    __tablename__ = "agent_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class HandoffRow(Base):
    """A conversation handed to people: ``pending`` (waiting in the queue) → ``agent``
    (claimed) → ``closed``; ``callback`` while the citizen leaves a callback request."""

    __tablename__ = "handoffs"
    __table_args__ = (
        Index(
            "ux_handoffs_open_conversation", "conversation_id", unique=True,
            sqlite_where=text("state != 'closed'"), postgresql_where=text("state != 'closed'"),
        ),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str] = mapped_column(String(16))
    team: Mapped[str] = mapped_column(String(40))
    intent: Mapped[str | None] = mapped_column(String(128))
    confidence: Mapped[float | None] = mapped_column(Float)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    resolution: Mapped[str | None] = mapped_column(String(40))
    #: The callback request being collected (``step`` and the answers so far).
    callback: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class HandoffNote(Base):
    """An agent's internal note on a handoff (never shown to the citizen)."""

    __tablename__ = "handoff_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class CallbackRow(Base):
    """A citizen's request to be called back (out of hours or no agent online): a ticket."""

    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id"))
    name: Mapped[str] = mapped_column(String(120))
    contact: Mapped[str] = mapped_column(String(120))
    topic: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    done_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))


class AuditEntry(Base):
    """Who did what to which handoff, when (agents, the assistant, the citizen)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoffs.id"), index=True)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class DeskSetting(Base):
    """Settings admins change in the console (office hours)."""

    __tablename__ = "desk_settings"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ModelRow(Base):
    """A trained model: its file, the data it was trained from, its held-out metrics, and
    whether it is live (``trained`` → ``live`` → ``retired``)."""

    __tablename__ = "models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file: Mapped[str] = mapped_column(String(200), unique=True)
    data_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    deployed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    deployed_by: Mapped[str | None] = mapped_column(String(64))


class TrainingJob(Base):
    """A training started from the workbench: queued → running → succeeded | failed."""

    __tablename__ = "training_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: ``train``, or ``cross_validation`` (the held-out set is not used: folds of the data).
    kind: Mapped[str] = mapped_column(String(24), default="train", server_default="train")
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), index=True)
    stage: Mapped[str | None] = mapped_column(String(40))
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    model_id: Mapped[int | None] = mapped_column(ForeignKey("models.id"))
    error: Mapped[str | None] = mapped_column(Text)


class ArticleVersion(Base):
    """A knowledge-base article as it was before an edit from the workbench."""

    __tablename__ = "article_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[str] = mapped_column(String(64), index=True)
    content: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


# --- the conversation's own forms (bot/conversation/flows.py) ---------------------------------


class FlowRow(Base):
    """The gateway's form open in a conversation (a ticket, an event sign-up, a survey): one
    at a time per conversation; ``step`` and the answers so far in ``data``."""

    __tablename__ = "conversation_flows"

    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    service: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


# --- tickets: requests, complaints and suggestions (bot/tickets/) -----------------------------


class TicketRow(Base):
    """A citizen's complaint, claim, suggestion or request for public information, with its
    code (``SR-2026-000123``): ``recibido`` → ``en_proceso`` → ``respondido`` → ``cerrado``."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    description: Mapped[str] = mapped_column(Text)
    #: The RUC or DNI the citizen gave (optional).
    document: Mapped[str | None] = mapped_column(String(11))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    due_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class TicketEntry(Base):
    """What happened to a ticket: a status change, an internal note, a reply to the citizen,
    an assignment; and whether the citizen was told (``notified``)."""

    __tablename__ = "ticket_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # status | note | reply | assign
    status: Mapped[str | None] = mapped_column(String(16))
    body: Mapped[str | None] = mapped_column(Text)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    #: How the citizen was told (``bot/tickets/notices.py``): ``chat``, ``template``,
    #: ``outside_window``, ``failed``, then ``+email`` or ``+email_failed``; None: not told.
    notified: Mapped[str | None] = mapped_column(String(32))


class TicketCounter(Base):
    """The last ticket number of a year (codes ``SR-<year>-<number>``): one row per year,
    incremented in the transaction that registers the ticket."""

    __tablename__ = "ticket_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer)


# --- community events (bot/community/) ---------------------------------------------------------


class CommunityEvent(Base):
    """A talk, workshop or fair the agency invites the community to."""

    __tablename__ = "community_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(160))
    kind: Mapped[str] = mapped_column(String(16))  # charla | taller | feria | otro
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    ends_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    place: Mapped[str | None] = mapped_column(String(300))
    online_url: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int] = mapped_column(Integer)
    registration_deadline: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    description: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: When the day-before reminders went out (None: not yet).
    reminded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class EventRegistration(Base):
    """A citizen's place at an event: ``inscrito``, ``en_espera`` (full), ``cancelado``."""

    __tablename__ = "event_registrations"
    __table_args__ = (UniqueConstraint("event_id", "conversation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("community_events.id"), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120))
    contact: Mapped[str] = mapped_column(String(254))
    document: Mapped[str | None] = mapped_column(String(11))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    reminded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class TopicProposal(Base):
    """A topic a citizen proposed for a future event; ``topic`` groups proposals for counting."""

    __tablename__ = "topic_proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    text: Mapped[str] = mapped_column(Text)
    topic: Mapped[str] = mapped_column(String(128), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


# --- satisfaction (bot/satisfaction/) ----------------------------------------------------------


class SurveyRow(Base):
    """A 1–5 rating asked at the end of a conversation and what the citizen answered: one row
    per question asked, answered or not (``bot/satisfaction/``).

    At most one per conversation session: ``number`` counts a conversation's surveys (1, 2, …)
    and is unique with it, so two gateways claiming the same session cannot both ask (a new
    number is taken only once the conversation was idle ``SESSION_IDLE_MINUTES`` since the
    last survey)."""

    __tablename__ = "satisfaction_surveys"
    __table_args__ = (
        UniqueConstraint("conversation_id", "number"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="ck_satisfaction_surveys_rating"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    #: The conversation's channel (webchat, messenger, whatsapp, twilio).
    channel: Mapped[str] = mapped_column(String(32))
    #: Why it was asked: ``despedida`` (the citizen said goodbye), ``inactividad`` (no message
    #: for ``SATISFACTION_IDLE_MINUTES`` after the assistant's answer), ``handoff`` (an agent
    #: closed the handoff ``handoff_id``).
    trigger: Mapped[str] = mapped_column(String(16))
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoffs.id"))
    asked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    #: 1 (muy mala) … 5 (excelente); NULL: not answered (the citizen moved on, or left).
    rating: Mapped[int | None] = mapped_column(Integer)
    #: The citizen's optional comment, personal data masked, at most 1,000 characters; NULL
    #: when skipped or not given.
    comment: Mapped[str | None] = mapped_column(Text)
    #: When the rating came (NULL while unanswered).
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


#: The satisfaction survey's idle job looks for conversations by their last activity.
Index("ix_conversations_updated_at", Conversation.updated_at)


# --- listening: comments on the fanpage (bot/listening/) ---------------------------------------


class PageComment(Base):
    """A comment or reply on one of the agency's posts (the Page's ``feed`` webhook), stored
    once per platform id, with its topic (the assistant's NLU) and sentiment."""

    __tablename__ = "page_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[str] = mapped_column(String(160), unique=True)
    post_id: Mapped[str] = mapped_column(String(160))
    parent_id: Mapped[str | None] = mapped_column(String(160))
    author_id: Mapped[str | None] = mapped_column(String(128))
    author_name: Mapped[str | None] = mapped_column(String(160))
    #: Personal data (RUC, DNI, phones, e-mails) masked before storing.
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    topic: Mapped[str | None] = mapped_column(String(128), index=True)
    topic_confidence: Mapped[float | None] = mapped_column(Float)
    sentiment: Mapped[str | None] = mapped_column(String(16), index=True)
    sentiment_score: Mapped[float | None] = mapped_column(Float)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    flag_reason: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), index=True)  # nuevo | respondido | descartado
    reply_kind: Mapped[str | None] = mapped_column(String(16))  # publica | privada
    reply_text: Mapped[str | None] = mapped_column(Text)
    replied_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    replied_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: Meta allows one private reply per comment: when it was claimed (kept if it was sent).
    private_replied_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: When the topic and the sentiment were settled (None: the engine was down, tried again).
    analysed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), index=True)
