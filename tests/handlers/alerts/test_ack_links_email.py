"""End to end: an alert e-mailed through a real SMTP relay, answered through its link.

The relay is aiosmtpd on a random port with STARTTLS and AUTH (``tests/fakes/smtp.py``); the
bot runs in production mode (web chat sign-in required) with its outbox draining. The mail that
arrives is parsed as a mail client would; its "Received" link (its path: the public address in
app.yaml is the deployment's, not this test server's) opens the page with no sign-in, GET
records nothing, the button's POST records, and ``/alert status`` shows the answer. An update
then threads under the original message.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from bot.db.engine import utcnow
from handlers.alerts import delivery, service
from handlers.alerts.forms import validate
from handlers.alerts.links import ack_links
from handlers.alerts.service import Actor
from tests.fakes.smtp import SmtpRelay
from tests.handlers.alerts.conftest import compose_values
from tests.handlers.alerts.test_ack_links import KEY, MAIL_GROUP
from tests.support import make_settings, running_bot, wait_until

PUBLIC = "https://bot.example.gov"
JANE = "jane.doe@example.org"
LINK = re.compile(r'href="(https://bot\.example\.gov/alerts/ack/[A-Za-z0-9_.-]+)"[^>]*>\s*'
                  r"([^<]+?)\s*<")


def _parts(received) -> tuple[str, str, str]:
    message = received.message
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return str(message["Subject"]), plain, html


async def test_alert_mailed_through_the_relay_is_acknowledged_by_its_link(
        tmp_path: Path) -> None:
    with SmtpRelay(tmp_path / "relay") as relay:
        settings = make_settings(
            tmp_path, {**relay.env(), "ELECTIONBOT_LINK_KEY": KEY}, demo=False,
            email={"ca_file": str(relay.ca_file)}, webchat={"public_url": PUBLIC},
            roles={"broadcaster": ["slack:T1:UB1", "slack:T1:UB2"]},
            alerts={"groups": [MAIL_GROUP]})
        async with running_bot(settings) as bot, aiohttp.ClientSession() as http:
            outbox = bot.services.outbox
            worker = asyncio.create_task(outbox.run(interval=0.05, coalesce=0.05))
            try:
                db, now = bot.services.db, utcnow()
                actor = Actor("slack:T1:UB1", settings.app)
                clean, errors = validate(compose_values(), settings.app, now, child=False,
                                         known_groups={"libraries"})
                assert clean is not None, errors
                alert, _ = await service.create_draft(db=db, app=settings.app, actor=actor,
                                                      clean=clean, reply_to="slack:T1:@UB1",
                                                      now=now)
                await service.send(db=db, app=settings.app, actor=actor,
                                   public_id=alert.public_id, now=now, links=ack_links(settings))
                await relay.wait_for(2)
                (mail,) = relay.messages_to(JANE)
                subject, plain, html = _parts(mail)
                assert "TLP:GREEN" in subject and "Polling hours are unchanged" in subject
                links = {label.strip(): url for url, label in LINK.findall(html)}
                assert list(links) == ["Received", "Actioned", "Not applicable", "Need help"]
                assert all(url in plain for url in links.values())  # the text part has them too
                assert "Wichita Library" in plain and "libraries" in plain  # why she gets it

                path = urlsplit(links["Received"]).path
                async with http.get(bot.url + path) as page:
                    assert page.status == 200 and "Confirm: Received" in await page.text()
                view = await delivery.status_reply(db=db, alert=alert)
                assert ("Received", "0") in [(f.label, f.value) for f in view.fields]
                async with http.post(bot.url + path, data={"confirm": "received"}) as page:
                    assert page.status == 200
                    assert "Thank you, recorded: Received" in await page.text()
                view = await delivery.status_reply(db=db, alert=alert)
                by_org = next(s.text for s in view.sections
                              if s.text.startswith("By organisation"))
                assert "Wichita Library (e-mail): received" in by_org

                clean, errors = validate(compose_values(alert_type="update",
                                                        headline="Hours extended", tiers="",
                                                        jurisdictions=""),
                                         settings.app, utcnow(), child=True, known_groups=set())
                assert clean is not None, errors
                update, _ = await service.create_draft(
                    db=db, app=settings.app, actor=actor, clean=clean,
                    reply_to="slack:T1:@UB1", now=utcnow(), parent=alert)
                await service.send(db=db, app=settings.app, actor=actor,
                                   public_id=update.public_id, now=utcnow(),
                                   links=ack_links(settings))
                async def threaded() -> bool:
                    return len(relay.messages_to(JANE)) >= 2
                await wait_until(threaded)
                first, second = relay.messages_to(JANE)
                assert second.message["In-Reply-To"] == first.message_id
                assert first.message_id in str(second.message["References"])
            finally:
                worker.cancel()
                await asyncio.gather(worker, return_exceptions=True)
