"""The tamper-evident record.

Each event's ``hash`` is an HMAC (with the audit key, see ``bot/ops/audit_key.py``) over the previous
hash and the event's content. The incident row pins the chain head (event count, last hash) and
carries a ``seal``: an HMAC over every column of the row, the head included. Verification
re-computes every link, compares the head, checks the seal, and replays the events' "after"
values against the row, so deleting the newest event, editing any column, or recomputing the
chain without the key is caught. (Recomputing *with* the key is caught by a checkpoint.)
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.ops.audit_key import GENESIS, AuditKey
from handlers.incidents.models import Incident, IncidentCounter, IncidentEvent

__all__ = ["GENESIS", "Break", "counter_ok", "counter_seal", "event_hash", "plain", "row_seal", "seal_row",
           "snapshot", "verify", "verify_events"]

TRACKED = (
    "human_id", "reporter", "category", "subcategory", "jurisdiction", "site", "occurred_at",
    "severity", "danger", "stopped", "degraded", "description", "details", "source_link",
    "needs_details", "status", "assignee", "law_enforcement_agency", "law_enforcement_case",
    "lessons_learned", "resolution", "acknowledged_at", "resolved_at", "closed_at",
)
# Every column of the incident row is sealed except the seal itself; a test fails when a new
# column is added without a decision here (and a re-seal for the rows that exist).
SEALED = ("id", "idempotency_key", *TRACKED, "created_at", "chain_count", "chain_head", "key_id")
UNSEALED = ("seal",)


def plain(value: Any) -> Any:
    """A value as it is written into the chain (datetimes as ISO 8601 in UTC)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


def snapshot(incident: Incident) -> dict[str, Any]:
    """The tracked fields of an incident as plain values."""
    return {name: plain(getattr(incident, name)) for name in TRACKED}


def _canonical(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def event_hash(key: AuditKey, *, prev_hash: str, incident_id: int, seq: int, at: datetime,
               actor: str, kind: str, changes: str) -> str:
    """The MAC over the previous hash and a canonical encoding of the event.

    Unkeyed, this is the plain SHA-256 of records made before the key existed.
    """
    body = _canonical({"incident": incident_id, "seq": seq, "at": plain(at), "actor": actor,
                       "kind": kind, "changes": json.loads(changes)})
    return key.mac((prev_hash + body).encode())


def row_seal(key: AuditKey, incident: Incident) -> str:
    """The MAC over every sealed column of the incident row."""
    fields = {name: plain(getattr(incident, name)) for name in SEALED}
    return key.mac(("incident-row:" + _canonical(fields)).encode())


def seal_row(key: AuditKey, incident: Incident, last: IncidentEvent) -> None:
    """Pin ``last`` as the chain head and seal the row (in the caller's transaction)."""
    incident.chain_count, incident.chain_head = last.seq, last.hash
    incident.key_id = key.key_id
    incident.seal = row_seal(key, incident)


def counter_seal(key: AuditKey, year: int, last: int) -> str:
    """The MAC over a year's incident counter, so numbers cannot be quietly rewound."""
    return key.mac(f"incident-counter:{year}:{last}".encode())


def counter_ok(key: AuditKey, counter: IncidentCounter) -> bool:
    """Whether a counter's seal is this key's MAC over its year and last number."""
    return counter.seal is not None and hmac.compare_digest(
        counter_seal(key, counter.year, counter.last), counter.seal)


@dataclass(frozen=True)
class Break:
    """The first broken link found in an incident's record (seq 0: the row itself)."""

    human_id: str
    seq: int
    problem: str

    def __str__(self) -> str:
        """One line for the CLI."""
        if self.seq == 0:
            return f"{self.human_id}: {self.problem}"
        return f"{self.human_id} event {self.seq}: {self.problem}"


def verify_events(incident: Incident, events: list[IncidentEvent],
                  key: AuditKey) -> Break | None:
    """Re-compute the chain and replay it against the row (the check that predates the seal)."""
    hid = incident.human_id
    prev = GENESIS
    state: dict[str, Any] = {}
    ordered = sorted(events, key=lambda e: e.seq)
    for expected_seq, event in enumerate(ordered, start=1):
        if event.seq != expected_seq:
            return Break(hid, expected_seq, "event missing from the chain")
        if event.prev_hash != prev:
            return Break(hid, event.seq, "previous-hash link does not match")
        computed = event_hash(key, prev_hash=prev, incident_id=event.incident_id, seq=event.seq,
                              at=event.at, actor=event.actor, kind=event.kind,
                              changes=event.changes)
        if computed != event.hash:
            return Break(hid, event.seq, "content was altered, or re-computed without the "
                                         "audit key (MAC mismatch)")
        for name, pair in json.loads(event.changes).items():
            if name in TRACKED and isinstance(pair, list) and len(pair) == 2:
                state[name] = pair[1]
        prev = event.hash
    if not ordered:
        return Break(hid, 0, "incident has no recorded events")
    if plain(incident.created_at) != plain(ordered[0].at):
        return Break(hid, 1, "created_at differs from the time of the first event")
    current = snapshot(incident)
    for name in TRACKED:
        if name in state and state[name] != current[name]:
            return Break(hid, len(ordered), f"field {name} differs from its recorded history")
    return None


def verify(incident: Incident, events: list[IncidentEvent], key: AuditKey) -> Break | None:
    """Check the seal, the pinned head, every link and the replay; the first problem or None."""
    hid = incident.human_id
    if incident.seal is None:
        return Break(hid, 0, "not sealed with the audit key (recorded before the upgrade?); "
                             "run `electionbot incidents verify --reseal`")
    if incident.key_id != key.key_id:
        return Break(hid, 0, f"sealed with another audit key (key id {incident.key_id}; this "
                             f"process uses {key.key_id})")
    broken = verify_events(incident, events, key)
    if broken is not None:
        return broken
    last = max(events, key=lambda e: e.seq)
    if incident.chain_count != last.seq:
        return Break(hid, min(last.seq, incident.chain_count or 0) + 1,
                     f"the incident pins {incident.chain_count} events but the record has "
                     f"{last.seq}: events were deleted or added behind the application")
    if incident.chain_head != last.hash:
        return Break(hid, last.seq, "the last event is not the head pinned on the incident")
    if not hmac.compare_digest(row_seal(key, incident), incident.seal):
        return Break(hid, 0, "the incident row was altered behind the application "
                             "(seal mismatch)")
    return None
