"""Web chat sign-in: local accounts, sessions (token hashes), sign-in failures, OIDC logins.

Also widens webchat_inbox.user_id: signed-in inboxes are keyed by the whole identity
(``web:<provider>:<subject>``), which is longer than a demo name.

Revision ID: 0009_web_auth
Revises: 0008_slack_installations
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_web_auth"
down_revision = "0008_slack_installations"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "web_account",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("password_hash", sa.String(300), nullable=False),
        sa.Column("totp_secret", sa.String(64), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "web_session",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("identity", sa.String(300), nullable=False, index=True),
        sa.Column("account", sa.String(40), nullable=True, index=True),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
    )
    op.create_table(
        "web_signin_failure",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account", sa.String(200), nullable=False, index=True),
        sa.Column("address", sa.String(64), nullable=False, index=True),
        sa.Column("at", TS, nullable=False, index=True),
    )
    op.create_table(
        "web_oidc_login",
        sa.Column("state_hash", sa.String(64), primary_key=True),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("nonce", sa.String(128), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("created_at", TS, nullable=False, index=True),
    )
    with op.batch_alter_table("webchat_inbox") as batch:
        batch.alter_column("user_id", type_=sa.String(300), existing_type=sa.String(40),
                           existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("webchat_inbox") as batch:
        batch.alter_column("user_id", type_=sa.String(40), existing_type=sa.String(300),
                           existing_nullable=False)
    op.drop_table("web_oidc_login")
    op.drop_table("web_signin_failure")
    op.drop_table("web_session")
    op.drop_table("web_account")
