"""The ``incidents:`` section of app.yaml: who is notified, who manages which jurisdiction."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from bot.config.base import DestinationText, Strict, check_destination, check_identity
from handlers.incidents.enums import Severity

EMAIL = "email:"


def check_manager(value: str) -> str:
    """A manager's chat identity, or ``email:<address>`` for a contact who is not in chat."""
    if str(value).startswith(EMAIL):
        return check_destination(value)
    return check_identity(value)


#: An incident manager in app.yaml: a chat identity (who may act on the jurisdiction's
#: incidents) or an ``email:`` address (told of them by e-mail, granted nothing).
ManagerText = Annotated[str, AfterValidator(check_manager)]


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
    managers: dict[str, list[ManagerText]] = Field(
        default_factory=dict, description="jurisdiction -> identities, or email: contacts")
    routing: list[RoutingRule] = Field(default_factory=list)

    def chat_managers(self, jurisdiction: str | None) -> list[str]:
        """The identities among a jurisdiction's managers: who may act on its incidents."""
        return [m for m in self.managers.get(jurisdiction or "", []) if not m.startswith(EMAIL)]

    def email_managers(self, jurisdiction: str | None) -> list[str]:
        """The ``email:`` contacts among a jurisdiction's managers (told by e-mail)."""
        return [m for m in self.managers.get(jurisdiction or "", []) if m.startswith(EMAIL)]
