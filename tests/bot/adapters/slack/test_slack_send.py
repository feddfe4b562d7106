"""The outbox's Slack transport against the fake Web API: DMs, metadata and error mapping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.adapters.slack.send import SlackTransport, build_send_client, dm_key
from bot.db.engine import Database, utcnow
from bot.db.models import ConversationReference
from bot.messages import Destination, Reply
from bot.outbox.transport import CannotTell, PermanentSendError, RetryableSendError
from tests.bot.adapters.slack.slack_support import TOKEN
from tests.fakes.slack_api import FakeSlackApi
from tests.support import migrated

CHANNEL = Destination.parse("slack:T0TEST:C0ROOM")
PERSON = Destination.parse("slack:T0TEST:@U0PAT")
HELLO = Reply(text="Hello <!channel>")


@dataclass
class Rig:
    fake: FakeSlackApi
    db: Database
    transport: SlackTransport


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    url = f"sqlite:///{tmp_path / 'send.db'}"
    migrated(url)
    db = Database(url)
    async with FakeSlackApi() as fake:
        transport = SlackTransport(build_send_client(fake.api_url, TOKEN), db)
        yield Rig(fake, db, transport)
        await transport.aclose()
    await db.close()


async def test_channel_post_carries_blocks_no_unfurl_and_the_delivery_key(rig: Rig) -> None:
    ref = await rig.transport.send(CHANNEL, HELLO, key="k-1")
    [call] = rig.fake.calls_to("chat.postMessage")
    assert ref.startswith("C0ROOM:1700")
    assert call.params["channel"] == "C0ROOM" and call.params["text"] == "Hello &lt;!channel&gt;"
    assert call.params["unfurl_links"] is False and call.params["unfurl_media"] is False
    assert call.params["blocks"][0]["type"] == "section"
    assert call.params["metadata"] == {"event_type": "electionbot_outbox",
                                       "event_payload": {"key": "k-1"}}


async def test_a_broadcasts_reply_is_rendered_once_per_workspace_and_posted_the_same(
        rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.adapters.slack import send as slack_send

    rendered: list[str] = []
    render = slack_send.to_slack_message

    def counting(reply: Reply, *, workspace: str = "") -> dict:
        rendered.append(workspace)
        return render(reply, workspace=workspace)
    monkeypatch.setattr(slack_send, "to_slack_message", counting)
    other = Destination.parse("slack:T0TEST:C0HALL")
    for i, where in enumerate([CHANNEL, other, CHANNEL]):
        await rig.transport.send(where, HELLO, key=f"k{i}")
    await rig.transport.send(CHANNEL, Reply(text="Another"), key="k9")  # a new reply: rendered
    assert rendered == ["T0TEST", "T0TEST"]
    posts = rig.fake.calls_to("chat.postMessage")
    assert [p.params["text"] for p in posts] == ["Hello &lt;!channel&gt;"] * 3 + ["Another"]
    assert posts[0].params["blocks"] == posts[2].params["blocks"]
    assert [p.params["metadata"]["event_payload"]["key"] for p in posts] == ["k0", "k1", "k2",
                                                                              "k9"]


async def test_concurrent_dms_to_one_person_open_the_conversation_once(rig: Rig) -> None:
    await asyncio.gather(*(rig.transport.send(PERSON, HELLO, key=f"k{i}") for i in range(3)))
    assert len(rig.fake.calls_to("conversations.open")) == 1
    assert len(rig.fake.calls_to("chat.postMessage", channel="DU0PAT")) == 3
    async with rig.db.session() as session:
        stored = await session.get(ConversationReference, dm_key("T0TEST", "U0PAT"))
    assert stored is not None and stored.channel == "DU0PAT"
    # A new process (empty memory) finds the DM channel in the database.
    fresh = SlackTransport(rig.transport.client, rig.db)
    await fresh.send(PERSON, HELLO, key="k9")
    assert len(rig.fake.calls_to("conversations.open")) == 1


async def test_rate_limit_is_retryable_with_slacks_retry_after(rig: Rig) -> None:
    rig.fake.fail("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(RetryableSendError) as caught:
        await rig.transport.send(CHANNEL, HELLO, key="k")
    assert caught.value.retry_after == 7.0
    assert len(rig.fake.calls_to("chat.postMessage")) == 1  # no in-process retry


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "is_archived",
                                   "account_inactive", "invalid_auth"])
async def test_permanent_post_errors(rig: Rig, error: str) -> None:
    rig.fake.fail("chat.postMessage", error=error)
    with pytest.raises(PermanentSendError, match=error):
        await rig.transport.send(CHANNEL, HELLO, key="k")


@pytest.mark.parametrize("error", ["user_not_found", "cannot_dm_bot"])
async def test_permanent_dm_errors(rig: Rig, error: str) -> None:
    rig.fake.fail("conversations.open", error=error)
    with pytest.raises(PermanentSendError, match=error):
        await rig.transport.send(PERSON, HELLO, key="k")
    assert rig.fake.calls_to("chat.postMessage") == []


async def test_server_errors_are_retryable_and_never_retried_in_process(rig: Rig) -> None:
    rig.fake.fail("chat.postMessage", status=503, error="service_unavailable")
    with pytest.raises(RetryableSendError):
        await rig.transport.send(CHANNEL, HELLO, key="k")
    assert len(rig.fake.calls_to("chat.postMessage")) == 1


async def test_timeouts_are_retryable(rig: Rig) -> None:
    rig.fake.delays["chat.postMessage"] = 2.0
    client = build_send_client(rig.fake.api_url, TOKEN, timeout=1)
    with pytest.raises(RetryableSendError, match="network"):
        await SlackTransport(client, rig.db).send(CHANNEL, HELLO, key="k")
    assert len(rig.fake.calls_to("chat.postMessage")) == 1


async def test_already_sent_finds_an_earlier_delivery_by_its_key(rig: Rig) -> None:
    rig.fake.scopes = "chat:write,im:history,channels:history"
    transport = SlackTransport(rig.transport.client, rig.db, history_per_minute=600)
    since = utcnow()
    ref = await transport.send(CHANNEL, HELLO, key="k-landed")
    await transport.send(PERSON, HELLO, key="k-dm")
    assert transport.scopes["T0TEST"] == {"chat:write", "im:history", "channels:history"}
    assert await transport.already_sent(CHANNEL, "k-landed", since=since) == ref
    assert await transport.already_sent(CHANNEL, "k-other", since=since) is None
    assert (await transport.already_sent(PERSON, "k-dm", since=since) or "").startswith(
        "DU0PAT:")
    [history] = rig.fake.calls_to("conversations.history", channel="C0ROOM")[:1]
    assert history.params["include_all_metadata"] in (True, "1", "true")
    assert int(history.params["limit"]) == 15 and float(history.params["oldest"]) < \
        since.timestamp()
    await transport.aclose()


async def test_already_sent_cannot_tell_without_the_history_scope(rig: Rig) -> None:
    rig.fake.scopes = "chat:write,im:history"  # what the manifest asks for: no channels
    with pytest.raises(CannotTell, match="scope"):
        await rig.transport.already_sent(CHANNEL, "k", since=utcnow())
    assert rig.fake.calls_to("auth.test") and not rig.fake.calls_to("conversations.history")
    assert await rig.transport.already_sent(PERSON, "k", since=utcnow()) is None  # im:history


async def test_already_sent_keeps_to_one_history_call_a_minute_per_workspace(rig: Rig) -> None:
    rig.fake.scopes = "channels:history,im:history"
    assert await rig.transport.already_sent(CHANNEL, "k1", since=utcnow()) is None
    with pytest.raises(CannotTell, match="budget"):
        await rig.transport.already_sent(PERSON, "k2", since=utcnow())
    assert len(rig.fake.calls_to("conversations.history")) == 1


async def test_already_sent_cannot_tell_when_slack_refuses_or_has_more(rig: Rig) -> None:
    rig.fake.scopes = "channels:history"
    transport = SlackTransport(rig.transport.client, rig.db, history_per_minute=600)
    rig.fake.fail("conversations.history", status=429, retry_after=30)
    with pytest.raises(CannotTell):
        await transport.already_sent(CHANNEL, "k", since=utcnow())
    with pytest.raises(CannotTell, match="budget"):  # Retry-After is honoured
        await transport.already_sent(CHANNEL, "k", since=utcnow())
    fresh = SlackTransport(rig.transport.client, rig.db, history_per_minute=600)
    rig.fake.fail("conversations.history", error="missing_scope")
    with pytest.raises(CannotTell):
        await fresh.already_sent(CHANNEL, "k", since=utcnow())
    assert "channels:history" not in fresh.scopes["T0TEST"]
    unsure = SlackTransport(rig.transport.client, rig.db)
    with pytest.raises(CannotTell, match="reach back"):  # no first-attempt time: unsure
        await unsure.already_sent(CHANNEL, "k")
    for each in (transport, fresh, unsure):
        await each.aclose()
