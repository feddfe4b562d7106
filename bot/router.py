"""Pick the handler for a message and keep errors from reaching users.

* a command (``/incident``) routes by its configured name, a leading keyword ("incident ...")
  the same way;
* a click or a form routes by its id prefix (``incident:``, ``alert:``, ...);
* free text goes to the first handler, in registration order, that claims it (the incident
  handler claims someone describing danger, the FAQ handler any question); otherwise the help
  handler answers. A handler that claims text as ``urgent`` gets it even when it starts with
  another's keyword ("help! someone pulled a knife" is a report of danger, not ``help``).
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
import uuid
from collections.abc import Sequence
from functools import cached_property
from typing import Protocol

from bot.db.idempotency import first_time
from bot.errors import Refused, Replayed, UserError
from bot.home import ASK_ACTION, is_home
from bot.messages import IncomingMessage, Reply, Tone
from bot.services import Services

log = logging.getLogger(__name__)
MAX_ASKED = 500  # characters of a suggested question carried on a button


class Handler(Protocol):
    """What every feature implements. Registration is the list in ``handlers/__init__.py``.

    Optional class attributes read by :func:`typed_command`: ``greetings`` (keywords that
    are a command only on their own) and ``takes_questions`` (a typed question after a
    keyword is still this command). Optional method ``urgent(message) -> bool``: free text
    this handler must get even when it starts with another handler's keyword.
    """

    name: str
    command: str | None
    keywords: tuple[str, ...]
    action_prefix: str

    def claims(self, message: IncomingMessage) -> bool:
        """Whether this free text (no command, click or form) is for this handler."""
        ...

    async def handle(self, message: IncomingMessage, services: Services) -> Reply:
        """Do the work and return a neutral reply."""
        ...


def typed_command(handler: Handler, word: str, rest: str) -> bool:
    """Whether typed text starting with one of ``handler``'s keywords is that command.

    Teams' command menu and chat users type commands without a slash (``incident ...``,
    ``cert done ...``). Not when the rest reads as a question (it ends with "?": "incident
    reports, are they public?", "certification deadlines for new clerks?") and the handler
    does not take questions (``takes_questions``: ``ask ...?`` is the FAQ's command), nor a
    greeting followed by anything (``greetings``: "hey so a voter says ..."); those go to free
    text, where the FAQ answers them. A leading slash always makes a command.
    """
    if not rest:
        return True
    if word in getattr(handler, "greetings", ()):
        return False
    return getattr(handler, "takes_questions", False) or not rest.endswith(("?", "？"))


def build_error_reply(correlation_id: str) -> Reply:
    """The only thing a user sees when a handler fails."""
    return Reply(
        text=(
            "Sorry, something went wrong on our side and your request was not completed. "
            f"Please try again; if it keeps happening, give this reference to your administrator: "
            f"{correlation_id}"
        ),
        tone=Tone.WARNING,
        ephemeral=True,
    )


def build_refusal_reply(refused: Refused) -> Reply:
    """A role check said no: what the person may not do, for them only."""
    return Reply(text=refused.reason, tone=Tone.DENIED, ephemeral=True)


def build_user_error_reply(error: UserError) -> Reply:
    """Not possible now: the reason, and the hint (what to do instead) below it."""
    text = f"{error.reason}\n{error.hint}" if error.hint else error.reason
    return Reply(text=text, tone=Tone.WARNING, ephemeral=True)


async def answer(handler: Handler, message: IncomingMessage, services: Services) -> Reply:
    """Run one handler: the one place errors become replies.

    A refusal or a user error is answered with its reason; anything else is logged with a
    correlation id and becomes a short apology with that id.
    """
    try:
        return await handler.handle(message, services)
    except Replayed:
        raise  # not an error: the adapter stops, nobody is answered twice
    except Refused as refused:
        return build_refusal_reply(refused)
    except UserError as error:
        return build_user_error_reply(error)
    except Exception:
        correlation_id = uuid.uuid4().hex[:12]
        log.exception(
            "handler failed",
            extra={"handler": handler.name, "correlation_id": correlation_id,
                   "platform": message.platform},
        )
        return build_error_reply(correlation_id)


class Turns:
    """Start at most one handler per turn of the event loop; the loop polls sockets in between.

    asyncio runs every callback that is ready, then polls for I/O. When several answers become
    ready together (a burst, or the process was off the CPU for a moment), each one's handler
    (milliseconds of retrieval) would run before the loop looks at its sockets again, and a
    new Slack request would wait for all of them before it is acknowledged. Handlers are
    therefore started one per turn, in arrival order, and the requests that arrived meanwhile
    are read and acknowledged between two of them. Nothing waits when nobody else does.
    """

    def __init__(self) -> None:
        """No handler waiting yet."""
        self._waiting: collections.deque[asyncio.Future[None]] = collections.deque()
        self._releasing = False

    async def mine(self) -> None:
        """Wait until this caller may start its handler."""
        loop = asyncio.get_running_loop()
        turn = loop.create_future()
        self._waiting.append(turn)
        if not self._releasing:
            self._releasing = True
            loop.call_soon(self._release, loop)
        await turn

    def _release(self, loop: asyncio.AbstractEventLoop) -> None:
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():  # a cancelled caller gives its turn to the next
                turn.set_result(None)
                break
        if self._waiting:
            loop.call_soon(self._release, loop)  # the next one after the loop polled again
        else:
            self._releasing = False


class Router:
    """Dispatch over an ordered list of handlers (earlier wins), with an error boundary."""

    def __init__(self, handlers: Sequence[Handler], services: Services) -> None:
        """Keep the ordered handlers; the first handler named ``help`` is the fallback."""
        self.handlers = list(handlers)
        self.services = services
        names = [h.name for h in self.handlers]
        if "help" not in names:
            raise ValueError("the handler list needs a 'help' handler as the fallback")
        self._fallback = self.handlers[names.index("help")]
        self.turns = Turns()

    @cached_property
    def commands(self) -> dict[str, Handler]:
        """Configured slash-command name (e.g. ``/ask``) -> handler (settings are frozen)."""
        configured = self.services.settings.app.commands.model_dump()
        return {configured[h.command]: h for h in self.handlers if h.command in configured}

    def select(self, message: IncomingMessage) -> tuple[Handler, IncomingMessage]:
        """Choose the handler and the message it should see (command word stripped)."""
        if message.action is not None and message.action.action_id == ASK_ACTION:
            # A suggested question pressed: the same as typing it.
            message = dataclasses.replace(message, action=None,
                                          text=message.action.value[:MAX_ASKED])
        if message.action is not None:
            return self._by_prefix(message.action.action_id), message
        if message.form is not None:
            return self._by_prefix(message.form.form_id), message
        if message.command:
            handler = self.commands.get(message.command.lower())
            if handler is not None:
                return handler, message
            return self._fallback, dataclasses.replace(message, text="")
        text = message.text.strip()
        first, _, rest = text.partition(" ")
        word = first.lower().lstrip("/¡¿").rstrip(":,.!")
        for handler in self.handlers:
            if word in handler.keywords:
                urgent = None if first.startswith("/") else self._urgent(message)
                if urgent is not None and urgent is not handler:
                    return urgent, message
                if not first.startswith("/") and not typed_command(
                        handler, word, rest.strip()):
                    break  # "hi, quick q: ..." or "incident reports, public?": a question
                # Typed "incident ..." is the same intent as the slash command.
                return handler, dataclasses.replace(message, text=rest.strip(), command=word)
        if not text:
            return self._fallback, message
        return next((h for h in self.handlers if h.claims(message)), self._fallback), message

    def _urgent(self, message: IncomingMessage) -> Handler | None:
        """The first handler that claims ``message`` as urgent (see :class:`Handler`)."""
        for handler in self.handlers:
            urgent = getattr(handler, "urgent", None)
            if urgent is not None and urgent(message):
                return handler
        return None

    async def dispatch(self, message: IncomingMessage) -> Reply:
        """Route, then run the chosen handler inside the error boundary (:func:`answer`).

        A message carrying a ``claim`` (its request's dedupe key) raises :class:`Replayed`
        when that key was claimed before: the adapter then answers nothing.

        Whatever a person did may change their home (and the counts state staff watch), so
        those homes are republished soon after, off this path. Handlers start one per turn of
        the event loop (:class:`Turns`).
        """
        await self.turns.mine()
        handler, routed = self.select(message)
        if routed.claim and not getattr(handler, "claims_requests", False):
            # Claimed here, in its own short transaction, before anything happens; a handler
            # that records every request anyway claims it in that record's transaction.
            if not await first_time(self.services.db, routed.claim):
                raise Replayed
            routed = dataclasses.replace(routed, claim="")
        people = self.services.people
        try:
            await people.remember_sender(message.sender)
        except Exception:  # a name is a nicety: the question is answered all the same
            log.warning("could not store the sender's display name", exc_info=True)
        reply = await answer(handler, routed, self.services)
        if not is_home(message) and handler is not self._fallback:
            self._homes_changed(routed)
        return await people.name_mentions(reply)

    def _homes_changed(self, message: IncomingMessage) -> None:
        """The sender's home; and for a command, click or form, the state staff's counts."""
        homes, app = self.services.homes, self.services.settings.app
        people = [message.sender.identity]
        if message.command or message.action or message.form:
            people += homes.watching(lambda who: app.has_role(who, "state_staff"))
        homes.changed(people)

    def _by_prefix(self, key: str) -> Handler:
        for handler in self.handlers:
            if handler.action_prefix and key.startswith(handler.action_prefix):
                return handler
        return self._fallback
