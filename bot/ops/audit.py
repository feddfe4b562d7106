"""The audit log: permission decisions worth keeping (every denial, who tried what).

Every entry, whoever inserts it, joins one keyed hash chain (``chain_new_entry`` runs from the
``before_insert`` hook on :class:`AuditEntry`): its ``hash`` is an HMAC over the previous hash and
its content, and the one-row ``audit_head`` pins the count and the last hash, sealed with the
audit key, in the same transaction. Appends serialise on that row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.engine import Database
from bot.db.models import AuditEntry
from bot.ops.audit_key import GENESIS, UNKEYED, AuditKey, audit_key_for


async def audit(db: Database, *, actor: str, action: str, target: str, allowed: bool,
                reason: str = "") -> None:
    """Record one decision in its own transaction (a denial is kept even if nothing else is)."""
    async with db.session() as session:
        session.add(AuditEntry(actor=actor[:200], action=action[:64], target=target[:200],
                               allowed=allowed, reason=reason[:300]))
        await session.commit()


def entry_mac(key: AuditKey, entry: AuditEntry, *, seq: int, prev: str) -> str:
    """The MAC of one entry: the previous hash and every column but the row id."""
    body = json.dumps({"seq": seq, "at": entry.at.astimezone(UTC).isoformat(), "actor": entry.actor,
                       "action": entry.action, "target": entry.target,
                       "allowed": bool(entry.allowed), "reason": entry.reason},
                      sort_keys=True, separators=(",", ":"))
    return key.mac(f"audit-entry:{prev}:{body}".encode())


def head_seal(key: AuditKey, count: int, head: str) -> str:
    """The seal over the pinned head (count and last hash)."""
    return key.mac(f"audit-head:{count}:{head}".encode())


_LOCK_HEAD = [
    sa.text("INSERT INTO audit_head (id, count, head) VALUES (1, 0, :g) "
            "ON CONFLICT (id) DO NOTHING"),
    sa.text("UPDATE audit_head SET count = count + :n WHERE id = 1 RETURNING count, head"),
]
_SET_HEAD = sa.text("UPDATE audit_head SET head = :h, key_id = :k, seal = :s WHERE id = 1")


def chain_new_entry(connection: sa.Connection, entry: AuditEntry) -> None:
    """Give a new entry its place in the chain and move the pinned head (same transaction)."""
    key = audit_key_for(connection.engine)
    connection.execute(_LOCK_HEAD[0], {"g": GENESIS})
    count, prev = connection.execute(_LOCK_HEAD[1], {"n": 1}).one()
    entry.seq, entry.prev_hash = count, prev
    entry.hash = entry_mac(key, entry, seq=count, prev=prev)
    connection.execute(_SET_HEAD, {"h": entry.hash, "k": key.key_id,
                                   "s": head_seal(key, count, entry.hash)})


@dataclass
class AuditCheck:
    """The result of checking the audit log's chain."""

    entries: int
    head: str
    problem: str | None


def check_chain(key: AuditKey, entries: list[AuditEntry], head: tuple[int, str, str | None]
                ) -> AuditCheck:
    """Re-compute the chain of ``entries`` (all rows) against the pinned ``head``."""
    unchained = [e for e in entries if e.seq is None]
    chained = sorted((e for e in entries if e.seq is not None), key=lambda e: e.seq or 0)
    prev = GENESIS
    for expected, entry in enumerate(chained, start=1):
        if entry.seq != expected:
            return AuditCheck(len(chained), prev, f"audit entry {expected}: missing from the chain")
        if entry.prev_hash != prev:
            return AuditCheck(len(chained), prev,
                              f"audit entry {expected}: previous-hash link does not match")
        if entry.hash != entry_mac(key, entry, seq=expected, prev=prev):
            return AuditCheck(len(chained), prev, f"audit entry {expected}: content was altered "
                                                  "or re-computed without the key (MAC mismatch)")
        prev = entry.hash
    count, pinned, seal = head
    if (count, pinned) != (len(chained), prev):
        return AuditCheck(len(chained), prev,
                          f"audit log: the pinned head says {count} entries, the log has "
                          f"{len(chained)} (entries deleted, or the head rewritten)")
    if count and not key.matches(f"audit-head:{count}:{pinned}".encode(), seal):
        return AuditCheck(len(chained), prev, "audit log: the pinned head's seal does not match "
                                              "(rewritten without the key)")
    if unchained:
        return AuditCheck(len(chained), prev,
                          f"audit log: {len(unchained)} entries from before the upgrade are not "
                          "sealed yet; run `electionbot incidents verify --reseal`")
    return AuditCheck(len(chained), prev, None)


async def _load(session: AsyncSession) -> tuple[list[AuditEntry], tuple[int, str, str | None]]:
    entries = list((await session.exec(select(AuditEntry))).all())
    row = (await session.execute(sa.text(
        "SELECT count, head, seal FROM audit_head WHERE id = 1"))).first()
    return entries, (row[0], row[1], row[2]) if row else (0, GENESIS, None)


async def verify_audit_log(db: Database, key: AuditKey) -> AuditCheck:
    """Check the whole audit log against its pinned head."""
    async with db.session() as session:
        entries, head = await _load(session)
    return check_chain(key, entries, head)


async def reseal_audit_log(db: Database, key: AuditKey) -> str | None:
    """Chain entries from before the upgrade and re-key an unkeyed chain; a refusal or None.

    The chained part must verify first (with ``key``, or unkeyed); entries from before the chain
    existed had no protection, so they are sealed as they stand now. One transaction, holding
    the head's lock, so a concurrent append waits.
    """
    async with db.engine.begin() as conn:
        await conn.execute(_LOCK_HEAD[0], {"g": GENESIS})
        await conn.execute(_LOCK_HEAD[1], {"n": 0})  # take the head's lock first
        async with AsyncSession(bind=conn) as session:
            entries, head = await _load(session)
        chained = [e for e in entries if e.seq is not None]
        checks = [check_chain(k, chained, head) for k in (key, UNKEYED)]
        if all(c.problem for c in checks):
            return f"refused to re-seal the audit log: {checks[0].problem}"
        if not checks[0].problem and len(chained) == len(entries):
            return None  # nothing to do
        order = sorted(entries, key=lambda e: (e.seq is not None, e.seq or 0, e.id or 0))
        prev = GENESIS
        for seq, entry in enumerate(order, start=1):
            digest = entry_mac(key, entry, seq=seq, prev=prev)
            await conn.execute(sa.text("UPDATE audit_entry SET seq = :s, prev_hash = :p, "
                                       "hash = :h WHERE id = :i"),
                               {"s": seq, "p": prev, "h": digest, "i": entry.id})
            prev = digest
        await conn.execute(sa.text("UPDATE audit_head SET count = :c, head = :h, key_id = :k, "
                                   "seal = :s WHERE id = 1"),
                           {"c": len(order), "h": prev, "k": key.key_id,
                            "s": head_seal(key, len(order), prev)})
    return None
