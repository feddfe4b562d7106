"""What a person's home shows, read through each domain's own service (nothing stored here).

Roles are read from app.yaml at the moment the home is built, so it shows who the person is
now: a role removed a minute ago no longer adds its counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.services import Services
from bot.when import reader_zone
from handlers.alerts import delivery as alert_delivery
from handlers.alerts import service as alert_service
from handlers.alerts.models import Alert
from handlers.certifications import commands as cert_commands
from handlers.certifications import service as cert_service
from handlers.certifications.config import CertificationConfig
from handlers.certifications.status import Standing
from handlers.incidents import queries as incident_queries
from handlers.incidents.enums import Severity
from handlers.incidents.models import Incident
from handlers.incidents.permissions import Actor


@dataclass(frozen=True)
class StateCounts:
    """What needs attention statewide (state staff only)."""

    sev1: int
    sev2: int
    late_officials: int
    alerts_need_help: list[tuple[Alert, int]]
    not_answered: int


@dataclass(frozen=True)
class HomeData:
    """Everything one person's home shows, as of ``now``."""

    identity: str
    name: str
    now: datetime
    zone: ZoneInfo = ZoneInfo("UTC")  # the reader's: their own, else their roster entry's
    incidents: list[Incident] = field(default_factory=list)
    on_roster: bool = False
    today: date | None = None  # in the official's own time zone
    standings: list[Standing] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    supervised: list[str] = field(default_factory=list)  # jurisdictions they supervise
    supervised_late: int = 0
    state: StateCounts | None = None


async def gather(services: Services, identity: str, name: str, now: datetime) -> HomeData:
    """Read this person's home from the incident, certification and alert services."""
    app = services.settings.app
    db = services.db
    incidents = list(await incident_queries.open_for(db=db, actor=Actor(identity, app)))
    official = await cert_service.find_official(db=db, ref=identity)
    today, standings = (await cert_commands.standings_of(services, official, now)
                        if official is not None and official.id is not None else (None, []))
    alerts = await alert_service.awaiting_ack(db=db, person=identity, now=now)
    state_staff = app.has_role(identity, "state_staff")
    supervised = sorted(code for code, members in
                        app.section(CertificationConfig).supervisors.items() if identity in members)
    late = (await cert_commands.late_count(services, now, set(supervised))
            if supervised and not state_staff else 0)
    # The reader's zone: the platform's word for it, else the roster's, else the office's.
    zone = reader_zone(await services.people.time_zone_of(identity),
                       official.time_zone if official and official.time_zone
                       else app.office.time_zone)
    return HomeData(identity=identity, name=official.name if official else name, now=now,
                    zone=zone,
                    incidents=incidents, on_roster=official is not None, today=today,
                    standings=standings, alerts=alerts, supervised=supervised,
                    supervised_late=late,
                    state=await _state_counts(services, now) if state_staff else None)


async def _state_counts(services: Services, now: datetime) -> StateCounts:
    counts = await incident_queries.open_counts(db=services.db)
    attention = await alert_delivery.attention(db=services.db, now=now)
    return StateCounts(
        sev1=counts.get(Severity.SEV1, 0), sev2=counts.get(Severity.SEV2, 0),
        late_officials=await cert_commands.late_count(services, now),
        alerts_need_help=[(alert, n) for alert, n, _ in attention if n],
        not_answered=sum(not_yet for _, _, not_yet in attention))
