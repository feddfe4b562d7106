"""Incident notices to ``email:`` destinations: a county contact not in chat, an on-call mailbox.

The e-mail transport is a recorder registered as platform "email" (the SMTP transport is its
own adapter); filing, the outbox and the database are the real ones.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.services import build_services
from bot.config.base import ConfigError
from bot.db.engine import utcnow
from bot.messages import Destination, Reply, Tone
from bot.router import answer
from bot.services import Services
from handlers.incidents.handler import IncidentHandler
from handlers.incidents.permissions import manages
from tests.handlers.incidents.conftest import NOW, ROLES, report_values
from tests.handlers.incidents.test_filing import msg, submit
from tests.support import make_settings, migrated

COUNTY = "email:clerk@johnson.ks.example"
ON_CALL = "email:OnCall@example.org"
IT_DESK = "email:it@example.org"
INCIDENTS = {
    "on_call": ["webchat:local:@oncall", "email:OnCall@Example.ORG"],
    "managers": {"CT": ["webchat:local:ct-mgr"],
                 "KS": ["webchat:local:ks-mgr", "email:clerk@Johnson.KS.example"]},
    "routing": [
        {"severities": ["SEV1", "SEV2"], "notify": ["webchat:local:@boss"]},
        {"jurisdictions": ["KS"], "categories": ["cyber"], "notify": [IT_DESK]},
    ],
}


@dataclass
class Sent:
    """A transport recording (destination, reply, key) of every send."""

    sent: list[tuple[str, Reply, str]] = field(default_factory=list)

    async def send(self, destination: Destination, reply: Reply, *, key: str) -> str:
        self.sent.append((str(destination), reply, key))
        return f"ref:{len(self.sent)}"

    def to(self, destination: str) -> list[tuple[Reply, str]]:
        return [(r, k) for d, r, k in self.sent if d == destination]


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    settings = make_settings(tmp_path, incidents=INCIDENTS, roles=ROLES)
    migrated(settings.env.DATABASE_URL)
    svc = build_services(settings)
    svc.clock = lambda: NOW
    yield svc
    await svc.db.close()


async def _file(services: Services, user: str = "bob", **values: str) -> str:
    reply = await answer(IncidentHandler(), submit(
        report_values(jurisdiction="KS", **values), form_id=f"incident:report:{user}{len(values)}",
        user=user), services)
    assert "Filed" in reply.text, reply.text
    return reply.text.split()[-1].rstrip(".")


async def _deliver(services: Services) -> tuple[Sent, Sent]:
    """One outbox pass (sends are queued at the real time: the pass runs a minute after it)."""
    mail, chat = Sent(), Sent()
    services.outbox.register("email", mail)
    services.outbox.register("webchat", chat)
    services.clock = lambda: utcnow() + timedelta(minutes=1)
    try:
        await services.outbox.run_once()
    finally:
        services.clock = lambda: NOW
    return mail, chat


def test_an_email_manager_is_a_contact_in_normal_form_granted_nothing(tmp_path: Path) -> None:
    from handlers.incidents.config import IncidentSettings

    app = make_settings(tmp_path, incidents=INCIDENTS, roles=ROLES).app
    settings = app.section(IncidentSettings)
    assert settings.managers["KS"] == ["webchat:local:ks-mgr", COUNTY]
    assert settings.on_call == ["webchat:local:@oncall", ON_CALL]
    assert settings.email_managers("KS") == [COUNTY] and settings.email_managers("CT") == []
    assert manages(app, "webchat:local:ks-mgr", "KS")
    assert not manages(app, COUNTY, "KS")  # an address is no one who can sign in and act
    with pytest.raises(ConfigError, match="managers"):
        make_settings(tmp_path, incidents={"managers": {"KS": ["email:not-an-address"]}})


async def test_a_county_contact_not_in_chat_gets_the_notice_by_email(
        services: Services) -> None:
    human_id = await _file(services)
    mail, chat = await _deliver(services)
    [(notice, key)] = mail.to(COUNTY)
    assert key == f"incident:{human_id}:new:new:SEV2:{COUNTY}"
    [(chat_notice, _)] = chat.to("webchat:local:@boss")
    # The same notice as chat (title, summary, severity wording), without the chat buttons.
    assert (notice.title, notice.text, notice.tone) == (chat_notice.title, chat_notice.text,
                                                        chat_notice.tone)
    assert notice.sections[0] == chat_notice.sections[0]
    assert chat_notice.buttons and notice.buttons == ()
    assert notice.sections[-1].text == (
        f"Incident managers act on it in chat (/incident show {human_id}). Not in chat? "
        "Contact Kansas Elections Division (800-262-VOTE (8683)).")
    assert notice.footer == (
        "You receive this because Test Office lists this address as an incident contact for "
        "Kansas. Incident records may be public records. Questions: Kansas Elections Division "
        "(800-262-VOTE (8683)).")
    assert notice.follows == ""
    assert mail.to(ON_CALL) == [] and mail.to(IT_DESK) == []  # not SEV1, not cyber
    assert "Bob" not in str(notice) and "webchat:local:bob" not in str(notice)  # no reporter


async def test_sev1_pages_the_on_call_mailbox_with_the_danger_line(services: Services) -> None:
    await _file(services, danger="yes", category="physical_safety",
                subcategory="physical_safety/weapon")
    mail, chat = await _deliver(services)
    [(page, _)] = mail.to(ON_CALL)
    assert page.sections[0].text.startswith("**SEV1: someone may be in immediate danger.**")
    assert page.footer.startswith("You receive this because this address is on Test Office's "
                                  "on-call list, paged for SEV1 incidents.")
    assert len(chat.to("webchat:local:@oncall")) == 1 and len(mail.to(COUNTY)) == 1


async def test_a_routing_rule_to_an_address_says_which_incidents_it_sends(
        services: Services) -> None:
    await _file(services, category="cyber", subcategory="")
    mail, _chat = await _deliver(services)
    [(notice, _)] = mail.to(IT_DESK)
    assert notice.footer.startswith("You receive this because Test Office sends Cyber "
                                    "incidents in Kansas to this address. ")


async def test_updates_thread_under_the_first_email_and_nothing_is_edited(
        services: Services) -> None:
    human_id = await _file(services)
    mail, chat = await _deliver(services)
    [(_, first_key)] = mail.to(COUNTY)
    handler = IncidentHandler()
    for text in (f"assign {human_id} me", f"status {human_id} escalated",
                 f"status {human_id} resolved"):
        reply = await answer(handler, msg("ks-mgr", text, command="/incident"), services)
        assert reply.tone != Tone.DENIED, reply.text
    mail, chat = await _deliver(services)
    # Chat notices are edited in place and get the announced changes; the mailbox gets the
    # same two changes as new messages, threaded under its first one.
    assert sorted(k.split(":")[3] for _, _, k in chat.sent) == ["escalated", "resolved"]
    updates = mail.to(COUNTY)
    updates.sort(key=lambda u: u[1])
    assert [r.title for r, _ in updates] == ["Incident update", "Incident update"]
    assert [k for _, k in updates] == [f"incident:{human_id}:status:escalated:SEV2:{COUNTY}",
                                       f"incident:{human_id}:status:resolved:SEV2:{COUNTY}"]
    assert {r.follows for r, _ in updates} == {first_key}
    assert all(r.footer.startswith("You receive this because Test Office lists this address")
               and r.buttons == () for r, _ in updates)
    async with services.db.engine.connect() as conn:
        rows = (await conn.execute(sa.text(
            "SELECT key, status FROM outbox_message WHERE destination LIKE 'email:%' "
            "ORDER BY key"))).all()
    # No edit of an e-mail was queued (none could be sent: no dead letters either).
    assert [tuple(r) for r in rows] == [(first_key, "sent"), (updates[0][1], "sent"),
                                        (updates[1][1], "sent")]  # new < status (by key)
