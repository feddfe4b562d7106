"""The audit log: permission decisions worth keeping (every denial, who tried what)."""

from __future__ import annotations

from bot.db import Database
from bot.models import AuditEntry


async def audit(db: Database, *, actor: str, action: str, target: str, allowed: bool,
                reason: str = "") -> None:
    """Record one decision in its own transaction (a denial is kept even if nothing else is)."""
    async with db.session() as session:
        session.add(AuditEntry(actor=actor[:200], action=action[:64], target=target[:200],
                               allowed=allowed, reason=reason[:300]))
        await session.commit()
