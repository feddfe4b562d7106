"""The outbox: sent once, retried with backoff or Retry-After, dead-lettered, crash-safe."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.db import Database, upgrade, utcnow
from bot.messages import Destination, Reply
from bot.outbox import Outbox, PermanentSendError, RetryableSendError, enqueue


class Clock:
    def __init__(self) -> None:
        self.now = utcnow() + timedelta(seconds=1)  # after everything enqueued below

    def __call__(self) -> datetime:
        return self.now


class Recorder:
    """A transport that records sends and fails as scripted."""

    def __init__(self, failures: list[Exception] | None = None, delay: float = 0.0) -> None:
        self.sent: list[tuple[str, str]] = []
        self.failures = list(failures or [])
        self.delay = delay

    async def send(self, destination: Destination, reply: Reply, *, key: str) -> str:
        await asyncio.sleep(self.delay)
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((str(destination), reply.text))
        return f"ref-{len(self.sent)}"


async def _db(tmp_path: Path) -> Database:
    url = f"sqlite:///{tmp_path / 'o.db'}"
    upgrade(url)
    return Database(url)


async def _add(db: Database, key: str, dest: str = "webchat:local:@ann") -> None:
    async with db.session() as session:
        enqueue(session, key=key, destination=Destination.parse(dest), reply=Reply(text=key))
        await session.commit()


async def _status(db: Database) -> list[tuple]:
    async with db.engine.connect() as conn:
        return list((await conn.execute(sa.text(
            "SELECT key, status, attempts, last_error FROM outbox_message ORDER BY id"))).all())


async def test_sends_once_and_marks_sent(tmp_path: Path) -> None:
    db = await _db(tmp_path)
    outbox, rec = Outbox(db), Recorder()
    outbox.register("webchat", rec)
    await _add(db, "a")
    await _add(db, "b")
    assert await outbox.run_once() == 2
    assert await outbox.run_once() == 0
    assert sorted(rec.sent) == [("webchat:local:@ann", "a"), ("webchat:local:@ann", "b")]
    assert [r[1] for r in await _status(db)] == ["sent", "sent"]
    await db.close()


async def test_retry_after_is_honoured_then_delivered(tmp_path: Path) -> None:
    db, clock = await _db(tmp_path), Clock()
    outbox = Outbox(db, clock=clock)
    rec = Recorder([RetryableSendError("ratelimited", retry_after=30)])
    outbox.register("webchat", rec)
    await _add(db, "a")
    await outbox.run_once()
    assert rec.sent == [] and (await _status(db))[0][1:3] == ("pending", 1)
    clock.now += timedelta(seconds=29)
    assert await outbox.run_once() == 0  # not before Retry-After
    clock.now += timedelta(seconds=2)
    assert await outbox.run_once() == 1
    assert rec.sent == [("webchat:local:@ann", "a")]
    await db.close()


async def test_transient_errors_back_off_and_give_up_into_dead_letter(tmp_path: Path) -> None:
    db, clock = await _db(tmp_path), Clock()
    outbox = Outbox(db, clock=clock, max_attempts=3, base_delay=1, max_delay=4)
    outbox.register("webchat", Recorder([OSError("reset")] * 5))
    await _add(db, "a")
    for _ in range(3):
        await outbox.run_once()
        clock.now += timedelta(seconds=5)  # beyond the capped delay
    key, status, attempts, error = (await _status(db))[0]
    assert (status, attempts) == ("dead", 3)
    assert "gave up" in error and "reset" in error
    await db.close()


async def test_permanent_errors_and_unconfigured_platforms_are_dead_lettered(tmp_path) -> None:
    db = await _db(tmp_path)
    outbox = Outbox(db)
    outbox.register("webchat", Recorder([PermanentSendError("channel_not_found")]))
    await _add(db, "a")
    await _add(db, "b", dest="slack:T1:C1")
    await outbox.run_once()
    rows = {r[0]: r for r in await _status(db)}
    assert rows["a"][1:] == ("dead", 1, "channel_not_found")
    assert rows["b"][1] == "dead" and "slack is not configured" in rows["b"][3]
    await db.close()


async def test_a_crashed_sender_lease_expires_and_another_worker_sends(tmp_path: Path) -> None:
    db, clock = await _db(tmp_path), Clock()
    await _add(db, "a")
    crashed = Outbox(db, clock=clock)
    claimed = await crashed._claim()  # claimed, then the process "dies" before sending
    assert len(claimed) == 1
    survivor, rec = Outbox(db, clock=clock), Recorder()
    survivor.register("webchat", rec)
    assert await survivor.run_once() == 0  # lease still held
    clock.now += timedelta(seconds=61)
    assert await survivor.run_once() == 1
    assert rec.sent == [("webchat:local:@ann", "a")]
    await db.close()


@pytest.mark.parametrize("workers", [2, 4])
async def test_concurrent_workers_send_each_message_once(tmp_path: Path, workers: int) -> None:
    db = await _db(tmp_path)
    for i in range(40):
        await _add(db, f"m{i}")
    recorders = [Recorder(delay=0.001) for _ in range(workers)]
    outboxes = []
    for rec in recorders:
        box = Outbox(Database(db.url), batch=7)
        box.register("webchat", rec)
        outboxes.append(box)
    while sum(await asyncio.gather(*(b.run_once() for b in outboxes))):
        pass
    sent = [s for rec in recorders for s in rec.sent]
    assert sorted(t for _, t in sent) == sorted(f"m{i}" for i in range(40))
    for box in outboxes:
        await box.db.close()
    await db.close()
