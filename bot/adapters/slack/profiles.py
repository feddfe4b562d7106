"""Slack people's names and time zones (``users.info``), for :class:`bot.people.People`.

Slack payloads carry a user id and at most a handle; the name colleagues know and the
person's own time zone come from ``users.info`` (scope ``users:read``, already granted).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.people import Lookup, Profile


def profile_from(user: dict[str, Any]) -> Profile:
    """The display name people chose, else their real name, else the handle; and ``tz``."""
    profile = user.get("profile") or {}
    name = (profile.get("display_name") or profile.get("real_name") or user.get("real_name")
            or user.get("name") or "")
    return Profile(str(name).strip(), str(user.get("tz") or ""))


def slack_lookup(client_for: Callable[[str], Awaitable[AsyncWebClient]]) -> Lookup:
    """A look-up asking ``users.info`` with the workspace's own bot token."""
    async def look_up(workspace: str, user_id: str) -> Profile | None:
        client = await client_for(workspace)
        answer = await client.users_info(user=user_id)
        user = answer.get("user") or {}
        return profile_from(user) if isinstance(user, dict) else None
    return look_up
