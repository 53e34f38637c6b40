"""Delivery through platforms that call us back (Messenger, WhatsApp): the inbox is keyed by
the platform's message id (a redelivery is recognised), the outbox keeps what is still to send.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("platform_id", sa.String(160)))
        batch.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("error", sa.String(300)))
        batch.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("read_at", sa.DateTime(timezone=True)))
    op.create_index("ux_messages_platform_id", "messages", ["platform_id"], unique=True)
    op.create_index("ix_messages_status", "messages", ["status"])


def downgrade() -> None:
    op.drop_index("ix_messages_status", "messages")
    op.drop_index("ux_messages_platform_id", "messages")
    with op.batch_alter_table("messages") as batch:
        for column in ("read_at", "delivered_at", "error", "next_attempt_at", "attempts",
                       "platform_id"):  # fmt: skip
            batch.drop_column(column)
