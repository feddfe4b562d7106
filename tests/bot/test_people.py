"""Display names: learnt from the platforms, stored, and used for every mention (real SQLite,
the fake Slack Web API over real HTTP for ``users.info``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.slack.profiles import slack_lookup
from bot.adapters.slack.send import build_send_client
from bot.db.engine import Database
from bot.messages import Mention, Reply, Sender, readable_label
from bot.people import People, Profile
from tests.fakes.slack_api import FakeSlackApi
from tests.support import migrated


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite:///{tmp_path / 'people.db'}"
    migrated(url)
    database = Database(url)
    yield database
    await database.close()


def test_an_unknown_person_is_never_shown_as_a_raw_identity() -> None:
    assert readable_label("slack:T1:U1") == "a Slack user"
    assert readable_label("teams:tenant:29:1abc") == "a Teams user"
    assert readable_label("webchat:local:state-demo") == "state-demo"
    assert readable_label("web:local:x") == "x"
    assert Mention("slack:T1:U1").label == "a Slack user"


async def test_teams_and_web_names_are_remembered_and_fill_mentions(db: Database) -> None:
    people = People(db)
    await people.remember_sender(Sender("teams", "tenant", "29:1abc", display_name="Dana Ruiz"))
    await people.remember_sender(Sender("web", "local", "x", display_name="Pat Example"))
    reply = Reply(text="{@0} and {@1} and {@2}", mentions=(
        Mention("teams:tenant:29:1abc"), Mention("web:local:x"), Mention("slack:T1:UNEW")))
    named = await People(db).name_mentions(reply)  # a new process: from the table
    assert [m.name for m in named.mentions] == ["Dana Ruiz", "Pat Example", "a Slack user"]
    await people.remember("teams:tenant:29:1abc", Profile("Dana R."))  # renamed on Teams
    assert await People(db).name_of("teams:tenant:29:1abc") == "Dana R."


async def test_a_slack_name_and_zone_come_from_users_info_once(db: Database) -> None:
    async with FakeSlackApi() as fake:
        fake.users["UMARIA"] = {"real_name": "Maria Lopez", "tz": "America/Chicago",
                                "profile": {"display_name": "Maria", "real_name": "Maria Lopez"}}
        client = build_send_client(fake.api_url, "xoxb-test")

        async def client_for(_workspace: str):  # type: ignore[no-untyped-def]
            return client

        people = People(db)
        people.register("slack", slack_lookup(client_for))
        await people.remember_sender(Sender("slack", "T0TEST", "UMARIA", display_name="maria.l"))
        assert [c.params["user"] for c in fake.calls_to("users.info")] == ["UMARIA"]
        reply = await people.name_mentions(Reply(text="{@0}", mentions=(
            Mention("slack:T0TEST:UMARIA"),)))
        assert reply.mentions[0].name == "Maria"
        assert await people.time_zone_of("slack:T0TEST:UMARIA") == "America/Chicago"
        assert len(fake.calls_to("users.info")) == 1  # cached, not asked per message
        fake.fail("users.info", error="user_not_found")
        gone = await people.name_mentions(Reply(text="{@0}", mentions=(
            Mention("slack:T0TEST:UGONE"),)))
        assert gone.mentions[0].name == "a Slack user"  # the reply still goes out
        await people.name_mentions(Reply(text="{@0}", mentions=(Mention("slack:T0TEST:UGONE"),)))
        assert len(fake.calls_to("users.info")) == 2  # a failed look-up is not repeated
        stored = People(db)  # another process reads the table, without asking Slack
        assert await stored.name_of("slack:T0TEST:UMARIA") == "Maria"
