"""One transaction per user intent: close, status with a note, severity with a reason.

A failure injected part-way through an intent must leave none of it behind: not the status
without its note, not the close-out fields without the close.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from bot.messages import FormSubmission
from bot.router import answer
from bot.services import Services
from handlers.incidents import service
from handlers.incidents.handler import IncidentHandler
from tests.handlers.incidents.test_filing import count, msg
from tests.handlers.incidents.test_lifecycle import field, file, say


class Injected(Exception):
    """The failure a test injects into the middle of an intent."""


def fail_when(monkeypatch: pytest.MonkeyPatch, hit: Callable[[str, dict[str, Any]], bool]) -> None:
    """Make appending an event for which ``hit(kind, changes)`` holds raise, mid-transaction."""
    real = service._append_event

    async def append(session: Any, key: Any, incident: Any, *, actor: str, kind: str,
                     changes: dict[str, Any], at: Any) -> Any:
        if hit(kind, changes):
            raise Injected(kind)
        return await real(session, key, incident, actor=actor, kind=kind, changes=changes, at=at)

    monkeypatch.setattr(service, "_append_event", append)


def closing(kind: str, changes: dict[str, Any]) -> bool:
    return kind == "status" and changes.get("status", [None, None])[1] == "closed"


async def snapshot(services: Services, human_id: str) -> tuple[object, ...]:
    """What an intent may change: the row's fields, its events, the outbox."""
    names = ("status", "severity", "lessons_learned", "law_enforcement_agency", "resolution")
    return (*[await field(services, human_id, n) for n in names],
            await count(services, "incident_event"), await count(services, "outbox_message"))


async def close_form(services: Services, human_id: str, **values: str) -> str:
    reply = await answer(IncidentHandler(), msg("ct-mgr", form=FormSubmission(
        f"incident:close:{human_id}", values)), services)
    return reply.text


CLOSE_OUT = {"lessons_learned": "Keep a spare tabulator", "law_enforcement_agency": "Hartford PD",
             "law_enforcement_case": "24-118"}


async def test_a_failed_close_keeps_neither_the_close_out_fields_nor_resolved(
        services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    human_id = await file(services)  # SEV2: closing needs police details and lessons learned
    await say(services, "ct-mgr", f"status {human_id} in_progress")
    before = await snapshot(services, human_id)
    fail_when(monkeypatch, closing)
    assert (await close_form(services, human_id, **CLOSE_OUT)).startswith("Sorry")
    assert await snapshot(services, human_id) == before
    monkeypatch.undo()
    assert (await close_form(services, human_id, **CLOSE_OUT)).startswith("Closed")
    assert await field(services, human_id, "status") == "closed"
    assert await field(services, human_id, "lessons_learned") == "Keep a spare tabulator"


async def test_a_failed_note_takes_its_status_change_back(
        services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    human_id = await file(services)
    before = await snapshot(services, human_id)
    fail_when(monkeypatch, lambda kind, _changes: kind == "note")
    assert (await say(services, "ct-mgr", f"status {human_id} escalated county IT called")
            ).startswith("Sorry")
    assert (await say(services, "boss", f"severity {human_id} SEV1 shots reported")
            ).startswith("Sorry")
    assert await snapshot(services, human_id) == before  # no status, severity or notification


async def test_closing_commits_once(services: Services) -> None:
    human_id = await file(services)
    commits: list[object] = []

    def committed(connection: object) -> None:
        commits.append(connection)

    engine = services.db.engine.sync_engine
    sa.event.listen(engine, "commit", committed)
    try:
        assert (await close_form(services, human_id, **CLOSE_OUT)).startswith("Closed")
    finally:
        sa.event.remove(engine, "commit", committed)
    assert len(commits) == 1  # close-out fields, resolved and closed together
    async with services.db.engine.connect() as conn:
        kinds = (await conn.execute(sa.text(
            "SELECT kind FROM incident_event ORDER BY seq"))).scalars().all()
    assert kinds == ["created", "edit", "status", "status"]


async def test_a_note_given_with_closed_is_kept(services: Services) -> None:
    human_id = await file(services)
    reply = await say(services, "ct-mgr", f"status {human_id} closed county replaced the unit")
    assert "Before closing" in reply  # police details and lessons learned still missing
    assert (await close_form(services, human_id, **CLOSE_OUT)).startswith("Closed")
    async with services.db.engine.connect() as conn:
        notes = (await conn.execute(sa.text(
            "SELECT changes FROM incident_event WHERE kind = 'note'"))).scalars().all()
    assert notes == ['{"note": "county replaced the unit"}']
