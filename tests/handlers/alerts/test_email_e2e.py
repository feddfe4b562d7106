"""End to end: a partner added by e-mail with the CLI, alerted through the real outbox.

The running bot (web chat HTTP path, background outbox worker) delivers e-mail through a fake
transport registered as platform "email" that records each send (the SMTP transport itself is
tested with its adapter). Followed as a new user would: ``electionbot network add`` with only an
address, compose, preview (who the TLP rules keep out), second broadcaster's approval, delivery
to every address exactly once with its TLP marking, the answer shown by organisation in
``/alert status``, and an all-clear threaded under each address's own copy.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlmodel import select
from typer.testing import CliRunner

from app.cli.main import app as cli
from bot.db.engine import utcnow
from bot.messages import Destination, Reply
from handlers.alerts.models import AlertAck, AlertRecipient
from tests.handlers.alerts.conftest import ROLES, Chat, alert_settings, compose_values
from tests.handlers.alerts.test_webchat_e2e import settled, wait_inbox
from tests.support import running_bot, wait_until

GRACE = "email:office@grace.example.org"
TOWN = "email:clerk@town.ct.example.gov"
VOLUNTEERS = "email:team@bolton-volunteers.example.org"
CLERKS = {"name": "clerks", "tier": "T1", "members": [
    {"destination": "webchat:local:@clerk-ks", "organisation": "Wichita Clerk",
     "jurisdiction": "KS", "name": "KS clerk"},
    {"destination": TOWN, "organisation": "Town of Bolton", "jurisdiction": "CT",
     "name": "Bolton clerk", "backup": "webchat:local:@deputy-ct"},
    {"destination": VOLUNTEERS, "organisation": "Bolton Volunteers", "jurisdiction": "CT"}]}


class RecordingMail:
    """Stands in for the SMTP transport: records every send (address, outbox key, reply)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Reply]] = []

    async def send(self, destination: Destination, reply: Reply, *, key: str) -> str:
        assert destination.address is not None
        self.sent.append((destination.address, key, reply))
        return f"<{len(self.sent)}@relay.test>"

    async def count(self, at_least: int) -> bool:
        return len(self.sent) >= at_least

    def to(self, address: str) -> list[tuple[str, Reply]]:
        return [(key, reply) for a, key, reply in self.sent if a == address]


@pytest.fixture
async def net(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
              ) -> AsyncIterator[tuple[Chat, RecordingMail]]:
    settings = alert_settings(tmp_path, groups=[CLERKS], help_destinations=[],
                              email={"amber_domains": ["*.ct.example.gov"]})
    monkeypatch.setenv("ELECTIONBOT_CONFIG", str(settings.config_path))
    monkeypatch.setenv("DATABASE_URL", settings.env.DATABASE_URL)
    async with running_bot(settings, background=True) as bot, aiohttp.ClientSession() as session:
        mail = RecordingMail()
        bot.services.outbox.register("email", mail)
        chat = Chat(session, bot.url)
        chat.bot = bot  # type: ignore[attr-defined]
        yield chat, mail


async def compose(chat: Chat, **values: str) -> dict:
    opened = await chat.say("bc1", "alert")
    return await chat.submit("bc1", opened["form"]["form_id"], compose_values(**values))


