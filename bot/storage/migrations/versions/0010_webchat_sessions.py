"""Web chat sessions: the cookie's token (stored hashed) and the conversation it opens.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webchat_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("sender_id", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_webchat_sessions_last_seen_at", "webchat_sessions", ["last_seen_at"])


def downgrade() -> None:
    op.drop_index("ix_webchat_sessions_last_seen_at", "webchat_sessions")
    op.drop_table("webchat_sessions")
