"""Limits: filing, SEV1 paging and alert drafts, counted in the database across processes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.services import build_services
from bot.config.settings import ConfigError, Contact
from bot.errors import UserError
from bot.messages import FormSubmission, IncomingMessage, Sender
from bot.ops.limits import client_address
from bot.router import answer
from bot.services import Services
from handlers.alerts import service as alerts
from handlers.alerts.config import AlertsConfig
from handlers.alerts.forms import validate
from handlers.incidents.danger import call_911
from handlers.incidents.handler import IncidentHandler
from handlers.incidents.replies import build_limit_refusal
from tests.handlers.alerts.conftest import alert_settings, compose_values
from tests.handlers.incidents.conftest import INCIDENTS, NOW, ROLES, report_values
from tests.support import make_settings, migrated


def services_for(tmp_path: Path, limits: dict[str, int]) -> Services:
    """One process's services on the shared SQLite file in ``tmp_path``."""
    settings = make_settings(tmp_path, incidents=INCIDENTS, roles=ROLES, limits=limits)
    migrated(settings.env.DATABASE_URL)
    services = build_services(settings)
    services.clock = lambda: NOW
    return services


def form(user: str, nonce: str, address: str = "", **values: str) -> IncomingMessage:
    return IncomingMessage(sender=Sender("webchat", "local", user), address=address,
                           form=FormSubmission(f"incident:report:{nonce}",
                                               report_values(**values)))


async def rows(services: Services, sql: str) -> list[tuple]:
    async with services.db.engine.connect() as conn:
        return [tuple(r) for r in await conn.execute(sa.text(sql))]


async def test_filing_limit_is_shared_by_two_processes(tmp_path: Path) -> None:
    one = services_for(tmp_path, {"incidents_per_hour": 2})
    two = services_for(tmp_path, {"incidents_per_hour": 2})
    handler = IncidentHandler()
    try:
        assert "Filed" in (await answer(handler, form("ann", "a1"), one)).text
        assert "Filed" in (await answer(handler, form("ann", "a2"), two)).text
        # The retry of a filed report is not counted and not refused.
        assert "Already filed" in (await answer(handler, form("ann", "a1"), two)).text
        refused = await answer(handler, form("ann", "a3"), one)
        assert "NOT filed" in refused.text and "limit of 2 reports from you" in refused.text
        assert "CALL 911" in refused.text and "the test office (help@example.org)" in refused.text
        # Someone else is not affected.
        assert "Filed" in (await answer(handler, form("bob", "b1"), two)).text
        assert len(await rows(one, "SELECT id FROM incident")) == 3
        audit = await rows(one, "SELECT actor, action, allowed, reason FROM audit_entry "
                                "WHERE action = 'incident.file'")
        assert audit == [("webchat:local:ann", "incident.file", False,
                          "over incidents_per_hour=2; report not filed")]
        assert "Tabulator" not in str(audit)  # no report text in the audit log
    finally:
        await one.db.close()
        await two.db.close()


async def test_a_spanish_reporter_is_refused_in_spanish(tmp_path: Path) -> None:
    """A report refused for the hourly limit says so in the language its form was opened in (a
    Spanish form, a Spanish quick report): not filed, 911 first, whom to call instead."""
    services = services_for(tmp_path, {"incidents_per_hour": 1})
    handler = IncidentHandler()
    try:
        assert "INC-" in (await answer(handler, form("ana", "es:a1"), services)).text
        refused = await answer(handler, form("ana", "es:a2"), services)
        assert "NO se presentó" in refused.text and "límite de 1 reportes suyos" in refused.text
        assert refused.text.startswith(call_911("es"))
        assert "comuníquese con the test office (help@example.org)" in refused.text
        assert "NOT filed" not in refused.text
        quick = await answer(handler, IncomingMessage(
            sender=Sender("webchat", "local", "ana"), command="/incident",
            text="un hombre amenaza a los trabajadores electorales en el estacionamiento"),
            services)
        assert "NO se presentó" in quick.text and quick.text.startswith(call_911("es"))
        # An English reporter over the same kind of limit still reads English.
        assert "INC-" in (await answer(handler, form("ben", "b1"), services)).text
        assert "NOT filed" in (await answer(handler, form("ben", "b2"), services)).text
        assert len(await rows(services, "SELECT id FROM incident")) == 2
    finally:
        await services.db.close()


def test_a_spanish_limit_refusal_names_the_office_in_spanish() -> None:
    office = Contact(name="your state election office", name_es="su oficina electoral estatal",
                     phone="555-0100", verified_on=date(2026, 11, 1))
    spanish = build_limit_refusal("per_address_per_hour", 4, office, "es")
    assert "comuníquese con su oficina electoral estatal (555-0100)" in spanish
    assert "4 reportes y alertas desde su dirección de red por hora" in spanish
    assert "comuníquese con su oficina electoral." in build_limit_refusal(
        "incidents_per_hour", 4, None, "es")
    english = build_limit_refusal("per_address_per_hour", 4, office)
    assert "contact your state election office (555-0100)" in english


