"""The ``alerts:`` section of app.yaml (coalition network, tiers, pacing, windows).

Members are destinations (``slack:T1:C1``, ``slack:T1:@U1``, ``teams:tenant:conv``,
``teams:tenant:@aad``, ``webchat:local:@name``, ``email:office@partner.example.org``); each
chat destination carries its workspace / tenant, so a multi-workspace Slack installation or a
multi-tenant Teams app slots in without changes here. E-mail members are stored in their normal
form (domain in lower case), so one address cannot be listed twice under two spellings.
"""

from __future__ import annotations

import re

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

    @model_validator(mode="after")
    def _mailbox(self) -> Member:
        if self.people and self.destination.startswith("email:"):
            raise ValueError("people: an e-mail member is one mailbox, answered from the "
                             "message itself; people are for chat channels (leave it empty)")
        return self


class Group(Strict):
    """A named set of members in one tier."""

    name: str = Field(min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    tier: Tier
    members: list[Member] = Field(default_factory=list)

    @model_validator(mode="after")
    def _once_each(self) -> Group:
        seen: set[str] = set()
        for member in self.members:
            if member.destination in seen:
                raise ValueError(f"{member.destination} is listed twice in group {self.name} "
                                 "(e-mail domains are compared in lower case)")
            seen.add(member.destination)
        return self


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


_DOMAIN = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


class EmailRules(Strict):
    """What may go to e-mail members beyond TLP:CLEAR and GREEN (TLP:RED never does)."""

    amber_domains: list[str] = Field(
        default_factory=list,
        description="domains that may receive TLP:AMBER and AMBER+STRICT by e-mail: "
                    "'sos.example.gov' is that domain only, '*.example.gov' every domain below "
                    "example.gov (list example.gov too to include it)")

    @field_validator("amber_domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        cleaned = [v.strip().lower() for v in value]
        for rule in cleaned:
            if rule.startswith("*.") and "." not in rule[2:]:
                raise ValueError(f"{rule!r} would admit a whole top-level domain; name the "
                                 "organisation's domain, like *.example.gov")
            if not _DOMAIN.fullmatch(rule):
                raise ValueError(f"{rule!r} is not a domain name like sos.example.gov or "
                                 "*.example.gov (a domain, not an address or a lone asterisk)")
        return cleaned


class AckLinks(Strict):
    """One-click acknowledgement links in e-mail (``handlers/alerts/links.py``)."""

    max_days: int = Field(default=7, ge=1, le=30, description="a link without an alert "
                          "expiry stops working this many days after sending")
    per_address_per_hour: int = Field(
        default=300, ge=1, le=100_000, description="answer pages shown (and, counted apart, "
        "answers confirmed) for one client address")


class AlertsConfig(Strict):
    """Rapid-response alerts to the coalition network."""

    tiers: dict[str, TierPolicy] = Field(default_factory=_default_tiers)
    groups: list[Group] = Field(default_factory=list)
    templates: dict[str, Template] = Field(default_factory=dict)
    windows: Windows = Windows()
    pacing: Pacing = Pacing()
    help_destinations: list[DestinationText] = Field(
        default_factory=list, description="state staff told about 'Need help'")
    email: EmailRules = EmailRules()
    ack_links: AckLinks = AckLinks()

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
