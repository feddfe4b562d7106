"""Slack multi-workspace installs: installations (tokens encrypted) and OAuth install states.

Revision ID: 0008_slack_installations
Revises: 0007_cert_waivers
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_slack_installations"
down_revision = "0007_cert_waivers"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "slack_installation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("enterprise_id", sa.String(40), nullable=False, index=True),
        sa.Column("team_id", sa.String(40), nullable=False, index=True),
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        sa.Column("app_id", sa.String(40), nullable=True),
        sa.Column("enterprise_name", sa.String(200), nullable=True),
        sa.Column("enterprise_url", sa.String(300), nullable=True),
        sa.Column("team_name", sa.String(200), nullable=True),
        sa.Column("bot_id", sa.String(40), nullable=True),
        sa.Column("bot_user_id", sa.String(40), nullable=True),
        sa.Column("bot_scopes", sa.String(2000), nullable=False),
        sa.Column("bot_token", sa.Text(), nullable=True),
        sa.Column("bot_refresh_token", sa.Text(), nullable=True),
        sa.Column("bot_token_expires_at", TS, nullable=True),
        sa.Column("user_scopes", sa.String(2000), nullable=False),
        sa.Column("user_token", sa.Text(), nullable=True),
        sa.Column("user_refresh_token", sa.Text(), nullable=True),
        sa.Column("user_token_expires_at", TS, nullable=True),
        sa.Column("token_type", sa.String(16), nullable=True),
        sa.Column("installed_at", TS, nullable=False, index=True),
        sa.UniqueConstraint("enterprise_id", "team_id", "user_id"),
    )
    op.create_table(
        "slack_oauth_state",
        sa.Column("state", sa.String(64), primary_key=True),
        sa.Column("expires_at", TS, nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("slack_oauth_state")
    op.drop_table("slack_installation")
