"""A person's home and first conversation, as the core knows them (no domain imported here).

The home itself is a feature (``handlers/home``) reached through the router like any click:
adapters ask for it with :func:`home_request` (Slack's App Home tab, a Teams personal chat, the
web chat's landing) and for the first-conversation welcome with :func:`welcome_request`, then
render the neutral reply their own way. :class:`HomeRefresh` republishes the homes a change
affects, debounced and off the request path, through whichever adapter can (Slack).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable

from bot.db.engine import Database
from bot.db.idempotency import WELCOMED, first_time
from bot.db.models import ProcessedRequest
from bot.messages import Action, IncomingMessage, Sender

log = logging.getLogger(__name__)

HOME_ACTION = "home:open"  # the home, by meaning: who I am, what waits for me
WELCOME_ACTION = "home:welcome"  # the first conversation: suggested questions, my commands
#: A button that asks its value as a question (the router answers it like typed text).
ASK_ACTION = "ask"

Publish = Callable[[str], Awaitable[None]]


def home_request(sender: Sender, channel: str = "") -> IncomingMessage:
    """The message an adapter dispatches to show ``sender`` their home."""
    return IncomingMessage(sender=sender, channel=channel, is_direct=True,
                           action=Action(HOME_ACTION))


def welcome_request(sender: Sender, channel: str = "") -> IncomingMessage:
    """The message an adapter dispatches for the first-conversation welcome."""
    return IncomingMessage(sender=sender, channel=channel, is_direct=True,
                           action=Action(WELCOME_ACTION))


def is_home(message: IncomingMessage) -> bool:
    """Whether ``message`` only looks at a home or welcome (changes nothing)."""
    return message.action is not None and message.action.action_id in (HOME_ACTION,
                                                                         WELCOME_ACTION)


async def first_contact(db: Database, identity: str) -> bool:
    """True exactly once per person (across processes): the first time they meet the bot."""
    async with db.session() as session:
        found = await session.get(ProcessedRequest, f"{WELCOMED}{identity}"[:200])
    if found is not None:  # the common case reads, never writes
        return False
    return await first_time(db, f"{WELCOMED}{identity}")


class HomeRefresh:
    """Republish the homes a change affects: debounced per person, never awaited by a request.

    An adapter that can push a home (Slack's ``views.publish``) registers a publisher for its
    platform and calls :meth:`opened` whenever it shows someone their home; :meth:`changed`
    then schedules a republish for those of the named people whose home was shown recently,
    ``delay`` seconds after the first change (a burst of changes is one publish, and a steady
    stream of changes still publishes every ``delay`` seconds).
    """

    def __init__(self, delay: float = 1.0, remember: int = 10_000,
                 recent: float = 12 * 3600) -> None:
        """Debounce by ``delay`` seconds; remember up to ``remember`` opened homes for ``recent`` s."""
        self.delay = delay
        self.recent = recent
        self._remember = remember
        self._publishers: dict[str, Publish] = {}
        self._opened: OrderedDict[str, float] = OrderedDict()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def register(self, platform: str, publish: Publish) -> None:
        """``publish(identity)`` pushes that person's home on ``platform``."""
        self._publishers[platform] = publish

    def opened(self, identity: str) -> None:
        """A person's home was just shown: later changes republish it."""
        self._opened[identity] = time.monotonic()
        self._opened.move_to_end(identity)
        while len(self._opened) > self._remember:
            self._opened.popitem(last=False)

    def watching(self, keep: Callable[[str], bool]) -> list[str]:
        """People with a recently shown home for whom ``keep(identity)`` holds."""
        cutoff = time.monotonic() - self.recent
        return [who for who, at in self._opened.items() if at >= cutoff and keep(who)]

    def changed(self, identities: Iterable[str]) -> int:
        """Schedule a republish for each shown home among ``identities``; how many were."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return 0
        cutoff = time.monotonic() - self.recent
        count = 0
        for identity in set(identities):
            platform = identity.partition(":")[0]
            # Never shown (not 0.0: the monotonic clock starts near zero at boot, so a fresh
            # server would otherwise republish the home of everyone who asks anything).
            shown = self._opened.get(identity)
            if platform not in self._publishers or shown is None or shown < cutoff:
                continue
            if identity not in self._timers:  # one already due takes this change along
                self._timers[identity] = loop.call_later(self.delay, self._start, identity)
            count += 1
        return count

    def _start(self, identity: str) -> None:
        self._timers.pop(identity, None)
        task = asyncio.ensure_future(self._publish(identity))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish(self, identity: str) -> None:
        publish = self._publishers.get(identity.partition(":")[0])
        if publish is None:
            return
        try:
            await publish(identity)
        except Exception as exc:  # a home that could not be refreshed waits for the next open
            log.warning("home republish failed", extra={"error": type(exc).__name__})

    async def aclose(self) -> None:
        """Cancel pending republishes (shutdown)."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
