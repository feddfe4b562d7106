"""kill -9 mid-broadcast, restart: nothing lost, and every second copy says it may be a repeat.

The bot runs as a separate process (``electionbot serve``) on a SQLite file, sending to the fake
Slack Web API (granting what the manifest asks for: im:history but no channel history), the
fake Bot Connector and the web chat inbox. Both fakes take a post at once and answer it late,
so the kill lands while posts have reached the platform but the bot has not recorded them.
After the restart the uncertain rows come back when their lease runs out: Slack direct
messages are checked in the history within the 1-a-minute budget, web chat in its own inbox,
the rest is resent once marked "Repeat: ...". Prints the per-platform figures.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.adapters.slack.manifest import BOT_SCOPES
from bot.db.engine import Database
from bot.db.models import ConversationReference
from bot.messages import REPEAT_LINE, Destination, Reply
from bot.outbox.queue import enqueue_many
from tests.bot.adapters.slack.slack_support import SECRET, TOKEN
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.slack_api import FakeSlackApi
from tests.scale.test_multiprocess import _wait_http
from tests.support import free_port, make_settings, migrated

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]
CHANNELS, PEOPLE, TEAMS, WEB = 20, 10, 20, 30
ALERT = Reply(text="Polls in Ward 3 stay open until 9 pm by court order.")


def destinations() -> list[str]:
    slack = [f"slack:T0TEST:C{i:03d}" for i in range(CHANNELS)]
    slack[1::2] = [f"slack:T0TEST:@U{i:03d}" for i in range(PEOPLE)]  # DMs among channels
    slack += [f"slack:T0TEST:C{i:03d}" for i in range(CHANNELS, CHANNELS + PEOPLE)]
    return slack + [f"teams:tenant1:19:conv{i}@thread.tacv2" for i in range(TEAMS)] + \
        [f"webchat:local:@w{i}" for i in range(WEB)]


def teams_reference(conversation: str, service_url: str) -> ConversationReference:
    reference = {"channelId": "msteams", "serviceUrl": service_url,
                 "bot": {"id": "28:crash-bot", "name": "Electionbot"},
                 "conversation": {"id": conversation, "conversationType": "channel",
                                  "tenantId": "tenant1", "isGroup": True}}
    return ConversationReference(key=f"teams:tenant1:{conversation}", platform="teams",
                                 workspace="tenant1", channel=conversation,
                                 reference=json.dumps(reference))


async def count(db: Database, sql: str) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(sa.text(sql))).scalar_one())


def tally(copies: dict[str, list[str]], expected: list[str]) -> dict[str, int]:
    """delivered / duplicates marked as repeats / unmarked duplicates / lost, per target."""
    out = {"destinations": len(expected), "delivered": 0, "marked_repeats": 0,
           "duplicates_marked": 0, "duplicates_unmarked": 0, "lost": 0}
    for target in expected:
        texts = copies.get(target, [])
        out["delivered" if texts else "lost"] += 1
        out["marked_repeats"] += sum(REPEAT_LINE in t.split("\n", 1)[0] for t in texts)
        for later in texts[1:]:  # oldest first: every copy after the first must be marked
            marked = REPEAT_LINE in later.split("\n", 1)[0]
            out["duplicates_marked" if marked else "duplicates_unmarked"] += 1
    return out


def spawn(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    # --demo: the fake Bot Connector serves on loopback, a serviceUrl only demo mode accepts
    # (bot/adapters/teams/clouds.py); everything this test measures is the same in production.
    return subprocess.Popen([sys.executable, "-m", "app", "serve", "--demo", "--port", str(port)],
                            env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


async def test_kill_9_mid_broadcast_loses_nothing_and_marks_every_second_copy(
        tmp_path: Path) -> None:
    async with FakeSlackApi() as slack:
        with FakeBotConnector() as teams:
            slack.scopes = ",".join(BOT_SCOPES)  # as installed from our manifest
            slack.answer_delays["chat.postMessage"] = 0.6
            teams.answer_delay = 3.0
            figures = await crash_and_recover(tmp_path, slack, teams)
    print("\ncrash test:", json.dumps(figures, indent=1))  # noqa: T201 (the asked-for figures)
    for platform in ("slack", "teams", "webchat"):
        assert figures[platform]["lost"] == 0, figures
        assert figures[platform]["duplicates_unmarked"] == 0, figures
    assert figures["uncertain_at_kill"] > 0, "the kill must catch posts that had landed"
    assert figures["teams"]["duplicates_marked"] > 0  # the Bot Connector cannot be asked


async def crash_and_recover(tmp_path: Path, slack: FakeSlackApi,
                            teams: FakeBotConnector) -> dict[str, Any]:
    env_vars = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": slack.api_url}
    settings = make_settings(tmp_path, env_vars)
    url = settings.env.DATABASE_URL
    migrated(url)
    db = Database(url)
    targets = destinations()
    async with db.session() as session:
        for target in targets:
            if target.startswith("teams:"):
                session.add(teams_reference(target.split(":", 2)[2], teams.url + "/"))
        await enqueue_many(session, [(f"alert:crash:{i}", Destination.parse(t), ALERT)
                                     for i, t in enumerate(targets)])
        await session.commit()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "MICROSOFT_", "DATABASE_URL", "ELECTIONBOT_"))}
    env.update({**env_vars, "ELECTIONBOT_CONFIG": str(tmp_path / "app.yaml"),
                "DATABASE_URL": url})
    port = free_port()
    proc = spawn(env, port, tmp_path / "bot.log")
    try:
        deadline = time.monotonic() + 60
        while sum(map(len, slack.history.values())) < 10 or len(teams.sends()) < TEAMS:
            assert proc.poll() is None, (tmp_path / "bot.log").read_text()
            assert time.monotonic() < deadline, "the broadcast did not start"
            await asyncio.sleep(0.02)
        proc.send_signal(signal.SIGKILL)  # mid-broadcast: posts landed, answers still on the way
        proc.wait(timeout=10)
        uncertain = await count(db, "SELECT count(*) FROM outbox_message "
                                    "WHERE status = 'sending'")
        unsent = await count(db, "SELECT count(*) FROM outbox_message WHERE status <> 'sent'")
        posted_at_kill = {"slack": sum(map(len, slack.history.values())),
                          "teams": len(teams.sends())}
        proc = spawn(env, port, tmp_path / "bot.log")
        await _wait_http(f"http://127.0.0.1:{port}/readyz")
        deadline = time.monotonic() + 120  # lapsed leases (30 s) come back, then are sent
        while await count(db, "SELECT count(*) FROM outbox_message "
                              "WHERE status IN ('sending', 'pending')"):
            assert proc.poll() is None, (tmp_path / "bot.log").read_text()
            assert time.monotonic() < deadline, "the restarted bot did not finish"
            await asyncio.sleep(0.2)
        assert await count(db, "SELECT count(*) FROM outbox_message WHERE status <> 'sent'") \
            == 0
        web: dict[str, list[str]] = defaultdict(list)
        async with db.engine.connect() as conn:
            for user, payload in (await conn.execute(sa.text(
                    "SELECT user_id, payload FROM webchat_inbox ORDER BY id"))).all():
                web[f"webchat:local:@{user}"].append(json.loads(payload)["text"])
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        await db.close()
    slack_copies: dict[str, list[str]] = defaultdict(list)
    for channel, messages in slack.history.items():
        target = f"slack:T0TEST:@{channel[1:]}" if channel.startswith("DU") else \
            f"slack:T0TEST:{channel}"
        slack_copies[target] = [m["text"] for m in reversed(messages)]  # oldest first
    teams_copies: dict[str, list[str]] = defaultdict(list)
    for call in teams.sends():
        teams_copies[f"teams:tenant1:{call.conversation_id}"].append(call.body.get("text") or "")
    teams_copies = {k: [t.replace("**", "") for t in v] for k, v in teams_copies.items()}
    return {
        "uncertain_at_kill": uncertain, "unsent_at_kill": unsent,
        "posted_at_kill": posted_at_kill,
        "slack_history_checks": len(slack.calls_to("conversations.history")),
        "slack": tally(slack_copies, [t for t in targets if t.startswith("slack:")]),
        "teams": tally(teams_copies, [t for t in targets if t.startswith("teams:")]),
        "webchat": tally(web, [t for t in targets if t.startswith("webchat:")]),
    }
