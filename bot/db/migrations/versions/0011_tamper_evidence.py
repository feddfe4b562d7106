"""Tamper evidence: pinned chain heads and seals on incidents, the counter and the audit log.

Existing rows get NULL in the new columns: their chains (plain SHA-256, no key) stay as they
are until ``electionbot incidents verify --reseal`` verifies each one the old way and only then
re-seals it with the audit key. That step needs the key, which a migration must not read, so it
is a CLI step (the README's upgrade notes say to run it once after upgrading).

Revision ID: 0011_tamper_evidence
Revises: 0010_limits
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_tamper_evidence"
down_revision = "0010_limits"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    op.add_column("incident", sa.Column("chain_count", sa.Integer(), nullable=True))
    op.add_column("incident", sa.Column("chain_head", sa.String(64), nullable=True))
    op.add_column("incident", sa.Column("key_id", sa.String(16), nullable=True))
    op.add_column("incident", sa.Column("seal", sa.String(64), nullable=True))
    op.add_column("incident_counter", sa.Column("seal", sa.String(64), nullable=True))
    op.add_column("audit_entry", sa.Column("seq", sa.Integer(), nullable=True))
    op.add_column("audit_entry", sa.Column("prev_hash", sa.String(64), nullable=True))
    op.add_column("audit_entry", sa.Column("hash", sa.String(64), nullable=True))
    op.create_index("ix_audit_entry_seq", "audit_entry", ["seq"])
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("head", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=True),
        sa.Column("seal", sa.String(64), nullable=True),
    )
    op.bulk_insert(head, [{"id": 1, "count": 0, "head": GENESIS}])


def downgrade() -> None:
    op.drop_table("audit_head")
    op.drop_index("ix_audit_entry_seq", "audit_entry")
    with op.batch_alter_table("audit_entry") as batch:
        for column in ("hash", "prev_hash", "seq"):
            batch.drop_column(column)
    with op.batch_alter_table("incident_counter") as batch:
        batch.drop_column("seal")
    with op.batch_alter_table("incident") as batch:
        for column in ("seal", "key_id", "chain_head", "chain_count"):
            batch.drop_column(column)
