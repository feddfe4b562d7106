"""The ``incidents:`` section of app.yaml: who is notified, who manages which jurisdiction."""

from __future__ import annotations

from pydantic import Field

from bot.config.base import DestinationText, IdentityText, Strict
from handlers.incidents.enums import Severity


class RoutingRule(Strict):
    """Who hears about an incident: empty lists match everything."""

    categories: list[str] = Field(default_factory=list)
    severities: list[Severity] = Field(default_factory=list)
    jurisdictions: list[str] = Field(default_factory=list)
    notify: list[DestinationText] = Field(min_length=1)

    def matches(self, *, category: str, severity: str, jurisdiction: str) -> bool:
        """Whether this rule applies to an incident."""
        return ((not self.categories or category in self.categories)
                and (not self.severities or severity in self.severities)
                and (not self.jurisdictions or jurisdiction in self.jurisdictions))


class IncidentSettings(Strict):
    """Incident routing and who manages which jurisdiction."""

    on_call: list[DestinationText] = Field(default_factory=list,
                                           description="notified at once for SEV1")
    managers: dict[str, list[IdentityText]] = Field(default_factory=dict,
                                           description="jurisdiction -> identities")
    routing: list[RoutingRule] = Field(default_factory=list)

