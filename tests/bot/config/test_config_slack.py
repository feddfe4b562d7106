"""Multi-workspace Slack settings: fail fast, naming the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.config.settings import ConfigError
from tests.support import make_settings

OAUTH = {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "SLACK_SIGNING_SECRET": "x"}


def test_oauth_without_token_key_names_the_key_and_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        make_settings(tmp_path, env=OAUTH)
    message = str(err.value)
    assert message.startswith("ELECTIONBOT_TOKEN_KEY:")
    assert "Fernet.generate_key().decode()" in message


@pytest.mark.parametrize(("env", "key"), [
    ({**OAUTH, "ELECTIONBOT_TOKEN_KEY": "not-a-key"}, "ELECTIONBOT_TOKEN_KEY"),
    ({"SLACK_CLIENT_ID": "1.2"}, "SLACK_CLIENT_SECRET"),
    ({"SLACK_CLIENT_SECRET": "s"}, "SLACK_CLIENT_ID"),
    ({"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s"}, "SLACK_SIGNING_SECRET"),
])
def test_incomplete_oauth_settings_name_the_key(tmp_path: Path, env: dict, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        make_settings(tmp_path, env=env)
    assert str(err.value).startswith(f"{key}:")


def test_oauth_alone_enables_slack_and_keys_can_rotate(tmp_path: Path) -> None:
    keys = f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}"
    settings = make_settings(tmp_path, env={**OAUTH, "ELECTIONBOT_TOKEN_KEY": keys},
                             slack={"workspaces": ["T0AAA"]})
    assert settings.slack_enabled and settings.slack_oauth_enabled


def test_single_token_is_not_oauth(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, env={"SLACK_BOT_TOKEN": "xoxb-1",
                                            "SLACK_SIGNING_SECRET": "x"})
    assert settings.slack_enabled and not settings.slack_oauth_enabled
