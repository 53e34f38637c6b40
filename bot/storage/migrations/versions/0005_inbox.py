"""The review inbox: what admins decided about each misunderstood message.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("review_items") as batch:
        batch.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="open"))
        batch.add_column(sa.Column("label", sa.String(64)))
        batch.add_column(
            sa.Column(
                "annotated_by",
                sa.Integer,
                sa.ForeignKey("agents.id", name="fk_review_items_annotated_by"),
            )
        )
        batch.add_column(sa.Column("annotated_at", sa.DateTime(timezone=True)))
    op.create_index("ix_review_items_status", "review_items", ["status"])


def downgrade() -> None:
    op.drop_index("ix_review_items_status", "review_items")
    with op.batch_alter_table("review_items") as batch:
        for column in ("annotated_at", "annotated_by", "label", "status"):
            batch.drop_column(column)
