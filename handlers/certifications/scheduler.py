"""The reminder scheduler: plan what is due, then send each recipient one digest, exactly once.

An official's own reminders go to their chat identity, else (no identity, or chat cannot reach
them) to their e-mail address: see :mod:`handlers.certifications.reach`, the same ladder, day
and hour either way. Each recipient's digest is the day's ``cert_digest`` row, one
``cert_reminder_sent`` row per (deadline, recipient, step) and the outbox message, written
together; many digests share a transaction, and a batch the database refuses is written again
one digest per transaction. Unique constraints make a second scheduler, a restart or a retry
after a crash fail the insert and roll back instead of sending twice: the database enforces
exactly-once, the pre-filtering below only saves work.

A pass that changed nothing is not worked out again. What a pass sends depends on the ledger
and the reminders already sent (a database counter, ``cert_revision``, that triggers bump on
every change: :class:`~handlers.certifications.models.Revision`), on the channels that are
down (dead-lettered reminders), on each time zone's local day and whether it is in its sending
window, and on the configuration; and, through the platforms' answers, on whom chat can reach.
A pass remembers these :class:`Inputs` when it left nothing that depends on a platform's
answer (no pending step was asked about; the staff digest is sent, or no platform can tell);
the next pass with the same inputs stops after two small queries. Time moving on is a change:
a new local day anywhere (a step falls due, a deadline passes and escalation starts) or a zone
reaching its send hour runs the whole pass again.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache, partial
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config.settings import AppConfig
from bot.db.bulk import insert_rows
from bot.db.engine import Database, utcnow
from bot.messages import Destination
from bot.ops.heap import full_collections_paused
from bot.ops.metrics import REMINDERS
from bot.outbox.queue import insert_prepared, prepare_serialised
from bot.outbox.worker import Outbox
from bot.services import Services
from handlers.certifications.config import CertificationConfig
from handlers.certifications.keys import ReminderKey
from handlers.certifications.ledger import (
    LedgerRows,
    fetch_rows,
    programs_for,
    read_ledger,
    read_ledger_sync,
    records_from_rows,
    stream_rows,
)
from handlers.certifications.models import Digest, Official, ReminderSent, Revision, Snooze
from handlers.certifications.reach import destination_for, failed_recipients, is_email, reach
from handlers.certifications.reminders import Due, OfficialRecord, Policy, plan
from handlers.certifications.replies import DigestRenderer
from handlers.certifications.unreachable import digests_done, send_digest

log = logging.getLogger(__name__)
BATCH = 100  # digests per transaction on PostgreSQL: one short write, a few ms of the event loop
BATCH_SQLITE = 1000  # on SQLite, written in a worker thread: the loop only awaits it
ASK = 2000  # chat destinations per question to the platforms
SLICE = 2000  # rows per call into C in a worker thread (a call holds the GIL throughout)
DIGESTS = Digest.__table__  # type: ignore[attr-defined]  # plain inserts, no ORM bulk path
SENT = ReminderSent.__table__  # type: ignore[attr-defined]


@dataclass
class PassResult:
    """What one scheduler pass did."""

    due: int = 0
    sent: int = 0
    skipped: int = 0
    unreachable: int = 0
    staff_digests: int = 0
    #: Nothing changed since a pass that left nothing to do: this one stopped early.
    unchanged: bool = False


@dataclass(frozen=True, slots=True)
class Inputs:
    """What a pass's outcome depends on, in a form cheap to read and compare.

    ``revision``: the ledger's counter (:class:`~handlers.certifications.models.Revision`);
    ``down``: the channels whose latest reminder was dead-lettered; ``days``: each time zone
    with its local date and whether reminders may go out there now; ``setup``: the
    configuration and transports in use (the same objects, the same rules).
    """

    revision: int
    down: frozenset[str]
    days: tuple[tuple[str, date, bool], ...]
    setup: tuple[Any, ...]


#: Per database: the inputs of the last pass that left nothing to do while they stay the same.
_settled: weakref.WeakKeyDictionary[Database, Inputs] = weakref.WeakKeyDictionary()


def _setup(services: Services) -> tuple[Any, ...]:
    """The configuration and the transports themselves, compared as objects.

    Held, not their ``id``: a freed object's id may be given to its replacement, which would
    then look unchanged.
    """
    transports = services.outbox.transports
    return (services.settings.app, *sorted(transports.items(), key=lambda item: item[0]))


async def _revision(session: AsyncSession) -> int:
    """The ledger's change counter (read before the ledger: a change after it shows next time)."""
    total = sa.func.coalesce(sa.func.sum(Revision.n), 0)
    return int((await session.exec(select(total))).one())  # type: ignore[call-overload]


