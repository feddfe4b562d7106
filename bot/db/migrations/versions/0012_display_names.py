"""Display names: how each identity is called, and its time zone where known.

Revision ID: 0012_display_names
Revises: 0011_tamper_evidence
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_display_names"
down_revision = "0011_tamper_evidence"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "display_name",
        sa.Column("identity", sa.String(300), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("time_zone", sa.String(64), nullable=False, server_default=""),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("display_name")
