"""After the election: verify the record, export it (optionally redacted), summarise it."""

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

from sqlmodel import select

from bot.db import Database
from bot.privacy import scrub
from handlers.incidents.chain import Break, plain, verify
from handlers.incidents.models import Incident, IncidentEvent

EXPORT_FIELDS = (
    "human_id", "created_at", "occurred_at", "category", "subcategory", "severity", "status",
    "jurisdiction", "site", "reporter", "assignee", "description", "details",
    "law_enforcement_agency", "law_enforcement_case", "resolution", "lessons_learned",
    "acknowledged_at", "resolved_at", "closed_at", "source_link",
)
FREE_TEXT = ("description", "details", "resolution", "lessons_learned", "site")


async def verify_all(db: Database) -> tuple[int, list[Break]]:
    """Re-compute every incident's chain; (incidents checked, first break per broken incident)."""
    async with db.session() as session:
        incidents = (await session.exec(select(Incident).order_by(Incident.id))).all()  # type: ignore[arg-type]
        events = (await session.exec(select(IncidentEvent))).all()
    by_incident: dict[int, list[IncidentEvent]] = {}
    for event in events:
        by_incident.setdefault(event.incident_id, []).append(event)
    breaks = [b for inc in incidents
              if (b := verify(inc, by_incident.get(inc.id or -1, []))) is not None]
    return len(incidents), breaks


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
