"""The many-workspace side of the fake Slack Web API: OAuth installs and per-token auth.test.

Mixed into :class:`tests.fakes.slack_api.FakeSlackApi`; see its module docstring.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any


@dataclass
class Workspace:
    """A workspace the app can be installed into (see ``tests.fakes.slack_api``)."""

    team_id: str
    token: str
    name: str = ""
    bot_user_id: str = "UBOT"
    bot_id: str = "B0BOT"
    enterprise_id: str | None = None
    refresh_token: str | None = None  # set: the install answers with a rotating token
    installer: str = "U0INSTALLER"


class WorkspacesMixin:
    """oauth.v2.access (install codes, refresh tokens) and auth.test per registered token."""

    workspaces: dict[str, Workspace]
    install_codes: dict[str, Workspace]
    _tokens: itertools.count[int]

    def add_workspace(self, team_id: str, *, token: str, code: str | None = None,
                      **details: Any) -> Workspace:
        """Register a workspace (its bot token, and an install ``code`` for oauth.v2.access)."""
        workspace = Workspace(team_id, token, **{"name": f"Workspace {team_id}", **details})
        self.workspaces[token] = workspace
        if code is not None:
            self.install_codes[code] = workspace
        return workspace

    def _workspace_answer(self, method: str, params: dict[str, Any],
                          headers: Any) -> dict[str, Any] | None:
        """oauth.v2.access for registered codes; auth.test for registered tokens."""
        if method == "oauth.v2.access" and params.get("grant_type") == "refresh_token":
            return self._refresh(str(params.get("refresh_token", "")))
        if method == "oauth.v2.access":
            workspace = self.install_codes.pop(str(params.get("code", "")), None)
            if workspace is None:
                return {"ok": False, "error": "invalid_code"}
            answer: dict[str, Any] = {
                "ok": True, "access_token": workspace.token, "token_type": "bot",
                "scope": "commands,chat:write", "bot_user_id": workspace.bot_user_id,
                "app_id": "A0FAKEAPP", "team": {"id": workspace.team_id, "name": workspace.name},
                "enterprise": ({"id": workspace.enterprise_id, "name": "Org"}
                               if workspace.enterprise_id else None),
                "is_enterprise_install": False,
                "authed_user": {"id": workspace.installer}}
            if workspace.refresh_token:
                answer.update(refresh_token=workspace.refresh_token, expires_in=43200)
            return answer
        if method == "auth.test":
            token = str(headers.get("Authorization", "")).removeprefix("Bearer ")
            workspace = self.workspaces.get(token)
            if workspace is None:
                return None
            return {"ok": True, "url": f"https://{workspace.team_id.lower()}.slack.com/",
                    "team": workspace.name, "user": "electionbot", "team_id": workspace.team_id,
                    "user_id": workspace.bot_user_id, "bot_id": workspace.bot_id,
                    "enterprise_id": workspace.enterprise_id, "is_enterprise_install": False}
        return None

    def _refresh(self, refresh_token: str) -> dict[str, Any]:
        """Token rotation: a new bot token for a known refresh token (the old one stops)."""
        workspace = next((w for w in self.workspaces.values()
                          if w.refresh_token and w.refresh_token == refresh_token), None)
        if workspace is None:
            return {"ok": False, "error": "invalid_refresh_token"}
        del self.workspaces[workspace.token]
        workspace.token = f"{workspace.token}-r{next(self._tokens)}"
        self.workspaces[workspace.token] = workspace
        return {"ok": True, "access_token": workspace.token, "refresh_token": refresh_token,
                "expires_in": 43200, "token_type": "bot", "scope": "commands,chat:write",
                "bot_user_id": workspace.bot_user_id, "app_id": "A0FAKEAPP",
                "team": {"id": workspace.team_id, "name": workspace.name}}
