"""The outbox: sent once, retried with backoff or Retry-After, dead-lettered, crash-safe."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.db.engine import Database, utcnow
from bot.messages import Destination, Reply
from bot.outbox.keys import EditKey
from bot.outbox.queue import enqueue, enqueue_many
from bot.outbox.transport import CannotTell, PermanentSendError, RetryableSendError
from bot.outbox.worker import UNCERTAIN, Outbox
from tests.support import migrated


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
    migrated(url)
    return Database(url)


async def _add(db: Database, key: str, dest: str = "webchat:local:@ann") -> None:
    async with db.session() as session:
        enqueue(session, key=key, destination=Destination.parse(dest), reply=Reply(text=key))
        await session.commit()


class Hanging:
    """A transport whose sends never finish: the process "dies" while they are in flight."""

    def __init__(self) -> None:
        self.started = asyncio.Event()

    async def send(self, destination: Destination, reply: Reply, *, key: str) -> str:
        self.started.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def _crash_while_sending(db: Database, clock: Clock) -> None:
    """Claim every due row and start sending, then "die": the rows stay leased, unsent."""
    crashed, hanging = Outbox(db, clock=clock), Hanging()
    crashed.register("webchat", hanging)
    run = asyncio.create_task(crashed.run_once())
    await hanging.started.wait()
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run


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


async def test_enqueue_many_adds_each_send_once_in_the_callers_transaction(tmp_path: Path) -> None:
    db = await _db(tmp_path)
    outbox, rec = Outbox(db), Recorder()
    outbox.register("webchat", rec)
    shared, other = Reply(text="shared"), Reply(text="other")
    sends = [(f"k{i}", Destination.parse(f"webchat:local:@u{i}"), shared) for i in range(3)]
    async with db.session() as session:
        assert await enqueue_many(session, [*sends, ("k9", Destination.parse(
            "webchat:local:@u9"), other)]) == 4
        await session.rollback()  # nothing is written without the caller's commit
    assert await _status(db) == []
    async with db.session() as session:
        await enqueue_many(session, [*sends, ("k9", Destination.parse("webchat:local:@u9"), other)])
        await session.commit()
    assert await outbox.run_once() == 4
    assert sorted(rec.sent) == [("webchat:local:@u0", "shared"), ("webchat:local:@u1", "shared"),
                                ("webchat:local:@u2", "shared"), ("webchat:local:@u9", "other")]
    async with db.session() as session:
        with pytest.raises(sa.exc.IntegrityError):  # a key is one intent: never queued twice
            await enqueue_many(session, sends[:1])
            await session.commit()
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
    await _crash_while_sending(db, clock)
    assert [r[1] for r in await _status(db)] == ["sending"]
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


class Teams(Recorder):
    """A transport that cannot look for an earlier send (like the Bot Connector)."""

    async def send(self, destination: Destination, reply: Reply, *, key: str) -> str:
        ref = await super().send(destination, reply, key=key)
        self.sent[-1] = (self.sent[-1][0], ("REPEAT " if reply.repeat else "") + reply.text)
        return ref


class Checking(Teams):
    """A transport whose ``already_sent`` answers as scripted (a ref, None, or cannot tell)."""

    def __init__(self, answers: list[str | None | Exception], **kw: Any) -> None:
        super().__init__(**kw)
        self.answers = answers
        self.asked: list[tuple[str, datetime | None]] = []

    async def already_sent(self, destination: Destination, key: str, *,
                           since: datetime | None = None) -> str | None:
        self.asked.append((key, since))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


async def test_an_uncertain_send_that_cannot_be_checked_is_resent_once_marked(
        tmp_path: Path) -> None:
    db, clock = await _db(tmp_path), Clock()
    rec = Teams([OSError("timeout after the post")])  # may have landed
    outbox = Outbox(db, clock=clock)
    outbox.register("webchat", rec)
    await _add(db, "a")
    await outbox.run_once()
    assert (await _status(db))[0][3].startswith(UNCERTAIN)
    clock.now += timedelta(minutes=10)
    await outbox.run_once()
    assert rec.sent == [("webchat:local:@ann", "REPEAT a")]  # not lost, and says so
    assert (await _status(db))[0][1] == "sent"
    # A lost lease (crash while sending) is uncertain too.
    await _add(db, "b")
    await _crash_while_sending(db, clock)
    clock.now += timedelta(seconds=61)
    await outbox.run_once()
    assert rec.sent[1:] == [("webchat:local:@ann", "REPEAT b")]
    await _add(db, "c")  # a certain send is never marked
    await outbox.run_once()
    assert rec.sent[2:] == [("webchat:local:@ann", "c")]
    await db.close()


async def test_an_uncertain_send_is_checked_first(tmp_path: Path) -> None:
    db, clock = await _db(tmp_path), Clock()
    rec = Checking(["landed-ref", None, CannotTell("no scope")])
    outbox = Outbox(db, clock=clock)
    outbox.register("webchat", rec)
    for key in ("landed", "absent", "unknown"):
        await _add(db, key)
        await _crash_while_sending(db, clock)
    clock.now += timedelta(seconds=61)
    while await outbox.run_once():
        pass
    assert [k for k, _ in rec.asked] == ["landed", "absent", "unknown"]
    assert all(since is not None for _, since in rec.asked)  # when it was queued
    # Found: recorded, not posted; surely absent: sent as new; cannot tell: sent marked.
    assert rec.sent == [("webchat:local:@ann", "absent"), ("webchat:local:@ann", "REPEAT unknown")]
    rows = {r[0]: r for r in await _status(db)}
    assert all(rows[k][1] == "sent" for k in ("landed", "absent", "unknown"))
    await db.close()


class Editable(Recorder):
    """Records edits too."""

    def __init__(self) -> None:
        super().__init__()
        self.edits: list[tuple[str, str]] = []

    async def update(self, destination: Destination, message_ref: str, reply: Reply) -> None:
        self.edits.append((message_ref, reply.text))


async def test_edits_replace_the_sent_message_and_older_edits_are_skipped(
        tmp_path: Path) -> None:
    db, clock = await _db(tmp_path), Clock()
    outbox, rec = Outbox(db, clock=clock), Editable()
    outbox.register("webchat", rec)
    dest = Destination.parse("webchat:local:@ann")
    async with db.session() as session:
        enqueue(session, key=EditKey("s", "1"), destination=dest, reply=Reply(text="v1"))
        await session.commit()
    await outbox.run_once()  # the original is not sent yet: retried later, not lost
    assert rec.edits == [] and (await _status(db))[0][1] == "pending"
    await _add(db, "s")
    async with db.session() as session:
        enqueue(session, key=EditKey("s", "2"), destination=dest, reply=Reply(text="v2"))
        enqueue(session, key=EditKey("s", "3"), destination=dest, reply=Reply(text="v3"))
        await session.commit()
    for _ in range(3):  # the edits wait (backing off) until the original is sent
        await outbox.run_once()
        clock.now += timedelta(minutes=5)
    assert rec.sent == [("webchat:local:@ann", "s")]
    assert rec.edits == [("ref-1", "v3")]  # v2 (and v1) superseded by the newer edit
    await db.close()


async def test_claims_are_fair_across_pacing_groups(tmp_path: Path) -> None:
    db = await _db(tmp_path)
    async with db.session() as session:  # one busy workspace first, then a quiet one
        for i in range(30):
            enqueue(session, key=f"a{i}", destination=Destination.parse(f"slack:TA:C{i}"),
                    reply=Reply(text="x"))
        enqueue(session, key="b", destination=Destination.parse("slack:TB:C1"),
                reply=Reply(text="x"))
        await session.commit()
    outbox, rec = Outbox(db, batch=10), Recorder()
    outbox.pacer = lambda destination: []  # fairness only: no send waits for a rate slot
    outbox.register("slack", rec)
    assert await outbox.run_once() == 10
    assert "slack:TB:C1" in {destination for destination, _ in rec.sent}
    await db.close()


class Signalling(Recorder):
    """A recorder that says when it has sent ``count`` messages."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count, self.done = count, asyncio.Event()

    async def send(self, destination: Destination, reply: Reply, *, key: str) -> str:
        ref = await super().send(destination, reply, key=key)
        if len(self.sent) >= self.count:
            self.done.set()
        return ref


