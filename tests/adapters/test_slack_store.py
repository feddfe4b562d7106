"""The database installation / state stores on their own: keys, revocation, rotation of keys."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store import Installation  # noqa: TID251 (Bolt's model)

from bot.adapters.slack.store import DatabaseInstallationStore, DatabaseStateStore, TokenBox
from bot.db.engine import Database, utcnow
from tests.support import migrated


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    migrated(url)
    database = Database(url)
    yield database
    await database.close()


def _install(team: str, user: str, *, bot: str | None = "xoxb-1",
             user_token: str | None = None) -> Installation:
    return Installation(team_id=team, user_id=user, bot_token=bot, bot_id="B1", bot_user_id="UB",
                        bot_scopes="chat:write", user_token=user_token,
                        bot_refresh_token="xoxe-1-r" if bot else None,
                        bot_token_expires_in=3600 if bot else None)


async def test_round_trip_and_user_token_revocation_keeps_the_bot(db: Database) -> None:
    store = DatabaseInstallationStore(db, TokenBox(Fernet.generate_key().decode()))
    await store.async_save(_install("T1", "U1", user_token="xoxp-user"))
    found = await store.async_find_installation(enterprise_id=None, team_id="T1")
    assert found is not None and (found.bot_token, found.user_token) == ("xoxb-1", "xoxp-user")
    assert found.bot_refresh_token == "xoxe-1-r" and found.bot_token_expires_at
    await store.async_delete_installation(enterprise_id=None, team_id="T1", user_id="U1")
    bot = await store.async_find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None and bot.bot_token == "xoxb-1"
    await store.async_delete_bot(enterprise_id=None, team_id="T1")
    assert await store.async_find_installation(enterprise_id=None, team_id="T1") is None


async def test_an_old_key_still_reads_after_rotation_a_wrong_key_reads_nothing(
        db: Database) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    await DatabaseInstallationStore(db, TokenBox(old)).async_save(_install("T1", "U1"))
    rotated = DatabaseInstallationStore(db, TokenBox(f"{new},{old}"))
    found = await rotated.async_find_installation(enterprise_id=None, team_id="T1")
    assert found is not None and found.bot_token == "xoxb-1"
    stranger = DatabaseInstallationStore(db, TokenBox(new))
    assert await stranger.async_find_bot(enterprise_id=None, team_id="T1") is None


async def test_states_are_single_use_and_expire(db: Database) -> None:
    now = [utcnow()]
    store = DatabaseStateStore(db, lifetime=600, clock=lambda: now[0])
    first, second = await store.async_issue(), await store.async_issue()
    assert first != second
    assert await store.async_consume(first) is True
    assert await store.async_consume(first) is False
    now[0] += timedelta(seconds=601)
    assert await store.async_consume(second) is False
    assert await store.async_consume("") is False and await store.async_consume("x" * 100) is False
