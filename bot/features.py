"""The record one domain registers itself with: a feature of the bot."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel

from bot.ops.jobs import Periodic
from bot.pages import PageRoute
from bot.router import Handler
from bot.services import Services


def no_periodic(services: Services) -> list[Periodic]:
    """A feature without background work."""
    return []


def no_pages() -> list[PageRoute]:
    """A feature without pages of its own."""
    return []


@dataclass(frozen=True)
class Feature:
    """One domain, registered once in ``handlers.FEATURES``.

    ``handler`` builds its router handler; ``periodic`` its background work; ``cli`` names the
    module whose ``GROUPS`` (``[(name, typer app), ...]``) join the ``electionbot`` command;
    ``config`` maps its app.yaml keys to the models that validate them; ``pages`` lists the
    web pages it serves outside the chat (:mod:`bot.pages`; the server mounts them).
    """

    name: str
    handler: Callable[[], Handler]
    periodic: Callable[[Services], list[Periodic]] = no_periodic
    cli: str | None = None
    config: dict[str, type[BaseModel]] = field(default_factory=dict)
    pages: Callable[[], list[PageRoute]] = no_pages
