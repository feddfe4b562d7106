"""The outbox's API for the domains: typed keys, status, edits_of, find, wake on commit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.db.engine import Database
from bot.messages import Destination, Reply
from bot.outbox.keys import EditKey
from bot.outbox.queue import Status, edits_of, enqueue, enqueue_many, find, status
from bot.outbox.worker import Outbox
from handlers.certifications.keys import ReminderKey
from handlers.incidents.notify import NotificationKey
from tests.support import migrated

ANN = Destination.parse("webchat:local:@ann")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite:///{tmp_path / 'api.db'}"
    migrated(url)
    database = Database(url)
    yield database
    await database.close()


async def _add(db: Database, *sends: tuple[object, str]) -> None:
    async with db.session() as session:
        for key, text in sends:
            enqueue(session, key=key, destination=ANN, reply=Reply(text=text))  # type: ignore[arg-type]
        await session.commit()


def test_typed_keys_keep_the_stored_format() -> None:
    notice = NotificationKey("INC-2026-0001", "filed", "new", "SEV2", "slack:T1:C1")
    assert str(notice) == "incident:INC-2026-0001:filed:new:SEV2:slack:T1:C1"
    assert NotificationKey.parse(str(notice)) == notice
    reminder = ReminderKey("teams:tenant:aad-1", date(2026, 3, 2))
    assert str(reminder) == "cert:teams:tenant:aad-1:2026-03-02"
    assert str(reminder).startswith(ReminderKey.PREFIX)
    edit = EditKey(str(notice), "7")
    assert str(edit) == f"{notice}:edit:7" and edit.fits()
    assert not EditKey("x" * 195, "12345678").fits()


async def test_status_of_a_set_of_keys_leaves_out_what_is_not_queued(db: Database) -> None:
    await _add(db, ("a", "a"), ("b", "b"))
    async with db.engine.begin() as conn:
        await conn.execute(sa.text("UPDATE outbox_message SET status = 'dead' WHERE key = 'b'"))
    async with db.session() as session:
        assert await status(session, ["a", "b", "c"]) == {"a": Status.PENDING, "b": Status.DEAD}
        many = [f"k{i}" for i in range(2500)]  # more than one chunk of bind parameters
        await enqueue_many(session, [(k, ANN, Reply(text=k)) for k in many])
        await session.commit()
    async with db.engine.connect() as conn:
        assert len(await status(conn, [*many, "missing"])) == 2500


async def test_edits_of_a_message_and_find_by_key_kind(db: Database) -> None:
    await _add(db, ("s", "v0"), ("s_x", "other"), (EditKey("s", "1"), "v1"),
               (EditKey("s", "2"), "v2"), ("s:other", "not an edit"))
    async with db.session() as session:
        edits = await edits_of(session, "s")
        assert [e.key for e in edits] == ["s:edit:1", "s:edit:2"]
        assert [e.reply.text for e in edits] == ["v1", "v2"]
        [latest] = await edits_of(session, "s", with_original=True, last=1)
        assert latest.shows(Reply(text="v2")) and not latest.shows(Reply(text="v1"))
        [original, *_] = await edits_of(session, "s", with_original=True)
        assert original.key == "s" and original.destination == str(ANN)
        # A prefix is literal: '_' and '%' are not wildcards; edits only when asked for.
        assert [q.key for q in await find(session, "s:")] == ["s:other"]
        assert [q.key for q in await find(session, "s_")] == ["s_x"]
        assert len(await find(session, "s:", edits=True)) == 3
        assert await find(session, "s", state=Status.DEAD) == []


async def test_a_commit_that_enqueued_wakes_the_worker_once(db: Database) -> None:
    outbox = Outbox(db)
    woken: list[str] = []
    outbox.on_wake = lambda: woken.append("wake")
    async with db.session() as session:
        enqueue(session, key="rolled-back", destination=ANN, reply=Reply(text="x"))
        await session.rollback()
        await session.commit()  # nothing queued in this transaction
    assert woken == []
    async with db.session() as session:
        await session.execute(sa.text("SELECT 1"))
        await session.commit()
    assert woken == []
    await _add(db, ("a", "a"), ("b", "b"))
    assert woken == ["wake"]
    async with db.session() as session:
        await enqueue_many(session, [("c", ANN, Reply(text="c"))])
        await session.commit()
    assert woken == ["wake", "wake"]
    async with db.session() as session:
        assert await status(session, ["rolled-back", "a", "c"]) == {
            "a": Status.PENDING, "c": Status.PENDING}


async def test_a_failing_wake_up_does_not_fail_the_commit(db: Database) -> None:
    outbox = Outbox(db)

    def broken() -> None:
        raise RuntimeError("job engine unreachable")
    outbox.on_wake = broken
    await _add(db, ("kept", "kept"))  # the periodic sweep sends it later
    async with db.session() as session:
        assert await status(session, ["kept"]) == {"kept": Status.PENDING}


def test_an_edit_key_too_long_for_the_column_is_refused_not_cut() -> None:
    from bot.outbox.keys import MAX_KEY, text

    fits = EditKey(of="n" * 10, version="v1")
    assert text(fits) == "n" * 10 + ":edit:v1"
    too_long = EditKey(of="n" * MAX_KEY, version="v2")
    with pytest.raises(ValueError, match="edit key longer"):
        text(too_long)
    assert len(text("x" * (MAX_KEY + 5))) == MAX_KEY  # plain keys are still cut to fit
