"""Per-identity and per-origin limits, counted in the database.

Counters are fixed one-hour windows in the ``rate_counter`` table, so every process shares them
and they survive a restart. :func:`take` is called inside the transaction that does the counted
thing (files the incident, stores the draft): the counter row is locked by the increment until
that transaction commits, so two concurrent requests cannot both take the last unit, and a
write that rolls back gives its units back. Rows of past windows are pruned as new windows open.

An origin is where a request came from beyond the person: the Slack workspace or Teams tenant,
or for the web chat the client's address (:func:`client_address`; X-Forwarded-For is believed
only from ``webchat.trusted_proxies``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config.admission import Limits
from bot.messages import IncomingMessage

WINDOW_SECONDS = 3600


class RateCounter(SQLModel, table=True):
    """How many times ``scope`` acted in one window (hours since the epoch)."""

    __tablename__ = "rate_counter"

    scope: str = Field(primary_key=True, max_length=200)
    hour: int = Field(primary_key=True, index=True)
    uses: int = 0


@dataclass(frozen=True)
class Quota:
    """One counter to take a unit from: its scope key, its ceiling and the setting's name."""

    scope: str
    limit: int
    setting: str


class LimitReached(Exception):
    """A counter is full; ``quota`` says which (its setting name and number)."""

    def __init__(self, quota: Quota) -> None:
        """Keep the quota that was full."""
        super().__init__(f"{quota.setting}={quota.limit}")
        self.quota = quota


def window_of(now: datetime) -> int:
    """The window ``now`` falls in (whole hours since the epoch)."""
    return int(now.timestamp()) // WINDOW_SECONDS


def origin_of(message: IncomingMessage) -> str:
    """``address:<ip>`` for the web chat (when known), else ``<platform>:<workspace>``."""
    if message.platform == "webchat":
        return f"address:{message.address}" if message.address else ""
    return f"{message.platform}:{message.sender.workspace}"


def quotas(limits: Limits, *, action: str, per_identity: int, setting: str, identity: str,
           origin: str = "") -> list[Quota]:
    """The identity's quota for ``action`` and, when known, the origin's shared quota."""
    found = [Quota(f"{action}:{identity}"[:200], per_identity, setting)]
    if origin.startswith("address:"):
        found.append(Quota(f"origin:{origin}"[:200], limits.per_address_per_hour,
                           "per_address_per_hour"))
    elif origin:
        found.append(Quota(f"origin:{origin}"[:200], limits.per_workspace_per_hour,
                           "per_workspace_per_hour"))
    return found


async def take(session: AsyncSession, wanted: Sequence[Quota], now: datetime) -> None:
    """Take one unit from each quota in the caller's transaction, or none and raise LimitReached.

    The units are the caller's until it commits (with its write) or rolls back.
    """
    window = window_of(now)
    taken: list[Quota] = []
    for quota in wanted:
        opened = await session.execute(sa.text(
            "INSERT INTO rate_counter (scope, hour, uses) VALUES (:s, :w, 0) "
            "ON CONFLICT (scope, hour) DO NOTHING"), {"s": quota.scope, "w": window})
        if getattr(opened, "rowcount", 0) == 1:
            await session.execute(sa.text("DELETE FROM rate_counter WHERE hour < :old"),
                                  {"old": window - 1})
        row = (await session.execute(sa.text(
            "UPDATE rate_counter SET uses = uses + 1 WHERE scope = :s AND hour = :w "
            "AND uses < :limit RETURNING uses"),
            {"s": quota.scope, "w": window, "limit": quota.limit})).first()
        if row is None:
            for earlier in taken:  # all or nothing, without a savepoint
                await session.execute(sa.text(
                    "UPDATE rate_counter SET uses = uses - 1 WHERE scope = :s AND hour = :w"),
                    {"s": earlier.scope, "w": window})
            raise LimitReached(quota)
        taken.append(quota)


async def first_in_window(session: AsyncSession, scope: str, now: datetime) -> bool:
    """True for the first caller in this window for ``scope`` (e.g. one flood note an hour)."""
    opened = await session.execute(sa.text(
        "INSERT INTO rate_counter (scope, hour, uses) VALUES (:s, :w, 1) "
        "ON CONFLICT (scope, hour) DO NOTHING"), {"s": scope[:200], "w": window_of(now)})
    return getattr(opened, "rowcount", 0) == 1


def client_address(remote: str | None, forwarded_for: str, trusted: Sequence[str]) -> str:
    """The web chat client's address (the connecting one unless it is a trusted proxy).

    Behind trusted proxies: the right-most X-Forwarded-For entry that is not itself one.
    """
    networks = [ipaddress.ip_network(t, strict=False) for t in trusted]

    def is_trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip in net for net in networks)

    address = remote or ""
    if not networks or not is_trusted(address):
        return address
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if not is_trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return address  # a garbled header: count the proxy, not a made-up name
    return address