def supervisors_for(app: AppConfig, jurisdiction: str) -> list[str]:
    """Who hears about escalations: the jurisdiction's supervisors, else state staff."""
    return list(app.section(CertificationConfig).supervisors.get(jurisdiction)
                or app.roles.get("state_staff", []))


def _already_queries(since: date) -> list[sa.Select[Any]]:
    """The (deadline, recipient, step) rows sent and the (recipient, day) digests since ``since``."""
    r, d = SENT.c, DIGESTS.c
    return [sa.select(r.deadline_key, r.recipient, r.step),
            sa.select(d.recipient, d.day).where(d.day >= since)]


async def _read(services: Services, session: AsyncSession,
                since: date) -> tuple[LedgerRows, list[Any], list[Any]]:
    """The ledger, the reminder rows sent and the digests since ``since``, as plain rows.

    On SQLite all of it is read in a worker thread on a plain connection (the loop only
    awaits it); on PostgreSQL in partitions on ``session`` (each a short step on the loop).
    Plain rows: the planning thread makes sets of them (100,000 tuples are not hashed on the
    event loop).
    """
    if services.db.is_sqlite:
        return await services.db.transaction(partial(_read_sync, since))
    ledger = await read_ledger(session)
    sent: list[Any] = []
    digests: list[Any] = []
    for query, into in zip(_already_queries(since), (sent, digests), strict=True):
        await stream_rows(session, query, into)
    return ledger, sent, digests


def _read_sync(since: date, conn: Connection) -> tuple[LedgerRows, list[Any], list[Any]]:
    ledger = read_ledger_sync(conn)
    sent: list[Any] = []
    digests: list[Any] = []
    for query, into in zip(_already_queries(since), (sent, digests), strict=True):
        fetch_rows(conn, query, into)
    return ledger, sent, digests


async def _snoozes(session: AsyncSession) -> dict[str, date]:
    return dict((await session.exec(select(  # type: ignore[call-overload]
        Snooze.deadline_key, Snooze.until))).all())


def _recipients(due: list[Due], records: dict[int, OfficialRecord], app: AppConfig,
                sent: set[tuple[str, str, int]],
                down: set[str]) -> tuple[dict[str, list[Due]], int]:
    by_recipient: dict[str, list[Due]] = defaultdict(list)
    reached: dict[int, str | None] = {}
    supervisors: dict[str, list[str]] = {}  # by jurisdiction
    unreachable = 0
    for item in due:
        record = records[item.official_id]
        if record.id not in reached:
            reached[record.id] = reach(record, down)
        own = reached[record.id]
        targets = [own] if own else []
        unreachable += own is None
        if item.escalate:
            jurisdiction = record.jurisdiction
            if jurisdiction not in supervisors:
                supervisors[jurisdiction] = supervisors_for(app, jurisdiction)
            targets += supervisors[jurisdiction]
        for target in dict.fromkeys(targets):
            if target and (item.key, target, item.step) not in sent:
                by_recipient[target].append(item)
    return by_recipient, unreachable


