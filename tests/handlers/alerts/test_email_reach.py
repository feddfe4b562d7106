"""E-mail members of the network and the TLP rules, at the service level.

One group mixes a chat member with e-mail addresses in a listed domain, under a listed wildcard,
at the wildcard's own base domain (not listed), at a look-alike domain and outside: each TLP
label is sent and what reached the outbox, what the recipient rows record and what the status
view says are compared with the rules (RED: never e-mail; AMBER and AMBER+STRICT: listed domains
only; CLEAR and GREEN: anyone).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import select

from app.services import build_services
from bot.config.settings import Settings
from bot.db.engine import Database, utcnow
from bot.errors import UserError
from bot.outbox.queue import find
from handlers.alerts import delivery, reach, service
from handlers.alerts.config import AlertsConfig
from handlers.alerts.forms import validate
from handlers.alerts.links import ack_links
from handlers.alerts.models import Alert, AlertAck, AlertRecipient, NetworkMember
from handlers.alerts.service import Actor, send_key
from tests.handlers.alerts.conftest import alert_settings, compose_values
from tests.support import migrated

DOMAINS = {"amber_domains": ["sos.example.gov", "*.ct.example.gov"]}
CHAT = "webchat:local:@boss"
LISTED = "email:desk@sos.example.gov"
WILDCARD = "email:clerk@town.ct.example.gov"
BASE = "email:info@ct.example.gov"
LOOKALIKE = "email:x@evilsos.example.gov"
OUTSIDE = "email:office@grace.example.org"
ORGS = {CHAT: "State Office", LISTED: "Secretary of State", WILDCARD: "Town of Bolton",
        BASE: "CT portal", LOOKALIKE: "Look-alike", OUTSIDE: "Grace Church"}
EVERYONE = set(ORGS)


def member(destination: str, **extra: Any) -> dict[str, Any]:
    return {"destination": destination, "organisation": ORGS.get(destination, "Org"),
            "jurisdiction": "KS", **extra}


def mixed(tmp_path: Path, **extra: Any) -> Settings:
    groups = [{"name": "mixed", "tier": "T0", "members": [member(d) for d in ORGS]}]
    return alert_settings(tmp_path, groups=groups, email=DOMAINS, **extra)


async def draft(settings: Settings, *, tlp: str, who: str = "webchat:local:bc1",
                parent: Alert | None = None, **values: str) -> Alert:
    db, app = build_services(settings).db, settings.app
    clean, errors = validate(compose_values(**{"tiers": "T0", "tlp": tlp, **values}), app, utcnow(),
                             child=parent is not None,
                             known_groups={g.name for g in app.section(AlertsConfig).groups})
    assert clean is not None, errors
    alert, _ = await service.create_draft(db=db, app=app, actor=Actor(who, app), clean=clean,
                                          reply_to="webchat:local:@bc1", now=utcnow(),
                                          parent=parent)
    await db.close()
    return alert


async def sent(settings: Settings, tlp: str, **values: str) -> tuple[Database, Alert]:
    migrated(settings.env.DATABASE_URL)
    alert = await draft(settings, tlp=tlp, **values)
    db = Database(settings.env.DATABASE_URL)
    await service.send(db=db, app=settings.app, actor=Actor("webchat:local:bc1", settings.app),
                       public_id=alert.public_id, now=utcnow(), links=ack_links(settings))
    return db, alert


async def queued(db: Database, public_id: str, kind: str = "send") -> dict[str, Any]:
    async with db.engine.connect() as conn:
        return {q.destination: q for q in await find(conn, f"alert:{public_id}:{kind}:")}


async def rows(db: Database, alert: Alert) -> dict[str, str]:
    async with db.engine.connect() as conn:
        found = (await conn.execute(sa.text(
            "SELECT destination, excluded FROM alert_recipient WHERE alert_id = :id"),
            {"id": alert.id})).all()
    return dict(found)


@pytest.mark.parametrize(("tlp", "reaches"), [
    ("CLEAR", EVERYONE), ("GREEN", EVERYONE),
    ("AMBER", {CHAT, LISTED, WILDCARD}), ("AMBER+STRICT", {CHAT, LISTED, WILDCARD}),
    ("RED", {CHAT}),
])
async def test_each_label_reaches_only_the_addresses_its_rule_allows(
        tmp_path: Path, tlp: str, reaches: set[str]) -> None:
    db, alert = await sent(mixed(tmp_path), tlp)
    assert set(await queued(db, alert.public_id)) == reaches
    recorded = await rows(db, alert)
    assert set(recorded) == EVERYONE  # everyone has a row; those kept out say why
    reason = {"RED": "tlp_red_email", "AMBER": "tlp_amber_domain",
              "AMBER+STRICT": "tlp_amber_domain"}.get(tlp, "")
    assert {d: r for d, r in recorded.items() if r} == {d: reason for d in EVERYONE - reaches}
    for copy in (await queued(db, alert.public_id)).values():
        assert copy.reply.marking == f"TLP:{tlp}"
    assert await service.excluded_counts(db, alert) == (
        {reason: len(EVERYONE - reaches)} if reason else {})
    view = await delivery.status_reply(db=db, alert=alert)
    await db.close()
    orgs = next(s.text for s in view.sections if s.text.startswith("By organisation"))
    if tlp == "RED":
        assert "Grace Church (e-mail): not sent, TLP:RED never goes by e-mail" in orgs
        assert "Secretary of State (e-mail): not sent, TLP:RED never goes by e-mail" in orgs
    elif reason:
        assert f"Grace Church (e-mail): not sent, TLP:{tlp} outside listed domains" in orgs
        assert f"Look-alike (e-mail): not sent, TLP:{tlp} outside listed domains" in orgs
        assert "Secretary of State (e-mail): not delivered yet" in orgs
    else:
        assert "not sent" not in orgs
    kept_out = len(EVERYONE - reaches)
    assert [(f.label, f.value) for f in view.fields if f.label.startswith("Not sent")] == (
        [("Not sent (TLP)", str(kept_out))] if kept_out else [])
    channels = next(s.text for s in view.sections if s.text.startswith("By channel"))
    assert f"e-mail: 0/5 delivered, 0 failed{f', {kept_out} not sent' if kept_out else ''};" \
        in channels
    # Nobody kept out is waiting for an answer, so nobody kept out is chased either.
    waiting = view.sections[-1].text
    assert all(ORGS[d] not in waiting for d in EVERYONE - reaches)


def test_domain_rules_are_exact_or_explicitly_below() -> None:
    rules = ["sos.example.gov", "*.ct.example.gov"]
    assert reach.domain_listed("sos.example.gov", rules)
    assert not reach.domain_listed("mail.sos.example.gov", rules)  # no wildcard for sos
    assert reach.domain_listed("a.b.ct.example.gov", rules)
    assert not reach.domain_listed("ct.example.gov", rules)  # the wildcard's base: list it
    assert not reach.domain_listed("notct.example.gov", rules)
    assert not reach.domain_listed("sos.example.gov.evil.example", rules)
    config = AlertsConfig(email={"amber_domains": ["SOS.Example.GOV"]})  # type: ignore[arg-type]
    assert reach.exclusion("AMBER", "email:a@sos.example.gov", config) is None
    assert reach.exclusion("AMBER", "slack:T1:C1", config) is None  # chat: tier rules only


async def test_when_the_rules_keep_out_everyone_nothing_is_stored(tmp_path: Path) -> None:
    settings = alert_settings(tmp_path, email=DOMAINS, groups=[
        {"name": "mail", "tier": "T0", "members": [member(LISTED), member(OUTSIDE)]},
        {"name": "outside", "tier": "T1", "members": [member(OUTSIDE)]}])
    migrated(settings.env.DATABASE_URL)
    with pytest.raises(UserError) as refused:
        await draft(settings, tlp="RED")
    assert str(refused.value).startswith(
        "Nobody can receive this alert: all 2 recipient(s) are e-mail addresses it may not go "
        "to (Not sent to 2 e-mail recipient(s): 2 because TLP:RED never goes by e-mail")
    assert "Nothing was sent." in str(refused.value)
    with pytest.raises(UserError, match=r"all 1 recipient\(s\) .* 1 because TLP:AMBER outside"):
        await draft(settings, tlp="AMBER", tiers="", groups="outside")
    await draft(settings, tlp="AMBER")  # the SOS desk may have it: a draft is stored
    db = Database(settings.env.DATABASE_URL)
    async with db.engine.connect() as conn:
        # Only the last draft was stored, and counted against the hourly limit.
        assert (await conn.execute(sa.text("SELECT count(*) FROM alert"))).scalar_one() == 1
        assert (await conn.execute(sa.text(
            "SELECT max(uses) FROM rate_counter"))).scalar_one() == 1
    await db.close()


async def test_a_network_change_before_sending_is_checked_again(tmp_path: Path) -> None:
    settings = alert_settings(tmp_path, email=DOMAINS, groups=[
        {"name": "mail", "tier": "T0", "members": [member(LISTED)]}])
    migrated(settings.env.DATABASE_URL)
    db = Database(settings.env.DATABASE_URL)
    async with db.session() as session:
        session.add(NetworkMember(group_name="mail", tier="T0", destination=CHAT,
                                  organisation="State Office", jurisdiction="KS"))
        await session.commit()
    alert = await draft(settings, tlp="RED")  # the chat member can receive it
    async with db.session() as session:
        await session.execute(sa.delete(NetworkMember))
        await session.commit()
    with pytest.raises(UserError, match="Nobody can receive this alert"):
        await service.send(db=db, app=settings.app, actor=Actor("webchat:local:bc1",
                                                                settings.app),
                           public_id=alert.public_id, now=utcnow(), links=ack_links(settings))
    assert (await service.get_alert(db, alert.public_id)).status == "draft"
    assert await rows(db, alert) == {} and await queued(db, alert.public_id) == {}
    await db.close()


async def test_tier_ceilings_still_apply_to_email_members(tmp_path: Path) -> None:
    settings = alert_settings(tmp_path, email=DOMAINS, groups=[
        {"name": "faith", "tier": "T3", "members": [member(OUTSIDE)]}])
    migrated(settings.env.DATABASE_URL)
    with pytest.raises(UserError, match="TLP:GREEN may not go to T3"):
        await draft(settings, tlp="GREEN", tiers="T3")


async def test_an_update_reaches_who_got_the_alert_and_threads_under_it(tmp_path: Path) -> None:
    settings = mixed(tmp_path)
    db, parent = await sent(settings, "AMBER")
    child = await draft(settings, tlp="GREEN", parent=parent, alert_type="update",
                        headline="Update: hours unchanged")
    await service.send(db=db, app=settings.app, actor=Actor("webchat:local:bc1", settings.app),
                       public_id=child.public_id, now=utcnow(), links=ack_links(settings))
    copies = await queued(db, child.public_id)
    # Those the AMBER alert kept out never got it, so they get no update either.
    assert set(copies) == {CHAT, LISTED, WILDCARD}
    parent_rows = {r.destination: r.outbox_key for r in await recipient_rows(db, parent)}
    for destination, copy in copies.items():
        assert copy.reply.marking == "TLP:GREEN"
        expected = parent_rows[destination] if destination.startswith("email:") else ""
        assert copy.reply.follows == expected
        assert (copy.reply.follows == send_key(parent.public_id, destination)) == bool(expected)
    await db.close()


async def recipient_rows(db: Database, alert: Alert) -> list[AlertRecipient]:
    async with db.session() as session:
        return list((await session.exec(select(AlertRecipient).where(
            AlertRecipient.alert_id == alert.id))).all())


async def test_an_update_labelled_red_keeps_email_out_and_says_so(tmp_path: Path) -> None:
    settings = mixed(tmp_path)
    db, parent = await sent(settings, "GREEN")
    child = await draft(settings, tlp="RED", parent=parent, alert_type="update")
    await service.send(db=db, app=settings.app, actor=Actor("webchat:local:bc1", settings.app),
                       public_id=child.public_id, now=utcnow(), links=ack_links(settings))
    assert set(await queued(db, child.public_id)) == {CHAT}
    assert await service.excluded_counts(db, child) == {"tlp_red_email": 5}
    await db.close()


async def mark_sent(db: Database) -> None:
    async with db.session() as session:
        await session.execute(sa.text("UPDATE outbox_message SET status = 'sent'"))
        await session.commit()


async def test_email_members_are_chased_and_backed_up_like_chat(tmp_path: Path) -> None:
    """Reminder, overdue notice, then the backup: e-mail or chat, within the TLP rules."""
    settings = alert_settings(tmp_path, email=DOMAINS, groups=[{
        "name": "clerks", "tier": "T1", "members": [
            member(WILDCARD, backup="webchat:local:@deputy-ct"),
            member("webchat:local:@clerk-ct", organisation="Hartford",
                   backup="email:deputy@hartford.example.org"),  # outside the listed domains
            member(LISTED, backup="email:backup@sos.example.gov")]}])
    migrated(settings.env.DATABASE_URL)
    db, app = Database(settings.env.DATABASE_URL), settings.app
    alert = await draft(settings, tlp="AMBER", tiers="T1", ack_window="60")
    await service.send(db=db, app=app, actor=Actor("webchat:local:bc1", app),
                       public_id=alert.public_id, now=utcnow(), links=ack_links(settings))
    alert = await service.get_alert(db, alert.public_id)
    assert alert.sent_at is not None
    await mark_sent(db)
    at = alert.sent_at
    assert await delivery.follow_up_once(db=db, app=app, now=at + timedelta(minutes=30)) == 3
    reminders = await queued(db, alert.public_id, "remind")
    assert set(reminders) == {WILDCARD, "webchat:local:@clerk-ct", LISTED}
    for destination in (WILDCARD, LISTED):  # an e-mail reminder threads under the alert
        assert reminders[destination].reply.follows == send_key(alert.public_id, destination)
        assert reminders[destination].reply.text.startswith("REMINDER, please acknowledge")
        assert reminders[destination].reply.marking == "TLP:AMBER"
    assert reminders["webchat:local:@clerk-ct"].reply.follows == ""
    assert await delivery.follow_up_once(db=db, app=app, now=at + timedelta(minutes=60)) == 3
    assert set(await queued(db, alert.public_id, "dm")) == {
        WILDCARD, "webchat:local:@clerk-ct", LISTED}
    await mark_sent(db)
    assert await delivery.follow_up_once(db=db, app=app, now=at + timedelta(minutes=90)) == 2
    backups = await queued(db, alert.public_id, "backup")
    # The Hartford backup is an address AMBER may not reach: that step is left out.
    assert set(backups) == {"webchat:local:@deputy-ct", "email:backup@sos.example.gov"}
    assert backups["email:backup@sos.example.gov"].reply.follows == ""  # never got the alert
    assert await delivery.follow_up_once(db=db, app=app, now=at + timedelta(minutes=200)) == 0

    # The SOS desk answers (as its acknowledgement link records it): it is chased no more,
    # its e-mail backup is told to stand down in a new message in the same thread, and no
    # e-mail is "edited" (mail cannot be).
    (desk,) = [r for r in await recipient_rows(db, alert) if r.destination == LISTED]
    async with db.session() as session:
        session.add(AlertAck(alert_id=alert.id or 0, recipient_id=desk.id or 0, person=LISTED,
                             kind="received", at=at + timedelta(minutes=95)))
        await delivery.enqueue_ack_edit(session, alert, desk, kind="received",
                                        at=at + timedelta(minutes=95), who="", parent="")
        await session.commit()
    async with db.engine.connect() as conn:
        edits = [q for q in await find(conn, f"alert:{alert.public_id}:") if "#" in q.key]
        standdown = await find(conn, f"alert:{alert.public_id}:standdown:")
    assert not [q for q in edits if q.destination.startswith("email:")]
    assert [q.destination for q in standdown] == ["email:backup@sos.example.gov"]
    assert standdown[0].reply.follows == backups["email:backup@sos.example.gov"].key
    assert "Nothing more is needed from you" in standdown[0].reply.text
    view = await delivery.status_reply(db=db, alert=alert)
    orgs = next(s.text for s in view.sections if s.text.startswith("By organisation"))
    assert "Secretary of State (e-mail): received" in orgs
    assert "Town of Bolton (e-mail): waiting" in orgs and "Hartford (web chat): waiting" in orgs
    await db.close()


async def test_need_help_reaches_an_email_help_desk_without_what_it_may_not_read(
        tmp_path: Path) -> None:
    settings = mixed(tmp_path, help_destinations=[CHAT, OUTSIDE, LISTED])
    db, alert = await sent(settings, "AMBER")
    (row,) = [r for r in await recipient_rows(db, alert) if r.destination == CHAT]
    async with db.session() as session:
        delivery.enqueue_help(session, alert, settings.app, person="webchat:local:boss",
                              recipient=row)
        await session.commit()
    told = await queued(db, alert.public_id, "help")
    assert alert.headline in told[CHAT].reply.text and alert.headline in told[LISTED].reply.text
    assert alert.headline not in told[OUTSIDE].reply.text
    assert f"needs help with alert {alert.public_id}." in told[OUTSIDE].reply.text
    assert told[OUTSIDE].reply.marking == "" and told[LISTED].reply.marking == "TLP:AMBER"
    await db.close()
