"""Bolt's installation and OAuth-state stores, kept in the project's database.

:class:`DatabaseInstallationStore` implements slack_sdk's ``AsyncInstallationStore`` on the
``slack_installation`` table; every token (bot, user, refresh) is Fernet-encrypted with
ELECTIONBOT_TOKEN_KEY before it is written (:class:`TokenBox`). :class:`DatabaseStateStore`
implements ``AsyncOAuthStateStore``: each install link's ``state`` is random, short-lived and
consumed by one atomic DELETE, so a replayed or expired state is refused.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import InvalidToken, MultiFernet
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from sqlmodel import col, select

from bot.adapters.slack.models import SlackInstallation, SlackOAuthState
from bot.config.slack import token_keys
from bot.db.engine import Database, utcnow

log = logging.getLogger(__name__)
STATE_LIFETIME = 600  # seconds an install link stays valid
SECRET_FIELDS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")


class TokenBox:
    """Encrypt / decrypt tokens with ELECTIONBOT_TOKEN_KEY (newest key first, older ones read)."""

    def __init__(self, keys: str) -> None:
        """``keys``: one Fernet key, or several comma-separated for rotation."""
        self._fernet = MultiFernet(token_keys(keys))

    def seal(self, token: str | None) -> str | None:
        """Ciphertext for ``token`` (None stays None)."""
        return None if token is None else self._fernet.encrypt(token.encode()).decode()

    def open(self, sealed: str | None) -> str | None:
        """The token back; None (logged) when no configured key can decrypt it."""
        if sealed is None:
            return None
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            log.error("slack token cannot be decrypted: was ELECTIONBOT_TOKEN_KEY changed? "
                      "Keep the old key after the new one (comma-separated) or reinstall")
            return None


def _when(value: Any) -> datetime | None:
    """slack_sdk's epoch seconds (or datetime) as an aware datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(value), UTC)


def _scopes(value: str | Sequence[str] | None) -> str:
    return value if isinstance(value, str) else ",".join(value or ())


def _workspace(enterprise_id: str | None, team_id: str | None,
               is_enterprise_install: bool | None) -> tuple[str, str]:
    """The stored (enterprise, team) key: org-wide installs have no team."""
    return enterprise_id or "", "" if is_enterprise_install else (team_id or "")


