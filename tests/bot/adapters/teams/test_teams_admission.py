"""Teams admits only msteams activities from the tenants app.yaml lists (teams.tenants)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.config.settings import ConfigError
from tests.fakes.bot_connector import (
    FakeBotConnector,
    load_activity,
    offline_bot_framework,
    post_activity,
)
from tests.support import RunningBot, make_settings, running_bot

APP_ID = "00000000-0000-0000-0000-0000000b0771"
OUTBOUND = "fake-outbound-token"
OFFICE = "72f988bf-86f1-41af-91ab-2d7cd011db47"  # the captured activities' tenant
STRANGER = "bbbbbbbb-0000-4000-8000-00000000000b"
BOSS = "6f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b"  # the captured sender, made state staff here


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBotConnector]:
    with FakeBotConnector() as connector:
        offline_bot_framework(monkeypatch, connector, token=OUTBOUND)
        yield connector


@pytest.fixture
async def bot(tmp_path: Path, fake: FakeBotConnector) -> AsyncIterator[RunningBot]:
    settings = make_settings(tmp_path, env={"MICROSOFT_APP_ID": APP_ID,
                                            "MICROSOFT_APP_PASSWORD": "not-used-offline"},
                             teams={"tenants": [OFFICE]},
                             roles={"state_staff": [f"teams:{OFFICE}:{BOSS}"]})
    async with running_bot(settings) as running:
        yield running


async def post(bot: RunningBot, fake: FakeBotConnector, activity: dict[str, Any]
               ) -> tuple[int, Any]:
    token = fake.token(app_id=APP_ID, service_url=activity["serviceUrl"])
    return await post_activity(bot.url, activity, token=token)


async def select(bot: RunningBot, sql: str) -> list[tuple]:
    async with bot.services.db.engine.connect() as conn:
        return [tuple(r) for r in await conn.execute(sa.text(sql))]


async def test_directline_posing_as_a_role_holder_is_refused(
        bot: RunningBot, fake: FakeBotConnector) -> None:
    activity = load_activity("personal_message", fake.url + "/", channelId="directline",
                             text="incident list")
    status, body = await post(bot, fake, activity)
    assert status == 403 and body == {"error": "only Microsoft Teams activities are accepted here"}
    assert fake.sends() == []
    assert await select(bot, "SELECT key FROM conversation_reference") == []
    assert await select(bot, "SELECT actor, action, allowed, reason FROM audit_entry") == [
        (f"directline:{OFFICE}:{BOSS}", "teams.activity", False,
         "channelId 'directline' is not msteams")]
    # The same person from Teams is served (the check is the channel, not the person).
    status, _ = await post(bot, fake, load_activity("personal_message", fake.url + "/",
                                                    text="help"))
    assert status == 200
    await fake.wait_for_sends(1)


def _in_tenant(activity: dict[str, Any], tenant: str) -> dict[str, Any]:
    return {**activity, "conversation": {**activity["conversation"], "tenantId": tenant},
            "channelData": {**activity.get("channelData", {}), "tenant": {"id": tenant}}}


async def test_a_tenant_not_in_the_list_is_refused(bot: RunningBot,
                                                   fake: FakeBotConnector) -> None:
    activity = _in_tenant(load_activity("personal_message", fake.url + "/", text="help"),
                          STRANGER)
    status, body = await post(bot, fake, activity)
    assert status == 403 and "tenant is not admitted" in body["error"]
    assert fake.sends() == []
    [(actor, action, reason)] = await select(bot, "SELECT actor, action, reason FROM audit_entry")
    assert actor.startswith(f"msteams:{STRANGER}:") and action == "teams.activity"
    assert reason == "tenant not in teams.tenants"


async def test_an_install_from_a_refused_tenant_is_not_stored_or_answered(
        bot: RunningBot, fake: FakeBotConnector) -> None:
    install = _in_tenant(load_activity("conversation_update_install", fake.url + "/"), STRANGER)
    status, _ = await post(bot, fake, install)
    assert status == 403
    assert await select(bot, "SELECT key FROM conversation_reference") == []
    assert fake.sends() == []  # nothing goes to the caller's serviceUrl
    assert await select(bot, "SELECT action, allowed FROM audit_entry") == [
        ("teams.install", False)]
    # The office's own tenant installs normally.
    status, _ = await post(bot, fake, load_activity("conversation_update_install",
                                                    fake.url + "/"))
    assert status == 200
    assert len(await select(bot, "SELECT key FROM conversation_reference")) == 1


def test_config_check_needs_tenants_for_a_multitenant_app(tmp_path: Path) -> None:
    env = {"MICROSOFT_APP_ID": APP_ID, "MICROSOFT_APP_PASSWORD": "x"}
    with pytest.raises(ConfigError, match="teams.tenants"):
        make_settings(tmp_path, env=env)
    with pytest.raises(ConfigError, match="teams.tenants"):
        make_settings(tmp_path, env=env, teams={"tenants": ["not-a-guid"]})
    single = make_settings(tmp_path, env={**env, "MICROSOFT_APP_TYPE": "SingleTenant",
                                          "MICROSOFT_APP_TENANT_ID": OFFICE})
    assert single.app.teams.tenants == []  # the app's own tenant is admitted implicitly
