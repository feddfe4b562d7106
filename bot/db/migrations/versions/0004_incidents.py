"""Incidents, their hash-chained events, the id counter and the audit log.

Revision ID: 0004_incidents
Revises: 0003_outbox
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_incidents"
down_revision = "0003_outbox"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("human_id", sa.String(20), nullable=False, unique=True),
        sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
        sa.Column("reporter", sa.String(200), nullable=False, index=True),
        sa.Column("category", sa.String(40), nullable=False, index=True),
        sa.Column("subcategory", sa.String(80), nullable=False),
        sa.Column("jurisdiction", sa.String(40), nullable=False, index=True),
        sa.Column("site", sa.String(200), nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("severity", sa.String(4), nullable=False, index=True),
        sa.Column("danger", sa.Boolean(), nullable=False),
        sa.Column("stopped", sa.Boolean(), nullable=False),
        sa.Column("degraded", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(3000), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("source_link", sa.String(500), nullable=False),
        sa.Column("needs_details", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("assignee", sa.String(200), nullable=True),
        sa.Column("law_enforcement_agency", sa.String(200), nullable=False),
        sa.Column("law_enforcement_case", sa.String(100), nullable=False),
        sa.Column("lessons_learned", sa.String(3000), nullable=False),
        sa.Column("resolution", sa.String(3000), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("acknowledged_at", TS, nullable=True),
        sa.Column("resolved_at", TS, nullable=True),
        sa.Column("closed_at", TS, nullable=True),
    )
    op.create_table(
        "incident_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incident.id"), nullable=False,
                  index=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("incident_id", "seq"),
    )
    op.create_table(
        "incident_counter",
        sa.Column("year", sa.Integer(), primary_key=True),
        sa.Column("last", sa.Integer(), nullable=False),
    )
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False, index=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(300), nullable=False),
    )


def downgrade() -> None:
    for table in ("audit_entry", "incident_counter", "incident_event", "incident"):
        op.drop_table(table)
