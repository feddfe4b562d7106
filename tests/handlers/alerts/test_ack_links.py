"""One-click acknowledgement links in e-mailed alerts, over the real server and real SQLite.

Each e-mail recipient's copy carries four signed links; the page they open records nothing on
GET or HEAD (mail scanners fetch links) and records on POST exactly as a chat click does, so
``/alert status`` sees it. Replays and a second answer keep the first (as in chat); forged,
expired, mismatched, cross-site and odd requests record nothing and never get a 5xx.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
import sqlalchemy as sa

from bot.config.base import ConfigError
from bot.config.settings import Settings
from bot.db.engine import utcnow
from bot.errors import UserError
from bot.messages import Reply
from bot.outbox.queue import find
from handlers.alerts import delivery, service
from handlers.alerts.enums import AckKind
from handlers.alerts.forms import validate
from handlers.alerts.links import AckClaim, BadToken, LinkSigner, ack_links
from handlers.alerts.models import Alert
from handlers.alerts.service import Actor, key_prefix
from tests.handlers.alerts.conftest import ALERTS, ROLES, Chat, compose_values
from tests.support import RunningBot, make_settings, running_bot

KEY = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0"
JANE = "email:jane.doe@example.org"
DESK = "email:desk@library.example"
HEADLINE = "Polls <b>open</b> & \"hours\""
MAIL_GROUP = {"name": "libraries", "tier": "T1", "members": [
    {"destination": JANE, "organisation": "Wichita Library", "jurisdiction": "KS",
     "name": "Jane Doe"},
    {"destination": DESK, "organisation": "Topeka Library", "jurisdiction": "KS"}]}


def _settings(tmp_path: Path, **extra: Any) -> Settings:
    """Demo mode: the web chat network of conftest plus two e-mail members in KS."""
    alerts = {**ALERTS, "groups": [*ALERTS["groups"], MAIL_GROUP],
              "help_destinations": ["webchat:local:@boss"], **extra}
    return make_settings(tmp_path, env={"ELECTIONBOT_LINK_KEY": KEY}, roles=ROLES, alerts=alerts)


async def _send(bot: RunningBot, **values: str) -> Alert:
    """Compose and send an alert to T1 in KS as bc1 (no approval needed), links included."""
    settings, db, now = bot.services.settings, bot.services.db, utcnow()
    actor = Actor(ROLES["broadcaster"][0], settings.app)
    clean, errors = validate(compose_values(headline=HEADLINE, **values), settings.app, now,
                             child=False, known_groups={"staff", "clerks", "partners",
                                                        "libraries"})
    assert clean is not None, errors
    alert, _ = await service.create_draft(db=db, app=settings.app, actor=actor, clean=clean,
                                          reply_to="webchat:local:@bc1", now=now)
    sent, _count = await service.send(db=db, app=settings.app, actor=actor,
                                      public_id=alert.public_id, now=now,
                                      links=ack_links(settings))
    return sent


async def _copies(bot: RunningBot, alert: Alert) -> dict[str, Reply]:
    async with bot.services.db.engine.connect() as conn:
        queued = await find(conn, key_prefix(alert.public_id, "send"))
    return {q.destination: q.reply for q in queued}


async def _links(bot: RunningBot, alert: Alert, dest: str = JANE) -> dict[str, str]:
    """The page path of each answer link in ``dest``'s copy, by answer label."""
    copy = (await _copies(bot, alert))[dest]
    return {link.label: urlsplit(link.url).path for link in copy.links}


async def _acks(bot: RunningBot) -> list[tuple[str, str]]:
    async with bot.services.db.engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(sa.text(
            "SELECT person, kind FROM alert_ack ORDER BY id"))).all()]


async def _audit(bot: RunningBot) -> list[tuple[str, str, bool, str]]:
    async with bot.services.db.engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(sa.text(
            "SELECT actor, action, allowed, reason FROM audit_entry ORDER BY id"))).all()]


@asynccontextmanager
async def _client(settings: Settings) -> AsyncIterator[tuple[RunningBot, aiohttp.ClientSession]]:
    async with running_bot(settings) as bot, aiohttp.ClientSession() as session:
        yield bot, session


