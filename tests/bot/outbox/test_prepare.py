"""Outbox rows serialised ahead (in a worker thread) are the rows enqueue_many writes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.db.bulk import insert_rows
from bot.db.engine import Database
from bot.db.models import OutboxMessage
from bot.messages import (
    Button,
    Destination,
    Fact,
    Form,
    FormField,
    Link,
    Mention,
    Reply,
    Section,
    Tone,
    reply_from_dict,
    reply_to_dict,
)
from bot.outbox.queue import (
    Status,
    dumps,
    enqueue_prepared,
    insert_prepared,
    prepare,
    status,
)
from tests.support import make_settings, migrated

RICH = Reply(
    text="Certification reminder", title="Due soon", tone=Tone.WARNING,
    fields=(Fact("Program", "KS-CLERK"),), items=("one", "two"),
    sections=(Section("**KS** year one", context="Still needed: a", fields=(Fact("a", "b"),),
                      items=("x",), buttons=(Button("Snooze", "cert:snooze", "k"),)),),
    links=(Link("Guide", "https://example.org/guide"),),
    mentions=(Mention("webchat:local:pat", "Pat"),),
    buttons=(Button("Mark complete", "cert:complete", "1:KS:y1:2026-12-31", "primary"),),
    form=Form(form_id="f", title="Report", fields=(
        FormField("course", "Course", "select", options=(("A", "Course A"), ("B", "Course B"))),),
              errors={"course": "pick one"}))


def test_dumps_is_reply_to_dict_for_every_kind_of_part() -> None:
    assert dumps(RICH) == json.dumps(reply_to_dict(RICH))  # what prepare stores
    assert dumps(Reply(text="")) == json.dumps(reply_to_dict(Reply(text="")))
    assert reply_from_dict(json.loads(dumps(RICH))) == RICH


async def test_prepared_rows_are_queued_and_read_back(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    migrated(settings.env.DATABASE_URL)
    db = Database(settings.env.DATABASE_URL)
    try:
        rows = prepare([("cert:a", Destination.parse("webchat:local:@pat"), RICH),
                        ("cert:b", Destination.parse("webchat:local:@lee"), RICH)])
        async with db.session() as session:
            assert await enqueue_prepared(session, rows) == 2
            await session.commit()
        async with db.session() as session:
            assert await status(session, ["cert:a", "cert:b", "cert:c"]) == {
                "cert:a": Status.PENDING, "cert:b": Status.PENDING}
        assert json.loads(rows[0]["payload"]) == json.loads(json.dumps(reply_to_dict(RICH)))
    finally:
        await db.close()


async def test_rows_inserted_on_a_plain_connection_match_the_session_path(
        tmp_path: Path) -> None:
    """insert_prepared (bulk, in Database.transaction) stores what enqueue_prepared stores."""
    settings = make_settings(tmp_path)
    migrated(settings.env.DATABASE_URL)
    db = Database(settings.env.DATABASE_URL)
    columns = ("platform, destination, payload, status, attempts, next_attempt_at, "
               "lease_until, last_error, message_ref, sent_at")
    try:
        due = datetime(2026, 12, 17, 17, tzinfo=UTC)
        rows = prepare([("cert:a", Destination.parse("webchat:local:@pat"), RICH),
                        ("cert:b", Destination.parse("webchat:local:@pat"), RICH)],
                       not_before=due)
        async with db.session() as session:
            await enqueue_prepared(session, rows[:1])
            await session.commit()
        assert await db.transaction(lambda conn: insert_prepared(conn, rows[1:])) == 1
        async with db.engine.connect() as conn:
            stored = (await conn.execute(sa.text(
                f"SELECT {columns} FROM outbox_message ORDER BY id"))).all()
        assert len(stored) == 2 and stored[0] == stored[1]
        with pytest.raises(ValueError, match="status"):  # a Python-side default left out
            await db.transaction(lambda conn: insert_rows(
                conn, OutboxMessage.__table__,  # type: ignore[attr-defined]
                [{k: v for k, v in rows[0].items() if k != "status"}]))
    finally:
        await db.close()
