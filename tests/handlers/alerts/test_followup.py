"""Follow-up: reminder at half the window, DM at the end, then the backup; T3 never; once."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.services import build_services
from bot.adapters.webchat.endpoint import WebChatTransport
from bot.db.engine import utcnow
from bot.outbox import queue
from handlers.alerts import delivery, service
from handlers.alerts.delivery import follow_up_once
from handlers.alerts.forms import validate
from handlers.alerts.service import Actor
from tests.handlers.alerts.conftest import alert_settings, compose_values
from tests.support import migrated


async def test_follow_up_ladder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queue, "CHUNK", 1)  # "already queued?" asked over several look-ups
    settings = alert_settings(tmp_path)
    migrated(settings.env.DATABASE_URL)
    services = build_services(settings)
    db, app, now = services.db, settings.app, utcnow()
    services.outbox.register("webchat", WebChatTransport(db))
    clean, _ = validate(compose_values(tiers="T1,T3", jurisdictions="", tlp="CLEAR",
                                       ack_window="60"), app, now, child=False,
                        known_groups=set())
    assert clean is not None
    alert, _ = await service.create_draft(db=db, app=app, actor=Actor("webchat:local:bc1", app),
                                          clean=clean, reply_to="webchat:local:@bc1", now=now)
    await service.decide(db=db, alert=alert, actor=Actor("webchat:local:bc1", app),
                         status="pending_approval", now=now)
    await service.send(db=db, app=app, actor=Actor("webchat:local:bc2", app),
                       public_id=alert.public_id, now=now, expected="pending_approval")
    await services.outbox.run_once()
    await service.acknowledge(db=db, public_id=alert.public_id, person="webchat:local:clerk-ks",
                              channel="", kind="received", now=now)

    async def keys() -> list[str]:
        async with db.engine.connect() as conn:
            rows = (await conn.execute(sa.text(
                "SELECT key, destination FROM outbox_message WHERE key NOT LIKE '%:send:%' "
                "AND key NOT LIKE '%:edit:%' ORDER BY id"))).all()
        return [f"{k.split(':')[2]}>{d}" for k, d in rows]

    assert await follow_up_once(db=db, app=app, now=now + timedelta(minutes=29)) == 0
    assert await follow_up_once(db=db, app=app, now=now + timedelta(minutes=30)) == 1
    assert await keys() == ["remind>webchat:local:@clerk-ct"]  # not the acker, never T3
    assert await follow_up_once(db=db, app=app, now=now + timedelta(minutes=31)) == 0  # once
    assert await follow_up_once(db=db, app=app, now=now + timedelta(minutes=60)) == 1
    assert await follow_up_once(db=db, app=app, now=now + timedelta(minutes=90)) == 1
    assert (await keys())[1:] == ["dm>webchat:local:@clerk-ct", "backup>webchat:local:@deputy-ct"]
    await services.outbox.run_once()
    async with db.engine.connect() as conn:
        texts = [r[0] for r in (await conn.execute(sa.text(
            "SELECT payload FROM webchat_inbox WHERE user_id = 'deputy-ct'"))).all()]
    assert len(texts) == 1 and "backup contact for CT clerk" in texts[0]

    # The clerk answers at last: every copy sent to them is marked, the backup stands down.
    _, _, clerk = await service.acknowledge(
        db=db, public_id=alert.public_id, person="webchat:local:clerk-ct", channel="",
        kind="actioned", now=now + timedelta(minutes=95))
    async with db.session() as session:
        await delivery.enqueue_ack_edit(session, alert, clerk, kind="actioned",
                                        at=now + timedelta(minutes=95), who="CT clerk",
                                        parent="")
        await session.commit()
    await services.outbox.run_once()
    async with db.engine.connect() as conn:
        inbox = [(u, json.loads(p)) for u, p in (await conn.execute(sa.text(
            "SELECT user_id, payload FROM webchat_inbox WHERE user_id IN ('clerk-ct', "
            "'deputy-ct') AND payload LIKE '%replaces%' ORDER BY id"))).all()]
    assert sorted(u for u, _ in inbox) == ["clerk-ct"] * 3 + ["deputy-ct"]  # send, remind, dm
    stood_down = next(p for u, p in inbox if u == "deputy-ct")
    assert stood_down["text"].startswith("CT clerk has now acknowledged alert")
    assert all(any(s["text"].startswith("Acknowledged: Actioned") for s in p["sections"])
               for u, p in inbox if u == "clerk-ct")

    # Two workers' ticks at once: the one that lost the race (its read came before the other's
    # commit) adds nothing and does not fail, whatever is left to chase.
    async def stale(_session: object, _keys: object) -> set[str]:
        return set()
    monkeypatch.setattr(delivery, "_follow_ups_queued", stale)
    assert await follow_up_once(db=db, app=app, now=now + timedelta(minutes=91)) == 0
    assert len(await keys()) == 3
    await db.close()
