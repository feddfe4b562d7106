"""Alerts: coalition network, alerts, recipients, acknowledgements, events; outbox rate buckets.

Revision ID: 0006_alerts
Revises: 0005_certifications
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_alerts"
down_revision = "0005_certifications"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("public_id", sa.String(16), nullable=False, unique=True),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("alert.id"), nullable=True, index=True),
        sa.Column("alert_type", sa.String(40), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("headline", sa.String(80), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=False),
        sa.Column("public_text", sa.Text(), nullable=False),
        sa.Column("public_text_translated", sa.Text(), nullable=False),
        sa.Column("tlp", sa.String(16), nullable=False),
        sa.Column("audience", sa.Text(), nullable=False),
        sa.Column("ack_required", sa.Boolean(), nullable=False),
        sa.Column("ack_window_minutes", sa.Integer(), nullable=False),
        sa.Column("expires_at", TS, nullable=True),
        sa.Column("exercise", sa.Boolean(), nullable=False),
        sa.Column("needs_approval", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("reply_to", sa.String(500), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decision_note", sa.String(300), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True, index=True),
    )
    op.create_table(
        "alert_recipient",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alert.id"), nullable=False, index=True),
        sa.Column("destination", sa.String(500), nullable=False),
        sa.Column("tier", sa.String(2), nullable=False),
        sa.Column("group_name", sa.String(60), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("organisation", sa.String(120), nullable=False),
        sa.Column("jurisdiction", sa.String(40), nullable=False),
        sa.Column("backup", sa.String(500), nullable=True),
        sa.Column("people", sa.Text(), nullable=False),
        sa.Column("outbox_key", sa.String(200), nullable=False, unique=True),
        sa.UniqueConstraint("alert_id", "destination"),
    )
    op.create_table(
        "alert_ack",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alert.id"), nullable=False, index=True),
        sa.Column("recipient_id", sa.Integer(), sa.ForeignKey("alert_recipient.id"),
                  nullable=False, index=True),
        sa.Column("person", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.UniqueConstraint("alert_id", "person"),
    )
    op.create_table(
        "alert_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alert.id"), nullable=False, index=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
    )
    op.create_table(
        "network_member",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("group_name", sa.String(60), nullable=False, index=True),
        sa.Column("tier", sa.String(2), nullable=False),
        sa.Column("destination", sa.String(500), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("organisation", sa.String(120), nullable=False),
        sa.Column("jurisdiction", sa.String(40), nullable=False),
        sa.Column("backup", sa.String(500), nullable=True),
        sa.Column("people", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("group_name", "destination"),
    )
    op.create_table(
        "rate_bucket",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("rate_bucket", "network_member", "alert_event", "alert_ack",
                  "alert_recipient", "alert"):
        op.drop_table(table)
