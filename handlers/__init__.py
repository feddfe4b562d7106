"""FEATURES: the one explicit, ordered registration point. No discovery, no side effects.

Adding a domain touches its own folder and this list. The order is the routing priority: free
text goes to the first handler that claims it. Handlers and periodic work are named here and
imported when built (``serve``, ``worker``), so a command that only reads the configuration
imports nothing but the config models below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.features import Feature
from handlers.alerts.config import AlertsConfig
from handlers.certifications.config import CertificationConfig
from handlers.incidents.config import IncidentSettings

if TYPE_CHECKING:
    from bot.config.settings import Sections
    from bot.ops.jobs import Periodic
    from bot.pages import PageRoute
    from bot.router import Handler
    from bot.services import Services

FEATURES: tuple[Feature, ...] = (
    Feature("incidents", "handlers.incidents.handler:IncidentHandler",
            cli="handlers.incidents.cli", config={"incidents": IncidentSettings}),
    Feature("alerts", "handlers.alerts.handler:AlertHandler",
            "handlers.alerts.handler:alert_periodic", cli="handlers.alerts.cli",
            config={"alerts": AlertsConfig}, pages="handlers.alerts.ack_page:alert_pages"),
    Feature("certification", "handlers.certifications.handler:CertificationHandler",
            "handlers.certifications.handler:certification_periodic",
            cli="handlers.certifications.cli", config={"certification": CertificationConfig}),
    Feature("home", "handlers.home.handler:HomeHandler"),
    # Before the FAQ, which claims any free text: help claims only thanks and "what can you do".
    Feature("help", "handlers.help:HelpHandler"),
    Feature("faq", "handlers.faq.handler:FaqHandler"),
)


def build_handlers() -> list[Handler]:
    """The handlers in priority order (the first to claim free text gets it)."""
    return [feature.build_handler() for feature in FEATURES]


def build_periodic(services: Services) -> list[Periodic]:
    """Background work besides the outbox: run in-process by ``serve``, or by ``worker``."""
    return [job for feature in FEATURES for job in feature.build_periodic(services)]


def build_pages() -> list[PageRoute]:
    """Every domain's web pages outside the chat (the server mounts them)."""
    return [route for feature in FEATURES for route in feature.build_pages()]


def config_sections() -> Sections:
    """Every domain's app.yaml keys and the models that validate them."""
    return {key: model for feature in FEATURES for key, model in feature.config.items()}
