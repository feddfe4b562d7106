"""The home feature: what needs this person now, and the first-conversation welcome.

Adapters reach it by meaning (:mod:`bot.home`: ``home:open``, ``home:welcome``); people by
typing ``home`` (or ``welcome``). It reads every domain through that domain's service.
"""

from __future__ import annotations

from datetime import UTC

from bot.home import WELCOME_ACTION
from bot.messages import IncomingMessage, Reply
from bot.services import Services
from handlers.home.replies import build_home, build_welcome
from handlers.home.service import gather


class HomeHandler:
    """``home`` shows the person's home; ``welcome`` (or install) the first conversation."""

    name = "home"
    command: str | None = None
    # Not keywords: "home address of ..." is a question (for the guard), not this feature.
    keywords: tuple[str, ...] = ()
    action_prefix = "home:"
    words = frozenset({"home", "welcome"})

    def claims(self, message: IncomingMessage) -> bool:
        """Exactly ``home`` or ``welcome`` (any case, trailing punctuation ignored)."""
        return message.text.strip().rstrip(".!?").lower() in self.words

    async def handle(self, message: IncomingMessage, services: Services) -> Reply:
        """Build the home (or the welcome) for the sender as they are right now."""
        sender = message.sender
        app = services.settings.app
        welcome = (message.action is not None and message.action.action_id == WELCOME_ACTION) \
            or (message.action is None and message.text.strip().lower().startswith("welcome"))
        if welcome:
            return build_welcome(app, sender.identity)
        data = await gather(services, sender.identity, sender.display_name,
                            services.clock().astimezone(UTC))
        return build_home(data, app)
