"""Incident times are shown in the reader's zone with date, year and zone name.

Hand-computed: 10:15 on Tue 03 Nov 2026 in America/Chicago is CST (UTC-6, daylight time ended
on 01 Nov), stored as 16:15 UTC; the show happens at 18:00 UTC, which is 12:00 CST.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from bot.messages import FormSubmission, IncomingMessage, Sender
from bot.router import answer
from bot.services import Services
from handlers.incidents.handler import IncidentHandler
from tests.handlers.incidents.conftest import report_values

SHOWN_AT = datetime(2026, 11, 3, 18, 0, tzinfo=UTC)


def _msg(text: str = "", **kw: object) -> IncomingMessage:
    return IncomingMessage(sender=Sender("webchat", "local", "ann"), text=text,
                           **kw)  # type: ignore[arg-type]


async def test_a_kansas_time_entered_as_10_15_is_shown_as_10_15_cst(services: Services) -> None:
    services.clock = lambda: SHOWN_AT
    handler = IncidentHandler()
    filed = await answer(handler, _msg(form=FormSubmission("incident:report:t1", report_values(
        jurisdiction="KS", site="Topeka", when_time="10:15"))), services)
    human_id = filed.text.split()[-1].rstrip(".")
    reply = await answer(handler, _msg(f"show {human_id}", command="/incident"), services)
    detail, history = (section.text for section in reply.sections)
    assert "When: Tue 03 Nov 2026 10:15 CST" in detail
    assert "16:15" not in detail
    assert history.splitlines()[1] == "1. Tue 03 Nov 2026 12:00 CST created by {@0}"
    assert "Reported by: {@0}" in detail  # a person, named by the renderer, never an id
    assert [m.identity for m in reply.mentions] == ["webchat:local:ann"]


def test_the_zone_falls_back_from_jurisdiction_to_office(services: Services) -> None:
    app = services.settings.app
    assert app.time_zone_for("KS") == "America/Chicago"
    assert app.time_zone_for("NOWHERE") == app.office.time_zone == "America/New_York"
    assert app.time_zone_for(None) == "America/New_York"



async def test_an_edited_notification_states_the_change_time_in_the_jurisdictions_zone(
        services: Services) -> None:
    services.clock = lambda: SHOWN_AT
    handler = IncidentHandler()
    filed = await answer(handler, _msg(form=FormSubmission("incident:report:t2", report_values(
        jurisdiction="KS", site="Topeka", when_time="10:15"))), services)
    human_id = filed.text.split()[-1].rstrip(".")
    boss = IncomingMessage(sender=Sender("webchat", "local", "boss"), command="/incident",
                           text=f"status {human_id} triaged")
    await answer(handler, boss, services)
    async with services.db.engine.connect() as conn:
        payloads = [row[0] for row in (await conn.execute(sa.text(
            "SELECT payload FROM outbox_message ORDER BY id"))).all()]
    edits = [p for p in payloads if "last change by" in p]
    assert edits and all("Tue 03 Nov 2026 12:00 CST" in p for p in edits)


async def test_a_reader_with_their_own_zone_reads_it_there_and_how_long_ago(
        services: Services) -> None:
    """16:15 UTC is 08:15 PST for a reader in Los Angeles; shown at 18:00 UTC: 1 hour 45
    minutes later, said as "1 hour ago"."""
    from bot.people import Profile

    services.clock = lambda: SHOWN_AT
    handler = IncidentHandler()
    filed = await answer(handler, _msg(form=FormSubmission("incident:report:t2", report_values(
        jurisdiction="KS", site="Topeka", when_time="10:15"))), services)
    human_id = filed.text.split()[-1].rstrip(".")
    await services.people.remember("webchat:local:ann", Profile("Ann", "America/Los_Angeles"))
    reply = await answer(handler, _msg(f"show {human_id}", command="/incident"), services)
    detail = reply.sections[0].text
    assert "When: Tue 03 Nov 2026 08:15 PST (1 hour ago)" in detail
