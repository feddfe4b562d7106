"""Alerts: coalition network, alerts, deliveries, acknowledgements, Slack installations.

Revision ID: 0006_alerts
Revises: 0005_certifications
Create Date: 2026-11-22
"""

revision = "0006_alerts"
down_revision = "0005_certifications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
