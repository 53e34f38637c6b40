"""Messages the assistant did not understand, for the admins' review inbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversations.id"), nullable=False),
        sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id"), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("intents", sa.JSON, nullable=False),
        sa.Column("offered", sa.JSON, nullable=False),
        sa.Column("picked", sa.String(128)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_review_items_created_at", "review_items", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_review_items_created_at", "review_items")
    op.drop_table("review_items")
