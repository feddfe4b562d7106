"""Lifecycle, the permission matrix, audited denials and views."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bot.messages import Action, Tone
from bot.router import answer
from bot.services import Services
from handlers.incidents.handler import IncidentHandler
from tests.handlers.incidents.conftest import report_values
from tests.handlers.incidents.test_filing import count, msg, submit


async def file(services: Services, user: str = "ann", **values: str) -> str:
    reply = await answer(IncidentHandler(),
        submit(report_values(**values), form_id=f"incident:report:{user}{len(values)}", user=user),
        services)
    return reply.text.split()[-1].rstrip(".")


async def say(services: Services, user: str, text: str) -> str:
    return (await answer(IncidentHandler(), msg(user, text, command="/incident"), services)).text


async def field(services: Services, human_id: str, name: str) -> object:
    async with services.db.engine.connect() as conn:
        return (await conn.execute(sa.text(f"SELECT {name} FROM incident WHERE human_id = :h"),
                                   {"h": human_id})).scalar_one()


# who: reporter ann (CT), CT manager, KS manager, state staff boss, stranger eve
MATRIX = [
    ("ann", "show", True), ("ct-mgr", "show", True), ("boss", "show", True),
    ("ks-mgr", "show", False), ("eve", "show", False),
    ("ann", "status {id} in_progress", False), ("ct-mgr", "status {id} in_progress", True),
    ("boss", "status {id} in_progress", True), ("ks-mgr", "status {id} in_progress", False),
    ("ann", "note {id} more info", True), ("eve", "note {id} hi", False),
    ("ann", "assign {id} me", False), ("ct-mgr", "assign {id} me", True),
]


@pytest.mark.parametrize(("user", "command", "allowed"), MATRIX)
async def test_permission_matrix(services: Services, user: str, command: str,
                                 allowed: bool) -> None:
    human_id = await file(services)
    text = (command if "{id}" in command else f"{command} {{id}}").format(id=human_id)
    reply = await answer(IncidentHandler(), msg(user, text, command="/incident"), services)
    denied = reply.tone == Tone.DENIED
    assert denied is not allowed, reply.text
    async with services.db.engine.connect() as conn:
        denials = (await conn.execute(sa.text(
            "SELECT actor FROM audit_entry WHERE allowed = false"))).all()
    assert (len(denials) == 1) is not allowed
    if not allowed:
        assert denials[0][0] == f"webchat:local:{user}"


async def test_lists_only_show_what_each_person_may_see(services: Services) -> None:
    await file(services, "ann")
    await file(services, "bob", jurisdiction="KS")
    assert (await say(services, "ann", "list open")).startswith("1 incident")
    assert (await say(services, "ks-mgr", "list open")).startswith("1 incident")
    assert (await say(services, "boss", "list open")).startswith("2 incident")
    assert (await say(services, "eve", "list open")).startswith("No incidents")
    assert (await say(services, "boss", "list jurisdiction ks")).startswith("1 incident")


async def test_manager_views_are_recorded_reporter_views_are_not(services: Services) -> None:
    human_id = await file(services)
    await say(services, "ann", f"show {human_id}")
    await say(services, "ct-mgr", f"show {human_id}")
    async with services.db.engine.connect() as conn:
        kinds = [r[0] for r in (await conn.execute(sa.text(
            "SELECT kind FROM incident_event ORDER BY seq"))).all()]
    assert kinds == ["created", "viewed"]


async def test_full_lifecycle_to_close(services: Services) -> None:
    handler = IncidentHandler()
    human_id = await file(services)  # SEV2: voting stopped
    assert (await answer(handler, msg("ct-mgr", action=Action("incident:ack", human_id)),
                                 services)).text.startswith("Updated")
    assert await field(services, human_id, "status") == "triaged"
    await say(services, "ct-mgr", f"assign {human_id} me")
    assert await field(services, human_id, "assignee") == "webchat:local:ct-mgr"
    await say(services, "ct-mgr", f"status {human_id} escalated called vendor")
    text = await say(services, "boss", f"severity {human_id} SEV3")
    assert "reason" in text
    await say(services, "boss", f"severity {human_id} SEV3 backup tabulator in use")
    assert await field(services, human_id, "severity") == "SEV3"
    await say(services, "ct-mgr", f"status {human_id} resolved swapped the unit")
    reply = await answer(handler, msg("ct-mgr", f"close {human_id}", command="/incident"),
                                 services)
    assert reply.form is not None and "lessons learned" in reply.text
    from bot.messages import FormSubmission
    done = await answer(handler, msg("ct-mgr", form=FormSubmission(
        f"incident:close:{human_id}", {"lessons_learned": "Keep a spare tabulator per site"})),
        services)
    assert done.text.startswith("Closed")
    assert await field(services, human_id, "status") == "closed"
    assert "can move to: nothing" in await say(services, "ct-mgr", f"status {human_id} in_progress")


async def test_sev1_cannot_close_without_law_enforcement_fields(services: Services) -> None:
    from bot.messages import FormSubmission
    human_id = await file(services, danger="yes", category="physical_safety", subcategory="")
    reply = await answer(IncidentHandler(), msg("boss", form=FormSubmission(
        f"incident:close:{human_id}", {"lessons_learned": "x"})), services)
    assert reply.form is not None and "law enforcement" in reply.text
    reply = await answer(IncidentHandler(), msg("boss", form=FormSubmission(
        f"incident:close:{human_id}", {"law_enforcement_agency": "Hartford PD",
                                        "law_enforcement_case": "24-118"})), services)
    assert reply.text.startswith("Closed")


async def test_closed_incident_cannot_move_and_bad_input_is_explained(services) -> None:
    human_id = await file(services)
    assert "id like INC-" in await say(services, "boss", "show 42")
    assert "No incident" in await say(services, "boss", "show INC-2026-999999")
    assert "Status must be" in await say(services, "boss", f"status {human_id} done")
    assert "it can move to" in await say(services, "boss", f"status {human_id} new")
    assert await count(services) == 1


@pytest.mark.parametrize("word", ["acknowledged", "Acknowledge", "ack", "triaged"])
async def test_status_acknowledged_is_what_the_acknowledge_button_does(services: Services,
                                                                      word: str) -> None:
    human_id = await file(services)
    reply = await say(services, "ct-mgr", f"status {human_id} {word} on it")
    assert reply.startswith("Updated"), reply
    assert await field(services, human_id, "status") == "triaged"
    assert await field(services, human_id, "acknowledged_at") is not None


async def test_the_other_button_words_work_as_statuses(services: Services) -> None:
    human_id = await file(services)
    assert (await say(services, "ct-mgr", f"status {human_id} escalate county IT")
            ).startswith("Updated")
    assert await field(services, human_id, "status") == "escalated"
    assert (await say(services, "ct-mgr", f"status {human_id} in-progress")).startswith("Updated")
    assert await field(services, human_id, "status") == "in_progress"
    refused = await say(services, "ct-mgr", f"status {human_id} acknowledgedd")
    assert "Status must be one of" in refused and "acknowledged means triaged" in refused
