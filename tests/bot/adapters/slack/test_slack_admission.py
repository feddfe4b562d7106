"""Slack admits only the workspaces app.yaml lists (slack.workspaces) or the bot token's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.adapters.slack.app import NOT_ADMITTED
from bot.config.settings import ConfigError
from tests.bot.adapters.slack.slack_oauth_support import (
    CLIENT_ID,
    finish_install,
    install,
    mention,
    oauth_bot,
    start_install,
)
from tests.bot.adapters.slack.slack_support import SECRET, command_body, query, slack_bot
from tests.support import make_settings


async def test_an_install_from_an_unlisted_workspace_is_refused_and_not_stored(
        tmp_path: Path) -> None:
    async with oauth_bot(tmp_path, workspaces=("T0AAA",)) as sb:
        sb.fake.add_workspace("T0OTHER", token="xoxb-other", code="code-other",
                              name="Elsewhere County")
        _, state = await start_install(sb)
        status, page = await finish_install(sb, state, "code-other")
        assert status == 403
        assert "not approved" in page and "T0OTHER" in page
        assert "the test office (help@example.org)" in page  # whom to ask
        assert await query(sb, "SELECT id FROM slack_installation") == []
        [uninstall] = sb.fake.calls_to("apps.uninstall")  # the issued token is given back
        assert uninstall.params["client_id"] == CLIENT_ID
        assert await query(sb, "SELECT action, target, allowed FROM audit_entry") == [
            ("slack.install", "T0OTHER", False)]
        # A listed workspace still installs.
        await install(sb, "T0AAA", "xoxb-a", bot_user_id="UBOTA", bot_id="BBOTA")
        assert [r[0] for r in await query(sb, "SELECT team_id FROM slack_installation")] == [
            "T0AAA"]


async def test_a_stale_install_of_a_workspace_no_longer_listed_gets_no_answer(
        tmp_path: Path) -> None:
    async with oauth_bot(tmp_path, workspaces=("T0AAA", "T0BBB")) as sb:
        await install(sb, "T0BBB", "xoxb-b", bot_user_id="UBOTB", bot_id="BBOTB")
    # The office removes T0BBB from the list; its stored installation stays in the database.
    async with oauth_bot(tmp_path, workspaces=("T0AAA",)) as sb:
        assert len(await query(sb, "SELECT id FROM slack_installation")) == 1
        status, _ = await sb.event(mention("T0BBB", "UBOTB", event_id="EvStale1"))
        assert status == 200
        assert sb.fake.calls_to("chat.postMessage") == []
        assert ("slack.request", "T0BBB", False) in await query(
            sb, "SELECT action, target, allowed FROM audit_entry")


async def test_a_signed_command_from_an_unknown_team_is_refused(tmp_path: Path) -> None:
    async with slack_bot(tmp_path, config={"roles": {"state_staff": ["slack:T0STRANGER:U1"]}}
                         ) as sb:
        status, _ = await sb.signed(command_body(sb.fake, "incident list", team_id="T0STRANGER",
                                                 user_id="U1"))
        assert status == 200
        [answer] = await sb.fake.wait_for("response")
        assert answer.params["text"] == NOT_ADMITTED
        assert await query(sb, "SELECT actor, action, allowed FROM audit_entry") == [
            ("slack:T0STRANGER", "slack.request", False)]
        # The token's own workspace (auth.test: T0TEST) is served.
        await sb.signed(command_body(sb.fake, "what is the pause method", name="r2"))
        [_, served] = await sb.fake.wait_for("response", 2)
        assert "PAUSE" in served.params["text"]


def test_config_check_needs_workspaces_for_oauth(tmp_path: Path) -> None:
    env = {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "SLACK_SIGNING_SECRET": SECRET,
           "ELECTIONBOT_TOKEN_KEY": "A" * 43 + "="}
    with pytest.raises(ConfigError, match="slack.workspaces"):
        make_settings(tmp_path, env=env)
    with pytest.raises(ConfigError, match="slack.workspaces"):
        make_settings(tmp_path, env=env, slack={"workspaces": ["not-a-team"]})
    assert make_settings(tmp_path, env=env, slack={"workspaces": ["T0AAA", "E0GRID"]}
                         ).app.slack.workspaces == ["T0AAA", "E0GRID"]
