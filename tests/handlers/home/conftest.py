"""Fixtures for the home: a Kansas roster, incident managers and an alert, on a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.services import build_services
from bot.db.models import OutboxMessage
from bot.messages import FormSubmission, IncomingMessage, Reply, Sender
from bot.router import Router
from bot.services import Services
from handlers import build_handlers
from handlers.alerts.enums import AlertSeverity, AlertStatus
from handlers.alerts.models import Alert, AlertRecipient
from tests.handlers.certifications.conftest import CERT, Clock, load_demo
from tests.handlers.incidents.conftest import report_values
from tests.support import make_settings, migrated

ROLES = {"state_staff": ["webchat:local:boss"]}
INCIDENTS = {"managers": {"KS": ["webchat:local:ks-mgr"]}}
# 03:00 UTC on 26 Nov is still 25 Nov in Kansas: the Year One deadline (31 Dec) is 36 days away
# there, 35 by the UTC calendar.
NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def person(name: str) -> Sender:
    """A web chat person (demo identity ``webchat:local:NAME``)."""
    return Sender("webchat", "local", name, display_name=name)


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    settings = make_settings(tmp_path, roles=ROLES, certification=CERT, incidents=INCIDENTS)
    migrated(settings.env.DATABASE_URL)
    svc = build_services(settings)
    svc.clock = Clock(NOW)
    await load_demo(svc)
    yield svc
    await svc.db.close()


@pytest.fixture
def router(services: Services) -> Router:
    return Router(build_handlers(), services)


async def file_report(router: Router, who: str, **values: str) -> Reply:
    """File an incident through the incident feature's own form, as ``who``."""
    form = FormSubmission("incident:report:n1", report_values(**values))
    return await router.dispatch(IncomingMessage(sender=person(who), form=form,
                                                 channel=f"webchat:{who}", is_direct=True))


async def sent_alert(services: Services, public_id: str, to: list[str],
                     headline: str = "Polling place moved in Topeka") -> Alert:
    """An alert already sent to ``to`` (direct messages), each copy delivered."""
    now = services.clock()
    async with services.db.session() as session:
        alert = Alert(public_id=public_id, alert_type="polling_place_change",
                      severity=AlertSeverity.MODERATE, headline=headline, body="Facts.",
                      tlp="GREEN", ack_required=True, ack_window_minutes=120,
                      status=AlertStatus.SENT, created_by="webchat:local:boss",
                      reply_to="webchat:local:@boss", sent_at=now - timedelta(hours=1))
        session.add(alert)
        await session.flush()
        for name in to:
            key = f"test:{public_id}:{name}"
            session.add(AlertRecipient(alert_id=alert.id or 0, destination=f"webchat:local:@{name}",
                                       tier="T1", group_name="ks", organisation="KS clerks",
                                       jurisdiction="KS", name=name, outbox_key=key))
            session.add(OutboxMessage(key=key, platform="webchat",
                                      destination=f"webchat:local:@{name}", payload="{}",
                                      status="sent"))
        await session.commit()
        await session.refresh(alert)
    return alert
