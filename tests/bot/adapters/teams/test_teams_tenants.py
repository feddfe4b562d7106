"""Teams across tenants: MultiTenant auth, one reference per tenant, no cross-tenant sends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.messages import Destination, Reply
from bot.outbox.queue import enqueue
from tests.bot.adapters.slack.slack_support import eventually
from tests.fakes.bot_connector import (
    FakeBotConnector,
    load_activity,
    offline_bot_framework,
    post_activity,
)
from tests.support import RunningBot, make_settings, running_bot

APP_ID = "00000000-0000-0000-0000-0000000b0771"
OUTBOUND = "fake-outbound-token"
TENANT_A = "aaaaaaaa-0000-4000-8000-00000000000a"
TENANT_B = "bbbbbbbb-0000-4000-8000-00000000000b"
PERSON = "6f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b"  # the same object id in both (a worst case)


@pytest.fixture
def connectors() -> Iterator[tuple[FakeBotConnector, FakeBotConnector]]:
    """Two Bot Connector endpoints: each tenant's conversations live behind their own."""
    with FakeBotConnector() as a, FakeBotConnector() as b:
        yield a, b


def personal(fake: FakeBotConnector, tenant: str, conversation: str) -> dict:
    base = load_activity("personal_message", fake.url + "/")
    return {**base, "conversation": {**base["conversation"], "id": conversation,
                                     "tenantId": tenant},
            "channelData": {"tenant": {"id": tenant}}, "text": "help"}


async def _say(bot: RunningBot, fake: FakeBotConnector, signer: FakeBotConnector,
               activity: dict) -> None:
    token = signer.token(app_id=APP_ID, service_url=activity["serviceUrl"])
    status, _ = await post_activity(bot.url, activity, token=token)
    assert status == 200
    await fake.wait_for_sends(1)


async def test_two_tenants_each_send_uses_its_own_reference(
        tmp_path: Path, connectors: tuple[FakeBotConnector, FakeBotConnector],
        monkeypatch: pytest.MonkeyPatch) -> None:
    fake_a, fake_b = connectors
    offline_bot_framework(monkeypatch, fake_a, token=OUTBOUND)
    settings = make_settings(tmp_path, env={"MICROSOFT_APP_ID": APP_ID,
                                            "MICROSOFT_APP_PASSWORD": "unused",
                                            "MICROSOFT_APP_TYPE": "MultiTenant"},
                             teams={"tenants": [TENANT_A, TENANT_B]})
    async with running_bot(settings) as bot:
        # MultiTenant: people from both tenants reach the bot (tokens are Bot Framework's).
        await _say(bot, fake_a, fake_a, personal(fake_a, TENANT_A, "a:chat-in-tenant-a"))
        await _say(bot, fake_b, fake_a, personal(fake_b, TENANT_B, "a:chat-in-tenant-b"))
        rows = await query_refs(bot)
        [stored_b] = await query_bot(bot, "SELECT reference FROM conversation_reference "
                                          f"WHERE workspace = '{TENANT_B}'")
        assert f'"tenantId": "{TENANT_B}"' in stored_b[0]
        assert f"{fake_b.url}/" in stored_b[0] and fake_a.url not in stored_b[0]
        assert rows == [(TENANT_A, PERSON, "a:chat-in-tenant-a"),
                        (TENANT_B, PERSON, "a:chat-in-tenant-b")]

        transport = bot.services.outbox.transports["teams"]
        before_a = len(fake_a.sends())
        ref = await transport.send(Destination.parse(f"teams:{TENANT_B}:@{PERSON}"),
                                   Reply(text="Tenant B only"), key="to-b")
        assert ref.startswith("a:chat-in-tenant-b|")
        assert len(fake_a.sends()) == before_a  # tenant A's service URL never used
        [sent] = fake_b.sends_to("a:chat-in-tenant-b")[-1:]
        assert sent.body["text"] == "Tenant B only"
        assert sent.body["channelData"]["tenant"] == {"id": TENANT_B}
        assert TENANT_B in (sent.body["conversation"].get("tenantID"),
                            sent.body["conversation"].get("tenantId"))
        assert sent.headers["Authorization"] == f"Bearer {OUTBOUND}"
        assert fake_a.sends_to("a:chat-in-tenant-b") == []


async def test_a_destination_in_an_unknown_tenant_is_dead_lettered(tmp_path: Path) -> None:
    async with running_bot(make_settings(tmp_path)) as bot:
        async with bot.services.db.session() as session:
            enqueue(session, key="unknown-tenant", reply=Reply(text="hello"),
                    destination=Destination.parse(f"teams:{TENANT_B}:@{PERSON}"))
            await session.commit()

        async def settled() -> bool:
            await bot.services.outbox.run_once()
            rows = await query_bot(bot, "SELECT status FROM outbox_message")
            return rows == [("dead",)]

        await eventually(settled)
        [(reason,)] = await query_bot(bot, "SELECT last_error FROM outbox_message")
        assert f"Teams tenant {TENANT_B} is unknown here" in reason
        assert "never installed" in reason


async def query_bot(bot: RunningBot, sql: str) -> list[tuple]:
    async with bot.services.db.engine.connect() as conn:
        return [tuple(r) for r in await conn.execute(sa.text(sql))]


async def query_refs(bot: RunningBot) -> list[tuple]:
    return await query_bot(bot, "SELECT workspace, user_id, channel FROM conversation_reference "
                                "WHERE platform = 'teams' ORDER BY workspace")
