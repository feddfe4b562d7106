"""Plain multi-row inserts for bulk writes (thousands of rows in one transaction)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def insert_rows(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """A plain multi-row INSERT through the driver, each distinct value bound once.

    ``rows`` all have the same keys (column names), including every column with a Python-side
    default (ValueError otherwise). SQLAlchemy's executemany runs every
    column's bind processing for every row (about 10 us a row); bulk rows mostly hold text and
    numbers, which need none, or repeat a few values (a day, a batch's timestamp), so each
    distinct value is processed once here, by the column type's own processor for the dialect.
    Errors are SQLAlchemy's (IntegrityError on a conflict). Works on the plain connection of
    :meth:`~bot.db.engine.Database.transaction` on SQLite and PostgreSQL alike.
    """
    if not rows:
        return
    names = list(rows[0])
    defaulted = [c.name for c in table.c if c.name not in names and c.default is not None]
    if defaulted:  # SQLAlchemy would fill these in Python; a plain INSERT would leave NULL
        raise ValueError(f"{table.name}: no value for {', '.join(defaulted)}")
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, names))}) "
           f"VALUES ({', '.join([mark] * len(names))})")
    columns: list[tuple[str, Any, dict[Any, Any]]] = [
        (name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect), {})
        for name in names]
    for name, process, seen in columns:
        if process is not None:
            for row in rows:
                value = row[name]
                if value not in seen:
                    seen[value] = process(value)
    conn.exec_driver_sql(sql, [tuple(seen[row[name]] if seen else row[name]
                                     for name, _, seen in columns) for row in rows])
