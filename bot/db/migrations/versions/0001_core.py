"""Core tables: processed requests (idempotency) and conversation references.

Revision ID: 0001_core
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "processed_request",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_processed_request_seen_at", "processed_request", ["seen_at"])
    op.create_table(
        "conversation_reference",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("platform", sa.String(16), nullable=False, index=True),
        sa.Column("workspace", sa.String(200), nullable=False, index=True),
        sa.Column("user_id", sa.String(200), nullable=True, index=True),
        sa.Column("channel", sa.String(400), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("conversation_reference")
    op.drop_index("ix_processed_request_seen_at", "processed_request")
    op.drop_table("processed_request")
