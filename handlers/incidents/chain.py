"""The tamper-evident record: each event's hash covers the previous hash and its content.

Verification re-computes every chain and also replays the events' "after" values to check the
incident row itself, so an edit behind the application's back is caught either way.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from handlers.incidents.models import Incident, IncidentEvent

GENESIS = "0" * 64
TRACKED = (
    "human_id", "reporter", "category", "subcategory", "jurisdiction", "site", "occurred_at",
    "severity", "danger", "stopped", "degraded", "description", "details", "source_link",
    "needs_details", "status", "assignee", "law_enforcement_agency", "law_enforcement_case",
    "lessons_learned", "resolution", "acknowledged_at", "resolved_at", "closed_at",
)


def plain(value: Any) -> Any:
    """A value as it is written into the chain (datetimes as ISO 8601 in UTC)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


def snapshot(incident: Incident) -> dict[str, Any]:
    """The tracked fields of an incident as plain values."""
    return {name: plain(getattr(incident, name)) for name in TRACKED}


def event_hash(*, prev_hash: str, incident_id: int, seq: int, at: datetime, actor: str,
               kind: str, changes: str) -> str:
    """SHA-256 over the previous hash and a canonical encoding of the event."""
    body = json.dumps({"incident": incident_id, "seq": seq, "at": plain(at), "actor": actor,
                       "kind": kind, "changes": json.loads(changes)},
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


@dataclass(frozen=True)
class Break:
    """The first broken link found in an incident's record."""

    human_id: str
    seq: int
    problem: str

    def __str__(self) -> str:
        """One line for the CLI."""
        return f"{self.human_id} event {self.seq}: {self.problem}"


def verify(incident: Incident, events: list[IncidentEvent]) -> Break | None:
    """Re-compute the chain and replay it against the incident row; the first problem or None."""
    prev = GENESIS
    state: dict[str, Any] = {}
    for expected_seq, event in enumerate(sorted(events, key=lambda e: e.seq), start=1):
        if event.seq != expected_seq:
            return Break(incident.human_id, expected_seq, "event missing from the chain")
        if event.prev_hash != prev:
            return Break(incident.human_id, event.seq, "previous-hash link does not match")
        computed = event_hash(prev_hash=prev, incident_id=event.incident_id, seq=event.seq,
                              at=event.at, actor=event.actor, kind=event.kind,
                              changes=event.changes)
        if computed != event.hash:
            return Break(incident.human_id, event.seq, "content was altered (hash mismatch)")
        changes = json.loads(event.changes)
        for name, pair in changes.items():
            if name in TRACKED and isinstance(pair, list) and len(pair) == 2:
                state[name] = pair[1]
        prev = event.hash
    if not events:
        return Break(incident.human_id, 0, "incident has no recorded events")
    current = snapshot(incident)
    for name in TRACKED:
        if name in state and state[name] != current[name]:
            return Break(incident.human_id, len(events),
                         f"field {name} differs from its recorded history")
    return None
