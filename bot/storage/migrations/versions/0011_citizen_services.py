"""Citizen services and listening: the gateway's forms in a conversation, tickets and what
happened to them, community events with registrations and topic proposals, satisfaction
surveys, the fanpage's comments.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "conversation_flows",
        sa.Column(
            "conversation_id", sa.Integer, sa.ForeignKey("conversations.id"), primary_key=True
        ),
        sa.Column("service", sa.String(32), nullable=False),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(20), nullable=False, unique=True),
        sa.Column("kind", sa.String(32), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("document", sa.String(11)),
        sa.Column("contact_email", sa.String(254)),
        sa.Column("contact_phone", sa.String(20)),
        sa.Column(
            "conversation_id",
            sa.Integer,
            sa.ForeignKey("conversations.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("assigned_to", sa.Integer, sa.ForeignKey("agents.id")),
        sa.Column("created_at", TZ, nullable=False, index=True),
        sa.Column("due_at", TZ, nullable=False, index=True),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("answered_at", TZ),
        sa.Column("closed_at", TZ),
    )
    op.create_table(
        "ticket_entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16)),
        sa.Column("body", sa.Text),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id")),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("notified", sa.String(32)),
    )
    op.create_table(
        "ticket_counters",
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("last", sa.Integer, nullable=False),
    )
    op.create_table(
        "community_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(160), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("starts_at", TZ, nullable=False, index=True),
        sa.Column("ends_at", TZ),
        sa.Column("place", sa.String(300)),
        sa.Column("online_url", sa.String(500)),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("registration_deadline", TZ, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("agents.id")),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("cancelled_at", TZ),
        sa.Column("reminded_at", TZ),
    )
    op.create_table(
        "event_registrations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "event_id",
            sa.Integer,
            sa.ForeignKey("community_events.id"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "conversation_id",
            sa.Integer,
            sa.ForeignKey("conversations.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("contact", sa.String(254), nullable=False),
        sa.Column("document", sa.String(11)),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("cancelled_at", TZ),
        sa.Column("reminded_at", TZ),
        sa.UniqueConstraint("event_id", "conversation_id"),
    )
    op.create_table(
        "topic_proposals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversations.id"), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("topic", sa.String(128), nullable=False, index=True),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "satisfaction_surveys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "conversation_id",
            sa.Integer,
            sa.ForeignKey("conversations.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("handoff_id", sa.Integer, sa.ForeignKey("handoffs.id")),
        sa.Column("asked_at", TZ, nullable=False, index=True),
        sa.Column("rating", sa.Integer),
        sa.Column("comment", sa.Text),
        sa.Column("answered_at", TZ),
        sa.UniqueConstraint("conversation_id", "number"),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="ck_satisfaction_surveys_rating"),
    )
    # The survey's idle job finds conversations by their last activity.
    op.create_index("ix_conversations_updated_at", "conversations", ["updated_at"])
    op.create_table(
        "page_comments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("platform_id", sa.String(160), nullable=False, unique=True),
        sa.Column("post_id", sa.String(160), nullable=False),
        sa.Column("parent_id", sa.String(160)),
        sa.Column("author_id", sa.String(128)),
        sa.Column("author_name", sa.String(160)),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False, index=True),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column("topic", sa.String(128), index=True),
        sa.Column("topic_confidence", sa.Float),
        sa.Column("sentiment", sa.String(16), index=True),
        sa.Column("sentiment_score", sa.Float),
        sa.Column("flagged", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("flag_reason", sa.String(40)),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("reply_kind", sa.String(16)),
        sa.Column("reply_text", sa.Text),
        sa.Column("replied_by", sa.Integer, sa.ForeignKey("agents.id")),
        sa.Column("replied_at", TZ),
        sa.Column("private_replied_at", TZ),
        sa.Column("analysed_at", TZ, index=True),
    )

    # The dashboard (bot/dashboard/): the topic a question was answered with (the knowledge
    # article), and the index its figures over messages are read through: citizens' messages
    # by their day in Lima (UTC-5 all year), spelled as bot.storage.time.lima_day spells it
    # for each database (an expression index serves only a query that writes the same
    # expression), with every column those figures read (the index covers them).
    op.add_column("messages", sa.Column("topic", sa.String(64)))
    day = {
        "sqlite": "date(created_at, '-5 hours')",
        "postgresql": "CAST(timezone(INTERVAL '-05:00', created_at) AS DATE)",
    }[op.get_bind().dialect.name]
    op.create_index(
        "ix_messages_inbound_day",
        "messages",
        [sa.text(day), "conversation_id", "status", "topic", "created_at", "direction"],
        sqlite_where=sa.text("direction = 'in'"),
        postgresql_where=sa.text("direction = 'in'"),
    )
    # The dashboard's questions not understood: a question's review item, by its message.
    op.create_index("ix_review_items_message_id", "review_items", ["message_id"])


def downgrade() -> None:
    op.drop_index("ix_review_items_message_id", "review_items")
    op.drop_index("ix_messages_inbound_day", "messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("topic")
    op.drop_index("ix_conversations_updated_at", "conversations")
    for table in (
        "page_comments",
        "satisfaction_surveys",
        "topic_proposals",
        "event_registrations",
        "community_events",
        "ticket_counters",
        "ticket_entries",
        "tickets",
        "conversation_flows",
    ):
        op.drop_table(table)
