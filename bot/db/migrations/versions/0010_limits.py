"""Per-identity and per-origin limits: one counter per scope and one-hour window.

Revision ID: 0010_limits
Revises: 0009_web_auth
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_limits"
down_revision = "0009_web_auth"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_counter",
        sa.Column("scope", sa.String(200), primary_key=True),
        sa.Column("hour", sa.Integer(), primary_key=True),
        sa.Column("uses", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_index("ix_rate_counter_hour", "rate_counter", ["hour"])


def downgrade() -> None:
    op.drop_index("ix_rate_counter_hour", table_name="rate_counter")
    op.drop_table("rate_counter")
