"""The sender's live status message: posted once, edited as deliveries and acks change."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from app.services import build_services
from bot.adapters.webchat.endpoint import WebChatTransport
from bot.db.engine import utcnow
from bot.outbox.worker import Outbox
from handlers.alerts import service
from handlers.alerts.forms import validate
from handlers.alerts.live_status import refresh_once
from handlers.alerts.service import Actor
from tests.handlers.alerts.conftest import alert_settings, compose_values
from tests.support import migrated


async def test_status_message_is_posted_then_edited_once_per_change(tmp_path: Path) -> None:
    extra = {"groups": [{"name": "few", "tier": "T1", "members": [
        {"destination": f"webchat:local:@m{i}", "organisation": f"Org {i}",
         "jurisdiction": "KS"} for i in range(3)]}]}
    settings = alert_settings(tmp_path, **extra)
    migrated(settings.env.DATABASE_URL)
    services = build_services(settings)
    db, now = services.db, utcnow()
    actor = Actor("webchat:local:bc1", settings.app)
    clean, errors = validate(compose_values(tiers="", groups="few"), settings.app, now,
                             child=False, known_groups={"few"})
    assert clean is not None, errors
    alert, _ = await service.create_draft(db=db, app=settings.app, actor=actor, clean=clean,
                                          reply_to="webchat:local:@bc1", now=now)
    await service.send(db=db, app=settings.app, actor=actor, public_id=alert.public_id, now=now)
    outbox = Outbox(db)
    outbox.register("webchat", WebChatTransport(db))

    async def sender_inbox() -> list[str]:
        async with db.engine.connect() as conn:
            rows = (await conn.execute(sa.text(
                "SELECT payload FROM webchat_inbox WHERE user_id = 'bc1' ORDER BY id"))).all()
        return ["\n".join(s["text"] for s in json.loads(p)["sections"]) for (p,) in rows]

    assert await refresh_once(db=db, now=now) == 1  # first view: nothing delivered yet
    while await outbox.run_once():
        pass
    assert await refresh_once(db=db, now=now) == 1  # deliveries landed: one edit
    assert await refresh_once(db=db, now=now) == 0  # nothing changed: nothing queued
    while await outbox.run_once():
        pass
    await service.acknowledge(db=db, public_id=alert.public_id, person="webchat:local:m0",
                              channel="webchat:local:@m0", kind="received", now=now)
    assert await refresh_once(db=db, now=now) == 1
    while await outbox.run_once():
        pass
    views = await sender_inbox()
    assert len(views) == 3  # the post and two edits (web chat shows an edit as a new item)
    assert "T1: 0/3 delivered" in views[0]
    assert "T1: 3/3 delivered, 0 failed; received 0, " in views[1]
    assert "T1: 3/3 delivered, 0 failed; received 1, " in views[2]
    assert "Not acknowledged yet (2): Org 1 (Org 1, T1), Org 2 (Org 2, T1)" in views[2]
    await db.close()
