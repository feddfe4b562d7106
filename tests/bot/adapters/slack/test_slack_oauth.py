"""Slack OAuth v2 install over real HTTP: state handling, encrypted tokens, clear pages."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import sqlalchemy as sa

from bot.adapters.slack.models import SlackOAuthState
from bot.adapters.slack.store import TokenBox
from bot.db.engine import utcnow
from tests.bot.adapters.slack.slack_oauth_support import (
    CLIENT_ID,
    CLIENT_SECRET,
    finish_install,
    oauth_bot,
    start_install,
)
from tests.bot.adapters.slack.slack_support import SlackBot, query

TOKEN_A = "xoxb-workspace-a-0001"


@pytest.fixture
async def sb(tmp_path: Path) -> AsyncIterator[SlackBot]:
    async with oauth_bot(tmp_path) as running:
        running.fake.add_workspace("T0AAA", token=TOKEN_A, code="code-a", name="Alpha County",
                                   bot_user_id="UBOTA", bot_id="BBOTA")
        yield running


async def test_install_end_to_end_stores_an_encrypted_installation(sb: SlackBot) -> None:
    location, state = await start_install(sb)
    url = urlparse(location)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{sb.fake.url}/oauth/v2/authorize"
    params = parse_qs(url.query)
    assert params["client_id"] == [CLIENT_ID]
    assert "chat:write" in params["scope"][0].split(",")

    status, page = await finish_install(sb, state, "code-a")
    assert status == 200 and "Installed" in page and "Alpha County" in page

    [exchange] = sb.fake.calls_to("oauth.v2.access")
    assert exchange.params["code"] == "code-a"
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert exchange.headers["Authorization"] == f"Basic {basic}"
    [auth_test] = sb.fake.calls_to("auth.test")
    assert auth_test.headers["Authorization"] == f"Bearer {TOKEN_A}"

    [row] = await query(sb, "SELECT team_id, team_name, bot_user_id, bot_id, bot_token "
                            "FROM slack_installation")
    assert tuple(row[:4]) == ("T0AAA", "Alpha County", "UBOTA", "BBOTA")
    raw = row[4]
    assert TOKEN_A not in raw and "workspace-a" not in raw
    key = sb.bot.services.settings.env.ELECTIONBOT_TOKEN_KEY
    assert key is not None and TokenBox(key.get_secret_value()).open(raw) == TOKEN_A
    # The state was consumed: the table holds no usable state any more.
    assert await query(sb, "SELECT state FROM slack_oauth_state") == []


async def test_a_replayed_state_is_refused(sb: SlackBot) -> None:
    _, state = await start_install(sb)
    assert (await finish_install(sb, state, "code-a"))[0] == 200
    sb.fake.add_workspace("T0EVIL", token="xoxb-evil", code="code-evil")
    status, page = await finish_install(sb, state, "code-evil")
    assert status in (400, 401)
    assert "expired or was already used" in page and "/slack/install" in page
    assert len(sb.fake.calls_to("oauth.v2.access")) == 1
    assert [r[0] for r in await query(sb, "SELECT team_id FROM slack_installation")] == ["T0AAA"]


async def test_an_expired_state_is_refused(sb: SlackBot) -> None:
    _, state = await start_install(sb)
    async with sb.bot.services.db.session() as session:  # eleven minutes pass
        await session.execute(sa.update(SlackOAuthState).values(
            expires_at=utcnow() - timedelta(minutes=1)))
        await session.commit()
    status, page = await finish_install(sb, state, "code-a")
    assert status in (400, 401) and "expired or was already used" in page
    assert sb.fake.calls_to("oauth.v2.access") == []
    assert await query(sb, "SELECT id FROM slack_installation") == []


async def test_a_state_from_another_browser_is_refused(sb: SlackBot) -> None:
    _, state = await start_install(sb)
    status, page = await finish_install(sb, state, "code-a", cookie="someone-elses-state")
    assert status == 400 and "different browser" in page
    assert sb.fake.calls_to("oauth.v2.access") == []


async def test_an_unknown_code_and_a_cancelled_install_get_clear_pages(sb: SlackBot) -> None:
    _, state = await start_install(sb)
    status, page = await finish_install(sb, state, "not-a-code")
    assert status == 401 and "Slack did not confirm the installation" in page
    async with sb.http.get(f"{sb.bot.url}/slack/oauth_redirect",
                           params={"error": "access_denied", "state": "x"}) as resp:
        assert resp.status == 400 and "cancelled" in await resp.text()
    assert await query(sb, "SELECT id FROM slack_installation") == []


async def test_reinstall_replaces_the_token(sb: SlackBot) -> None:
    _, state = await start_install(sb)
    await finish_install(sb, state, "code-a")
    sb.fake.add_workspace("T0AAA", token="xoxb-workspace-a-0002", code="code-a2",
                          bot_user_id="UBOTA", bot_id="BBOTA")
    _, state = await start_install(sb)
    assert (await finish_install(sb, state, "code-a2"))[0] == 200
    transport = sb.bot.services.outbox.transports["slack"]
    assert (await transport.client_for("T0AAA")).token == "xoxb-workspace-a-0002"
    assert len(await query(sb, "SELECT id FROM slack_installation")) == 1


def test_manifest_has_the_redirect_url_and_the_removal_events(tmp_path: Path) -> None:
    import yaml

    from bot.adapters.slack.manifest import build_slack_manifest
    from tests.support import make_settings

    manifest = yaml.safe_load(build_slack_manifest(make_settings(tmp_path), "https://bot.example/"))
    assert manifest["oauth_config"]["redirect_urls"] == ["https://bot.example/slack/oauth_redirect"]
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert {"tokens_revoked", "app_uninstalled"} <= set(events)
