"""After the election: verify (and re-seal) the record, export it (optionally redacted), summarise it."""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import select

from bot.db.engine import Database
from bot.ops.audit import reseal_audit_log, verify_audit_log
from bot.ops.audit_key import UNKEYED, AuditKey, audit_key_for
from bot.ops.privacy import scrub
from handlers.incidents.chain import (
    GENESIS,
    counter_ok,
    counter_seal,
    event_hash,
    plain,
    seal_row,
    verify,
    verify_events,
)
from handlers.incidents.models import Incident, IncidentCounter, IncidentEvent

EXPORT_FIELDS = (
    "human_id", "created_at", "occurred_at", "category", "subcategory", "severity", "status",
    "jurisdiction", "site", "reporter", "assignee", "description", "details",
    "law_enforcement_agency", "law_enforcement_case", "resolution", "lessons_learned",
    "acknowledged_at", "resolved_at", "closed_at", "source_link",
)
FREE_TEXT = ("description", "details", "resolution", "lessons_learned", "site")


@dataclass
class Verification:
    """What ``incidents verify`` found: counts, every problem (first per incident), warnings."""

    incidents: int
    events: int
    audit_entries: int
    breaks: list[str]
    warnings: list[str]


async def _load(db: Database) -> tuple[Sequence[Incident], dict[int, list[IncidentEvent]],
                                       Sequence[IncidentCounter]]:
    async with db.session() as session:
        incidents = (await session.exec(select(Incident).order_by(Incident.id))).all()  # type: ignore[arg-type]
        events = (await session.exec(select(IncidentEvent))).all()
        counters = (await session.exec(select(IncidentCounter))).all()
    by_incident: dict[int, list[IncidentEvent]] = {}
    for event in events:
        by_incident.setdefault(event.incident_id, []).append(event)
    return incidents, by_incident, counters


def number_problems(incidents: Sequence[Incident], counters: Sequence[IncidentCounter],
                    key: AuditKey) -> list[str]:
    """Gaps in the incident numbers and altered counters: a deleted incident shows here."""
    numbers: dict[int, set[int]] = {}
    for incident in incidents:
        _, year_text, number = incident.human_id.split("-")
        numbers.setdefault(int(year_text), set()).add(int(number))
    problems = []
    for counter in counters:
        have = numbers.pop(counter.year, set())
        if counter.seal is None:
            problems.append(f"incident counter {counter.year}: not sealed with the audit key "
                            "yet; run `electionbot incidents verify --reseal`")
        elif not counter_ok(key, counter):
            problems.append(f"incident counter {counter.year}: altered behind the application "
                            "(seal mismatch)")
        missing = sorted(set(range(1, counter.last + 1)) - have)
        if missing:
            problems.append(f"INC-{counter.year}-{missing[0]:06d}: missing; {counter.last} "
                            f"numbers were handed out and {len(missing)} of them have no "
                            "incident (deleted behind the application)")
        beyond = sorted(n for n in have if n > counter.last)
        if beyond:
            problems.append(f"INC-{counter.year}-{beyond[0]:06d}: numbered beyond the "
                            f"counter ({counter.last})")
    for year in sorted(numbers):
        problems.append(f"incident counter {year}: missing while incidents of {year} exist")
    return problems


async def verify_all(db: Database, key: AuditKey | None = None) -> Verification:
    """Check every incident, the numbering and the audit log with the audit key."""
    key = key or audit_key_for(db.engine.sync_engine)
    incidents, by_incident, counters = await _load(db)
    breaks = [str(b) for inc in incidents
              if (b := verify(inc, by_incident.get(inc.id or -1, []), key)) is not None]
    breaks += number_problems(incidents, counters, key)
    audit_log = await verify_audit_log(db, key)
    if audit_log.problem:
        breaks.append(audit_log.problem)
    warnings = [] if key.keyed else [
        "ELECTIONBOT_AUDIT_KEY is not set: these records are hashed without a key, so a "
        "database writer could have recomputed them; only a checkpoint can tell"]
    return Verification(len(incidents), sum(len(v) for v in by_incident.values()),
                        audit_log.entries, breaks, warnings)


