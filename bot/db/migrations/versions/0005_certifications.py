"""Certification: officials, roles, programs, completions, waivers, reminders.

Revision ID: 0005_certifications
Revises: 0004_incidents
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_certifications"
down_revision = "0004_incidents"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cert_official",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("external_id", sa.String(80), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(200), nullable=False),
        sa.Column("identity", sa.String(200), nullable=True, index=True),
        sa.Column("jurisdiction", sa.String(40), nullable=False, index=True),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("flagged", sa.String(300), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "cert_assignment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("official_id", sa.Integer(), sa.ForeignKey("cert_official.id"),
                  nullable=False, index=True),
        sa.Column("program", sa.String(40), nullable=False),
        sa.Column("role", sa.String(60), nullable=False),
        sa.Column("term_type", sa.String(20), nullable=False),
        sa.Column("took_office", sa.Date(), nullable=True),
        sa.Column("term_end", sa.Date(), nullable=True),
        sa.Column("from_deputy", sa.Boolean(), nullable=False),
        sa.Column("acting", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("official_id", "program"),
    )
    op.create_table(
        "cert_completion",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("official_id", sa.Integer(), sa.ForeignKey("cert_official.id"),
                  nullable=False, index=True),
        sa.Column("course", sa.String(40), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("evidence", sa.String(500), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reported_by", sa.String(200), nullable=False),
        sa.Column("verified_by", sa.String(200), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("official_id", "course", "completed_on"),
    )
    op.create_table(
        "cert_waiver",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("official_id", sa.Integer(), sa.ForeignKey("cert_official.id"),
                  nullable=False, index=True),
        sa.Column("program", sa.String(40), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(300), nullable=False),
        sa.Column("granted_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "cert_snooze",
        sa.Column("deadline_key", sa.String(200), primary_key=True),
        sa.Column("until", sa.Date(), nullable=False),
    )
    op.create_table(
        "cert_reminder_sent",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("deadline_key", sa.String(200), nullable=False, index=True),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("outbox_key", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("deadline_key", "recipient", "step"),
    )
    op.create_table(
        "cert_digest",
        sa.Column("recipient", sa.String(200), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
    )


def downgrade() -> None:
    for table in ("cert_digest", "cert_reminder_sent", "cert_snooze", "cert_waiver",
                  "cert_completion", "cert_assignment", "cert_official"):
        op.drop_table(table)
