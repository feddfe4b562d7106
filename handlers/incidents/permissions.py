"""Who may see and change an incident: keyed on platform identity and app.yaml roles."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config.settings import AppConfig
from handlers.incidents.config import IncidentSettings
from handlers.incidents.models import Incident


@dataclass(frozen=True)
class Actor:
    """Who is acting, by platform identity, and what app.yaml lets them do."""

    identity: str
    app: AppConfig

    @property
    def is_state_staff(self) -> bool:
        """State staff see and change everything."""
        return self.app.has_role(self.identity, "state_staff")

    def can_view(self, incident: Incident) -> bool:
        """Reporters see their own; managers their jurisdiction's; state staff all."""
        return incident.reporter == self.identity or self.can_change(incident)

    def can_change(self, incident: Incident) -> bool:
        """Managers of the incident's jurisdiction and state staff."""
        return manages(self.app, self.identity, incident.jurisdiction)


def manages(app: AppConfig, identity: str, jurisdiction: str) -> bool:
    """State staff manage every jurisdiction; incident managers their own."""
    return (app.has_role(identity, "state_staff")
            or identity in app.section(IncidentSettings).chat_managers(jurisdiction))
