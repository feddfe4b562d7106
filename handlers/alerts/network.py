"""The coalition network: app.yaml groups plus members added from the CLI, and audiences."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlmodel import select

from bot.config.settings import AppConfig
from bot.db.engine import Database
from handlers.alerts.config import AlertsConfig
from handlers.alerts.models import NetworkMember


@dataclass(frozen=True)
class Entry:
    """One member of one group, wherever it was defined."""

    group: str
    tier: str
    destination: str
    name: str
    organisation: str
    jurisdiction: str
    backup: str | None
    people: tuple[str, ...]
    source: str  # "app.yaml" or "cli"


@dataclass(frozen=True)
class Audience:
    """Who an alert is for: any listed group or tier, narrowed to jurisdictions (none = all)."""

    groups: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    jurisdictions: tuple[str, ...] = ()

    def to_json(self) -> str:
        """Stored on the alert."""
        return json.dumps({"groups": self.groups, "tiers": self.tiers,
                           "jurisdictions": self.jurisdictions})

    @classmethod
    def from_json(cls, text: str) -> Audience:
        """The inverse of :meth:`to_json`."""
        data = json.loads(text or "{}")
        return cls(tuple(data.get("groups", ())), tuple(data.get("tiers", ())),
                   tuple(data.get("jurisdictions", ())))

    def matches(self, entry: Entry) -> bool:
        """Whether a network entry is in this audience."""
        chosen = entry.group in self.groups or entry.tier in self.tiers
        return chosen and (not self.jurisdictions or entry.jurisdiction in self.jurisdictions)


async def load_network(db: Database, app: AppConfig) -> list[Entry]:
    """Every member: app.yaml first, then CLI additions (sorted for stable output)."""
    entries = [Entry(g.name, g.tier, m.destination, m.name, m.organisation, m.jurisdiction,
                     m.backup, tuple(m.people), "app.yaml")
               for g in app.section(AlertsConfig).groups for m in g.members]
    async with db.session() as session:
        rows = (await session.exec(select(NetworkMember).order_by(NetworkMember.id))).all()  # type: ignore[arg-type]
    entries += [Entry(r.group_name, r.tier, r.destination, r.name, r.organisation,
                      r.jurisdiction, r.backup, tuple(json.loads(r.people)), "cli") for r in rows]
    return entries


def resolve(entries: list[Entry], audience: Audience) -> list[Entry]:
    """The audience's members, one per destination (the first listing wins)."""
    chosen: dict[str, Entry] = {}
    for entry in entries:
        if audience.matches(entry) and entry.destination not in chosen:
            chosen[entry.destination] = entry
    return list(chosen.values())
