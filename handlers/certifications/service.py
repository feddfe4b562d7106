"""Certification operations on the database: imports, self-reports, verification, snoozes.

Notifications are enqueued in the same transaction as the change they announce.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot.config.settings import AppConfig
from bot.db.engine import Database, utcnow
from bot.errors import Refused, UserError
from bot.ops.audit import audit as record
from bot.outbox.queue import enqueue
from handlers.certifications.config import CertificationConfig
from handlers.certifications.enums import CompletionStatus
from handlers.certifications.importer import CompletionRow, RosterRow
from handlers.certifications.models import Assignment, Completion, Official, Snooze
from handlers.certifications.replies import (
    HELP,
    build_not_me_notice,
    build_verify_request,
    denied_reason,
)
from handlers.certifications.scheduler import destination_for, supervisors_for

Progress = Callable[[int], None]


class CertError(UserError):
    """Something a person asked for that cannot be done; the usage follows the reason."""

    def __init__(self, reason: str) -> None:
        """The reason, with the ``/cert`` usage as the hint."""
        super().__init__(reason, hint=HELP)


class CertRefused(Refused):
    """A certification role check failed; ``what`` completes "Only supervisors ... can"."""

    def __init__(self, what: str) -> None:
        """Word the refusal from what the person tried to do."""
        super().__init__(denied_reason(what))


@dataclass
class ImportSummary:
    """Counts of what an import did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


async def import_roster(*, db: Database, rows: Sequence[RosterRow],
                        progress: Progress | None = None) -> ImportSummary:
    """Upsert officials (by external_id) and assignments in one transaction; idempotent."""
    summary = ImportSummary()
    async with db.session() as session:
        existing = {o.external_id: o for o in (await session.exec(select(Official))).all()}
        assignments = {(a.official_id, a.program): a
                       for a in (await session.exec(select(Assignment))).all()}
        for row in rows:
            official = existing.get(row.external_id)
            values: dict[str, Any] = {"name": row.name, "email": row.email, "identity": row.identity,
                      "jurisdiction": row.jurisdiction, "time_zone": row.time_zone}
            if official is None:
                official = Official(external_id=row.external_id, **values)
                session.add(official)
                await session.flush()
                existing[row.external_id] = official
            changed = _apply(official, values)
            facts: dict[str, Any] = {"role": row.role, "term_type": row.term_type,
                     "took_office": row.took_office, "term_end": row.term_end,
                     "from_deputy": row.from_deputy, "acting": row.acting}
            assert official.id is not None
            assignment = assignments.get((official.id, row.program))
            if assignment is None:
                session.add(Assignment(official_id=official.id, program=row.program, **facts))
                summary.created += 1
            elif _apply(assignment, facts) or changed:
                summary.updated += 1
            else:
                summary.unchanged += 1
            if progress:
                progress(1)
        await session.commit()
    return summary


