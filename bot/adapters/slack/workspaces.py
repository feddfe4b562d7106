"""Which bot token serves which Slack workspace: installations first, then SLACK_BOT_TOKEN.

Used twice: by Bolt (:class:`InstallationAuthorize`, every inbound request) and by the outbox
(:meth:`Workspaces.bot_token`, every send). Authorization reads the bot ids stored at install
time, so no ack waits on auth.test, and keeps them in memory for ``CACHE_SECONDS`` (dropped
at once when this process saves or deletes an installation), so most acks do not wait on the
database either. Rotating tokens (``xoxe-`` refresh tokens) are refreshed
when due, one refresh per workspace at a time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError, SlackTokenRotationError
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.store import DatabaseInstallationStore
from bot.db.engine import Database
from bot.ops.audit import audit
from bot.outbox.transport import PermanentSendError, RetryableSendError

log = logging.getLogger(__name__)
ROTATE_BEFORE = 120  # minutes before expiry a rotating token is refreshed
CACHE_SECONDS = 30.0  # another process's uninstall is noticed within this (Slack stops events)
NOT_INSTALLED = ("slack workspace {workspace} has no installation of this app (uninstalled or "
                 "tokens revoked); reinstall it from /slack/install")
Fallback = Callable[[str | None, str | None, str | None], Awaitable[AuthorizeResult | None]]


class Workspaces:
    """Bot tokens per workspace (see the module docstring)."""

    def __init__(self, store: DatabaseInstallationStore, client: AsyncWebClient, *,
                 client_id: str, client_secret: str, single_token: str | None = None,
                 admitted: frozenset[str] = frozenset()) -> None:
        """``client`` (at SLACK_API_URL) refreshes tokens and asks auth.test for the home team.

        ``admitted``: app.yaml ``slack.workspaces`` (team and Enterprise Grid ids).
        """
        self.store = store
        self.admitted = admitted
        self.client = client
        self.single_token = single_token
        self.rotator = AsyncTokenRotator(client_id=client_id, client_secret=client_secret,
                                         client=client)
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._home: str | None = None
        self._cache: dict[tuple[str, str, bool], tuple[float, int, Installation | None]] = {}

    async def cached(self, enterprise_id: str | None, team_id: str | None,
                     is_enterprise_install: bool | None = False) -> Installation | None:
        """:meth:`installation`, remembered for CACHE_SECONDS or until the store changes."""
        key = (enterprise_id or "", team_id or "", bool(is_enterprise_install))
        now = asyncio.get_running_loop().time()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now and hit[1] == self.store.generation:
            expires = hit[2].bot_token_expires_at if hit[2] is not None else None
            if expires is None or expires - ROTATE_BEFORE * 60 > time.time():
                return hit[2]
        generation = self.store.generation  # a change while we read makes the entry stale
        found = await self.installation(enterprise_id, team_id, is_enterprise_install)
        self._cache[key] = (now + CACHE_SECONDS, generation, found)
        return found

    async def installation(self, enterprise_id: str | None, team_id: str | None,
                           is_enterprise_install: bool | None = False) -> Installation | None:
        """The workspace's installation with a usable token (refreshed when about to expire).

        Raises SlackTokenRotationError / SlackApiError when a due refresh fails.
        """
        found = await self.store.async_find_installation(
            enterprise_id=enterprise_id, team_id=team_id,
            is_enterprise_install=is_enterprise_install)
        if found is None or found.bot_refresh_token is None:
            return found
        lock = self._locks.setdefault((enterprise_id or "", team_id or ""), asyncio.Lock())
        async with lock:  # concurrent requests refresh once, the others read the result
            found = await self.store.async_find_installation(
                enterprise_id=enterprise_id, team_id=team_id,
                is_enterprise_install=is_enterprise_install)
            if found is None:
                return None
            refreshed = await self.rotator.perform_token_rotation(
                installation=found, minutes_before_expiration=ROTATE_BEFORE)
            if refreshed is None:
                return found
            await self.store.async_save(refreshed)
            log.info("slack token refreshed", extra={"team": team_id or ""})
            return refreshed

    async def bot_token(self, workspace: str) -> str:
        """The outbox's resolver: the token for ``slack:<workspace>:...`` destinations.

        Raises PermanentSendError (dead letter, with the reason) when the workspace has no
        installation, RetryableSendError when a token refresh or auth.test failed.
        """
        org = workspace.startswith("E")
        try:
            found = await self.cached(workspace if org else None, None if org else workspace,
                                      org)
        except (SlackTokenRotationError, SlackApiError) as exc:
            raise RetryableSendError(f"slack token refresh failed: {type(exc).__name__}") from None
        if found is not None and found.bot_token:
            return str(found.bot_token)
        if self.single_token is not None and await self._home_team() == workspace:
            return self.single_token
        raise PermanentSendError(NOT_INSTALLED.format(workspace=workspace))

    async def admits(self, enterprise_id: str | None, team_id: str | None) -> bool:
        """Whether the office admits this workspace: listed, or SLACK_BOT_TOKEN's own team."""
        enterprise_id, team_id = workspace_id(enterprise_id), workspace_id(team_id)
        if (team_id and team_id in self.admitted) or (
                enterprise_id and enterprise_id in self.admitted):
            return True
        if self.single_token is None or not team_id:
            return False
        try:
            return await self._home_team() == team_id
        except RetryableSendError:
            return False

    async def _home_team(self) -> str | None:
        """SLACK_BOT_TOKEN's own workspace, learned once with auth.test."""
        if self._home is None and self.single_token is not None:
            try:
                response = await self.client.auth_test(token=self.single_token)
            except SlackApiError as exc:
                if exc.response.get("error") in ("invalid_auth", "token_revoked", "account_inactive"):
                    return None
                raise RetryableSendError("slack auth.test failed") from None
            self._home = str(response.get("team_id") or "")
        return self._home

    def authorize(self, fallback: Fallback | None) -> InstallationAuthorize:
        """Bolt's authorize hook; ``fallback`` answers for workspaces with no installation."""
        return InstallationAuthorize(self, fallback)


