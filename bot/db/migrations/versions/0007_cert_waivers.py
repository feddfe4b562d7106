"""Certification waivers: when a waiver was granted, and who revoked it when.

Revision ID: 0007_cert_waivers
Revises: 0006_alerts
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_cert_waivers"
down_revision = "0006_alerts"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("cert_waiver") as batch:
        batch.add_column(sa.Column("granted_at", TS, nullable=True))
        batch.add_column(sa.Column("revoked_at", TS, nullable=True))
        batch.add_column(sa.Column("revoked_by", sa.String(200), nullable=True))
        batch.create_index("ix_cert_waiver_program", ["program"])


def downgrade() -> None:
    with op.batch_alter_table("cert_waiver") as batch:
        batch.drop_index("ix_cert_waiver_program")
        batch.drop_column("revoked_by")
        batch.drop_column("revoked_at")
        batch.drop_column("granted_at")
