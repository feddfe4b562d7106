"""FEATURES: the one explicit, ordered registration point. No discovery, no side effects.

Adding a domain touches its own folder and this list. The order is the routing priority: free
text goes to the first handler that claims it.
"""

from __future__ import annotations

from bot.config.settings import Sections
from bot.features import Feature
from bot.ops.jobs import Periodic
from bot.pages import PageRoute
from bot.router import Handler
from bot.services import Services
from handlers.alerts import AlertHandler, alert_pages, alert_periodic
from handlers.alerts.config import AlertsConfig
from handlers.certifications import CertificationHandler, certification_periodic
from handlers.certifications.config import CertificationConfig
from handlers.faq import FaqHandler
from handlers.help import HelpHandler
from handlers.home import HomeHandler
from handlers.incidents import IncidentHandler
from handlers.incidents.config import IncidentSettings

FEATURES: tuple[Feature, ...] = (
    Feature("incidents", IncidentHandler, cli="handlers.incidents.cli",
            config={"incidents": IncidentSettings}),
    Feature("alerts", AlertHandler, alert_periodic, cli="handlers.alerts.cli",
            config={"alerts": AlertsConfig}, pages=alert_pages),
    Feature("certification", CertificationHandler, certification_periodic,
            cli="handlers.certifications.cli", config={"certification": CertificationConfig}),
    Feature("home", HomeHandler),
    Feature("faq", FaqHandler),
    Feature("help", HelpHandler),
)


def build_handlers() -> list[Handler]:
    """The handlers in priority order (the first to claim free text gets it)."""
    return [feature.handler() for feature in FEATURES]


def build_periodic(services: Services) -> list[Periodic]:
    """Background work besides the outbox: run in-process by ``serve``, or by ``worker``."""
    return [job for feature in FEATURES for job in feature.periodic(services)]


def build_pages() -> list[PageRoute]:
    """Every domain's web pages outside the chat (the server mounts them)."""
    return [route for feature in FEATURES for route in feature.pages()]


def config_sections() -> Sections:
    """Every domain's app.yaml keys and the models that validate them."""
    return {key: model for feature in FEATURES for key, model in feature.config.items()}
