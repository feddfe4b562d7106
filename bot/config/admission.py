"""Who the office admits (Teams tenants, Slack workspaces) and how much one caller may do.

The app.yaml sections ``teams:``, ``slack:`` and ``limits:``; :func:`admission_problem` names
what is missing for the enabled platforms, and ``bot.config.settings`` turns it into a ``ConfigError``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator

from bot.config.base import Strict

if TYPE_CHECKING:
    from bot.config.settings import Settings

TENANT = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SLACK_TEAM = re.compile(r"^[TE][A-Z0-9]{2,20}$")



class TeamsAdmission(Strict):
    """``teams.tenants``: the Microsoft 365 tenants (directory ids) whose people may use the bot.

    ``teams.cloud``: the Microsoft cloud those tenants live in (``public``, ``gcc``, ``gcch``,
    ``dod``); it picks token issuers, signing keys, the login authority and the only serviceUrl
    hosts the bot talks to (``bot.adapters.teams.clouds``).
    """

    tenants: list[str] = Field(default_factory=list)
    cloud: Literal["public", "gcc", "gcch", "dod"] = "public"

    @field_validator("tenants")
    @classmethod
    def _tenant_ids(cls, value: list[str]) -> list[str]:
        for tenant in value:
            if not TENANT.match(tenant):
                raise ValueError(f"{tenant!r} is not a tenant id (a GUID like "
                                 "72f988bf-86f1-41af-91ab-2d7cd011db47)")
        return [t.lower() for t in value]


class SlackAdmission(Strict):
    """``slack.workspaces``: team ids (T…) or Enterprise Grid org ids (E…) that may install."""

    workspaces: list[str] = Field(default_factory=list)

    @field_validator("workspaces")
    @classmethod
    def _team_ids(cls, value: list[str]) -> list[str]:
        for team in value:
            if not SLACK_TEAM.match(team):
                raise ValueError(f"{team!r} is not a Slack team id (T…) or enterprise id (E…)")
        return value


class Limits(Strict):
    """``limits``: per hour, per platform identity and per origin (workspace, tenant, address)."""

    incidents_per_hour: int = Field(default=10, ge=1, le=10_000)
    sev1_pages_per_hour: int = Field(default=3, ge=1, le=10_000)
    alerts_per_hour: int = Field(default=5, ge=1, le=10_000)
    per_address_per_hour: int = Field(default=30, ge=1, le=100_000)
    per_workspace_per_hour: int = Field(default=200, ge=1, le=1_000_000)


def allowed_tenants(settings: Settings) -> frozenset[str]:
    """``teams.tenants`` plus the app's own tenant when it is a single-tenant app."""
    env = settings.env
    own = {env.MICROSOFT_APP_TENANT_ID.lower()} if (
        env.MICROSOFT_APP_TENANT_ID and env.MICROSOFT_APP_TYPE != "MultiTenant") else set()
    return frozenset(settings.app.teams.tenants) | own


def admission_problem(settings: Settings) -> str | None:
    """What the allowlists lack for the enabled platforms (key first), else None."""
    if settings.env.MICROSOFT_APP_ID is not None and not allowed_tenants(settings):
        return ("teams.tenants: list the Microsoft 365 tenant ids whose people may use the bot "
                "(MICROSOFT_APP_TYPE=MultiTenant admits no tenant by itself)")
    if settings.slack_oauth_enabled and not settings.app.slack.workspaces:
        return ("slack.workspaces: list the Slack team ids (T…) or Enterprise Grid ids (E…) "
                "that may install the app (SLACK_CLIENT_ID is set)")
    return None
