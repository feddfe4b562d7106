"""Quick reports go where the text says, else where the reporter works, else the reporter is asked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.services import build_services
from bot.messages import Action, FormSubmission, IncomingMessage, Reply, Sender
from bot.router import answer
from bot.services import Services
from handlers.incidents.handler import IncidentHandler
from handlers.incidents.routing import Routing, route_quick_report
from tests.handlers.incidents.conftest import NOW, report_values
from tests.support import make_settings, migrated

INCIDENTS = {
    "on_call": ["webchat:local:@oncall"],
    "managers": {"CT": ["webchat:local:ct-mgr"], "KS": ["webchat:local:ks-mgr"]},
    "routing": [
        {"jurisdictions": ["CT"], "notify": ["webchat:local:@ct-mgr"]},
        {"jurisdictions": ["KS"], "notify": ["webchat:local:@ks-mgr"]},
    ],
}
CERTIFICATION = {"supervisors": {"CA": ["webchat:local:ca-sup"]}}
SHOTS = "shots fired outside the polling place in Wichita, Kansas"


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    """The office is Connecticut's (tests/support), working with CA, CT and KS."""
    settings = make_settings(tmp_path, incidents=INCIDENTS, certification=CERTIFICATION,
                             roles={"state_staff": ["webchat:local:boss"]})
    migrated(settings.env.DATABASE_URL)
    svc = build_services(settings)
    svc.clock = lambda: NOW
    yield svc
    await svc.db.close()


def msg(user: str, text: str = "", **kw: object) -> IncomingMessage:
    return IncomingMessage(sender=Sender("webchat", "local", user), text=text,
                           **kw)  # type: ignore[arg-type]


async def report(services: Services, user: str, text: str) -> Reply:
    return await answer(IncidentHandler(), msg(user, text, command="/incident"), services)


async def rows(services: Services, sql: str) -> list[tuple[object, ...]]:
    async with services.db.engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(sa.text(sql))).all()]


async def notified(services: Services) -> list[str]:
    """The destinations queued so far, in order."""
    return [str(d) for (d,) in await rows(services, "SELECT destination FROM outbox_message "
                                                    "ORDER BY id")]


async def test_text_naming_kansas_goes_to_kansas_not_the_offices_state(
        services: Services) -> None:
    reply = await report(services, "ann", SHOTS)
    assert reply.text.startswith("CALL 911 NOW") and "Filed INC-" in reply.text
    assert await rows(services, "SELECT jurisdiction, severity FROM incident") == [("KS", "SEV1")]
    sent = await notified(services)
    assert sent == ["webchat:local:@oncall", "webchat:local:@ks-mgr"]
    assert not any(b.action_id == "incident:route" for b in reply.buttons)


async def test_text_naming_nothing_goes_where_the_reporter_manages(services: Services) -> None:
    await report(services, "ks-mgr", "the tabulator at the library is jammed")
    assert await rows(services, "SELECT jurisdiction FROM incident") == [("KS",)]
    assert await notified(services) == ["webchat:local:@ks-mgr"]  # once, raised or not


async def test_a_certification_supervisor_reports_for_their_jurisdiction(
        services: Services) -> None:
    await report(services, "ca-sup", "the tabulator at the library is jammed")
    assert await rows(services, "SELECT jurisdiction FROM incident") == [("CA",)]


async def test_nothing_named_and_no_jurisdiction_asks_and_pages_on_call_first(
        services: Services) -> None:
    reply = await report(services, "ann", "shots fired outside the polling place")
    choices = [(b.label, b.value.rpartition(":")[2]) for b in reply.buttons
               if b.action_id == "incident:route"]
    assert choices == [("California", "CA"), ("Connecticut", "CT"), ("Kansas", "KS")]
    assert reply.text.startswith("CALL 911 NOW")
    assert await rows(services, "SELECT jurisdiction FROM incident") == [("",)]
    assert await notified(services) == ["webchat:local:@oncall"]  # held: on-call only

    [kansas] = [b for b in reply.buttons if b.value.endswith(":KS")]
    routed = await answer(IncidentHandler(), msg("ann", action=Action(kansas.action_id,
                                                                      kansas.value)), services)
    assert "Routed" in routed.text and "KS" in routed.text
    assert await rows(services, "SELECT jurisdiction FROM incident") == [("KS",)]
    assert await notified(services) == ["webchat:local:@oncall", "webchat:local:@ks-mgr"]
    kinds = await rows(services, "SELECT kind FROM incident_event ORDER BY seq")
    assert kinds == [("created",), ("routed",)]


