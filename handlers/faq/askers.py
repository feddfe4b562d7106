"""Whose state an asker is in, cheaply: what does not change from one question to the next.

Every question orders its answers by the asker's jurisdiction (:class:`~handlers.faq.scope.Asker`).
Working it out afresh costs a scan of app.yaml's role mappings and a roster read in the database
per question; on a busy Election Day morning that read was a large part of answering a slash
command. :class:`Askers` keeps what is stable:

* each person's app.yaml jurisdictions (certification supervisors, incident managers), indexed
  once per configuration object (settings are frozen: a reloaded configuration is a new object,
  and the index is rebuilt for it);
* each person's roster jurisdiction, reused for ``ttl`` seconds (``roster import`` runs in
  another process, so an import is seen within that time), for a bounded number of people.
  A read also reads again everyone whose entry is past half its time: one query for many
  people instead of one per person and minute (never later than before, only earlier).

The state-staff role is never kept: it is read from the configuration on every question. Neither
jurisdiction grants anything; it only decides which state's article comes first.
"""

from __future__ import annotations

import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable

import sqlalchemy as sa

from bot.config.settings import AppConfig
from bot.db.engine import Database
from bot.messages import IncomingMessage
from bot.services import Services
from handlers.certifications.config import CertificationConfig
from handlers.certifications.models import Official
from handlers.faq.scope import Asker
from handlers.incidents.config import IncidentSettings

ROSTER_TTL = 60.0  # seconds a roster read is reused
MAX_ASKERS = 10_000  # people whose roster jurisdiction is kept in memory
REFRESH_AHEAD = 0.5  # share of the ttl after which an entry is read again with the next read
MAX_READ = 500  # people per roster read

_OFFICIALS = Official.__table__  # type: ignore[attr-defined]
#: Built once, the people given at execution: the roster jurisdictions of many people.
_ROSTER = sa.select(_OFFICIALS.c.identity, _OFFICIALS.c.jurisdiction).where(
    _OFFICIALS.c.identity.in_(sa.bindparam("who", expanding=True))).distinct()


class Askers:
    """The asker's jurisdiction: what the message says, their app.yaml roles, or the roster."""

    def __init__(self, ttl: float = ROSTER_TTL, clock: Callable[[], float] = time.monotonic,
                 size: int = MAX_ASKERS) -> None:
        """Reuse roster reads for ``ttl`` seconds of ``clock``; remember ``size`` people."""
        self.ttl = ttl
        self.clock = clock
        self.size = size
        self._app: AppConfig | None = None
        self._codes: frozenset[str] = frozenset()
        self._configured: dict[str, frozenset[str]] = {}
        self._roster: OrderedDict[str, tuple[float, tuple[str, ...]]] = OrderedDict()

    async def resolve(self, *, message: IncomingMessage, services: Services) -> Asker:
        """Who asks ``message``; the state-staff role is read now, never remembered."""
        app = services.settings.app
        identity = message.sender.identity
        staff = app.has_role(identity, "state_staff")
        codes, configured = self._index(app)
        if message.jurisdiction and message.jurisdiction.upper() in codes:
            return Asker(message.jurisdiction.upper(), staff)
        mine = configured.get(identity, frozenset())
        if len(mine) == 1:
            return Asker(next(iter(mine)), staff)
        rows = await self._roster_of(identity, services.db)
        if len(rows) == 1 and rows[0] in codes:
            return Asker(rows[0], staff)
        return Asker(app.office.state if staff else None, staff)

    def _index(self, app: AppConfig) -> tuple[frozenset[str], dict[str, frozenset[str]]]:
        """Jurisdiction codes and each person's configured ones, for this configuration."""
        if self._app is not app:
            codes = frozenset(j.code for j in app.jurisdictions)
            found: dict[str, set[str]] = defaultdict(set)
            for mapping in (app.section(CertificationConfig).supervisors,
                            app.section(IncidentSettings).managers):
                for code, people in mapping.items():
                    for person in people if code in codes else ():
                        found[person].add(code)
            self._codes = codes
            self._configured = {who: frozenset(where) for who, where in found.items()}
            self._app = app
        return self._codes, self._configured

    async def _roster_of(self, identity: str, db: Database) -> tuple[str, ...]:
        """At most two of the person's roster jurisdictions (two means: not one state)."""
        now = self.clock()
        kept = self._roster.get(identity)
        if kept is not None and now - kept[0] < self.ttl:
            return kept[1]
        who = [identity]
        if self.ttl > 0:  # kept oldest read first: the entries past half their time lead
            for other, (read_at, _rows) in self._roster.items():
                if now - read_at < self.ttl * REFRESH_AHEAD or len(who) >= MAX_READ:
                    break
                if other != identity:
                    who.append(other)
        found: dict[str, list[str]] = {person: [] for person in who}
        async with db.engine.connect() as conn:
            for person, jurisdiction in await conn.execute(_ROSTER, {"who": who}):
                if len(found[person]) < 2:
                    found[person].append(jurisdiction)
        if self.ttl > 0:
            for person, places in found.items():
                self._roster[person] = (now, tuple(places))
                self._roster.move_to_end(person)
            while len(self._roster) > self.size:
                self._roster.popitem(last=False)
        return tuple(found[identity])