async def test_stopping_the_loop_writes_the_outcomes_it_still_holds(tmp_path: Path) -> None:
    db = await _db(tmp_path)
    clock = Clock()
    for n in range(3):
        await _add(db, f"k{n}", dest=f"webchat:local:@p{n}")
    outbox, rec = Outbox(db, clock=clock), Signalling(3)
    outbox.register("webchat", rec)
    run = asyncio.create_task(outbox.run())
    await asyncio.wait_for(rec.done.wait(), timeout=10)
    run.cancel()  # a shutdown right after the sends, before the loop's next write
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(run, timeout=10)
    assert [(k, s) for k, s, _, _ in await _status(db)] == [
        ("k0", "sent"), ("k1", "sent"), ("k2", "sent")]
    await db.close()


async def test_an_idle_loop_waits_for_a_commit_and_looks_again_while_a_retry_waits(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.outbox import store

    db = await _db(tmp_path)
    idle = asyncio.Event()
    any_live = store.any_live

    async def watched(database: Database) -> bool:
        live = await any_live(database)
        if not live:
            idle.set()  # nothing pending or sending: the loop now waits for a wake-up
        return live
    monkeypatch.setattr(store, "any_live", watched)
    outbox, rec = Outbox(db, base_delay=0.2, max_delay=0.2), Signalling(1)
    rec.failures = [RetryableSendError("busy", unsent=True)]
    outbox.register("webchat", rec)
    # An idle wait of an hour: only the commit's wake-up and, for the retry that then waits
    # in the table, the short interval can deliver within the test's 10 s.
    run = asyncio.create_task(outbox.run(interval=0.05, idle=3600))
    try:
        await asyncio.wait_for(idle.wait(), timeout=10)
        await _add(db, "k1")
        await asyncio.wait_for(rec.done.wait(), timeout=10)
        assert rec.sent == [("webchat:local:@ann", "k1")] and not rec.failures
    finally:
        run.cancel()
        await asyncio.gather(run, return_exceptions=True)
        await db.close()


class Counting(Recorder):
    """A recorder that notes the most sends it had in flight at once, and can stall them."""

    def __init__(self, gate: asyncio.Event | None = None) -> None:
        super().__init__()
        self.now = self.most = 0
        self.gate = gate
        self.waiting = asyncio.Event()

    async def send(self, destination: Destination, reply: Reply, *, key: str) -> str:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            if self.gate is not None:
                self.waiting.set()
                await self.gate.wait()
            return await super().send(destination, reply, key=key)
        finally:
            self.now -= 1


async def _add_many(db: Database, n: int) -> None:
    async with db.session() as session:
        await enqueue_many(session, [(f"k{i}", Destination.parse(f"webchat:local:@u{i}"),
                                      Reply(text=f"k{i}")) for i in range(n)])
        await session.commit()


async def test_an_unpaced_group_is_sent_by_a_few_tasks_taking_turns(tmp_path: Path) -> None:
    """Web chat has no rate limit: 120 claimed rows go through at most 5 concurrent sends
    (plain records wait, not 120 tasks), each exactly once."""
    db = await _db(tmp_path)
    await _add_many(db, 120)
    outbox, rec = Outbox(db, unpaced_senders=5), Counting()
    outbox.register("webchat", rec)
    assert await outbox.drain() == 120
    assert rec.most == 5
    assert sorted(text for _, text in rec.sent) == sorted(f"k{i}" for i in range(120))
    assert {s for _, s, _, _ in await _status(db)} == {"sent"}
    await db.close()


async def test_stopping_puts_unpaced_rows_not_started_back_without_an_attempt(
        tmp_path: Path) -> None:
    """A shutdown while 3 sends are stuck: the 17 rows still waiting their turn are pending
    again (due, no attempt used), not left leased as 'sending' until the lease runs out."""
    db = await _db(tmp_path)
    await _add_many(db, 20)
    outbox, rec = Outbox(db, unpaced_senders=3), Counting(gate=asyncio.Event())
    outbox.register("webchat", rec)
    run = asyncio.create_task(outbox.run())
    await asyncio.wait_for(rec.waiting.wait(), timeout=10)
    while rec.now < 3:
        await asyncio.sleep(0.01)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(run, timeout=10)
    rows = await _status(db)
    assert sorted(s for _, s, _, _ in rows) == ["pending"] * 17 + ["sending"] * 3
    assert all(attempts == 0 for _, _, attempts, _ in rows)
    await db.close()


async def test_senders_cancelled_before_they_began_leave_nothing_stranded(
        tmp_path: Path) -> None:
    """A drain job cancelled right after its claim (its senders never ran): the claimed rows
    go back, the sender count returns to zero, and the next drain sends every row once."""
    db = await _db(tmp_path)
    await _add_many(db, 30)
    outbox, rec = Outbox(db, unpaced_senders=4), Counting()
    outbox.register("webchat", rec)
    inflight: set[asyncio.Task[None]] = set()
    assert await outbox._pass(inflight) == 30
    assert len(inflight) == 4
    for task in list(inflight):
        task.cancel()  # before any of them took a step
    await asyncio.gather(*inflight, return_exceptions=True)
    await outbox.flush()
    assert rec.sent == []
    assert sorted({(s, a) for _, s, a, _ in await _status(db)}) == [("pending", 0)]
    assert await outbox.drain() == 30
    assert sorted(text for _, text in rec.sent) == sorted(f"k{i}" for i in range(30))
    await db.close()


async def _first_send_stuck(tmp_path: Path, n: int) -> tuple[
        Database, Clock, Outbox, Counting, set[asyncio.Task[None]]]:
    """``n`` web chat rows claimed by one sender, whose first send hangs (a stalled database)."""
    db = await _db(tmp_path)
    await _add_many(db, n)
    clock = Clock()
    outbox, rec = Outbox(db, clock=clock, unpaced_senders=1), Counting(gate=asyncio.Event())
    outbox.register("webchat", rec)
    inflight: set[asyncio.Task[None]] = set()
    assert await outbox._pass(inflight) == n
    await asyncio.wait_for(rec.waiting.wait(), timeout=10)
    return db, clock, outbox, rec, inflight


async def test_rows_waiting_past_their_lease_are_sent_once(tmp_path: Path) -> None:
    """The database stalls: one send hangs and 4 rows wait their turn past the 30 s lease, so
    the next claim takes all 5 again. Each is still sent once: the running send records its
    own outcome, and a queued row keeps one place in the queue (the claim renewed its lease)."""
    db, clock, outbox, rec, inflight = await _first_send_stuck(tmp_path, 5)
    clock.now += timedelta(seconds=31)
    assert await outbox._pass(inflight) == 5  # all lapsed: claimed again
    assert rec.gate is not None
    rec.gate.set()
    while inflight:
        await asyncio.gather(*list(inflight))
    await outbox.flush()
    assert sorted(text for _, text in rec.sent) == [f"k{i}" for i in range(5)]
    assert [(s, a) for _, s, a, _ in await _status(db)] == [("sent", 1)] * 5
    await db.close()


async def test_a_row_kept_waiting_for_half_its_lease_goes_back_unsent(tmp_path: Path) -> None:
    """Rows queued behind a send stuck for 20 s are not started that late (another process
    could claim them once the lease lapses): they go back, due, no attempt used."""
    db, clock, outbox, rec, inflight = await _first_send_stuck(tmp_path, 3)
    clock.now += timedelta(seconds=20)
    assert rec.gate is not None
    rec.gate.set()
    await asyncio.gather(*list(inflight))
    await outbox.flush()
    assert [text for _, text in rec.sent] == ["k0"]
    assert [(s, a) for _, s, a, _ in await _status(db)] == [
        ("sent", 1), ("pending", 0), ("pending", 0)]
    assert await outbox.drain() == 2
    assert sorted(text for _, text in rec.sent) == ["k0", "k1", "k2"]
    await db.close()
