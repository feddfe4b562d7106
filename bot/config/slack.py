"""Checks for multi-workspace Slack settings (OAuth v2 install) and the token encryption key.

Pure functions over the already-read :class:`bot.config.settings.Environment`; ``bot.config.settings`` turns a
problem into a ``ConfigError``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

    from bot.config.settings import Environment

GENERATE_KEY = ('python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())"')


def token_keys(value: str) -> list[Fernet]:
    """ELECTIONBOT_TOKEN_KEY as Fernet keys: one, or several comma-separated (newest first).

    Raises ValueError when there is no key or one is malformed.
    """
    from cryptography.fernet import Fernet  # only multi-workspace Slack needs it (~40 ms import)

    keys = [part.strip() for part in value.split(",") if part.strip()]
    if not keys:
        raise ValueError("no key")
    return [Fernet(key.encode()) for key in keys]


def slack_oauth_problem(env: Environment) -> str | None:
    """What is wrong with the multi-workspace Slack settings (key first), else None."""
    if (env.SLACK_CLIENT_ID is None) != (env.SLACK_CLIENT_SECRET is None):
        missing = "SLACK_CLIENT_SECRET" if env.SLACK_CLIENT_SECRET is None else "SLACK_CLIENT_ID"
        return (f"{missing}: set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET together (Basic "
                "Information > App Credentials of your Slack app)")
    if env.SLACK_CLIENT_ID is None:
        return None
    if env.SLACK_SIGNING_SECRET is None:
        return ("SLACK_SIGNING_SECRET: required with SLACK_CLIENT_ID; copy it from your Slack "
                "app's Basic Information page")
    if env.ELECTIONBOT_TOKEN_KEY is None:
        return ("ELECTIONBOT_TOKEN_KEY: required with SLACK_CLIENT_ID, to encrypt the "
                f"workspaces' tokens at rest; generate one with {GENERATE_KEY}")
    try:
        token_keys(env.ELECTIONBOT_TOKEN_KEY.get_secret_value())
    except ValueError:
        return ("ELECTIONBOT_TOKEN_KEY: not a Fernet key (or comma-separated keys, newest "
                f"first); generate one with {GENERATE_KEY}")
    return None