@dataclass
class Planned:
    """What is due (worked out in a thread): records, due steps, chat destinations to check."""

    records: list[OfficialRecord]
    due: list[Due]
    #: Due officials reached by chat who also have an address: does chat reach them?
    ask: list[tuple[str, Destination]]


@dataclass
class Plan:
    """What one pass will send (worked out in a thread, on plain data)."""

    records: list[OfficialRecord]
    due: int
    unreachable: int
    skipped: int
    digests: list[Draft]
    #: The recipients' destinations, made once: the staff digest's look-ups reuse them.
    destinations: dict[str, Destination]


@dataclass(frozen=True, slots=True)
class Draft:
    """One person's digest of the day, ready to write: its rows, the message serialised."""

    recipient: str
    day: date
    steps: list[dict[str, Any]]
    outbox: dict[str, Any]


def _draft(recipient: str, day: date, items: list[Due], payload: str, stamp: datetime,
           due: datetime, destination: Destination) -> Draft:
    """``stamp`` is when the rows are written; ``due`` when the send may go (the pass's clock).

    ``payload`` is the digest as stored (:class:`~handlers.certifications.replies.DigestRenderer`).
    """
    key = str(ReminderKey(recipient, day))
    steps = [{"deadline_key": i.key, "recipient": recipient, "step": i.step, "day": day,
              "outbox_key": key, "created_at": stamp} for i in items]
    row, = prepare_serialised([(key, destination, payload)], not_before=due)
    return Draft(recipient, day, steps, row)


def _plan_due(ledger: LedgerRows, app: AppConfig, now: datetime, policy: Policy,
              office_today: date, sent: set[tuple[str, str, int]], down: set[str],
              snoozed: dict[str, date], rows: list[list[Any]],
              tells: Callable[[str], bool]) -> Planned:
    """Records, standings and due steps (pure: runs in a thread).

    ``sent`` is filled from ``rows`` (the plain rows :func:`_read` read, then emptied) here.
    A step counts as sent to the official when it went to one of their own channels that is
    not ``down`` (see :mod:`~handlers.certifications.reach`). Platforms are asked only when
    they can tell (``tells``: :meth:`~bot.outbox.worker.Outbox.tells`).
    """
    for part in rows:
        _add_rows(sent, part)
    _drain(*rows)
    records = records_from_rows(ledger, app, office_today)
    owners = {str(r.id): (r.identity, f"email:{r.email}") if r.email else (r.identity,)
              for r in records}
    official_sent = {(k, s) for k, r, s in sent
                     if r in owners.get(k.split(":", 1)[0], ()) and r not in down}
    due = plan(records, programs_for(app), now, policy, snoozed=snoozed, sent=official_sent)
    by_id = {r.id: r for r in records}
    ask: dict[str, Destination] = {}
    told = lru_cache(maxsize=None)(tells)  # per platform (a Protocol isinstance check is slow)
    for item in due:  # chat would get a step not sent yet: can it reach them at all?
        record = by_id[item.official_id]
        identity = record.identity
        if (identity and record.email and identity not in down and identity not in ask
                and told(identity.partition(":")[0])
                and (item.key, identity, item.step) not in sent
                and (item.key, f"email:{record.email}", item.step) not in sent):
            ask[identity] = destination_for(identity)
    held: list[list[Any]] = [list(official_sent), list(owners.items())]
    official_sent.clear()
    owners.clear()
    _drain(ledger.officials, ledger.assignments, ledger.completions, ledger.waivers, *held)
    return Planned(records, due, list(ask.items()))


