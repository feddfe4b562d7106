"""Certification ledger revision: a counter every change to the reminder pass's inputs bumps.

Triggers in the database bump ``cert_revision.n`` on any insert, update or delete of officials,
assignments, completions, waivers and snoozes, and on any update or delete of the reminders
and digests sent (the pass only inserts those), whoever writes: the bot, the CLI, a roster
import or plain SQL. The reminder scheduler reads it to tell whether anything changed since
its last pass (see :mod:`handlers.certifications.scheduler`). On SQLite the triggers run per
row (a bump costs microseconds) on the one row there is (SQLite has one writer at a time). On
PostgreSQL they run per statement, and each connection bumps its own row (keyed by its
backend's process id): writers never wait for each other on the counter, so it adds no lock
that two transactions could take in opposite orders (a deadlock). The revision is the sum of
the rows; each only grows, so the sum grows with every committed change.

Revision ID: 0014_cert_revision
Revises: 0013_alert_exclusions
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_cert_revision"
down_revision = "0013_alert_exclusions"
branch_labels = None
depends_on = None

#: Tables whose every change may change what is due.
LEDGER = ("cert_official", "cert_assignment", "cert_completion", "cert_waiver", "cert_snooze")
#: Tables the pass itself inserts into: only updates and deletes count.
SENT = ("cert_reminder_sent", "cert_digest")
BUMP = "UPDATE cert_revision SET n = n + 1 WHERE id = 1"  # SQLite


def _watched() -> list[tuple[str, tuple[str, ...]]]:
    return ([(t, ("INSERT", "UPDATE", "DELETE")) for t in LEDGER]
            + [(t, ("UPDATE", "DELETE")) for t in SENT])


def upgrade() -> None:
    op.create_table(
        "cert_revision",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("n", sa.BigInteger(), nullable=False),
    )
    op.execute("INSERT INTO cert_revision (id, n) VALUES (1, 0)")
    if op.get_bind().dialect.name == "sqlite":
        for table, events in _watched():
            for event in events:
                op.execute(f"CREATE TRIGGER {table}_revision_{event.lower()} AFTER {event} "
                           f"ON {table} BEGIN {BUMP}; END")
        return
    op.execute("CREATE FUNCTION cert_revision_bump() RETURNS trigger AS $$ "
               "BEGIN INSERT INTO cert_revision (id, n) VALUES (pg_backend_pid(), 1) "
               "ON CONFLICT (id) DO UPDATE SET n = cert_revision.n + 1; "
               "RETURN NULL; END $$ LANGUAGE plpgsql")
    for table, events in _watched():
        op.execute(f"CREATE TRIGGER {table}_revision AFTER {' OR '.join(events)} "
                   f"OR TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION cert_revision_bump()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table, events in _watched():
            for event in events:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_revision_{event.lower()}")
    else:
        for table, _ in _watched():
            op.execute(f"DROP TRIGGER IF EXISTS {table}_revision ON {table}")
        op.execute("DROP FUNCTION IF EXISTS cert_revision_bump()")
    op.drop_table("cert_revision")