async def _get(session: aiohttp.ClientSession, bot: RunningBot, path: str,
               method: str = "GET", **kw: Any) -> tuple[int, str, dict[str, str]]:
    async with session.request(method, bot.url + path, allow_redirects=False, **kw) as resp:
        return resp.status, await resp.text(), dict(resp.headers)


async def _confirm(session: aiohttp.ClientSession, bot: RunningBot, path: str, kind: str,
                   **kw: Any) -> tuple[int, str]:
    status, text, _ = await _get(session, bot, path, "POST", data={"confirm": kind}, **kw)
    return status, text


async def test_each_email_copy_carries_its_own_signed_links(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    async with _client(settings) as (bot, _session):
        alert = await _send(bot)
        copies = await _copies(bot, alert)
        async with bot.services.db.engine.connect() as conn:
            rows = dict((await conn.execute(sa.text(
                "SELECT destination, id FROM alert_recipient"))).all())
    chat, jane, desk = copies["webchat:local:@clerk-ks"], copies[JANE], copies[DESK]
    assert chat.buttons and not chat.links and not chat.footer  # chat copies unchanged
    assert not jane.buttons and [link.label for link in jane.links] == [
        "Received", "Actioned", "Not applicable", "Need help"]
    assert jane.marking == "TLP:GREEN" and desk.marking == "TLP:GREEN"
    assert '"libraries" group (T1)' in jane.footer and "Wichita Library" in jane.footer
    assert "Kansas Elections Division" in jane.footer  # KS's contact, whom to ask
    assert "Topeka Library" in desk.footer and jane.follows == "" and desk.follows == ""
    signer = ack_links(settings).ready()
    for reply, dest in ((jane, JANE), (desk, DESK)):
        for link, kind in zip(reply.links, AckKind, strict=True):
            assert link.url.startswith("http://127.0.0.1:3978/alerts/ack/")  # the demo address
            token = link.url.rsplit("/", 1)[1]
            assert len(token) < 200 and len(link.url) < 200
            claim = signer.verify(token)
            assert (claim.public_id, claim.recipient_id, claim.kind) == (
                alert.public_id, rows[dest], kind)
            # The alert's expiry (24 h, under the 7-day cap), to the second, never after it.
            assert claim.expires == alert.expires_at.replace(microsecond=0)
    assert len({link.url for link in (*jane.links, *desk.links)}) == 8


async def test_get_and_head_record_nothing_post_records_like_chat(tmp_path: Path) -> None:
    async with _client(_settings(tmp_path)) as (bot, session):
        alert = await _send(bot)
        received = (await _links(bot, alert))["Received"]
        for method in ("GET", "HEAD", "GET"):  # a scanner's prefetch, then the person
            status, text, headers = await _get(session, bot, received, method)
            assert status == 200
        assert await _acks(bot) == []
        assert "Polls &lt;b&gt;open&lt;/b&gt; &amp; &quot;hours&quot;" in text
        assert "<b>open" not in text and "<script" not in text
        assert '<html lang="en">' in text and 'name="viewport"' in text
        assert '<button type="submit">Confirm: Received</button>' in text
        assert headers["Cache-Control"] == "no-store"
        assert "default-src 'none'" in headers["Content-Security-Policy"]
        assert headers["Referrer-Policy"] == "same-origin"

        status, text = await _confirm(session, bot, received, "received")
        assert status == 200 and "Thank you, recorded: Received" in text
        assert await _acks(bot) == [("email:relay:jane.doe@example.org", "received")]
        view = await delivery.status_reply(db=bot.services.db, alert=alert)
        assert ("Received", "1") in [(f.label, f.value) for f in view.fields]
        by_org = next(s.text for s in view.sections if s.text.startswith("By organisation"))
        assert "Wichita Library (e-mail): received" in by_org
        assert "Topeka Library (e-mail): not delivered yet" in by_org  # nothing proves it yet
        actor, action, allowed, reason = (await _audit(bot))[-1]
        assert action == "alert:ack-link" and allowed and reason == "received recorded"
        assert "@" not in actor  # the recipient row, never the address


async def test_replay_and_a_second_answer_keep_the_first(tmp_path: Path) -> None:
    async with _client(_settings(tmp_path)) as (bot, session):
        alert = await _send(bot)
        links = await _links(bot, alert)
        assert (await _confirm(session, bot, links["Received"], "received"))[0] == 200
        for path, kind in ((links["Received"], "received"), (links["Actioned"], "actioned")):
            status, text = await _confirm(session, bot, path, kind)
            assert status == 200 and "Already recorded: Received at " in text
            status, text, _ = await _get(session, bot, path)
            assert status == 200 and "Already recorded: Received at " in text
            assert "<button" not in text
        assert await _acks(bot) == [("email:relay:jane.doe@example.org", "received")]


async def test_need_help_after_an_answer_tells_staff_once(tmp_path: Path) -> None:
    async with _client(_settings(tmp_path)) as (bot, session):
        alert = await _send(bot)
        links = await _links(bot, alert)
        await _confirm(session, bot, links["Received"], "received")
        status, text, _ = await _get(session, bot, links["Need help"])
        assert status == 200 and "Confirm: Need help" in text and "stays recorded" in text
        status, text = await _confirm(session, bot, links["Need help"], "need_help")
        assert status == 200 and "State staff have been told you need help" in text
        status, text = await _confirm(session, bot, links["Need help"], "need_help")
        assert status == 200 and "already know you need help" in text
        async with bot.services.db.engine.connect() as conn:
            told = await find(conn, key_prefix(alert.public_id, "help"))
        assert [q.destination for q in told] == ["webchat:local:@boss"]
        # Staff are told whom to contact: the address (no chat identity to ping).
        assert told[0].reply.mentions[0].label == "jane.doe@example.org"
        assert "Jane Doe (Wichita Library) needs help" in told[0].reply.text
        view = await delivery.status_reply(db=bot.services.db, alert=alert)
        assert ("Need help", "1") in [(f.label, f.value) for f in view.fields]


async def test_forged_and_tampered_tokens_are_refused(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    async with _client(settings) as (bot, session):
        alert = await _send(bot)
        path = (await _links(bot, alert))["Received"]
        head, payload, sig = path.rsplit("/", 1)[1].split(".")
        other = LinkSigner([b"another key of the same length, 40 chars."])
        rid = ack_links(settings).ready().verify(path.rsplit("/", 1)[1]).recipient_id
        forged = [
            f"{head}.{payload}.{sig[:-2]}{'AB' if sig[-2:] != 'AB' else 'CD'}",  # signature
            f"{head}.{payload[:-2]}xx.{sig}",  # payload changed
            other.sign(AckClaim(alert.public_id, rid, AckKind.RECEIVED, utcnow() +
                                timedelta(hours=1))),  # another key
            f"eyJhbGciOiJub25lIn0.{payload}.{sig}",  # alg "none"
        ]
        for token in forged:
            for method in ("GET", "POST"):
                status, text, _ = await _get(session, bot, f"/alerts/ack/{token}", method,
                                             data={"confirm": "received"})
                assert status == 400 and "This link is not valid" in text, token
        assert await _acks(bot) == []


async def test_expired_link_names_whom_to_contact(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    async with _client(settings) as (bot, session):
        alert = await _send(bot)
        good = ack_links(settings).ready().verify(
            (await _links(bot, alert))["Received"].rsplit("/", 1)[1])
        late = dataclasses.replace(good, expires=utcnow() - timedelta(seconds=1))
        path = f"/alerts/ack/{ack_links(settings).ready().sign(late)}"
        for method in ("GET", "POST"):
            status, text, _ = await _get(session, bot, path, method, data={"confirm": "received"})
            assert status == 410 and "This link has expired" in text
            assert "Kansas Elections Division" in text  # the member's jurisdiction's contact
        assert await _acks(bot) == []


async def test_a_link_naming_another_recipient_is_refused_and_audited(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    async with _client(settings) as (bot, session):
        first, second = await _send(bot), await _send(bot)
        signer = ack_links(settings).ready()
        good = signer.verify((await _links(bot, first))["Received"].rsplit("/", 1)[1])
        async with bot.services.db.engine.connect() as conn:
            chat_row = (await conn.execute(sa.text(
                "SELECT id FROM alert_recipient WHERE alert_id = :a AND destination = :d"),
                {"a": first.id, "d": "webchat:local:@clerk-ks"})).scalar_one()
        wrong = [dataclasses.replace(good, recipient_id=chat_row),  # not an e-mail recipient
                 dataclasses.replace(good, public_id=second.public_id),  # another alert's row
                 dataclasses.replace(good, recipient_id=999_999)]  # no such row
        for claim in wrong:
            status, text = await _confirm(session, bot, f"/alerts/ack/{signer.sign(claim)}",
                                          "received")
            assert status == 403 and "This link cannot be used" in text
        assert await _acks(bot) == []
        refused = [row for row in await _audit(bot) if row[1] == "alert:ack-link"]
        assert len(refused) == 3 and not any(row[2] for row in refused)
        assert all("@" not in row[0] for row in refused)


async def test_post_from_another_site_or_without_the_form_records_nothing(tmp_path: Path) -> None:
    async with _client(_settings(tmp_path)) as (bot, session):
        alert = await _send(bot)
        path = (await _links(bot, alert))["Received"]
        status, text = await _confirm(session, bot, path, "received",
                                      headers={"Origin": "https://evil.example"})
        assert status == 403 and "another web site" in text
        status, text = await _confirm(session, bot, path, "received",
                                      headers={"Sec-Fetch-Site": "cross-site"})
        assert status == 403
        for data in ({}, {"confirm": "actioned"}):  # a bare POST; another answer's field
            status, text, _ = await _get(session, bot, path, "POST", data=data)
            assert status == 400 and "Use the button" in text
        status, _text, _ = await _get(session, bot, path, "POST", data=b"{}",
                                      headers={"Content-Type": "application/json"})
        assert status == 415
        assert await _acks(bot) == []
        # The page's own form from its own origin (or with Origin: null) records.
        status, text = await _confirm(session, bot, path, "received", headers={"Origin": "null"})
        assert status == 200 and "recorded: Received" in text


ODD = ["", "x", "a.b.c", "..", "%00", "%ff%fe", "\u00e9t\u00e9", "A" * 5000, "a." * 300,
       "eyJhbGciOiJIUzI1NiJ9..", "eyJhbGciOiJIUzI1NiJ9.%2e%2e.AAAA", "%2F..%2F..%2Fetc",
       "eyJ" + "A" * 30 + "." + "B" * 40 + "." + "C" * 43, "<script>alert(1)</script>",
       "eyJhbGciOiJIUzI1NiJ9." + "_" * 40 + "." + "-" * 43]


async def test_odd_tokens_never_get_a_server_error(tmp_path: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    async with _client(_settings(tmp_path)) as (bot, session):
        alert = await _send(bot)
        good = (await _links(bot, alert))["Received"].rsplit("/", 1)[1]
        tokens = [*ODD, good[:-1], good + "A", good.upper(), good + ".x", good.replace(".", "..")]
        with caplog.at_level(logging.ERROR):
            for token in tokens:
                for method, kw in (("GET", {}), ("HEAD", {}), ("POST", {"data": {"confirm": "x"}}),
                                   ("POST", {"data": b"\xff\xfe", "headers": {
                                       "Content-Type": "application/x-www-form-urlencoded"}}),
                                   ("POST", {"data": "a=" + "b" * 5000})):
                    status, _text, _ = await _get(session, bot, f"/alerts/ack/{token}", method,
                                                  **kw)
                    assert 400 <= status < 500, (token[:60], method, status)
        assert await _acks(bot) == []
        assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


async def test_views_and_answers_are_limited_per_client_address(tmp_path: Path) -> None:
    settings = _settings(tmp_path, ack_links={"per_address_per_hour": 3})
    async with _client(settings) as (bot, session):
        alert = await _send(bot)
        path = (await _links(bot, alert))["Received"]
        statuses = [(await _get(session, bot, path))[0] for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        status, text, headers = await _get(session, bot, path)
        assert status == 429 and "Too many requests" in text and headers["Retry-After"]
        # Confirmations are counted apart: the person can still answer after a scanner's views.
        assert (await _confirm(session, bot, path, "received"))[0] == 200
        assert len(await _acks(bot)) == 1


async def test_an_update_threads_under_the_original_email(tmp_path: Path) -> None:
    async with _client(_settings(tmp_path)) as (bot, _session):
        original = await _send(bot)
        settings, db, now = bot.services.settings, bot.services.db, utcnow()
        actor = Actor(ROLES["broadcaster"][0], settings.app)
        clean, errors = validate(compose_values(alert_type="update", headline="Hours extended",
                                                tiers="", jurisdictions=""),
                                 settings.app, now, child=True, known_groups=set())
        assert clean is not None, errors
        update, _ = await service.create_draft(db=db, app=settings.app, actor=actor, clean=clean,
                                               reply_to="webchat:local:@bc1", now=now,
                                               parent=original)
        await service.send(db=db, app=settings.app, actor=actor, public_id=update.public_id,
                           now=now, links=ack_links(settings))
        first, then = await _copies(bot, original), await _copies(bot, update)
    keys = {q: service.delivery_key(original.public_id, "send", q) for q in (JANE, DESK)}
    assert then[JANE].follows == keys[JANE] and then[DESK].follows == keys[DESK]
    assert then[JANE].links and then[JANE].links != first[JANE].links
    assert then["webchat:local:@clerk-ks"].follows == ""  # chat copies thread as before


def _production(tmp_path: Path, env: dict[str, str], **webchat: Any) -> Settings:
    """Production mode (web chat sign-in required) with Slack broadcasters, e-mail members."""
    return make_settings(
        tmp_path, env=env, demo=False, webchat=webchat,
        roles={"broadcaster": ["slack:T1:UB1", "slack:T1:UB2"]},
        alerts={"groups": [{"name": "clerks", "tier": "T1", "members": [
            {"destination": "slack:T1:@UKS", "organisation": "Wichita Clerk",
             "jurisdiction": "KS"}]}, MAIL_GROUP]})


async def _draft(bot: RunningBot) -> Alert:
    settings, now = bot.services.settings, utcnow()
    clean, errors = validate(compose_values(), settings.app, now, child=False,
                             known_groups={"clerks", "libraries"})
    assert clean is not None, errors
    alert, _ = await service.create_draft(
        db=bot.services.db, app=settings.app, actor=Actor("slack:T1:UB1", settings.app),
        clean=clean, reply_to="slack:T1:@UB1", now=now)
    return alert


async def test_production_links_work_without_sign_in(tmp_path: Path) -> None:
    settings = _production(tmp_path, {"ELECTIONBOT_LINK_KEY": KEY},
                           public_url="https://bot.example.gov")
    async with _client(settings) as (bot, session):
        draft = await _draft(bot)
        await service.send(db=bot.services.db, app=settings.app,
                           actor=Actor("slack:T1:UB1", settings.app), public_id=draft.public_id,
                           now=utcnow(), links=ack_links(settings))
        copy = (await _copies(bot, draft))[JANE]
        assert copy.links[0].url.startswith("https://bot.example.gov/alerts/ack/")
        path = urlsplit(copy.links[1].url).path
        status, text, _ = await _get(session, bot, path)  # no session cookie at all
        assert status == 200 and "Confirm: Actioned" in text
        status, text = await _confirm(session, bot, path, "actioned",
                                      headers={"Origin": "https://bot.example.gov"})
        assert status == 200 and "Thank you, recorded: Actioned" in text
        assert await _acks(bot) == [("email:relay:jane.doe@example.org", "actioned")]


@pytest.mark.parametrize(("env", "web", "named"), [
    ({}, {"public_url": "https://bot.example.gov"}, "ELECTIONBOT_LINK_KEY"),
    ({"ELECTIONBOT_LINK_KEY": KEY}, {}, "webchat.public_url"),
])
async def test_production_without_key_or_address_refuses_to_send(
        tmp_path: Path, env: dict[str, str], web: dict[str, str], named: str) -> None:
    settings = _production(tmp_path, env, **web)
    async with _client(settings) as (bot, session):
        draft = await _draft(bot)
        with pytest.raises(UserError, match=named) as refused:
            await service.send(db=bot.services.db, app=settings.app,
                               actor=Actor("slack:T1:UB1", settings.app),
                               public_id=draft.public_id, now=utcnow(),
                               links=ack_links(settings))
        assert "Nothing was sent" in str(refused.value)
        assert await _copies(bot, draft) == {}
        assert (await service.get_alert(bot.services.db, draft.public_id)).status == "draft"
        if not env:  # without a key, no link can be checked either: a clear 503, not a 500
            status, text, _ = await _get(session, bot, "/alerts/ack/whatever")
            assert status == 503 and "not available" in text


def test_link_keys_rotate_and_short_keys_are_refused(tmp_path: Path) -> None:
    old, new = KEY, KEY[::-1]
    claim = AckClaim("AL-ABCDEFGH", 42, AckKind.NOT_APPLICABLE, utcnow() + timedelta(days=1))
    token = LinkSigner([old.encode()]).sign(claim)
    rotated = LinkSigner([new.encode(), old.encode()])
    assert rotated.verify(token) == dataclasses.replace(
        claim, expires=claim.expires.replace(microsecond=0))
    assert rotated.sign(claim) != token and LinkSigner([new.encode()]).verify(
        rotated.sign(claim)).recipient_id == 42
    with pytest.raises(BadToken):
        LinkSigner([new.encode()]).verify(token)
    with pytest.raises(ConfigError, match="ELECTIONBOT_LINK_KEY"):
        make_settings(tmp_path, env={"ELECTIONBOT_LINK_KEY": f"{KEY},short"})


async def test_sent_from_chat_answered_by_link_shown_in_alert_status(tmp_path: Path) -> None:
    """The whole story over HTTP: a broadcaster sends from the web chat, the e-mail member
    answers through the link's page, and ``alert status`` in the chat shows it."""
    async with _client(_settings(tmp_path)) as (bot, session):
        chat = Chat(session, bot.url)
        opened = await chat.say("bc1", "alert")
        preview = await chat.submit("bc1", opened["form"]["form_id"], compose_values())
        assert "3 recipient(s) (T1: 3)" in preview["text"]
        alert_id = preview["buttons"][0]["value"]
        assert "going out to 3" in (await chat.click("bc1", "alert:send", alert_id))["text"]
        alert = await service.get_alert(bot.services.db, alert_id)
        path = (await _links(bot, alert, DESK))["Not applicable"]
        assert (await _get(session, bot, path))[0] == 200
        status, text = await _confirm(session, bot, path, "not_applicable")
        assert status == 200 and "Thank you, recorded: Not applicable" in text
        shown = await chat.say("bc1", f"alert status {alert_id}")
        joined = "\n".join(s["text"] for s in shown["sections"])
        assert "Topeka Library (e-mail): not applicable" in joined
        assert "Wichita Library (e-mail): not delivered yet" in joined


async def test_an_email_reminder_carries_the_same_links(tmp_path: Path) -> None:
    async with _client(_settings(tmp_path)) as (bot, session):
        alert = await _send(bot, ack_window="60")
        async with bot.services.db.session() as db_session:  # delivered, as the worker marks
            await db_session.execute(sa.text("UPDATE outbox_message SET status = 'sent'"))
            await db_session.commit()
        settings = bot.services.settings
        assert alert.sent_at is not None
        added = await delivery.follow_up_once(db=bot.services.db, app=settings.app,
                                              now=alert.sent_at + timedelta(minutes=30),
                                              links=ack_links(settings))
        assert added == 3  # the web chat clerk and both addresses
        async with bot.services.db.engine.connect() as conn:
            reminders = {q.destination: q.reply
                         for q in await find(conn, key_prefix(alert.public_id, "remind"))}
        first = (await _copies(bot, alert))[JANE]
        reminder = reminders[JANE]
        assert reminder.text.startswith("REMINDER, please acknowledge")
        assert reminder.links == first.links and not reminder.buttons
        assert reminder.follows == service.send_key(alert.public_id, JANE)
        assert reminders["webchat:local:@clerk-ks"].buttons  # chat reminders keep buttons
        path = urlsplit(reminder.links[0].url).path
        assert (await _confirm(session, bot, path, "received"))[0] == 200
        assert await _acks(bot) == [("email:relay:jane.doe@example.org", "received")]
