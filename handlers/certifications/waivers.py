"""Waivers: a state staff decision that exempts an official from a program.

``grant`` and ``revoke`` validate everything first and raise :class:`CertError` with one line
a person can act on; the change and its audit entry are written in one transaction. A revoked
waiver keeps its row (who and when), so the decision history is never lost.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from bot.db.engine import Database, utcnow
from bot.db.models import AuditEntry
from handlers.certifications.models import Assignment, Official, Waiver
from handlers.certifications.service import CertError


async def _target(db: Database, external_id: str, program: str,
                  known: set[str]) -> tuple[Official, list[Waiver]]:
    if program not in known:
        raise CertError(f"unknown program {program!r}; known: {', '.join(sorted(known))}")
    async with db.session() as session:
        official = (await session.exec(select(Official).where(
            Official.external_id == external_id))).first()
        if official is None:
            raise CertError(f"no official {external_id!r} on the roster")
        assigned = (await session.exec(select(Assignment).where(
            Assignment.official_id == official.id, Assignment.program == program))).first()
        if assigned is None:
            raise CertError(f"{external_id} has no {program} assignment on the roster")
        waivers = (await session.exec(select(Waiver).where(
            Waiver.official_id == official.id, Waiver.program == program))).all()
    return official, list(waivers)


def _describe(waiver: Waiver) -> str:
    until = f"until {waiver.until.isoformat()}" if waiver.until else "indefinitely"
    granted = f"{waiver.granted_at:%Y-%m-%d}" if waiver.granted_at else "an earlier date"
    return f"{until} (granted by {waiver.granted_by} on {granted})"


async def grant(*, db: Database, external_id: str, program: str, reason: str,
                until: date | None, actor: str, today: date, known: set[str]) -> Waiver:
    """Exempt ``external_id`` from ``program``; refuses a second active waiver."""
    reason = reason.strip()
    if not reason:
        raise CertError("--reason is required: say why the official is exempt")
    if len(reason) > 300:
        raise CertError(f"--reason is {len(reason)} characters; keep it under 300")
    if until is not None and until < today:
        raise CertError(f"--until {until.isoformat()} is in the past (today is {today})")
    official, waivers = await _target(db, external_id, program, known)
    active = [w for w in waivers if w.active_on(today)]
    if active:
        raise CertError(f"{external_id} is already exempt from {program} "
                        f"{_describe(active[0])}; unwaive it first to change it")
    assert official.id is not None
    waiver = Waiver(official_id=official.id, program=program, until=until, reason=reason,
                    granted_by=actor, granted_at=utcnow())
    async with db.session() as session:
        session.add(waiver)
        session.add(AuditEntry(actor=actor[:200], action="cert.waive",
                               target=f"{external_id}:{program}", allowed=True,
                               reason=reason[:300]))
        await session.commit()
    return waiver


async def revoke(*, db: Database, external_id: str, program: str, actor: str, today: date,
                 known: set[str], reason: str = "") -> Waiver:
    """End the active waiver of ``external_id`` for ``program`` (kept, marked revoked)."""
    official, waivers = await _target(db, external_id, program, known)
    active = [w for w in waivers if w.active_on(today)]
    if not active:
        raise CertError(f"{external_id} has no active waiver for {program}")
    async with db.session() as session:
        row = await session.get(Waiver, active[0].id)
        assert row is not None
        row.revoked_at = utcnow()
        row.revoked_by = actor
        session.add(AuditEntry(actor=actor[:200], action="cert.unwaive",
                               target=f"{external_id}:{program}", allowed=True,
                               reason=reason.strip()[:300]))
        await session.commit()
    return row
