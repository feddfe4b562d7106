"""Outbox rows serialised ahead (in a worker thread) are the rows enqueue_many writes."""

from __future__ import annotations

import json
from pathlib import Path

from bot.db.engine import Database
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
from bot.outbox.queue import Status, dumps, enqueue_prepared, plain, prepare, status
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


def test_plain_is_reply_to_dict_for_every_kind_of_part() -> None:
    assert plain(RICH) == reply_to_dict(RICH)
    assert json.dumps(plain(RICH)) == json.dumps(reply_to_dict(RICH))
    assert reply_from_dict(json.loads(json.dumps(plain(RICH)))) == RICH
    assert plain(Reply(text="")) == reply_to_dict(Reply(text=""))
    assert dumps(RICH) == json.dumps(reply_to_dict(RICH))  # what prepare stores
    assert dumps(Reply(text="")) == json.dumps(reply_to_dict(Reply(text="")))


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
