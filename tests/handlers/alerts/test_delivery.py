"""Delivery: pacing and 429 against the fake Slack, dead letters, crash and restart exactly once."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.services import build_services
from bot.adapters.slack.send import SlackTransport, build_send_client
from bot.adapters.webchat.endpoint import WebChatTransport
from bot.config.settings import Settings
from bot.db.engine import Database, utcnow
from bot.errors import Refused
from bot.messages import Destination, Reply
from bot.outbox.pacing import MAX_LATE, SAFETY, TOLERANCE, Budgets
from bot.outbox.queue import enqueue
from bot.outbox.worker import Outbox
from bot.services import Services
from handlers.alerts import service
from handlers.alerts.forms import validate
from handlers.alerts.models import Alert
from handlers.alerts.service import Actor
from tests.fakes.slack_api import FakeSlackApi
from tests.handlers.alerts.conftest import alert_settings, compose_values
from tests.support import migrated, wait_until


async def _db(tmp_path: Path) -> Database:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    migrated(url)
    return Database(url)


async def _add(db: Database, *dests: str) -> None:
    async with db.session() as session:
        for i, dest in enumerate(dests):
            enqueue(session, key=f"k{i}:{dest}", destination=Destination.parse(dest),
                    reply=Reply(text=f"m{i}"))
        await session.commit()


async def _rows(db: Database) -> list[tuple]:
    async with db.engine.connect() as conn:
        return list((await conn.execute(sa.text(
            "SELECT destination, status, attempts, last_error FROM outbox_message ORDER BY id")
        )).all())


async def _drain(db: Database, *outboxes: Outbox, timeout: float = 20) -> None:
    tasks = [asyncio.create_task(o.run(interval=0.05)) for o in outboxes]
    try:
        for _ in range(int(timeout * 20)):
            if all(r[1] in ("sent", "dead") for r in await _rows(db)):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"not drained: {await _rows(db)}")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _slack_outbox(db: Database, fake: FakeSlackApi, **budgets: float) -> Outbox:
    outbox = Outbox(db)
    outbox.budgets = Budgets(**budgets)
    outbox.register("slack", SlackTransport(build_send_client(fake.api_url, "xoxb-test"), db))
    return outbox


async def test_paced_per_channel_with_no_429_from_a_strict_slack(tmp_path: Path) -> None:
    db = await _db(tmp_path)
    async with FakeSlackApi() as fake:
        fake.rate_limit_per_channel = 1.0  # a second post within 1 s gets 429
        await _add(db, *["slack:T1:C1"] * 3, *["slack:T1:C2"] * 3, "slack:T1:@U1")
        await _drain(db, _slack_outbox(db, fake, slack_workspace_per_second=50))
        posts = fake.calls_to("chat.postMessage")
    assert len(posts) == 7  # a 429 would have cost an extra call
    by_channel = defaultdict(list)
    for call in posts:
        by_channel[call.params["channel"]].append(call.at)
    for times in by_channel.values():
        # Sustained rate at most ~1 per second per channel; arrival times carry some network
        # jitter (the first post also pays for the connection), hence the small allowance.
        assert times[-1] - times[0] >= (len(times) - 1) * 0.97 - 0.25
    assert [r[1] for r in await _rows(db)] == ["sent"] * 7
    await db.close()


class Starts(SlackTransport):
    """The real Slack transport, noting when (monotonic) the pacer let each post start."""

    def __init__(self, *args: object, starts: list[float]) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.starts = starts

    async def send(self, destination: Destination, reply: Reply, *, key: str) -> str:
        self.starts.append(asyncio.get_running_loop().time())
        return await super().send(destination, reply, key=key)


async def test_workspace_budget_is_shared_by_two_processes(tmp_path: Path) -> None:
    db = await _db(tmp_path)
    starts: list[float] = []
    async with FakeSlackApi() as fake:
        await _add(db, *[f"slack:T1:C{i}" for i in range(16)])
        other = Database(db.url)
        outboxes = [_slack_outbox(d, fake, slack_workspace_per_second=5) for d in (db, other)]
        for outbox in outboxes:
            outbox.register("slack", Starts(build_send_client(fake.api_url, "xoxb-test"),
                                            outbox.db, starts=starts))
        await _drain(db, *outboxes)
        await other.close()
        posts = fake.calls_to("chat.postMessage")
    assert len(posts) == 16 and len(starts) == 16  # each once: no 429, no repeat
    # The pacer's own starts (not arrivals, which a loaded machine bunches): at most the
    # rate plus its burst in any window, although two workers share the budget. The workers
    # reserve slots in the database; a send woken late still uses its slot up to MAX_LATE
    # behind it (later it takes a new one), so a window can also hold the sends slotted in
    # the MAX_LATE before it: a loaded machine delays one process's wake-up, never adds sends.
    rate = 5 * SAFETY
    starts.sort()
    for window in (1.0, 2.0):
        worst = max(sum(1 for t in starts if s <= t < s + window) for s in starts)
        assert worst <= rate * (window + MAX_LATE) + outboxes[0].timeline.burst(rate)
    assert starts[-1] - starts[0] >= 15 / rate - TOLERANCE


async def test_429_waits_retry_after_and_permanent_errors_dead_letter(tmp_path: Path) -> None:
    db = await _db(tmp_path)
    async with FakeSlackApi() as fake:
        fake.fail("chat.postMessage", status=429, retry_after=1, channel="C9")
        fake.fail("chat.postMessage", error="channel_not_found", channel="CX")
        await _add(db, "slack:T1:C9", "slack:T1:C8", "slack:T1:CX")
        await _drain(db, _slack_outbox(db, fake, slack_workspace_per_second=50))
        c9 = fake.calls_to("chat.postMessage", channel="C9")
    assert len(c9) == 2 and c9[1].at - c9[0].at >= 1.0
    rows = {r[0]: r for r in await _rows(db)}
    assert rows["slack:T1:C9"][1:3] == ("sent", 2)
    assert rows["slack:T1:C8"][1:3] == ("sent", 1)
    assert rows["slack:T1:CX"][1:] == ("dead", 1, "channel_not_found")
    await db.close()


class Crashing(WebChatTransport):
    """Every 3rd send lands and then the process 'dies'; every 5th dies before sending."""

    count = 0

    async def send(self, destination: Destination, reply: Reply, *, key: str) -> str:
        Crashing.count += 1
        if Crashing.count % 5 == 0:
            await asyncio.Event().wait()
        ref = await super().send(destination, reply, key=key)
        if Crashing.count % 3 == 0:
            await asyncio.Event().wait()
        return ref


async def _broadcast(tmp_path: Path, url: str | None, members: int) -> tuple:
    extra = {"groups": [{"name": "many", "tier": "T1", "members": [
        {"destination": f"webchat:local:@m{i}", "organisation": f"Org {i}",
         "jurisdiction": "KS"} for i in range(members)]}]}
    settings = alert_settings(tmp_path, env={"DATABASE_URL": url} if url else None, **extra)
    services, _alert, count = await _send_to_group(settings, "many")
    return services, count


async def _send_to_group(settings: Settings, group: str) -> tuple[Services, Alert, int]:
    """Broadcaster bc1 sends an alert to ``group``; nothing is delivered yet."""
    migrated(settings.env.DATABASE_URL)
    services = build_services(settings)
    actor, now = Actor("webchat:local:bc1", settings.app), utcnow()
    clean, errors = validate(compose_values(tiers="", groups=group), settings.app, now,
                             child=False, known_groups={group})
    assert clean is not None, errors
    alert, _ = await service.create_draft(db=services.db, app=settings.app, actor=actor,
                                          clean=clean, reply_to="webchat:local:@bc1", now=now)
    _, count = await service.send(db=services.db, app=settings.app, actor=actor,
                                  public_id=alert.public_id, now=now)
    return services, alert, count


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_crash_mid_broadcast_then_restart_delivers_each_destination_once(
        tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("postgres_url") if backend == "postgresql" else None
    services, count = await _broadcast(tmp_path, url, 30)
    db = services.db
    crashed = Outbox(Database(db.url))
    crashed.register("webchat", Crashing(crashed.db))
    task = asyncio.create_task(crashed.run(interval=0.05))

    async def half_done() -> bool:  # sends landed, sends hung before and after landing
        return Crashing.count >= 6 and "sending" in [r[1] for r in await _rows(db)]

    await wait_until(half_done)
    task.cancel()  # the process dies with sends in flight (some landed, some not)
    await asyncio.gather(task, return_exceptions=True)
    await crashed.db.close()
    states = [r[1] for r in await _rows(db)]
    assert "sending" in states  # the crash really left work half done
    restarted = Outbox(db, clock=lambda: utcnow() + timedelta(seconds=61))  # leases expired
    restarted.register("webchat", WebChatTransport(db))
    await _drain(db, restarted)
    async with db.engine.connect() as conn:
        inbox = (await conn.execute(sa.text("SELECT user_id, payload FROM webchat_inbox"))).all()
    per_user = defaultdict(int)
    for user, payload in inbox:
        assert json.loads(payload)["outbox_key"].startswith("alert:")
        per_user[user] += 1
    assert len(per_user) == count == 30
    assert set(per_user.values()) == {1}  # every destination exactly once
    assert {r[1] for r in await _rows(db)} == {"sent"}
    await db.close()


async def test_who_may_acknowledge_an_alert_among_many_recipients(tmp_path: Path) -> None:
    extra = {"groups": [{"name": "mixed", "tier": "T1", "members": [
        {"destination": "slack:T1:@U1", "organisation": "DM", "jurisdiction": "KS"},
        {"destination": "slack:T1:C9", "organisation": "Channel", "jurisdiction": "KS",
         "people": ["slack:T1:UANN", "teams:tn:aad-ann"]},
        *[{"destination": f"slack:T1:@UX{i}", "organisation": f"O{i}", "jurisdiction": "KS"}
          for i in range(50)]]}]}
    services, alert, _count = await _send_to_group(alert_settings(tmp_path, **extra), "mixed")
    now = utcnow()

    async def ack(person: str, channel: str) -> str:
        try:
            _, _, recipient = await service.acknowledge(
                db=services.db, public_id=alert.public_id, person=person, channel=channel,
                kind="received", now=now)
        except Refused:
            return "refused"
        return recipient.organisation

    assert await ack("slack:T1:U1", "D1") == "DM"  # their own DM copy
    assert await ack("slack:T1:UBOB", "C9") == "Channel"  # anyone in the delivered channel
    assert await ack("teams:tn:aad-ann", "") == "Channel"  # listed behind the channel
    assert await ack("slack:T1:UX7", "") == "O7"
    assert await ack("slack:T1:UBOB", "C8") == "refused"  # a channel that got nothing
    assert await ack("slack:T2:U1", "D1") == "refused"  # same user id, another workspace
    assert await ack("slack:T1:U_NN", "") == "refused"  # LIKE wildcards match nothing
    assert await ack("slack:T1:U%", "") == "refused"
    await services.db.close()
