"""The fake Bot Connector itself: failures on demand, per-conversation pacing, proactive create."""

from __future__ import annotations

import aiohttp

from tests.fakes.bot_connector import FakeBotConnector


async def _post(session: aiohttp.ClientSession, url: str, body: dict) -> tuple[int, dict]:
    async with session.post(url, json=body) as response:
        return response.status, await response.json()


async def test_fail_next_then_recover() -> None:
    with FakeBotConnector() as fake:
        fake.fail_next(2, 429, retry_after=3)
        url = f"{fake.url}/v3/conversations/c1/activities"
        async with aiohttp.ClientSession() as session:
            async with session.post(url, json={"type": "message"}) as response:
                assert response.status == 429 and response.headers["Retry-After"] == "3"
            assert (await _post(session, url, {"type": "message"}))[0] == 429
            status, body = await _post(session, url, {"type": "message", "text": "hi"})
        assert status == 200 and body["id"].startswith("activity-")
        [sent] = fake.sends()
        assert sent.body["text"] == "hi" and sent.conversation_id == "c1"


async def test_message_writes_blocked_shape() -> None:
    with FakeBotConnector() as fake:
        fake.fail_next(1, 403, sub_code="MessageWritesBlocked")
        async with aiohttp.ClientSession() as session:
            status, body = await _post(session, f"{fake.url}/v3/conversations/c/activities/r",
                                       {"type": "message"})
        assert status == 403
        assert body["error"]["innerHttpError"]["subCode"] == "MessageWritesBlocked"
        assert fake.calls[0].reply_to_id == "r"


async def test_per_conversation_rate_limit() -> None:
    with FakeBotConnector(per_conversation_per_second=7) as fake:
        async with aiohttp.ClientSession() as session:
            statuses = [(await _post(session, f"{fake.url}/v3/conversations/busy/activities",
                                     {"type": "message"}))[0] for _ in range(9)]
            other = await _post(session, f"{fake.url}/v3/conversations/quiet/activities",
                                {"type": "message"})
        assert statuses[:7] == [200] * 7 and statuses[7:] == [429, 429]
        assert other[0] == 200


async def test_proactive_create_and_update() -> None:
    with FakeBotConnector() as fake:
        async with aiohttp.ClientSession() as session:
            status, created = await _post(session, f"{fake.url}/v3/conversations",
                                          {"isGroup": False, "members": [{"id": "29:u"}]})
            async with session.put(f"{fake.url}/v3/conversations/{created['id']}/activities/a1",
                                   json={"type": "message", "text": "edited"}) as response:
                updated = await response.json()
        assert status == 200 and created["id"].startswith("a:fake-conversation-")
        assert updated == {"id": "a1"}
        assert [c.method for c in fake.calls] == ["POST", "PUT"]
