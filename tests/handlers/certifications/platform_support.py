"""Helpers for certification end-to-end tests on the fake Slack and Teams platforms.

The production server runs with its background loops (outbox worker, certification scheduler);
the test owns the clock. ``FlowingClock`` is set to exact instants by the test and then lets real
time flow from there, so the outbox's pacing (which reads the same clock) never waits on a
frozen clock, while every decision the scheduler makes is still taken at the instant the test
chose.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from typer.testing import CliRunner

from app.cli.main import app as cli
from bot.clock import FlowingClock
from bot.config.settings import Settings
from tests.bot.adapters.slack.slack_support import SECRET, TOKEN, SlackBot
from tests.fakes.slack_api import FakeSlackApi
from tests.support import make_settings, running_bot

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
DANA = "6f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b"  # the personal-chat user of the Teams fixture
GHOST = "99999999-0000-4000-8000-000000000001"  # a Teams user who never installed the app
PERSONAL = "a:1xYzPersonalConversationId0123456789abcdefghijklmnopqrstuv"
ROLES = {"state_staff": ["slack:T0TEST:UBOSS"]}
CERT: dict[str, Any] = {
    "holidays": ["2026-11-26", "2026-12-25", "2027-01-01"],
    "elections": [{"day": "2026-11-03", "name": "General"}],
    "supervisors": {"KS": ["slack:T0TEST:USUPER"]},
    "scheduler_interval_seconds": 3600,  # the background loop runs its first pass; tests tick
}
ROSTER = f"""external_id,name,identity,jurisdiction,time_zone,program,role,term_type,took_office
ks-pat,Pat Johnson,slack:T0TEST:U0ASKER,KS,America/Chicago,KS-CLERK,county_clerk,four_year,2025-01-13
ks-lee,Lee Wallace,slack:T0TEST:U0LEE,KS,America/Denver,KS-CLERK,county_clerk,four_year,2025-02-03
ks-kim,Kim Ortiz,,KS,America/Chicago,KS-CLERK,county_clerk,four_year,2025-02-03
ks-dana,Dana Clerk,teams:{TENANT}:{DANA},KS,America/Chicago,KS-CLERK,county_clerk,four_year,2025-02-03
ks-gus,Gus Ghost,teams:{TENANT}:{GHOST},KS,America/Chicago,KS-CLERK,county_clerk,four_year,2025-02-03
"""
COMPLETIONS = "external_id,course,completed_on\nks-pat,KS-Y1-PLAN,2025-04-10\n"


def cert_settings(tmp: Path, env: dict[str, str] | None = None, **cert: Any) -> Settings:
    """Settings with the certification section, state staff and the given platform env."""
    return make_settings(tmp, env, roles=ROLES, certification={**CERT, **cert})


def slack_env(fake: FakeSlackApi) -> dict[str, str]:
    """Slack credentials pointing at the fake Web API."""
    return {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url}


def cli_env(settings: Settings) -> dict[str, str]:
    """The environment the ``electionbot`` CLI needs to reach the same database."""
    return {"ELECTIONBOT_CONFIG": str(settings.config_path),
            "DATABASE_URL": settings.env.DATABASE_URL}


async def electionbot(settings: Settings, *args: str) -> tuple[int, str]:
    """Run the CLI as a user would (on a thread: it runs its own event loop)."""
    def invoke() -> tuple[int, str]:
        result = CliRunner().invoke(cli, list(args), env=cli_env(settings))
        return result.exit_code, result.output

    return await asyncio.to_thread(invoke)


async def import_demo(settings: Settings, tmp: Path) -> None:
    """``electionbot roster import`` and ``completions import``, like a new user."""
    roster, done = tmp / "officials.csv", tmp / "completions.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    done.write_text(COMPLETIONS, encoding="utf-8")
    code, out = await electionbot(settings, "roster", "import", str(roster))
    assert code == 0 and "5 created" in out, out
    code, out = await electionbot(settings, "completions", "import", str(done))
    assert code == 0 and "1 created" in out, out


@asynccontextmanager
async def cert_slack_bot(tmp: Path, clock: FlowingClock,
                         **cert: Any) -> AsyncIterator[SlackBot]:
    """The production server with background loops on a fake Slack, roster imported."""
    async with FakeSlackApi() as fake:
        settings = cert_settings(tmp, slack_env(fake), **cert)
        async with running_bot(settings, background=True) as bot, \
                aiohttp.ClientSession() as http:
            bot.services.clock = clock
            await import_demo(settings, tmp)
            yield SlackBot(bot, fake, http)


def blocks_text(params: dict[str, Any]) -> str:
    """All visible text of a Slack message (text and section blocks)."""
    parts = [str(params.get("text", ""))]
    for block in params.get("blocks") or []:
        if block.get("type") == "section":
            parts.append(block["text"]["text"])
        elif block.get("type") == "context":
            parts.extend(e.get("text", "") for e in block["elements"])
    return "\n".join(parts)