class DatabaseInstallationStore(AsyncInstallationStore):
    """slack_sdk's installation store on our database, tokens encrypted at rest."""

    def __init__(self, db: Database, box: TokenBox) -> None:
        """Store rows in ``db``; seal and open tokens with ``box``."""
        self.db = db
        self.box = box
        self.generation = 0  # bumped by every write: readers' caches compare it

    @property
    def logger(self) -> logging.Logger:
        """The store's logger (slack_sdk's interface asks for one)."""
        return log

    async def async_save(self, installation: Installation) -> None:
        """Insert or replace the installation of (workspace, installer)."""
        enterprise, team = _workspace(installation.enterprise_id, installation.team_id,
                                      installation.is_enterprise_install)
        values: dict[str, Any] = {
            "is_enterprise_install": bool(installation.is_enterprise_install),
            "app_id": installation.app_id, "enterprise_name": installation.enterprise_name,
            "enterprise_url": installation.enterprise_url, "team_name": installation.team_name,
            "bot_id": installation.bot_id, "bot_user_id": installation.bot_user_id,
            "bot_scopes": _scopes(installation.bot_scopes),
            "user_scopes": _scopes(installation.user_scopes),
            "bot_token_expires_at": _when(installation.bot_token_expires_at),
            "user_token_expires_at": _when(installation.user_token_expires_at),
            "token_type": installation.token_type, "installed_at": utcnow(),
            **{name: self.box.seal(getattr(installation, name)) for name in SECRET_FIELDS},
        }
        async with self.db.session() as session:
            row = (await session.exec(select(SlackInstallation).where(
                SlackInstallation.enterprise_id == enterprise, SlackInstallation.team_id == team,
                SlackInstallation.user_id == installation.user_id))).first()
            if row is None:
                row = SlackInstallation(enterprise_id=enterprise, team_id=team,
                                        user_id=installation.user_id)
            for name, value in values.items():
                setattr(row, name, value)
            session.add(row)
            await session.commit()
        self.generation += 1
        log.info("slack installation saved", extra={"team": team, "enterprise": enterprise})

    async def async_save_bot(self, bot: Bot) -> None:
        """Store a rotated bot token on the workspace's installations."""
        enterprise, team = _workspace(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        async with self.db.session() as session:
            await session.execute(sa.update(SlackInstallation).where(
                *self._match(enterprise, team), col(SlackInstallation.bot_token).is_not(None),
            ).values(bot_token=self.box.seal(bot.bot_token),
                     bot_refresh_token=self.box.seal(bot.bot_refresh_token),
                     bot_token_expires_at=_when(bot.bot_token_expires_at)))
            await session.commit()
        self.generation += 1

    async def async_find_installation(
            self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None,
            is_enterprise_install: bool | None = False) -> Installation | None:
        """The workspace's latest installation (that installer's when ``user_id`` is given)."""
        rows = await self._rows(enterprise_id, team_id, is_enterprise_install, user_id)
        return self._installation(rows[0]) if rows else None

    async def async_find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                             is_enterprise_install: bool | None = False) -> Bot | None:
        """The workspace's latest installation that still has a bot token."""
        for row in await self._rows(enterprise_id, team_id, is_enterprise_install, None):
            installation = self._installation(row)
            if installation.bot_token:
                return installation.to_bot()
        return None

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Forget the workspace's bot tokens (``tokens_revoked`` for the bot)."""
        await self._forget(enterprise_id, team_id, None, ("bot_token", "bot_refresh_token"))

    async def async_delete_installation(self, *, enterprise_id: str | None,
                                        team_id: str | None, user_id: str | None = None) -> None:
        """Forget a user's tokens (``tokens_revoked``), or the workspace's installations."""
        if user_id is None:
            await self.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)
        else:
            await self._forget(enterprise_id, team_id, user_id,
                               ("user_token", "user_refresh_token"))

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Delete every installation of the workspace (``app_uninstalled``)."""
        async with self.db.session() as session:
            await session.execute(sa.delete(SlackInstallation).where(
                *self._match(*_workspace(enterprise_id, team_id, False))))
            await session.commit()
        self.generation += 1
        log.info("slack installation deleted", extra={"team": team_id or "",
                                                      "enterprise": enterprise_id or ""})

    # -- internals --------------------------------------------------------------------------

    @staticmethod
    def _match(enterprise: str, team: str) -> list[Any]:
        """Conditions for a workspace's rows.

        Team ids are unique across Slack, so an unknown enterprise matches any; an org-wide
        install (no team) is found by its enterprise.
        """
        if team:
            where = [SlackInstallation.team_id == team]
            return where + ([SlackInstallation.enterprise_id == enterprise] if enterprise else [])
        return [SlackInstallation.enterprise_id == enterprise, SlackInstallation.team_id == ""]

    async def _rows(self, enterprise_id: str | None, team_id: str | None,
                    is_enterprise_install: bool | None,
                    user_id: str | None) -> list[SlackInstallation]:
        query = select(SlackInstallation).where(
            *self._match(*_workspace(enterprise_id, team_id, is_enterprise_install)))
        if user_id is not None:
            query = query.where(SlackInstallation.user_id == user_id)
        async with self.db.session() as session:
            result = await session.exec(
                query.order_by(col(SlackInstallation.installed_at).desc()))
            return list(result.all())

    async def _forget(self, enterprise_id: str | None, team_id: str | None,
                      user_id: str | None, fields: Sequence[str]) -> None:
        """Null ``fields`` on the matching rows; drop rows left with no token at all."""
        where = self._match(*_workspace(enterprise_id, team_id, False))
        if user_id is not None:
            where.append(SlackInstallation.user_id == user_id)
        async with self.db.session() as session:
            await session.execute(sa.update(SlackInstallation).where(*where).values(
                {name: None for name in fields}))
            await session.execute(sa.delete(SlackInstallation).where(
                *where, col(SlackInstallation.bot_token).is_(None),
                col(SlackInstallation.user_token).is_(None)))
            await session.commit()
        self.generation += 1
        log.info("slack tokens revoked", extra={"team": team_id or "", "fields": list(fields)})

    def _installation(self, row: SlackInstallation) -> Installation:
        return Installation(
            app_id=row.app_id, enterprise_id=row.enterprise_id or None,
            enterprise_name=row.enterprise_name, enterprise_url=row.enterprise_url,
            team_id=row.team_id or None, team_name=row.team_name,
            bot_token=self.box.open(row.bot_token), bot_id=row.bot_id,
            bot_user_id=row.bot_user_id, bot_scopes=row.bot_scopes,
            bot_refresh_token=self.box.open(row.bot_refresh_token),
            bot_token_expires_at=row.bot_token_expires_at, user_id=row.user_id,
            user_token=self.box.open(row.user_token), user_scopes=row.user_scopes,
            user_refresh_token=self.box.open(row.user_refresh_token),
            user_token_expires_at=row.user_token_expires_at,
            is_enterprise_install=row.is_enterprise_install, token_type=row.token_type,
            installed_at=row.installed_at)


class DatabaseStateStore(AsyncOAuthStateStore):
    """Install-link states: random, valid for ``lifetime`` seconds, usable once."""

    def __init__(self, db: Database, lifetime: int = STATE_LIFETIME,
                 clock: Callable[[], datetime] = utcnow) -> None:
        """Keep states in ``db``."""
        self.db = db
        self.lifetime = lifetime
        self.clock = clock

    @property
    def logger(self) -> logging.Logger:
        """The store's logger (slack_sdk's interface asks for one)."""
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        """A new state; expired ones are swept on the way."""
        state = secrets.token_urlsafe(32)
        now = self.clock()
        async with self.db.session() as session:
            await session.execute(sa.delete(SlackOAuthState).where(
                col(SlackOAuthState.expires_at) <= now))
            session.add(SlackOAuthState(state=state,
                                        expires_at=now + timedelta(seconds=self.lifetime)))
            await session.commit()
        return state

    async def async_consume(self, state: str) -> bool:
        """True once for a live state; False when unknown, already used or expired."""
        if not state or len(state) > 64:
            return False
        async with self.db.session() as session:
            result = await session.execute(sa.delete(SlackOAuthState).where(
                col(SlackOAuthState.state) == state,
                col(SlackOAuthState.expires_at) > self.clock()))
            await session.commit()
        return int(getattr(result, "rowcount", 0) or 0) == 1
