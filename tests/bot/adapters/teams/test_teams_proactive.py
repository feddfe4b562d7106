"""TeamsTransport on its own: credentials, missing references, and the retry decision."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.adapters.teams.proactive import (
    NO_CHANNEL_REFERENCE,
    NO_REFERENCE,
    PREPARED_FOR,
    classify,
)
from bot.messages import Destination, Reply
from bot.outbox.transport import PermanentSendError, RetryableSendError
from tests.fakes.bot_connector import (
    FakeBotConnector,
    load_activity,
    offline_bot_framework,
    post_activity,
)
from tests.support import make_settings, running_bot

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CHANNEL = "19:3e9f1c0b2a4d4c6e8f0a1b2c3d4e5f60@thread.tacv2"
APP_ID = "00000000-0000-0000-0000-0000000b0771"
OUTBOUND = "fake-outbound-token"


@pytest.fixture
def fake() -> Iterator[FakeBotConnector]:
    with FakeBotConnector() as connector:
        yield connector


class ConnectorError(Exception):
    """An error shaped like a connector exception whose HTTP response is ``.response``."""

    def __init__(self, response: SimpleNamespace) -> None:
        super().__init__("Operation returned an invalid status code")
        self.response = response


def error(status: int, *, retry_after: str | None = None, body: str = "") -> ConnectorError:
    """A Bot Connector error response, without HTTP."""
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return ConnectorError(SimpleNamespace(status_code=status, headers=headers, text=body))


@pytest.mark.parametrize(("status", "retry_after"), [
    (429, 3.0), (412, None), (502, None), (504, None), (500, None), (503, 1.0)])
def test_transient_statuses_are_retryable(status: int, retry_after: float | None) -> None:
    decision = classify(error(status, retry_after=None if retry_after is None
                              else str(retry_after)))
    assert isinstance(decision, RetryableSendError)
    assert decision.retry_after == retry_after


@pytest.mark.parametrize(("status", "body", "reason"), [
    (403, '{"innerHttpError": {"subCode": "MessageWritesBlocked"}}', "403 MessageWritesBlocked"),
    (403, "", "403 Forbidden"),
    (404, "", "404 conversation not found"),
    (400, "", "Teams refused the message: 400"),
])
def test_refusals_are_permanent(status: int, body: str, reason: str) -> None:
    decision = classify(error(status, body=body))
    assert isinstance(decision, PermanentSendError) and str(decision).startswith(reason)


async def test_no_reference_is_permanent(tmp_path: Path) -> None:
    async with running_bot(make_settings(tmp_path)) as bot:
        transport = bot.services.outbox.transports["teams"]
        with pytest.raises(PermanentSendError, match=re.escape(NO_REFERENCE)):
            await transport.send(Destination.parse(f"teams:{TENANT}:@someone"),
                                 Reply(text="hi"), key="k1")
        with pytest.raises(PermanentSendError, match=re.escape(NO_CHANNEL_REFERENCE)):
            await transport.send(Destination.parse(f"teams:{TENANT}:{CHANNEL}"),
                                 Reply(text="hi"), key="k2")


async def test_a_reference_looked_up_long_ago_is_looked_up_again(tmp_path: Path) -> None:
    """A send put back for a later slot must not use a reference the bot may have replaced."""
    async with running_bot(make_settings(tmp_path)) as bot:
        transport = bot.services.outbox.transports["teams"]
        person = Destination.parse(f"teams:{TENANT}:@someone")
        stale = {"serviceUrl": "https://old.example/", "conversation": {"id": "gone"}}
        transport._prepared[str(person)] = (time.monotonic() - PREPARED_FOR - 1, stale)
        await transport.prepare(person)  # too old to keep: looked up again (none stored now)
        with pytest.raises(PermanentSendError, match=re.escape(NO_REFERENCE)):
            await transport.send(person, Reply(text="hi"), key="k1")
        transport._prepared[str(person)] = (time.monotonic() - PREPARED_FOR - 1, stale)
        with pytest.raises(PermanentSendError, match=re.escape(NO_REFERENCE)):
            await transport.send(person, Reply(text="hi"), key="k2")


async def test_proactive_send_uses_the_bots_credentials(
        tmp_path: Path, fake: FakeBotConnector, monkeypatch: pytest.MonkeyPatch) -> None:
    offline_bot_framework(monkeypatch, fake, token=OUTBOUND)
    settings = make_settings(tmp_path,
                             env={"MICROSOFT_APP_ID": APP_ID, "MICROSOFT_APP_PASSWORD": "unused"},
                             teams={"tenants": ["72f988bf-86f1-41af-91ab-2d7cd011db47"]})
    async with running_bot(settings) as bot:
        mention = load_activity("channel_mention", fake.url + "/")
        token = fake.token(app_id=APP_ID, service_url=mention["serviceUrl"])
        assert (await post_activity(bot.url, mention, token=token))[0] == 200
        transport = bot.services.outbox.transports["teams"]
        ref = await transport.send(Destination.parse(f"teams:{TENANT}:{CHANNEL}"),
                                   Reply(text="Drill: test notification"), key="drill")
    [post] = fake.sends_to(CHANNEL)
    assert post.headers["Authorization"] == f"Bearer {OUTBOUND}"
    assert post.body["text"] == "Drill: test notification" and ref.startswith(CHANNEL + "|")


async def test_people_who_never_opened_the_bot_are_unreachable(tmp_path: Path) -> None:
    from bot.adapters.teams.proactive import NEVER_OPENED
    from bot.db.idempotency import save_reference
    from bot.db.models import ConversationReference

    async with running_bot(make_settings(tmp_path)) as bot:
        await save_reference(bot.services.db, ConversationReference(
            key=f"teams:{TENANT}:chat-1", platform="teams", workspace=TENANT, channel="chat-1",
            user_id="opened", reference="{}"))
        opened, never = (Destination.parse(f"teams:{TENANT}:@{u}") for u in ("opened", "never"))
        channel = Destination.parse(f"teams:{TENANT}:{CHANNEL}")
        other = Destination.parse("webchat:local:@pat")
        found = await bot.services.outbox.unreachable([opened, never, channel, other])
    assert found == {never: NEVER_OPENED}  # channels and other platforms answer by sending


async def test_unreachable_reads_only_the_people_asked_about(tmp_path: Path) -> None:
    """With thousands of references in the tenant, each pass reads only the rows it needs."""
    import sqlite3

    import sqlalchemy as sa

    from bot.adapters.teams.proactive import LOOKUP_CHUNK, NEVER_OPENED
    from bot.db.models import ConversationReference

    settings = make_settings(tmp_path)
    async with running_bot(settings) as bot:
        db = bot.services.db
        async with db.session() as session:  # 3000 people and 400 channels used the bot
            session.add_all([ConversationReference(
                key=f"teams:{TENANT}:chat-{n}", platform="teams", workspace=TENANT,
                channel=f"chat-{n}", user_id=f"user-{n}", reference="{}") for n in range(3000)])
            session.add_all([ConversationReference(
                key=f"teams:{TENANT}:19:c{n}@thread.tacv2", platform="teams", workspace=TENANT,
                channel=f"19:c{n}@thread.tacv2", reference="{}") for n in range(400)])
            await session.commit()
        asked = [Destination.parse(f"teams:{TENANT}:@user-{n}") for n in range(0, 2400, 2)]
        asked += [Destination.parse(f"teams:{TENANT}:@new-{n}") for n in range(300)]
        statements: list[tuple[str, object]] = []

        def seen(_conn: object, _cursor: object, statement: str, parameters: object,
                 *_rest: object) -> None:
            if "conversation_reference" in statement:
                statements.append((statement, parameters))

        sa.event.listen(db.engine.sync_engine, "after_cursor_execute", seen)
        try:
            found = await bot.services.outbox.unreachable(asked)
        finally:
            sa.event.remove(db.engine.sync_engine, "after_cursor_execute", seen)
    assert found == {d: NEVER_OPENED for d in asked if d.user_id and d.user_id.startswith("new-")}
    people = len(asked)
    assert len(statements) == -(-people // LOOKUP_CHUNK)  # one query per chunk of user ids
    # Run the same statements again: together they return the 1200 known people's rows only,
    # not the tenant's 3400 references.
    with sqlite3.connect(tmp_path / "bot.db") as raw:
        rows = sum(len(raw.execute(sql, params).fetchall())  # type: ignore[arg-type]
                   for sql, params in statements)
    assert rows == 1200
