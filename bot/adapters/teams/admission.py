"""Which Bot Framework activities may reach the bot: Microsoft Teams, from admitted tenants.

Checked after authentication and before anything else happens (no turn, no stored conversation
reference, nothing sent to the activity's serviceUrl):

- ``channelId`` must be ``msteams``. A valid Bot Framework token is issued for every channel of
  the bot registration, and on Direct Line or Web Chat the client chooses ``from``, so an
  identity from another channel could pose as a ``teams:`` role holder.
- The ``serviceUrl`` must be a Bot Connector endpoint of ``teams.cloud`` (public, GCC, GCC High,
  DoD): replies go there, so any other host would make the bot post (with its token) wherever the
  caller chose. Loopback is allowed in demo mode only (``bot.adapters.teams.clouds``).
- The tenant (``channelData.tenant.id``) must be in ``teams.tenants`` in app.yaml (plus the
  app's own tenant for a single-tenant app). With no app id (local tests, demo) and an empty
  list, any tenant is accepted; with an app id, ``config check`` refuses an empty list.

A refused activity gets a 403 with a short JSON reason and an audit row; a refused install is
not answered in Teams at all, because the reply would go to a serviceUrl the caller chose.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.adapters.teams.clouds import CLOUDS, ServiceUrlPolicy
from bot.adapters.teams.translate import sender_of, tenant_of
from bot.config.admission import allowed_tenants
from bot.config.settings import Settings
from bot.db.engine import Database
from bot.ops.audit import audit

TEAMS_CHANNEL = "msteams"
INSTALL_TYPES = frozenset({"conversationUpdate", "installationUpdate"})


@dataclass(frozen=True)
class Refusal:
    """Why an activity is refused: the HTTP reason and the audit reason."""

    message: str
    reason: str


@dataclass(frozen=True)
class Admission:
    """The tenants admitted (None: any, only without an app id)."""

    tenants: frozenset[str] | None
    service_urls: ServiceUrlPolicy

    @classmethod
    def from_settings(cls, settings: Settings) -> Admission:
        """``teams.tenants`` (and the single-tenant app's own); open only with no app id."""
        tenants = allowed_tenants(settings)
        policy = ServiceUrlPolicy(CLOUDS[settings.app.teams.cloud], loopback=bool(settings.demo))
        if not tenants and settings.env.MICROSOFT_APP_ID is None:
            return cls(None, policy)
        return cls(tenants, policy)

    def refusal(self, raw: Mapping[str, Any]) -> Refusal | None:
        """None when the activity may proceed, else why not."""
        channel = raw.get("channelId")
        if channel != TEAMS_CHANNEL:
            return Refusal("only Microsoft Teams activities are accepted here",
                           f"channelId {str(channel)[:40]!r} is not msteams")
        problem = self.service_urls.problem(str(raw.get("serviceUrl") or ""))
        if problem is not None:
            return Refusal("this serviceUrl is not a Microsoft Teams endpoint of the configured "
                           "cloud", problem)
        tenant = tenant_of(raw).lower()
        if self.tenants is not None and tenant not in self.tenants:
            return Refusal("this Microsoft 365 tenant is not admitted by the election office",
                           "tenant not in teams.tenants")
        return None

    async def check(self, db: Database, raw: Mapping[str, Any]) -> Refusal | None:
        """:meth:`refusal`, with the refusal recorded in the audit log."""
        refused = self.refusal(raw)
        if refused is None:
            return None
        sender = sender_of(raw)
        channel = str(raw.get("channelId") or "none")[:40]
        # The claimed identity is kept under the channel it came from, never as teams:...
        actor = f"{channel}:{sender.workspace}:{sender.user_id}"
        kind = "teams.install" if raw.get("type") in INSTALL_TYPES else "teams.activity"
        await audit(db, actor=actor, action=kind, target=str(raw.get("type"))[:40],
                    allowed=False, reason=refused.reason)
        return refused
