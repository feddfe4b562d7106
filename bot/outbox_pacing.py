"""Send pacing for the outbox: token buckets whose state lives in the database.

Each send takes one token from every bucket that applies to its destination (Slack: the channel
or DM and the workspace; Teams: the conversation, twice, and the tenant). Bucket levels are rows
of ``rate_bucket``, taken in one short transaction, so several processes sharing a database
share one budget. Inside a process, sends to the same bucket queue on a local lock so only one
of them polls the database at a time.

Buckets refill continuously with a burst of one token, so no window of one second ever holds
more than ``rate + 1`` sends; rates are scaled by ``SAFETY`` to stay under sliding windows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from bot.db import Database
from bot.messages import Destination

SAFETY = 0.97


@dataclass(frozen=True, slots=True)
class Bucket:
    """A budget of ``rate`` sends per second with room for ``burst`` at once."""

    key: str
    rate: float
    burst: float = 1.0


@dataclass(frozen=True, slots=True)
class Budgets:
    """Platform limits (see the platforms guide); the workspace budget is per office."""

    slack_channel_per_second: float = 1.0
    slack_workspace_per_second: float = 10.0
    teams_conversation_per_second: float = 7.0
    teams_conversation_per_30s: float = 60.0
    teams_tenant_per_second: float = 30.0


def platform_buckets(destination: Destination, budgets: Budgets) -> list[Bucket]:
    """The buckets one send to ``destination`` must take a token from (none for web chat)."""
    target = f"@{destination.user_id}" if destination.user_id else destination.channel
    where = f"{destination.platform}:{destination.workspace}"
    if destination.platform == "slack":
        return [Bucket(f"{where}:{target}", budgets.slack_channel_per_second * SAFETY),
                Bucket(where, budgets.slack_workspace_per_second * SAFETY)]
    if destination.platform == "teams":
        return [Bucket(f"{where}:{target}", budgets.teams_conversation_per_second * SAFETY),
                Bucket(f"{where}:{target}:30s", budgets.teams_conversation_per_30s / 30 * SAFETY),
                Bucket(where, budgets.teams_tenant_per_second * SAFETY)]
    return []


class RateLimiter:
    """Takes tokens from database-held buckets (all of them, or none)."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        """Share ``db``'s ``rate_bucket`` table; time comes from ``clock``."""
        self.db = db
        self.clock = clock

    async def take(self, buckets: Sequence[Bucket]) -> float:
        """Take one token from every bucket and return 0, or take none and return the wait."""
        ordered = sorted(buckets, key=lambda b: b.key)
        keys = [b.key for b in ordered]
        async with self.db.session() as session:
            now = self.clock()
            # Writing first takes SQLite's write lock at once (no read-to-write upgrade race).
            for bucket in ordered:
                await session.execute(sa.text(
                    "INSERT INTO rate_bucket (key, tokens, updated_at) VALUES (:k, :t, :u) "
                    "ON CONFLICT (key) DO NOTHING"),
                    {"k": bucket.key, "t": bucket.burst, "u": now})
            lock = "" if self.db.is_sqlite else " FOR UPDATE"
            rows = (await session.execute(sa.text(
                "SELECT key, tokens, updated_at FROM rate_bucket WHERE key IN :keys "
                f"ORDER BY key{lock}").bindparams(sa.bindparam("keys", expanding=True)),
                {"keys": keys})).all()
            state = {r[0]: (float(r[1]), _aware(r[2], now)) for r in rows}
            levels, wait = {}, 0.0
            for bucket in ordered:
                tokens, updated = state[bucket.key]
                elapsed = max(0.0, (now - updated).total_seconds())
                level = min(bucket.burst, tokens + elapsed * bucket.rate)
                levels[bucket.key] = level
                if level < 1.0:
                    wait = max(wait, (1.0 - level) / bucket.rate)
            if wait > 0:
                await session.rollback()
                return wait
            for bucket in ordered:
                await session.execute(sa.text(
                    "UPDATE rate_bucket SET tokens = :t, updated_at = :u WHERE key = :k"),
                    {"k": bucket.key, "t": levels[bucket.key] - 1.0, "u": now})
            await session.commit()
        return 0.0


def _aware(value: datetime | str, now: datetime) -> datetime:
    """SQLite returns text or naive datetimes through a raw query; they were stored as UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=now.tzinfo)
