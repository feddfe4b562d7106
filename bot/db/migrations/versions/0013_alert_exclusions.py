"""Alert recipients the TLP rules kept out (e-mail): the reason, on the recipient row.

A recipient row with a reason has no outbox message: the status view shows it as "not sent"
with why, follow-ups never chase it and updates do not reach it.

Revision ID: 0013_alert_exclusions
Revises: 0012_display_names
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_alert_exclusions"
down_revision = "0012_display_names"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("alert_recipient", sa.Column("excluded", sa.String(40), nullable=False,
                                               server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("alert_recipient") as batch:
        batch.drop_column("excluded")
