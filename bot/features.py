"""The record one domain registers itself with: a feature of the bot."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from bot.ops.jobs import Periodic
    from bot.pages import PageRoute
    from bot.router import Handler
    from bot.services import Services


def _resolve(target: str) -> Any:
    """``"package.module:name"`` -> that object (the module is imported now)."""
    module, _, name = target.partition(":")
    return getattr(import_module(module), name)


@dataclass(frozen=True)
class Feature:
    """One domain, registered once in ``handlers.FEATURES``.

    ``handler`` names (``"module:Class"``) the class that builds its router handler;
    ``periodic`` (``"module:function"``) its background work; ``cli`` the module whose
    ``GROUPS`` (``[(name, typer app), ...]``) join the ``electionbot`` command; ``config`` maps
    its app.yaml keys to the models that validate them; ``pages`` (``"module:function"``) the
    web pages it serves outside the chat (:mod:`bot.pages`; the server mounts them).

    Handler, periodic work, pages and CLI are named, not imported, so reading the configuration
    (every command does) imports only the config models: ``electionbot ask`` never imports the
    incident, alert or certification code, while ``serve`` imports it all at start-up.
    """

    name: str
    handler: str
    periodic: str | None = None
    cli: str | None = None
    config: dict[str, type[BaseModel]] = field(default_factory=dict)
    pages: str | None = None

    def build_handler(self) -> Handler:
        """The router handler (imports the domain's handler module)."""
        factory: Callable[[], Handler] = _resolve(self.handler)
        return factory()

    def build_periodic(self, services: Services) -> list[Periodic]:
        """The domain's background jobs (none without ``periodic``)."""
        if self.periodic is None:
            return []
        jobs: Callable[[Services], list[Periodic]] = _resolve(self.periodic)
        return jobs(services)

    def build_pages(self) -> list[PageRoute]:
        """The domain's web pages outside the chat (none without ``pages``)."""
        if self.pages is None:
            return []
        pages: Callable[[], list[PageRoute]] = _resolve(self.pages)
        return pages()
