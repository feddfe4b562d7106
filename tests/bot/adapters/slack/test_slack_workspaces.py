"""Many Slack workspaces: each answered with its own token, revocations, Slack Connect, outbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from bot.adapters.slack.models import SlackInstallation
from bot.adapters.slack.translate import from_event
from bot.db.engine import utcnow
from bot.db.models import OutboxMessage
from bot.messages import Destination, Reply
from bot.outbox.queue import enqueue
from tests.bot.adapters.slack.slack_oauth_support import install, lifecycle, mention, oauth_bot
from tests.bot.adapters.slack.slack_support import (
    TOKEN,
    SlackBot,
    command_body,
    eventually,
    query,
    slack_bot,
)

TOKEN_A, TOKEN_B = "xoxb-alpha-0001", "xoxb-bravo-0002"


@pytest.fixture
async def sb(tmp_path: Path) -> AsyncIterator[SlackBot]:
    async with oauth_bot(tmp_path) as running:
        await install(running, "T0AAA", TOKEN_A, bot_user_id="UBOTA", bot_id="BBOTA")
        await install(running, "T0BBB", TOKEN_B, bot_user_id="UBOTB", bot_id="BBOTB")
        yield running


def bearer(call: object) -> str:
    return getattr(call, "headers")["Authorization"]  # noqa: B009


async def test_mentions_in_two_workspaces_are_answered_with_each_token(sb: SlackBot) -> None:
    assert (await sb.event(mention("T0AAA", "UBOTA", event_id="EvA1")))[0] == 200
    assert (await sb.event(mention("T0BBB", "UBOTB", event_id="EvB1")))[0] == 200
    [to_a] = await sb.fake.wait_for("chat.postMessage", channel="CT0AAA")
    [to_b] = await sb.fake.wait_for("chat.postMessage", channel="CT0BBB")
    assert bearer(to_a) == f"Bearer {TOKEN_A}" and bearer(to_b) == f"Bearer {TOKEN_B}"
    assert "PAUSE method" in to_a.params["text"] and "<@UBOTA>" not in to_a.params["text"]
    # Authorization used the ids stored at install time: no auth.test in the request path.
    assert len(sb.fake.calls_to("auth.test")) == 2  # one per install


async def test_commands_in_two_workspaces_use_each_token(sb: SlackBot) -> None:
    for team, name in (("T0AAA", "ra"), ("T0BBB", "rb")):
        raw = command_body(sb.fake, "", name=name, command="/incident", team_id=team)
        assert (await sb.signed(raw))[0] == 200
    opened = await sb.fake.wait_for("views.open", 2)
    assert sorted(bearer(c) for c in opened) == sorted([f"Bearer {TOKEN_A}", f"Bearer {TOKEN_B}"])
    by_trigger = {c.params["trigger_id"]: bearer(c) for c in opened}
    assert by_trigger == {"trig-ra": f"Bearer {TOKEN_A}", "trig-rb": f"Bearer {TOKEN_B}"}


async def test_slack_connect_user_of_another_workspace(sb: SlackBot) -> None:
    # A user from T0EXT (never installed) mentions the bot in a channel shared with T0AAA:
    # the installation receiving the event (A) answers; the sender is T0EXT's user.
    event = mention("T0AAA", "UBOTA", event_id="EvX1", user="UEXT", user_team="T0EXT",
                    team="T0EXT", source_team="T0EXT")
    event["is_ext_shared_channel"] = True
    assert (await sb.event(event))[0] == 200
    [answer] = await sb.fake.wait_for("chat.postMessage", channel="CT0AAA")
    assert bearer(answer) == f"Bearer {TOKEN_A}"
    message = from_event(event, "UBOTA")
    assert (message.sender.workspace, message.sender.user_id) == ("T0EXT", "UEXT")


async def test_a_workspace_without_installation_is_not_answered(sb: SlackBot) -> None:
    status, _ = await sb.event(mention("T0NONE", "UBOTX", event_id="EvN1"))
    assert status == 200
    assert sb.fake.calls_to("chat.postMessage") == []


async def test_tokens_revoked_and_app_uninstalled_remove_the_installation(sb: SlackBot) -> None:
    # Acked at once; the installation goes right after (Bolt's listener, our store).
    revoked = lifecycle("T0AAA", "tokens_revoked", "EvR1", tokens={"bot": ["UBOTA"]})
    assert (await sb.event(revoked))[0] == 200
    await eventually(lambda: _is(_teams(sb), ["T0BBB"]))
    assert (await sb.event(lifecycle("T0BBB", "app_uninstalled", "EvU1")))[0] == 200
    await eventually(lambda: _is(_teams(sb), []))
    # Events from the removed workspaces get no answer with a stale token.
    await sb.event(mention("T0AAA", "UBOTA", event_id="EvA9"))
    assert sb.fake.calls_to("chat.postMessage") == []


async def _teams(sb: SlackBot) -> list[str]:
    return sorted(r[0] for r in await query(sb, "SELECT team_id FROM slack_installation"))


async def _is(value: Awaitable[list[str]], expected: list[str]) -> bool:
    return await value == expected


async def _send(sb: SlackBot, destination: str, key: str) -> OutboxMessage:
    async with sb.bot.services.db.session() as session:
        enqueue(session, key=key, destination=Destination.parse(destination),
                reply=Reply(text="Rumor control: polls open until 8 pm"))
        await session.commit()

    async def settled() -> bool:
        await sb.bot.services.outbox.run_once()
        rows = await query(sb, f"SELECT status FROM outbox_message WHERE key = '{key}'")
        return rows[0][0] in ("sent", "dead")

    await eventually(settled)
    async with sb.bot.services.db.session() as session:
        return (await session.exec(select(OutboxMessage).where(OutboxMessage.key == key))).one()


async def test_outbox_sends_with_the_destination_workspaces_token(sb: SlackBot) -> None:
    row = await _send(sb, "slack:T0BBB:C0NEWS", "k-b")
    assert row.status == "sent"
    [post] = sb.fake.calls_to("chat.postMessage", channel="C0NEWS")
    assert bearer(post) == f"Bearer {TOKEN_B}"
    dm = await _send(sb, "slack:T0AAA:@U0CLERK", "k-a-dm")
    assert dm.status == "sent"
    [opened] = sb.fake.calls_to("conversations.open")
    assert bearer(opened) == f"Bearer {TOKEN_A}"
    assert bearer(sb.fake.calls_to("chat.postMessage", channel="DU0CLERK")[0]) == \
        f"Bearer {TOKEN_A}"


async def test_outbox_dead_letters_sends_to_an_uninstalled_workspace(sb: SlackBot) -> None:
    await sb.event(lifecycle("T0AAA", "app_uninstalled", "EvU2"))
    await eventually(lambda: _is(_teams(sb), ["T0BBB"]))
    row = await _send(sb, "slack:T0AAA:C0NEWS", "k-gone")
    assert row.status == "dead"
    assert "T0AAA has no installation of this app" in (row.last_error or "")
    assert sb.fake.calls_to("chat.postMessage") == []
    never = await _send(sb, "slack:T0NEVER:C0NEWS", "k-never")
    assert never.status == "dead" and "reinstall it from /slack/install" in (never.last_error or "")


async def test_single_token_alongside_oauth_serves_its_own_workspace(tmp_path: Path) -> None:
    async with oauth_bot(tmp_path, SLACK_BOT_TOKEN=TOKEN) as sb:
        await install(sb, "T0BBB", TOKEN_B)
        home = await _send(sb, "slack:T0TEST:C0HOME", "k-home")  # the fake's auth.test team
        other = await _send(sb, "slack:T0BBB:C0B", "k-b")
        stranger = await _send(sb, "slack:T0ZZZ:C0Z", "k-z")
        assert (home.status, other.status, stranger.status) == ("sent", "sent", "dead")
        assert bearer(sb.fake.calls_to("chat.postMessage", channel="C0HOME")[0]) == \
            f"Bearer {TOKEN}"
        assert bearer(sb.fake.calls_to("chat.postMessage", channel="C0B")[0]) == \
            f"Bearer {TOKEN_B}"
        # Requests from the home workspace (no installation row) are answered with the token.
        await sb.event(mention("T0TEST", "UBOT", event_id="EvH1"))
        [answer] = await sb.fake.wait_for("chat.postMessage", channel="CT0TEST")
        assert bearer(answer) == f"Bearer {TOKEN}"


async def test_single_token_mode_has_no_install_routes(tmp_path: Path) -> None:
    async with slack_bot(tmp_path) as sb:
        async with sb.http.get(f"{sb.bot.url}/slack/install", allow_redirects=False) as resp:
            assert resp.status == 404
        row = await _send(sb, "slack:T0ANY:C0X", "k-any")
        assert row.status == "sent"
        assert bearer(sb.fake.calls_to("chat.postMessage")[0]) == f"Bearer {TOKEN}"


async def test_a_rotating_token_due_to_expire_is_refreshed_once(tmp_path: Path) -> None:
    async with oauth_bot(tmp_path) as sb:
        await install(sb, "T0ROT", "xoxe.xoxb-rot", refresh_token="xoxe-1-refresh",
                      bot_user_id="UBOTR")
        async with sb.bot.services.db.session() as session:  # 11 h 55 min later
            await session.execute(sa.update(SlackInstallation).values(
                bot_token_expires_at=utcnow() + timedelta(minutes=5)))
            await session.commit()
        await asyncio.gather(*(sb.event(mention("T0ROT", "UBOTR", event_id=f"EvR{i}"))
                               for i in range(3)))
        answers = await sb.fake.wait_for("chat.postMessage", 3, channel="CT0ROT")
        refreshes = [c for c in sb.fake.calls_to("oauth.v2.access")
                     if c.params.get("grant_type") == "refresh_token"]
        assert len(refreshes) == 1
        new = next(iter(sb.fake.workspaces))
        assert new.startswith("xoxe.xoxb-rot-r")
        assert {bearer(a) for a in answers} == {f"Bearer {new}"}
        [(sealed,)] = await query(sb, "SELECT bot_token FROM slack_installation")
        assert new not in sealed
