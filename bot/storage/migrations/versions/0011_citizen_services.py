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
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("handoff_id", sa.Integer, sa.ForeignKey("handoffs.id")),
        sa.Column("asked_at", TZ, nullable=False, index=True),
        sa.Column("rating", sa.Integer),
        sa.Column("comment", sa.Text),
        sa.Column("answered_at", TZ),
    )
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
    )


def downgrade() -> None:
    for table in (
        "page_comments",
        "satisfaction_surveys",
        "topic_proposals",
        "event_registrations",
        "community_events",
        "ticket_entries",
        "tickets",
        "conversation_flows",
    ):
        op.drop_table(table)
