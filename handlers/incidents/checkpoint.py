"""Checkpoints: signed chain heads an office keeps outside the database.

A checkpoint is one JSON line: per incident its id, number, event count and head MAC; each
year's counter; the audit log's count and head; the highest incident id; a timestamp; and a MAC
over all of it with the audit key. Appended to a file on write-once storage, it catches what
the key alone cannot: someone who holds the key and rewrites, truncates or deletes records
after the checkpoint was taken.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.db.engine import Database
from bot.ops.audit_key import AuditKey

VERSION = 1


def _canonical(body: dict[str, Any]) -> bytes:
    return ("checkpoint:" + json.dumps(body, sort_keys=True, separators=(",", ":"))).encode()


async def build_checkpoint(db: Database, key: AuditKey, now: datetime) -> dict[str, Any]:
    """The signed chain heads as they are now (verify the record first)."""
    async with db.engine.connect() as conn:
        incidents = (await conn.execute(sa.text(
            "SELECT id, human_id, chain_count, chain_head FROM incident ORDER BY id"))).all()
        counters = (await conn.execute(sa.text(
            "SELECT year, last FROM incident_counter ORDER BY year"))).all()
        audit = (await conn.execute(sa.text(
            "SELECT count, head FROM audit_head WHERE id = 1"))).first()
    body: dict[str, Any] = {
        "version": VERSION, "created_at": now.isoformat(), "key_id": key.key_id,
        "highest_incident_id": max((row[0] for row in incidents), default=0),
        "incidents": [[row[0], row[1], row[2], row[3]] for row in incidents],
        "counters": {str(year): last for year, last in counters},
        "audit": {"count": audit[0] if audit else 0, "head": audit[1] if audit else None},
    }
    return {**body, "mac": key.mac(_canonical(body))}


def parse_checkpoints(text: str, key: AuditKey) -> tuple[list[dict[str, Any]], list[str]]:
    """The checkpoints in a file (one per line) whose MAC matches; problems for the others."""
    found, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            checkpoint = json.loads(line)
            body = {k: v for k, v in checkpoint.items() if k != "mac"}
            valid = key.matches(_canonical(body), checkpoint.get("mac"))
        except (ValueError, AttributeError):
            problems.append(f"checkpoint line {number}: not a checkpoint")
            continue
        if not valid or body.get("version") != VERSION:
            problems.append(f"checkpoint line {number}: signature does not match (altered, or "
                            f"made with another audit key: {body.get('key_id')})")
            continue
        found.append(checkpoint)
    return found, problems


async def compare(db: Database, checkpoint: dict[str, Any]) -> list[str]:
    """What changed in the record since ``checkpoint`` that appending cannot explain."""
    when = checkpoint["created_at"]
    async with db.engine.connect() as conn:
        incidents: dict[int, str] = {i: h for i, h in (await conn.execute(sa.text(
            "SELECT id, human_id FROM incident"))).all()}
        hashes = {(i, s): h for i, s, h in (await conn.execute(sa.text(
            "SELECT incident_id, seq, hash FROM incident_event"))).all()}
        counters: dict[int, int] = {y: n for y, n in (await conn.execute(sa.text(
            "SELECT year, last FROM incident_counter"))).all()}
        audit: dict[int, str] = {s: h for s, h in (await conn.execute(sa.text(
            "SELECT seq, hash FROM audit_entry WHERE seq IS NOT NULL"))).all()}
    problems = []
    for incident_id, human_id, count, head in checkpoint["incidents"]:
        if incidents.get(incident_id) != human_id:
            problems.append(f"{human_id}: deleted after the checkpoint of {when}")
        elif (incident_id, count) not in hashes:
            problems.append(f"{human_id} event {count}: missing; the record was truncated "
                            f"after the checkpoint of {when}")
        elif hashes[(incident_id, count)] != head:
            problems.append(f"{human_id} event {count}: differs from the checkpoint of {when} "
                            "(the record was rewritten after it)")
    for year, last in checkpoint["counters"].items():
        if counters.get(int(year), 0) < last:
            problems.append(f"INC-{year}-{last:06d}: the counter went back to "
                            f"{counters.get(int(year), 0)} after the checkpoint of {when}")
    if max(incidents, default=0) < checkpoint["highest_incident_id"]:
        problems.append(f"incident id {checkpoint['highest_incident_id']}: deleted after the "
                        f"checkpoint of {when}")
    count, head = checkpoint["audit"]["count"], checkpoint["audit"]["head"]
    if count and count not in audit:
        problems.append(f"audit entry {count}: missing; the audit log was truncated after the "
                        f"checkpoint of {when}")
    elif count and audit[count] != head:
        problems.append(f"audit entry {count}: differs from the checkpoint of {when} (the "
                        "audit log was rewritten after it)")
    return problems