async def test_per_address_limit_counts_every_name_from_one_address(tmp_path: Path) -> None:
    services = services_for(tmp_path, {"per_address_per_hour": 2})
    handler = IncidentHandler()
    try:
        for user in ("a", "b"):
            reply = await answer(handler, form(user, user, address="203.0.113.9"), services)
            assert "Filed" in reply.text
        refused = await answer(handler, form("c", "c", address="203.0.113.9"), services)
        assert "NOT filed" in refused.text and "your network address" in refused.text
        other = await answer(handler, form("c", "c2", address="198.51.100.1"), services)
        assert "Filed" in other.text
    finally:
        await services.db.close()


async def test_sev1_flood_pages_within_the_limit_and_notes_on_call_once(tmp_path: Path) -> None:
    services = services_for(tmp_path, {"sev1_pages_per_hour": 1})
    handler = IncidentHandler()
    try:
        replies = [await answer(handler, form("ann", f"s{i}", danger="yes"), services)
                   for i in range(4)]
        assert all("Filed" in r.text and "CALL 911" in r.text for r in replies)
        assert "on-call team has been notified" in str(replies[0].sections)
        assert all("on-call was not paged" in str(r.sections) for r in replies[1:])
        # Every report is recorded, routed (SEV1 rule -> @boss), but on-call is paged once.
        assert len(await rows(services, "SELECT id FROM incident WHERE severity = 'SEV1'")) == 4
        to_on_call = await rows(services, "SELECT key FROM outbox_message WHERE destination "
                                          "= 'webchat:local:@oncall' ORDER BY id")
        assert len(to_on_call) == 2
        assert to_on_call[0][0].startswith("incident:INC-2026-000001:new")
        assert to_on_call[1][0].startswith("limits:sev1-flood:")
        to_boss = await rows(services, "SELECT key FROM outbox_message WHERE destination "
                                       "= 'webchat:local:@boss'")
        assert len(to_boss) == 4
        withheld = await rows(services, "SELECT target FROM audit_entry "
                                        "WHERE action = 'incident.page' AND allowed = 0")
        assert [t for (t,) in withheld] == ["INC-2026-000002", "INC-2026-000003",
                                            "INC-2026-000004"]
    finally:
        await services.db.close()


async def test_alert_compose_over_the_limit_is_refused_and_audited(tmp_path: Path) -> None:
    settings = alert_settings(tmp_path)
    settings = make_settings(tmp_path, roles=settings.app.roles,
                             alerts=settings.app.section(AlertsConfig).model_dump(mode="json",
                                                                   exclude_defaults=True),
                             limits={"alerts_per_hour": 1})
    migrated(settings.env.DATABASE_URL)
    services = build_services(settings)
    app = settings.app
    actor = alerts.Actor("webchat:local:bc1", app)
    clean, _ = validate(compose_values(), app, NOW, child=False, known_groups=set())
    assert clean is not None
    try:
        await alerts.create_draft(db=services.db, app=app, actor=actor, clean=clean,
                                  reply_to="webchat:local:@bc1", now=NOW)
        with pytest.raises(UserError, match="NOT drafted: the limit of 1 alerts"):
            await alerts.create_draft(db=services.db, app=app, actor=actor, clean=clean,
                                      reply_to="webchat:local:@bc1", now=NOW)
        assert len(await rows(services, "SELECT id FROM alert")) == 1
        assert await rows(services, "SELECT actor, reason FROM audit_entry "
                                    "WHERE action = 'alert.compose'") == [
            ("webchat:local:bc1", "over alerts_per_hour=1; draft not stored")]
    finally:
        await services.db.close()


def test_limits_are_configurable_and_checked(tmp_path: Path) -> None:
    defaults = make_settings(tmp_path).app.limits
    assert (defaults.incidents_per_hour, defaults.sev1_pages_per_hour,
            defaults.alerts_per_hour, defaults.per_address_per_hour) == (10, 3, 5, 30)
    assert make_settings(tmp_path, limits={"alerts_per_hour": 7}).app.limits.alerts_per_hour == 7
    with pytest.raises(ConfigError, match="limits.incidents_per_hour"):
        make_settings(tmp_path, limits={"incidents_per_hour": 0})
    with pytest.raises(ConfigError, match="webchat.trusted_proxies"):
        make_settings(tmp_path, webchat={"trusted_proxies": ["proxy.example"]})


def test_forwarded_for_is_believed_only_from_trusted_proxies() -> None:
    assert client_address("203.0.113.9", "1.2.3.4", []) == "203.0.113.9"
    assert client_address("10.0.0.5", "1.2.3.4", []) == "10.0.0.5"
    trusted = ["10.0.0.0/8"]
    assert client_address("10.0.0.5", "6.6.6.6, 1.2.3.4, 10.0.0.7", trusted) == "1.2.3.4"
    assert client_address("203.0.113.9", "1.2.3.4", trusted) == "203.0.113.9"
    assert client_address("10.0.0.5", "garbage", trusted) == "10.0.0.5"
