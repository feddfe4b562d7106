"""The ``alerts:`` section of app.yaml (coalition network, tiers, pacing, windows).

Members are destinations (``slack:T1:C1``, ``slack:T1:@U1``, ``teams:tenant:conv``,
``teams:tenant:@aad``, ``webchat:local:@name``); each carries its workspace / tenant, so a
multi-workspace Slack installation or a multi-tenant Teams app slots in without changes here.
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from bot.config.base import DestinationText, IdentityText, Strict
from handlers.alerts.enums import Tier, Tlp


class Member(Strict):
    """One recipient of alerts: a channel or a person, with who they are and a backup."""

    destination: DestinationText
    name: str = Field(default="", max_length=120)
    organisation: str = Field(min_length=1, max_length=120)
    jurisdiction: str = Field(min_length=2, max_length=40)
    backup: DestinationText | None = Field(default=None, description="destination chased last")
    people: list[IdentityText] = Field(default_factory=list,
                                       description="identities who may acknowledge for a channel")


class Group(Strict):
    """A named set of members in one tier."""

    name: str = Field(min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    tier: Tier
    members: list[Member] = Field(default_factory=list)


class TierPolicy(Strict):
    """The highest TLP label a tier may receive, whether it is chased and always approved."""

    tlp_max: str = "AMBER"
    chase: bool = True
    approval: bool = Field(default=False, description="every alert reaching this tier needs a "
                           "second broadcaster (T3 always does)")

    @field_validator("tlp_max")
    @classmethod
    def _tlp(cls, value: str) -> str:
        if value.upper() not in set(Tlp):
            raise ValueError(f"must be one of {', '.join(Tlp)}")
        return value.upper()


def _default_tiers() -> dict[str, TierPolicy]:
    return {"T0": TierPolicy(tlp_max="RED"), "T1": TierPolicy(tlp_max="AMBER"),
            "T2": TierPolicy(tlp_max="AMBER"), "T3": TierPolicy(tlp_max="CLEAR", chase=False)}


class Template(Strict):
    """Starting text for an alert type (the composer pre-fills it)."""

    headline: str = Field(default="", max_length=80)
    body: str = ""
    instructions: str = ""


class Windows(Strict):
    """Acknowledgement windows in minutes (domain: ~15 severe, 2 h otherwise)."""

    severe_minutes: int = Field(default=15, ge=1, le=1440)
    default_minutes: int = Field(default=120, ge=1, le=2880)


class Pacing(Strict):
    """Send budgets; Teams numbers are Microsoft's, Slack's per-channel number is Slack's."""

    slack_channel_per_second: float = Field(default=1.0, gt=0, le=10)
    slack_workspace_per_second: float = Field(default=10.0, gt=0, le=1000)
    teams_conversation_per_second: float = Field(default=7.0, gt=0, le=7)
    teams_conversation_per_30s: float = Field(default=60.0, gt=0, le=60)
    teams_tenant_per_second: float = Field(default=30.0, gt=0, le=50)


class AlertsConfig(Strict):
    """Rapid-response alerts to the coalition network."""

    tiers: dict[str, TierPolicy] = Field(default_factory=_default_tiers)
    groups: list[Group] = Field(default_factory=list)
    templates: dict[str, Template] = Field(default_factory=dict)
    windows: Windows = Windows()
    pacing: Pacing = Pacing()
    help_destinations: list[DestinationText] = Field(
        default_factory=list, description="state staff told about 'Need help'")

    @model_validator(mode="after")
    def _consistent(self) -> AlertsConfig:
        if set(self.tiers) != set(Tier):
            raise ValueError(f"tiers must define exactly {', '.join(Tier)}")
        if self.tiers["T3"].tlp_max != "CLEAR" or self.tiers["T3"].chase:
            raise ValueError("tiers.T3 (community partners) only receives TLP:CLEAR and is "
                             "never chased: set tlp_max: CLEAR, chase: false")
        names = [g.name for g in self.groups]
        if len(names) != len(set(names)):
            raise ValueError("group names must be unique")
        return self

    def always_approved(self, tier: str) -> bool:
        """Whether every alert reaching ``tier`` needs a second broadcaster (T3 always does)."""
        return tier == Tier.T3 or self.tiers[tier].approval

    def tlp_allowed(self, tier: str, tlp: str) -> bool:
        """Whether ``tier`` may receive an alert labelled ``tlp``."""
        return Tlp(tlp).within(Tlp(self.tiers[tier].tlp_max))
