"""Alembic environment: plain synchronous engine; PostgreSQL upgrades are serialised."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

config = context.config
# Any number fixed for this project: two instances running `db upgrade` at once queue on it.
UPGRADE_LOCK = 72_410_001


def run_migrations_online() -> None:
    """Run with a real connection; on PostgreSQL hold an advisory lock while upgrading."""
    engine = sa.create_engine(config.get_main_option("sqlalchemy.url") or "",
                             poolclass=sa.pool.NullPool, hide_parameters=True)
    with engine.connect() as connection:
        is_pg = connection.dialect.name == "postgresql"
        if is_pg:
            connection.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": UPGRADE_LOCK})
            connection.commit()
        try:
            context.configure(connection=connection, target_metadata=None,
                              render_as_batch=not is_pg)
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if is_pg:
                connection.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": UPGRADE_LOCK})
                connection.commit()
    engine.dispose()


run_migrations_online()
