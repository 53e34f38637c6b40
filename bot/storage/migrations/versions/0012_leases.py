"""Several gateways on one database: a conversation's lease (the one gateway answering and
sending for it, until when), when its re-engagement template was last sent, and the index that
finds a conversation's clarification still waiting for the citizen's next message.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("conversations", sa.Column("lease_owner", sa.String(32)))
    op.add_column("conversations", sa.Column("lease_until", TZ))
    op.add_column("conversations", sa.Column("invited_at", TZ))
    op.create_index(
        "ix_review_items_open",
        "review_items",
        ["conversation_id"],
        sqlite_where=sa.text("picked IS NULL"),
        postgresql_where=sa.text("picked IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_review_items_open", "review_items")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("invited_at")
        batch.drop_column("lease_until")
        batch.drop_column("lease_owner")
