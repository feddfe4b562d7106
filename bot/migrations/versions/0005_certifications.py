"""Certification: officials, roles, programs, completions, waivers, reminders.

Revision ID: 0005_certifications
Revises: 0004_incidents
Create Date: 2026-11-22
"""

revision = "0005_certifications"
down_revision = "0004_incidents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