def _draft_pass(planned: Planned, app: AppConfig, now: datetime,
                sent: set[tuple[str, str, int]], digested: set[tuple[str, date]],
                down: set[str]) -> Plan:
    """Recipients and their digests (pure: runs in a thread)."""
    by_id = {r.id: r for r in planned.records}
    by_recipient, unreachable = _recipients(planned.due, by_id, app, sent, down)
    drafts, skipped, stamp = [], 0, utcnow()
    renderer = DigestRenderer(app)
    destinations: dict[str, Destination] = {}
    for recipient, items in by_recipient.items():
        day = min(i.day for i in items)
        if (recipient, day) in digested:
            skipped += 1
        else:
            payload = renderer.payload(recipient, items, by_id)
            destination = destinations[recipient] = destination_for(recipient)
            drafts.append(_draft(recipient, day, items, payload, stamp, now, destination))
    due = len(planned.due)
    held: list[list[Any]] = [list(sent), list(digested), list(by_recipient.values())]
    sent.clear()
    digested.clear()
    by_recipient.clear()  # only references: the objects go with the lists, a slice at a time
    _drain(*held, planned.due)  # freed here, not on the event loop
    return Plan(planned.records, due, unreachable, skipped, drafts, destinations)


async def _cannot_reach(outbox: Outbox, ask: list[tuple[str, Destination]]) -> set[str]:
    """The chat identities among ``ask`` that their platform says it cannot message."""
    by_destination = {destination: identity for identity, destination in ask}
    found: set[str] = set()
    for start in range(0, len(ask), ASK):
        cannot = await outbox.unreachable([d for _, d in ask[start:start + ASK]])
        found.update(by_destination[d] for d in cannot)
    return found


def _fill(into: set[Any], rows: list[Any]) -> None:
    """Add ``rows`` to ``into`` as tuples (in a worker thread); ``rows`` is emptied."""
    _add_rows(into, rows)
    _drain(rows)


def _add_rows(into: set[Any], rows: list[Any]) -> None:
    """Add ``rows`` to ``into`` as tuples, a slice at a time.

    One ``set.update`` over 100,000 rows is a single call into C that holds the GIL, and so
    the event loop, for tens of milliseconds; between slices the loop gets its turn.
    """
    for start in range(0, len(rows), SLICE):
        into.update(map(tuple, rows[start:start + SLICE]))


def _free(work: Plan) -> None:
    """Free a pass's working set in the calling (worker) thread, a slice at a time."""
    destinations = list(work.destinations.items())
    work.destinations.clear()  # only references: the objects go with the list
    _drain(work.digests, work.records, destinations)


def _drain(*lists: list[Any]) -> None:
    """Empty big lists a slice at a time, in the calling (worker) thread.

    Freeing a pass's hundreds of thousands of objects in one step (the end of a function on
    the event loop) would hold the loop for tens of milliseconds; a slice at a time lets the
    loop in between.
    """
    for items in lists:
        while items:
            del items[-1000:]