async def test_an_email_partner_is_added_alerted_answers_and_gets_the_all_clear(
        net: tuple[Chat, RecordingMail]) -> None:
    chat, mail = net
    assert ROLES["broadcaster"] == ["webchat:local:bc1", "webchat:local:bc2"]
    added = await asyncio.to_thread(CliRunner().invoke, cli, [
        "network", "add", "--group", "faith", "--tier", "T3", "--name", "Grace Church",
        "--organisation", "Grace Church", "--destination", "email:office@Grace.Example.org"])
    assert added.exit_code == 0, added.output

    # AMBER: the volunteers' address is outside the listed domains; the preview says so.
    amber = await compose(chat, groups="clerks", tiers="", jurisdictions="", tlp="AMBER")
    assert "3 recipient(s)" not in amber["text"] and "2 recipient(s) (T1: 2)" in amber["text"]
    assert ("Not sent to 1 e-mail recipient(s): 1 because TLP:AMBER outside listed domains"
            in amber["text"])
    await chat.click("bc1", "alert:discard", amber["buttons"][0]["value"])
    red = await compose(chat, groups="faith", tiers="", jurisdictions="", tlp="RED")
    assert "TLP:RED may not go to T3" in red["text"]  # tier ceilings first, for every channel

    preview = await compose(chat, groups="faith,clerks", tiers="", jurisdictions="",
                            tlp="CLEAR")
    assert "4 recipient(s) (T1: 3, T3: 1)" in preview["text"] and "Not sent" not in \
        preview["text"]
    alert_id = preview["buttons"][0]["value"]
    await chat.click("bc1", "alert:send", alert_id)
    await wait_inbox(chat, "bc2", 1)
    approved = await chat.click("bc2", "alert:approve", alert_id)
    assert "going out to 4 destination(s)" in approved["text"]
    await wait_until(lambda: mail.count(3))
    await wait_inbox(chat, "clerk-ks", 1)
    await settled(chat)
    assert Counter(a for a, _k, _r in mail.sent) == {
        "office@grace.example.org": 1, "clerk@town.ct.example.gov": 1,
        "team@bolton-volunteers.example.org": 1}
    ((grace_key, grace_copy),) = mail.to("office@grace.example.org")
    assert grace_copy.marking == "TLP:CLEAR" and grace_copy.follows == ""
    assert grace_key.startswith(f"alert:{alert_id}:send:")

    # Grace Church answers "Received" (recorded as its acknowledgement link would).
    db = chat.bot.services.db  # type: ignore[attr-defined]
    async with db.session() as session:
        grace = (await session.exec(select(AlertRecipient).where(
            AlertRecipient.outbox_key == grace_key))).one()
        session.add(AlertAck(alert_id=grace.alert_id, recipient_id=grace.id or 0, person=GRACE,
                             kind="received", at=utcnow()))
        await session.commit()
    status = await chat.say("bc1", f"alert status {alert_id}")
    shown = "\n".join(s["text"] for s in status["sections"])
    assert "Grace Church (e-mail): received" in shown
    assert "Town of Bolton (e-mail): waiting" in shown
    assert "Wichita Clerk (web chat): waiting" in shown
    assert "e-mail: 3/3 delivered, 0 failed; received 1," in shown

    # The all-clear reaches everyone who got the alert; each e-mail threads under its copy.
    form = await chat.say("bc1", f"alert allclear {alert_id}")
    child = await chat.submit("bc1", form["form"]["form_id"], {
        **{k: v for k, v in compose_values(tlp="CLEAR").items()
           if k not in ("groups", "tiers", "jurisdictions")},
        "alert_type": "all_clear", "headline": "All clear: polling hours confirmed",
        "ack_required": "no"})
    child_id = child["buttons"][0]["value"]
    await chat.click("bc1", "alert:send", child_id)
    await chat.click("bc2", "alert:approve", child_id)
    await wait_until(lambda: mail.count(6))
    await wait_inbox(chat, "clerk-ks", 2)
    await settled(chat)
    assert len(mail.sent) == 6  # nothing twice
    for address in ("office@grace.example.org", "clerk@town.ct.example.gov",
                    "team@bolton-volunteers.example.org"):
        (first_key, first), (second_key, second) = mail.to(address)
        assert first_key.startswith(f"alert:{alert_id}:send:")
        assert second_key.startswith(f"alert:{child_id}:send:")
        assert second.follows == first_key and second.marking == "TLP:CLEAR"
        assert f"ALL CLEAR for alert {alert_id}" in second.sections[-1].context
