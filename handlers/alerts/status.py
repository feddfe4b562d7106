"""The status view's numbers: per member, its answer, where its copy is, or why it was not sent.

Read as plain tuples with the outbox's status of the members' keys (never one ORM object per
member): the live status message recomputes this every few seconds during a broadcast to
thousands. The words are in :mod:`handlers.alerts.status_replies`.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.engine import Database
from bot.messages import Reply, literal
from bot.outbox.queue import Status, find, status
from handlers.alerts.models import Alert
from handlers.alerts.service import delivery_key, key_prefix
from handlers.alerts.status_replies import (
    ANSWER_RANK,
    DELIVERED,
    FAILED,
    NOT_YET,
    SENDING,
    WAITING,
    OrgTally,
    Tally,
    build_status,
    channel_word,
)

THREAD_ROWS = 1000  # members from which the view is tallied in a worker thread


async def status_reply(*, db: Database, alert: Alert, zone: ZoneInfo | None = None,
                       now: datetime | None = None) -> Reply:
    """The status view: per tier, channel, organisation and jurisdiction; who needs help.

    Each member (recipient row) counts once, in one answer column (:func:`answer_of`), or as
    not sent when the TLP rules kept it out (its row says why). Plain tuples (no ORM objects)
    and the outbox's status of their keys: the live status message recomputes this every few
    seconds during a broadcast of thousands of destinations. Times in ``zone`` (the reader's;
    UTC where none is known), relative to ``now`` if given.
    """
    async with db.engine.connect() as conn:
        rows = (await conn.execute(sa.text(
            "SELECT r.id, r.outbox_key, r.tier, r.organisation, r.jurisdiction, r.name, "
            "r.destination, r.excluded FROM alert_recipient r WHERE r.alert_id = :id "
            "ORDER BY r.id"), {"id": alert.id})).all()
        answers = await answers_of(conn, alert)
        states = await status(conn, (row[1] for row in rows if not row[7]))
    if len(rows) < THREAD_ROWS:
        return _view(alert, rows, states, answers, zone, now)
    # Thousands of members (the live status message during a broadcast, every few seconds):
    # tallied in a worker thread, so the event loop is never held for the whole walk (it gets
    # the interpreter back every few milliseconds, and the sends it paces stay on time).
    return await asyncio.to_thread(_view, alert, rows, states, answers, zone, now)


def _view(alert: Alert, rows: Sequence[Sequence[Any]], states: dict[str, Status],
          answers: dict[int, set[str]], zone: ZoneInfo | None, now: datetime | None) -> Reply:
    """The status view from plain rows (pure: may run in a worker thread)."""
    tables: list[dict[str, Tally]] = [defaultdict(Tally) for _ in range(3)]
    orgs: dict[str, OrgTally] = defaultdict(OrgTally)
    listed: dict[str, list[str]] = {"need_help": [], NOT_YET: []}
    for rid, key, tier, organisation, jurisdiction, name, destination, excluded in rows:
        state, answer = states.get(key), answer_of(answers.get(rid, set()))
        channel = channel_word(destination)
        for table, label in zip(tables, (tier, channel, jurisdiction), strict=True):
            tally = table[label]
            tally.recipients += 1
            if excluded:
                tally.excluded += 1
                continue
            # An answer proves delivery, even before the worker has recorded it
            # (outcomes are written in batches, a fraction of a second later).
            tally.delivered += state == Status.SENT or answer != NOT_YET
            tally.failed += state == Status.DEAD
            tally.answers[answer] += 1
        orgs[organisation].add(channel, _member_state(alert, state, answer), excluded)
        if answer in listed and not excluded:
            listed[answer].append(f"{literal(name or organisation)} ({literal(organisation)}, "
                                  f"{literal(tier)})")
    return build_status(alert, tables[0], orgs, tables[2], channels=tables[1],
                        need_help=listed["need_help"], not_yet=listed[NOT_YET],
                        zone=zone or ZoneInfo("UTC"), now=now)


def _member_state(alert: Alert, state: Status | None, answer: str) -> str:
    """One member's word in its organisation's line: its answer, or where its copy is."""
    if answer != NOT_YET:
        return answer
    if state == Status.DEAD:
        return FAILED
    if state == Status.SENT:
        return WAITING if alert.ack_required else DELIVERED
    return SENDING


def answer_of(kinds: set[str]) -> str:
    """A member's answer column: the first of :data:`ANSWER_RANK` any of its people gave."""
    return next((kind for kind in ANSWER_RANK if kind in kinds), NOT_YET)


async def answers_of(conn: AsyncConnection, alert: Alert) -> dict[int, set[str]]:
    """Every recipient row's answers, "need_help" included when someone asked after answering.

    Asking for help after an earlier answer keeps that answer (one per person) and leaves a
    help message per state staff destination, keyed by the person: those keys tell.
    """
    acks = (await conn.execute(sa.text(
        "SELECT recipient_id, person, kind FROM alert_ack WHERE alert_id = :id"),
        {"id": alert.id})).all()
    asked = await find(conn, key_prefix(alert.public_id, "help"))
    help_keys = {q.key for q in asked}
    targets = {q.destination for q in asked}
    found: dict[int, set[str]] = defaultdict(set)
    for rid, person, kind in acks:
        found[rid].add(kind)
        if any(delivery_key(alert.public_id, "help", f"{person}>{t}") in help_keys
               for t in targets):
            found[rid].add("need_help")
    return found