async def run_once(services: Services) -> PassResult:
    """One pass: read the ledger, plan in a worker thread, send in batches of recipients.

    The event loop only ever does one bounded step of it at a time: the big reads run in a
    worker thread on SQLite (in partitions on the loop on PostgreSQL), the planning and the
    drafting (CPU-heavy: 100,000 officials) run in threads on plain rows, and the writes go
    :data:`BATCH` recipients to a transaction. Work in threads is cut into calls into C of a
    few milliseconds each (a single call holds the GIL, and so the loop, throughout), and
    the pass's objects are freed there a slice at a time. A pass where no official's zone is
    in its sending window (before 09:00, weekend, holiday) stops after one small query.
    """
    app = services.settings.app
    now = services.clock()
    policy = Policy.from_config(app.section(CertificationConfig))
    office_today = now.astimezone(ZoneInfo(app.office.time_zone)).date()
    async with services.db.session() as session:
        zones = sorted({*(await session.exec(select(Official.time_zone).distinct())).all(),
                        app.office.time_zone})
        days = tuple((zone, *policy.local_day(now, zone)) for zone in zones)
        if not any(sending for _, _, sending in days):
            return PassResult()
        revision = await _revision(session)
        down = await failed_recipients(session)
    inputs = Inputs(revision, frozenset(down), days, _setup(services))
    if _settled.get(services.db) == inputs:
        return PassResult(unchanged=True)
    _settled.pop(services.db, None)  # remembered again only when this pass completes
    with full_collections_paused():
        async with services.db.session() as session:
            ledger, sent_rows, digest_rows = await _read(services, session,
                                                         office_today - timedelta(days=2))
            snoozed = await _snoozes(session)
        sent: set[tuple[str, str, int]] = set()
        digested: set[tuple[str, date]] = set()
        planned = await asyncio.to_thread(_plan_due, ledger, app, now, policy, office_today,
                                          sent, down, snoozed, [sent_rows],
                                          services.outbox.tells)
        await asyncio.to_thread(_fill, digested, digest_rows)
        del ledger, sent_rows, digest_rows
        asked = bool(planned.ask)
        down |= await _cannot_reach(services.outbox, planned.ask)
        work = await asyncio.to_thread(_draft_pass, planned, app, now, sent, digested, down)
        del sent, digested, planned
        result = PassResult(due=work.due, unreachable=work.unreachable, skipped=work.skipped)
        batch = BATCH_SQLITE if services.db.is_sqlite else BATCH
        for start in range(0, len(work.digests), batch):
            done = await _send_batch(services, work.digests[start:start + batch])
            result.sent += done
            result.skipped += min(batch, len(work.digests) - start) - done
        staff_due = policy.local_day(now, app.office.time_zone)[1]
        if staff_due:
            result.staff_digests = await send_digest(services.db, services.outbox, app,
                                                       work.records, office_today, now,
                                                       known=work.destinations)
        await asyncio.to_thread(_free, work)
    if not asked and (not staff_due or not _platforms_tell(services.outbox)
                      or await digests_done(services.db, app, office_today)):
        _settled[services.db] = inputs
    return result


def _platforms_tell(outbox: Outbox) -> bool:
    """Whether a platform can say whom it cannot reach (its answer is no database change)."""
    return any(outbox.tells(platform) for platform in outbox.transports)


async def _send_batch(services: Services, drafts: list[Draft]) -> int:
    """Write a batch of digests in one transaction; on a conflict, one by one (exactly once).

    A conflict means another scheduler (or an earlier pass) sent some of them a moment ago:
    the unique constraints refuse the batch, and each digest is retried in its own
    transaction so the others still go. On SQLite the transaction runs in a worker thread on
    a plain connection (:meth:`~bot.db.engine.Database.transaction`): the rows' parameters
    are prepared there, off the event loop, and the write lock is held only while it writes.
    """
    try:
        await services.db.transaction(partial(_write, drafts))
    except IntegrityError:
        done = 0
        for draft in drafts:
            done += await _send_digest(services, draft)
        return done
    services.outbox.wake()
    REMINDERS.inc(len(drafts))
    return len(drafts)


def _write(drafts: list[Draft], conn: Connection) -> None:
    """Insert the digests, their reminder rows and their outbox messages (one transaction)."""
    insert_rows(conn, DIGESTS, [{"recipient": d.recipient, "day": d.day} for d in drafts])
    insert_rows(conn, SENT, [s for d in drafts for s in d.steps])
    insert_prepared(conn, [d.outbox for d in drafts])


async def _send_digest(services: Services, draft: Draft) -> bool:
    try:
        await services.db.transaction(partial(_write, [draft]))
    except IntegrityError:
        # an address is personal data: only its kind is logged
        log.info("certification digest already sent",
                 extra={"recipient": "e-mail" if is_email(draft.recipient) else draft.recipient})
        return False
    services.outbox.wake()
    REMINDERS.inc()
    return True


async def certification_reminders(services: Services) -> None:
    """One periodic tick of the reminder scheduler."""
    await run_once(services)


def now_local(now: datetime, zone: str) -> datetime:
    """``now`` in a time zone (helper for replies and tests)."""
    return now.astimezone(ZoneInfo(zone))
