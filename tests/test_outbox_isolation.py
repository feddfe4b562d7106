"""One bad outbox row delays nothing else: refused when queued, dead-lettered alone if present."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa

from bot.db.engine import Database, utcnow
from bot.messages import Destination, InvalidDestination, Reply, reply_to_dict
from bot.ops.metrics import REGISTRY
from bot.outbox.queue import enqueue, enqueue_many
from bot.outbox.worker import Outbox
from tests.adapters.slack_support import (
    SlackBot,
    eventually,
    interaction_body,
    query,
    slack_bot,
    view_submission,
)
from tests.adapters.test_slack_incidents import CONFIG, VALID, open_form
from tests.support import migrated
from tests.test_outbox import Recorder


def dead_letters(platform: str, reason: str) -> float:
    """The dead-letter counter's current value for one series."""
    value = REGISTRY.get_sample_value("electionbot_outbox_dead_letters_total",
                                      {"platform": platform, "reason": reason})
    return value or 0.0


async def insert_raw(db: Database, key: str, platform: str, destination: str,
                     payload: str) -> None:
    """A row written behind the API's back (an older version, a hand edit)."""
    async with db.engine.begin() as conn:
        await conn.execute(sa.text(
            "INSERT INTO outbox_message (key, platform, destination, payload, status, attempts,"
            " next_attempt_at, created_at) VALUES (:k, :p, :d, :b, 'pending', 0, :t, :t)"),
            {"k": key, "p": platform, "d": destination, "b": payload,
             "t": utcnow() - timedelta(seconds=1)})


async def rows(db: Database) -> dict[str, tuple[str, str | None]]:
    async with db.engine.connect() as conn:
        found = await conn.execute(sa.text(
            "SELECT key, status, last_error FROM outbox_message ORDER BY id"))
        return {k: (s, e) for k, s, e in found}


GOOD = json.dumps(reply_to_dict(Reply(text="hello")))


async def test_poisoned_rows_are_dead_lettered_alone_and_the_pass_delivers_the_rest(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'o.db'}"
    migrated(url)
    db = Database(url)
    # Queued first, so they sit in the same claimed batch ahead of the good rows.
    await insert_raw(db, "empty-target", "slack", "slack:T123:", GOOD)  # the row
    await insert_raw(db, "empty-user", "slack", "slack:T123:@", GOOD)
    await insert_raw(db, "not-json", "webchat", "webchat:local:@ann", "{not json")
    await insert_raw(db, "not-a-reply", "slack", "slack:T123:C1", '{"sections": 5}')
    await insert_raw(db, "wrong-platform", "webchat", "slack:T123:C1", GOOD)
    async with db.session() as session:
        enqueue(session, key="good-slack", destination=Destination.parse("slack:T123:C9"),
                reply=Reply(text="to slack"))
        enqueue(session, key="good-web", destination=Destination.parse("webchat:local:@bob"),
                reply=Reply(text="to web"))
        await session.commit()
    before = {r: dead_letters(p, r) for p, r in (("slack", "bad_destination"),
                                                  ("webchat", "bad_payload"))}
    slack_sent, web_sent = Recorder(), Recorder()
    outbox = Outbox(db)
    outbox.register("slack", slack_sent)
    outbox.register("webchat", web_sent)
    await outbox.drain(budget_seconds=10)
    assert slack_sent.sent == [("slack:T123:C9", "to slack")]
    assert web_sent.sent == [("webchat:local:@bob", "to web")]
    found = await rows(db)
    assert found["good-slack"][0] == found["good-web"][0] == "sent"
    for key in ("empty-target", "empty-user", "wrong-platform"):
        status, error = found[key]
        assert status == "dead" and error and error.startswith("bad destination: "), found[key]
    for key in ("not-json", "not-a-reply"):
        status, error = found[key]
        assert status == "dead" and error and error.startswith("bad payload: "), found[key]
    assert "empty or malformed user id" in (found["empty-user"][1] or "")
    assert dead_letters("slack", "bad_destination") == before["bad_destination"] + 2
    assert dead_letters("webchat", "bad_payload") == before["bad_payload"] + 1
    await db.close()


