"""Analytics from Rasa's events (bot/analytics/): per day in Lima, citizens' messages by intent
(with how many the NLU was unsure of), the assistant's actions, conversation sessions started;
and the keys of the events already counted, so that a redelivered event counts once.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analytics_seen_events",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    op.create_table(
        "analytics_daily_intents",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("intent", sa.String(100), primary_key=True),
        sa.Column("messages", sa.Integer, nullable=False),
        sa.Column("low_confidence", sa.Integer, nullable=False),
    )
    op.create_table(
        "analytics_daily_actions",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("action", sa.String(100), primary_key=True),
        sa.Column("runs", sa.Integer, nullable=False),
    )
    op.create_table(
        "analytics_daily_sessions",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("sessions", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "analytics_daily_sessions",
        "analytics_daily_actions",
        "analytics_daily_intents",
        "analytics_seen_events",
    ):
        op.drop_table(table)