def _apply(row: object, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


async def email_owners(*, db: Database) -> dict[str, str]:
    """Every stored official's address (lower case) -> their external_id."""
    async with db.session() as session:
        rows = (await session.exec(select(  # type: ignore[call-overload]
            Official.external_id, Official.email).where(Official.email != ""))).all()
    return {email.lower(): external_id for external_id, email in rows}


async def official_ids(*, db: Database) -> dict[str, int]:
    """external_id -> database id for every official."""
    async with db.session() as session:
        rows = (await session.exec(select(Official))).all()
    return {o.external_id: o.id for o in rows if o.id is not None}


async def import_completions(*, db: Database, rows: Sequence[CompletionRow], actor: str,
                             progress: Progress | None = None) -> ImportSummary:
    """Insert verified completions in one transaction; rows already present are unchanged."""
    summary = ImportSummary()
    ids = await official_ids(db=db)
    async with db.session() as session:
        have = {(c.official_id, c.course, c.completed_on)
                for c in (await session.exec(select(Completion))).all()}
        for row in rows:
            key = (ids[row.external_id], row.course, row.completed_on)
            if key in have:
                summary.unchanged += 1
            else:
                session.add(Completion(official_id=key[0], course=row.course,
                                       completed_on=row.completed_on, hours=row.hours,
                                       evidence=row.evidence, status=CompletionStatus.VERIFIED,
                                       reported_by=actor, verified_by=actor))
                have.add(key)
                summary.created += 1
            if progress:
                progress(1)
        await session.commit()
    return summary


async def find_official(*, db: Database, ref: str) -> Official | None:
    """By platform identity or external id."""
    async with db.session() as session:
        return (await session.exec(select(Official).where(sa.or_(
            Official.identity == ref,  # type: ignore[arg-type]
            Official.external_id == ref)))).first()  # type: ignore[arg-type]


async def completions_of(*, db: Database, official_id: int) -> list[Completion]:
    """An official's completions, oldest first."""
    async with db.session() as session:
        return list((await session.exec(select(Completion).where(
            Completion.official_id == official_id).order_by(Completion.completed_on))).all())  # type: ignore[arg-type]


def verifiers_for(app: AppConfig, jurisdiction: str) -> list[str]:
    """Who may confirm completions: configured verifiers, else the supervisors."""
    return list(app.section(CertificationConfig).verifiers or supervisors_for(app, jurisdiction))


async def report_completion(*, db: Database, app: AppConfig, official: Official, course: str,
                            on: date, hours: float, reporter: str,
                            evidence: str = "") -> tuple[Completion, bool]:
    """Record a self-reported completion as pending and ask the verifiers, in one commit."""
    assert official.id is not None
    async with db.session() as session:
        completion = Completion(official_id=official.id, course=course, completed_on=on,
                                hours=hours, evidence=evidence[:500], status=CompletionStatus.PENDING,
                                reported_by=reporter)
        session.add(completion)
        try:
            await session.flush()
        except IntegrityError:
            await session.rollback()
            existing = (await session.exec(select(Completion).where(
                Completion.official_id == official.id, Completion.course == course,
                Completion.completed_on == on))).one()
            return existing, False
        assert completion.id is not None
        reply = build_verify_request(completion.id, official.name, course, on, hours, evidence)
        for verifier in verifiers_for(app, official.jurisdiction):
            enqueue(session, key=f"cert-verify:{completion.id}:{verifier}",
                    destination=destination_for(verifier), reply=reply)
        await session.commit()
    return completion, True


async def decide_completion(*, db: Database, app: AppConfig, completion_id: int, verifier: str,
                            approve: bool) -> tuple[Completion, Official, bool]:
    """Verify or reject a pending completion; (completion, official, changed).

    Someone who is not a verifier for the official's jurisdiction is refused, and audited.
    """
    async with db.session() as session:
        completion = await session.get(Completion, completion_id)
        official = await session.get(Official, completion.official_id) if completion else None
        if completion is None or official is None:
            raise CertError("That completion does not exist any more.")
        if verifier not in verifiers_for(app, official.jurisdiction):
            await audit(db=db, actor=verifier, action="cert:verify" if approve else "cert:reject",
                        target=str(completion_id), allowed=False,
                        reason="not a verifier for this jurisdiction")
            raise CertRefused("verify completions")
        if official.identity == verifier:
            raise CertError("You cannot verify your own completion.")
        if completion.status != CompletionStatus.PENDING:
            return completion, official, False
        completion.status = CompletionStatus.VERIFIED if approve else CompletionStatus.REJECTED
        completion.verified_by = verifier
        await session.commit()
    return completion, official, True


async def snooze(*, db: Database, key: str, until: date) -> None:
    """Hold reminders for a deadline until ``until`` (upsert)."""
    async with db.session() as session:
        row = await session.get(Snooze, key)
        if row is None:
            session.add(Snooze(deadline_key=key, until=until))
        else:
            row.until = max(row.until, until)
        await session.commit()


async def flag_not_me(*, db: Database, app: AppConfig, official: Official, key: str,
                      actor: str) -> None:
    """Note 'not me / role changed' and tell state staff, in one commit."""
    async with db.session() as session:
        row = await session.get(Official, official.id)
        assert row is not None
        row.flagged = f"not me / role changed ({key}) by {actor}"[:300]
        row.updated_at = utcnow()
        reply = build_not_me_notice(row.name, row.external_id, actor, key)
        for staff in app.roles.get("state_staff", []):
            enqueue(session, key=f"cert-notme:{key}:{staff}", destination=destination_for(staff),
                    reply=reply)
        try:
            await session.commit()
        except IntegrityError:  # already flagged for this deadline: state staff know
            await session.rollback()


async def audit(*, db: Database, actor: str, action: str, target: str, allowed: bool,
                reason: str = "") -> None:
    """Record a permission decision in the shared audit log."""
    await record(db, actor=actor, action=action, target=target, allowed=allowed, reason=reason)