async def reseal(db: Database, key: AuditKey | None = None) -> list[str]:
    """Re-seal records from before the upgrade (or unkeyed) with the key; the refusals.

    Each incident is first verified the old way (its unkeyed chain replayed against the row);
    only then are its events re-hashed with the key and its head pinned, one transaction per
    incident. A record that fails is left untouched and reported.
    """
    key = key or audit_key_for(db.engine.sync_engine)
    incidents, _, counters = await _load(db)
    refusals = []
    # Records from before the upgrade are older than every record sealed since: an unsealed
    # one after a sealed one had its seal stripped behind the application.
    sealed_ids = [i.id or 0 for i in incidents if i.seal is not None and i.key_id == key.key_id]
    first_sealed = min(sealed_ids, default=None)
    for incident in incidents:
        if incident.seal is not None and incident.key_id == key.key_id:
            continue
        if first_sealed is not None and (incident.id or 0) > first_sealed:
            refusals.append(f"refused to re-seal {incident.human_id}: it is newer than records "
                            "already sealed with this key, so its seal was removed behind the "
                            "application")
            continue
        problem = await _reseal_incident(db, key, incident.id or 0)
        if problem:
            refusals.append(problem)
    refused_years = {p.split("-")[1] for p in number_problems(incidents, counters, UNKEYED)
                     if p.startswith("INC-")}
    async with db.session() as session:
        for counter in counters:
            if counter.seal is not None and counter_ok(key, counter):
                continue
            if str(counter.year) in refused_years or (
                    counter.seal is not None and not counter_ok(UNKEYED, counter)):
                refusals.append(f"refused to re-seal incident counter {counter.year}: the "
                                "numbers have gaps or the counter was altered")
                continue
            counter.seal = counter_seal(key, counter.year, counter.last)
            session.add(counter)
        await session.commit()
    audit_refusal = await reseal_audit_log(db, key)
    return refusals + ([audit_refusal] if audit_refusal else [])


async def _reseal_incident(db: Database, key: AuditKey, incident_id: int) -> str | None:
    async with db.session() as session:
        await session.execute(sa.text("UPDATE incident SET id = id WHERE id = :i"),
                              {"i": incident_id})  # lock the row before reading it
        incident = (await session.exec(select(Incident).where(Incident.id == incident_id))).one()
        events = sorted((await session.exec(select(IncidentEvent).where(
            IncidentEvent.incident_id == incident_id))).all(), key=lambda e: e.seq)
        if incident.seal is not None and incident.key_id != UNKEYED.key_id:
            return (f"refused to re-seal {incident.human_id}: sealed with another audit key "
                    f"(key id {incident.key_id}); re-sealing needs that key")
        broken = (verify_events(incident, events, UNKEYED) if incident.seal is None
                  else verify(incident, events, UNKEYED))
        if broken is not None:
            return f"refused to re-seal {broken}"
        prev = GENESIS
        for event in events:
            event.prev_hash = prev
            event.hash = prev = event_hash(key, prev_hash=prev, incident_id=incident_id,
                                           seq=event.seq, at=event.at, actor=event.actor,
                                           kind=event.kind, changes=event.changes)
            session.add(event)
        seal_row(key, incident, events[-1])
        session.add(incident)
        await session.commit()
    return None


async def incidents_since(db: Database, since: datetime) -> Sequence[Incident]:
    """Incidents created on or after ``since``, oldest first."""
    async with db.session() as session:
        return (await session.exec(select(Incident).where(Incident.created_at >= since)  # type: ignore[operator]
                                   .order_by(Incident.id))).all()  # type: ignore[arg-type]


def export_rows(incidents: Sequence[Incident], *, redact: bool) -> list[dict[str, Any]]:
    """Rows for export; ``redact`` removes reporter identities and personal data in free text."""
    rows = []
    for incident in incidents:
        row = {name: plain(getattr(incident, name)) for name in EXPORT_FIELDS}
        if redact:
            row["reporter"] = "[redacted]"
            row["assignee"] = "[redacted]" if row["assignee"] else None
            row["source_link"] = "[redacted]" if row["source_link"] else ""
            for name in FREE_TEXT:
                row[name] = scrub(str(row[name] or ""))
            details = json.loads(incident.details or "{}")
            details.pop("mis_account", None)  # an account handle identifies a person
            row["details"] = scrub(json.dumps(details, sort_keys=True))
        rows.append(row)
    return rows


def to_csv(rows: list[dict[str, Any]]) -> str:
    """CSV with a header row."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(EXPORT_FIELDS))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@dataclass
class AfterAction:
    """The after-action summary of one election period."""

    total: int
    by_category: Counter[str]
    by_severity: Counter[str]
    by_jurisdiction: Counter[str]
    minutes_to_ack: dict[str, float | None]
    minutes_to_resolve: dict[str, float | None]
    open_items: list[str]
    lessons: list[str]


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"median": None, "p90": None}
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return {"median": round(statistics.median(ordered), 1), "p90": round(p90, 1)}


def after_action(incidents: Sequence[Incident]) -> AfterAction:
    """Counts, time to acknowledge and resolve (median and p90), open items, lessons learned."""
    ack = [(i.acknowledged_at - i.created_at).total_seconds() / 60 for i in incidents
           if i.acknowledged_at]
    res = [(i.resolved_at - i.created_at).total_seconds() / 60 for i in incidents
           if i.resolved_at]
    return AfterAction(
        total=len(incidents),
        by_category=Counter(i.category for i in incidents),
        by_severity=Counter(i.severity for i in incidents),
        by_jurisdiction=Counter(i.jurisdiction for i in incidents),
        minutes_to_ack=_percentiles(ack), minutes_to_resolve=_percentiles(res),
        open_items=[f"{i.human_id} {i.severity} {i.status}" for i in incidents
                    if i.status not in ("resolved", "closed")],
        lessons=[f"{i.human_id}: {scrub(i.lessons_learned)}" for i in incidents
                 if i.lessons_learned])
