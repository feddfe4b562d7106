"""Who people are to a reader: display names and time zones by identity, never raw ids.

Adapters tell :class:`People` what they learn (a Teams activity's ``from.name``, a web chat
account's display name) and may register a look-up for a platform whose messages carry no
name (Slack: ``users.info``). Replies name people as :class:`~bot.messages.Mention`; the
router and the outbox fill each mention's name here just before a reply is rendered, so a name
learnt after a message was queued is still used, and an unknown one reads "a Slack user".
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.db.engine import Database, utcnow
from bot.db.models import DisplayName
from bot.messages import Mention, Reply, Sender, readable_label

log = logging.getLogger(__name__)
LOOKUP_TIMEOUT = 2.0  # seconds: a slow platform costs a name, never the reply
MAX_KNOWN = 10_000  # identities kept in memory per process


@dataclass(frozen=True, slots=True)
class Profile:
    """What a platform says about a person: a display name and an IANA time zone ("" unknown)."""

    name: str = ""
    time_zone: str = ""


#: A platform's look-up: (workspace, user id) -> the profile, or None when it cannot tell.
Lookup = Callable[[str, str], Awaitable[Profile | None]]


class People:
    """The display-name cache: memory in front of the ``display_name`` table."""

    def __init__(self, db: Database) -> None:
        """Use ``db``; look-ups are registered by the adapters."""
        self.db = db
        self._known: dict[str, Profile] = {}
        self._lookups: dict[str, Lookup] = {}
        self._asked: set[str] = set()  # looked up once in this process, named or not

    def register(self, platform: str, lookup: Lookup) -> None:
        """Ask ``lookup`` about identities of ``platform`` whose name is not stored yet."""
        self._lookups[platform] = lookup

    async def remember(self, identity: str, profile: Profile) -> None:
        """Store what an adapter learnt (only when it changed; empty parts keep the old)."""
        known = self._known.get(identity)
        merged = Profile(profile.name[:200] or (known.name if known else ""),
                         profile.time_zone[:64] or (known.time_zone if known else ""))
        if known == merged or not (merged.name or merged.time_zone):
            return
        async with self.db.session() as session:
            row = await session.get(DisplayName, identity)
            if row is None:
                row = DisplayName(identity=identity)
            if (row.name, row.time_zone) != (merged.name or row.name,
                                             merged.time_zone or row.time_zone):
                row.name = merged.name or row.name
                row.time_zone = merged.time_zone or row.time_zone
                row.updated_at = utcnow()
                session.add(row)
                try:
                    await session.commit()
                except IntegrityError:  # two messages of one new person raced; one stored it
                    await session.rollback()
            merged = Profile(row.name, row.time_zone)
        self._keep(identity, merged)

    async def remember_sender(self, sender: Sender) -> None:
        """Learn from an incoming message: its sender's name, else ask the platform once."""
        if sender.display_name and sender.platform != "slack":
            # Slack's payloads carry the handle, not the name people know: users.info tells.
            await self.remember(sender.identity, Profile(sender.display_name))
        elif sender.platform in self._lookups and sender.identity not in self._asked \
                and sender.identity not in self._known:
            # Once known, or asked once in this process, there is nothing more to learn here:
            # a person without a name would otherwise cost a table read on every message.
            await self.profiles([sender.identity])

    async def profiles(self, identities: Iterable[str]) -> dict[str, Profile]:
        """The known profile of each identity (memory, then the table, then the platform)."""
        wanted = list(dict.fromkeys(identities))
        found = {i: self._known[i] for i in wanted if i in self._known}
        missing = [i for i in wanted if i not in found]
        if missing:
            async with self.db.session() as session:
                rows = (await session.exec(select(DisplayName).where(
                    col(DisplayName.identity).in_(missing)))).all()
            for row in rows:
                found[row.identity] = self._keep(row.identity, Profile(row.name, row.time_zone))
        for identity in [i for i in wanted if i not in found or not found[i].name]:
            profile = await self._look_up(identity)
            if profile is not None:
                await self.remember(identity, profile)
                found[identity] = self._known.get(identity, profile)
        return found

    async def name_of(self, identity: str) -> str:
        """The name to show for ``identity``: its display name, else a readable stand-in."""
        profile = (await self.profiles([identity])).get(identity)
        return profile.name if profile and profile.name else readable_label(identity)

    async def time_zone_of(self, identity: str) -> str:
        """The person's own time zone where a platform told us, else ""."""
        profile = (await self.profiles([identity])).get(identity)
        return profile.time_zone if profile else ""

    async def name_mentions(self, reply: Reply) -> Reply:
        """``reply`` with every mention named (never left to show a raw id)."""
        if not reply.mentions or all(m.name for m in reply.mentions):
            return reply
        try:
            known = await self.profiles(m.identity for m in reply.mentions if not m.name)
        except Exception:  # the table unreachable: stand-ins, never a lost message
            log.warning("display names unavailable", exc_info=True)
            known = {}
        named = tuple(m if m.name else Mention(m.identity, _name(known, m.identity))
                      for m in reply.mentions)
        return dataclasses.replace(reply, mentions=named)

    async def _look_up(self, identity: str) -> Profile | None:
        platform, _, rest = identity.partition(":")
        workspace, _, user = rest.partition(":")
        lookup = self._lookups.get(platform)
        if lookup is None or not workspace or not user or identity in self._asked:
            return None
        if len(self._asked) >= MAX_KNOWN:
            self._asked.clear()
        self._asked.add(identity)
        try:
            return await asyncio.wait_for(lookup(workspace, user.lstrip("@")), LOOKUP_TIMEOUT)
        except Exception as exc:  # a name is a nicety: never fail a reply for it
            log.info("display name look-up failed", extra={"platform": platform,
                                                          "error": type(exc).__name__})
            return None

    def _keep(self, identity: str, profile: Profile) -> Profile:
        if len(self._known) >= MAX_KNOWN:
            self._known.clear()
        self._known[identity] = profile
        return profile


def _name(known: dict[str, Profile], identity: str) -> str:
    profile = known.get(identity)
    return profile.name if profile and profile.name else readable_label(identity)
