"""A reporter's typed markup, end to end through Slack: signed HTTP into the real server, the
outbox worker, and the fake Slack Web API receiving the manager's notification."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.bot.adapters.slack.slack_support import (
    SlackBot,
    eventually,
    interaction_body,
    query,
    slack_bot,
    view_submission,
)
from tests.bot.adapters.slack.test_slack_incidents import VALID, open_form

ATTACK = "[Click](https://evil.example) {@0} **x** <!channel> <@U1> _y_"
CONFIG: dict[str, Any] = {
    "incidents": {"routing": [{"jurisdictions": ["KS"], "notify": ["slack:T0TEST:@UKSMGR"]}]},
}


@pytest.fixture
async def sb(tmp_path: Path) -> AsyncIterator[SlackBot]:
    async with slack_bot(tmp_path, background=True, config=CONFIG) as running:
        yield running

        async def settled() -> bool:
            return not await query(running, "SELECT id FROM outbox_message "
                                            "WHERE status = 'sending'")

        await eventually(settled)


async def test_typed_markup_reaches_the_managers_notification_as_text(sb: SlackBot) -> None:
    view = await open_form(sb)
    values = {**VALID, "jurisdiction": "KS", "description": ATTACK,
              "site": "<!here> [Polls](https://evil.example/x)"}
    status, _ = await sb.signed(interaction_body(view_submission(view, values)))
    assert status == 200
    [note] = await sb.fake.wait_for("chat.postMessage", channel="DUKSMGR")
    blocks = json.dumps(note.params["blocks"])
    for shown in (blocks, note.params["text"]):
        assert "<https://evil" not in shown and "|Click>" not in shown and "|Polls>" not in shown
        assert "<@" not in shown and "<!" not in shown
        assert "*x*" not in shown and "_y_" not in shown
    # Still readable: the words and the escaped brackets are there for the manager to see.
    assert "Click" in blocks and "&lt;!channel&gt;" in blocks and "&lt;!here&gt;" in blocks
    [(description,)] = await query(sb, "SELECT description FROM incident")
    assert description == ATTACK  # stored as typed; only the display is escaped