@pytest.mark.parametrize("text", [
    "slack:T123:@", "slack:T123:", "slack::C1", "slack:T1:C 1", "slack:T1:@U\n1",
    "slack:T1:C1\x00", "fax:T1:C1", "teams:tenant:" + "x" * 301, "webchat:local:@ünï",
])
def test_destinations_that_could_never_be_delivered_are_refused(text: str) -> None:
    with pytest.raises(InvalidDestination):
        Destination.parse(text)


def test_an_empty_user_cannot_even_be_built() -> None:
    with pytest.raises(InvalidDestination, match="user id"):
        Destination("slack", "T123", user_id="")
    with pytest.raises(InvalidDestination, match="workspace"):
        Destination("slack", "", channel="C1")
    for text in ("teams:72f988bf-86f1:19:abc@thread.tacv2;messageid=17", "slack:T1:@U1",
                 "webchat:local:@ann.b-c_d", "slack:E1:C1"):
        assert str(Destination.parse(text)) == text


async def test_enqueue_refuses_a_bad_destination_and_adds_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'o.db'}"
    migrated(url)
    db = Database(url)
    forged = Destination.parse("slack:T123:@U1")
    object.__setattr__(forged, "user_id", "")  # past the constructor: enqueue still checks
    async with db.session() as session:
        with pytest.raises(InvalidDestination):
            enqueue(session, key="a", destination=forged, reply=Reply(text="x"))
        good = Destination.parse("slack:T123:@U2")
        with pytest.raises(InvalidDestination):
            await enqueue_many(session, [("b", good, Reply(text="x")),
                                         ("c", forged, Reply(text="x"))])
        await session.commit()
    assert await rows(db) == {}
    await db.close()


@pytest.fixture
async def sb(tmp_path: Path) -> AsyncIterator[SlackBot]:
    async with slack_bot(tmp_path, background=True, config=CONFIG) as running:
        yield running

        async def settled() -> bool:
            return not await query(running, "SELECT id FROM outbox_message "
                                            "WHERE status = 'sending'")
        await eventually(settled)


async def test_a_submission_without_a_user_id_is_refused_and_deliveries_go_on(
        sb: SlackBot) -> None:
    view = await open_form(sb)
    payload = view_submission(view, VALID)
    payload["user"] = {k: v for k, v in payload["user"].items() if k != "id"}
    status, body = await sb.signed(interaction_body(payload))
    # Slack always names the submitter; a payload without one is refused at the door.
    assert status == 400 and json.loads(body)["error"]
    assert await query(sb, "SELECT id FROM incident") == []
    assert await query(sb, "SELECT destination FROM outbox_message") == []
    # A row poisoned behind the API's back stops nothing: the next alert still goes out,
    # the dead letter is counted, and readiness tells the truth about the database.
    db = sb.bot.services.db
    await insert_raw(db, "poison", "slack", "slack:T0TEST:", GOOD)
    async with db.session() as session:
        enqueue(session, key="after", destination=Destination.parse("slack:T0TEST:C0AFTER"),
                reply=Reply(text="still delivered"))
        await session.commit()  # the commit wakes the outbox
    [post] = await sb.fake.wait_for("chat.postMessage")
    assert post.params["channel"] == "C0AFTER"

    async def poison_dead() -> bool:
        return (await rows(db))["poison"][0] == "dead"
    await eventually(poison_dead)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{sb.bot.url}/readyz") as resp:
            assert resp.status == 200 and (await resp.json())["ready"] is True
        async with http.get(f"{sb.bot.url}/metrics") as resp:
            text = await resp.text()
    assert 'electionbot_outbox_dead_letters_total{platform="slack",reason="bad_destination"}' \
        in text