async def refuse_workspace(db: Database, enterprise_id: str | None, team_id: str | None) -> None:
    """Log and audit a request from a workspace the office does not admit."""
    enterprise_id, team_id = workspace_id(enterprise_id), workspace_id(team_id)
    log.warning("slack request from a workspace not in slack.workspaces",
                extra={"team": team_id or "", "enterprise": enterprise_id or ""})
    await audit(db, actor=f"slack:{team_id or enterprise_id or 'unknown'}", action="slack.request",
                target=(team_id or enterprise_id or "unknown")[:40], allowed=False,
                reason="workspace not in slack.workspaces")


def workspace_id(value: object) -> str | None:
    """A workspace id as sent in a signed payload: only a short string counts."""
    return value[:40] if isinstance(value, str) else None


class InstallationAuthorize(AsyncAuthorize):
    """Authorize a request by its workspace's installation, else by SLACK_BOT_TOKEN when set.

    In Slack Connect channels the workspace is the receiving installation Bolt read from the
    event's ``authorizations``.
    """

    def __init__(self, workspaces: Workspaces, fallback: Fallback | None) -> None:
        """Look installations up in ``workspaces``."""
        super().__init__()
        self.workspaces = workspaces
        self.fallback = fallback

    async def __call__(self, *, context: AsyncBoltContext, enterprise_id: str | None,
                       team_id: str | None, user_id: str | None,
                       **_actor: Any) -> AuthorizeResult | None:
        """An AuthorizeResult from stored ids (no Web API call), or None: not installed.

        A workspace the office does not admit (``slack.workspaces``) gets None as well, even
        with a stored installation (one approved once and removed from the list since).
        """
        if not await self.workspaces.admits(enterprise_id, team_id):
            await refuse_workspace(self.workspaces.store.db, enterprise_id, team_id)
            return None
        try:
            found = await self.workspaces.cached(enterprise_id, team_id,
                                                 context.is_enterprise_install)
        except (SlackTokenRotationError, SlackApiError) as exc:
            log.error("slack token refresh failed", extra={"error": type(exc).__name__})
            return None
        if found is not None and found.bot_token:
            return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id,
                                   bot_token=found.bot_token, bot_id=found.bot_id,
                                   bot_user_id=found.bot_user_id, bot_scopes=found.bot_scopes)
        if self.fallback is not None:
            return await self.fallback(enterprise_id, team_id, user_id)
        log.warning("slack request from a workspace without installation",
                    extra={"team": team_id or "", "enterprise": enterprise_id or ""})
        return None