async def test_a_routed_report_is_not_routed_again_and_others_may_not_route(
        services: Services) -> None:
    reply = await report(services, "ann", "the printer is jammed")
    [ct] = [b for b in reply.buttons if b.value.endswith(":CT")]
    stranger = await answer(IncidentHandler(), msg("zed", action=Action(ct.action_id, ct.value)),
                            services)
    assert stranger.text == "Only the reporter or state staff can say where " \
        f"{ct.value.split(':')[-2]} happened."
    await answer(IncidentHandler(), msg("ann", action=Action(ct.action_id, ct.value)), services)
    again = await answer(IncidentHandler(),
                         msg("ann", action=Action(ct.action_id, ct.value[:-2] + "KS")), services)
    assert "already routed to CT" in again.text
    assert await rows(services, "SELECT jurisdiction FROM incident") == [("CT",)]
    assert await notified(services) == ["webchat:local:@ct-mgr"]


async def test_a_forged_jurisdiction_is_refused(services: Services) -> None:
    reply = await report(services, "ann", "the printer is jammed")
    human_id = reply.buttons[0].value.rpartition(":")[0]
    refused = await answer(IncidentHandler(),
                           msg("ann", action=Action("incident:route", f"{human_id}:TX")), services)
    assert "not a jurisdiction" in refused.text
    assert await rows(services, "SELECT jurisdiction FROM incident") == [("",)]


async def test_text_and_identity_disagreeing_asks_text_first(services: Services) -> None:
    reply = await report(services, "ct-mgr", SHOTS)
    codes = [b.value.rpartition(":")[2] for b in reply.buttons
             if b.action_id == "incident:route"]
    assert codes == ["KS", "CT"]
    assert await notified(services) == ["webchat:local:@oncall"]


def test_postal_codes_and_configured_names_are_read(services: Services) -> None:
    app = services.settings.app
    assert route_quick_report("long line at precinct 4, Topeka KS", app,
                              identity="webchat:local:ann") == Routing("KS")
    assert route_quick_report("power out in california", app,
                              identity="webchat:local:ann") == Routing("CA")
    # A state the office does not work with is no answer: ask among the office's own.
    assert route_quick_report("power out in Texas", app, identity="webchat:local:ann") == \
        Routing(None, ("CA", "CT", "KS"))
    assert route_quick_report("power out", app, identity="webchat:local:ann",
                              declared="CT") == Routing("CT")


@pytest.mark.parametrize("stopped", ["yes", "no"])  # severity raised (SEV2) or not
async def test_completing_a_held_report_routes_it_to_the_forms_jurisdiction(
        services: Services, stopped: str) -> None:
    reply = await report(services, "ann", "the printer is jammed")
    [complete] = [b for b in reply.buttons if b.action_id == "incident:complete"]
    opened = await answer(IncidentHandler(), msg("ann", action=Action(complete.action_id,
                                                                      complete.value)), services)
    assert opened.form is not None
    await answer(IncidentHandler(), msg("ann", form=FormSubmission(
        opened.form.form_id, report_values(jurisdiction="KS", stopped=stopped, degraded="no"))), services)
    assert await rows(services, "SELECT jurisdiction FROM incident") == [("KS",)]
    assert await notified(services) == ["webchat:local:@ks-mgr"]  # once, raised or not


async def test_a_resent_held_report_asks_again_where_it_happened(services: Services) -> None:
    first = await report(services, "ann", "the printer is jammed again")
    again = await report(services, "ann", "the printer is jammed again")  # same minute: same report
    assert await rows(services, "SELECT count(*) FROM incident") == [(1,)]
    for reply in (first, again):
        assert [b.value.rpartition(":")[2] for b in reply.buttons
                if b.action_id == "incident:route"] == ["CA", "CT", "KS"]


def test_a_jurisdictions_own_name_and_its_aliases_route_a_report() -> None:
    from bot.config.settings import AppConfig

    app = AppConfig.model_validate({
        "office": {"name": "County office", "state": "CT", "time_zone": "America/New_York"},
        "jurisdictions": [{"code": "HFD", "name": "Hartford", "aliases": ["Hartford ROV"]},
                          {"code": "NHV", "name": "New Haven"}]})
    assert route_quick_report("tabulator jam in new haven", app,
                              identity="webchat:local:ann") == Routing("NHV")
    assert route_quick_report("the hartford rov phone line is down", app,
                              identity="webchat:local:ann") == Routing("HFD")
    assert route_quick_report("HFD: power out", app, identity="webchat:local:ann") == \
        Routing("HFD")
