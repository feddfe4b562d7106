"""Slack's App Home tab, the first-conversation welcome, and the AI-app (assistant) features.

* ``app_home_opened`` (Home tab): the person's home, built by the router as they are now,
  rendered as a Home view and pushed with ``views.publish``; later changes republish it
  (:class:`bot.home.HomeRefresh`). On the Messages tab, a person's first visit gets the welcome.
* Assistant threads (Bolt's :class:`AsyncAssistant`): a new thread gets the four suggested
  questions as Slack's suggested prompts; while a DM is answered the thread shows "is looking
  this up…". A workspace without these features (free plan, older token: Slack answers
  ``not_allowed_token_type``, ``unknown_method`` ...) gets the plain behaviour, silently, and
  is not asked again by this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncApp, AsyncAssistant
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.render import to_slack_home
from bot.adapters.slack.translate import NotForUs, from_person_event
from bot.home import ASK_ACTION, first_contact, home_request, welcome_request
from bot.messages import IncomingMessage, Reply, Sender
from bot.router import Router

log = logging.getLogger(__name__)
STATUS = "is looking this up…"
STATUS_WAIT = 2.0  # seconds a status call may hold up the answer
PROMPTS_TITLE = "Try asking"
ClientFor = Callable[[str], Awaitable[AsyncWebClient]]
Post = Callable[[AsyncWebClient, IncomingMessage, Reply], Awaitable[None]]


def suggested(reply: Reply) -> list[dict[str, str]]:
    """A welcome's suggested questions as Slack prompts (title and message, both the question)."""
    return [{"title": b.label[:75], "message": b.value} for s in reply.sections
            for b in s.buttons if b.action_id == ASK_ACTION][:4]


class EventsAssistant(AsyncAssistant):
    """Bolt's assistant middleware, run only for events: it is the only kind it listens to.

    Bolt runs an assistant's matchers (each building its keyword arguments) on every request
    before any listener; slash commands, clicks and form submissions skip them here.
    """

    async def async_process(self, *, req: AsyncBoltRequest, resp: BoltResponse,
                            next: Callable[[], Awaitable[BoltResponse]],  # noqa: A002
                            ) -> BoltResponse | None:
        """Events go through the assistant's listeners; anything else straight on."""
        if req.body.get("type") != "event_callback":
            return await next()
        return await super().async_process(req=req, resp=resp, next=next)


class SlackHome:
    """Home tab, welcome and assistant features for one router (see the module docstring)."""

    def __init__(self, router: Router, post: Post, client_for: ClientFor | None = None) -> None:
        """``post`` delivers a reply in a conversation; ``client_for(team)`` gives a client."""
        self.router = router
        self.post = post
        self.client_for = client_for
        self.lacking: set[str] = set()  # workspaces without assistant features

    def register(self, bolt: AsyncApp, on_message: Callable[..., Awaitable[None]]) -> None:
        """Listen to the Home tab and to assistant threads (user messages go to ``on_message``)."""
        bolt.event("app_home_opened")(self.on_home_opened)
        assistant = EventsAssistant(logger=logging.getLogger("slack_bolt.assistant"))
        assistant.thread_started(self.on_thread_started)
        assistant.user_message(on_message)
        bolt.assistant(assistant)
        if self.client_for is not None:
            self.router.services.homes.register("slack", self.republish)

    async def on_home_opened(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Home tab: publish the home. Messages tab: the welcome, the first time only."""
        try:
            message = from_person_event(body)
        except NotForUs:
            return
        if (body.get("event") or {}).get("tab") == "messages":
            if message.channel:
                await self.welcome_if_first(client, message)
            return
        await self.publish(client, message.sender)

    async def publish(self, client: AsyncWebClient, sender: Sender) -> None:
        """Build this person's home now and push it to their Home tab."""
        self.router.services.homes.opened(sender.identity)
        reply = await self.router.dispatch(home_request(sender))
        try:
            await client.views_publish(user_id=sender.user_id,
                                       view=to_slack_home(reply, workspace=sender.workspace))
        except SlackApiError as exc:
            log.warning("views.publish failed", extra={"error": exc.response.get("error")})

    async def republish(self, identity: str) -> None:
        """:class:`~bot.home.HomeRefresh`'s publisher: ``slack:TEAM:USER``'s home again."""
        _platform, team, user = identity.split(":", 2)
        if self.client_for is None:
            return
        await self.publish(await self.client_for(team), Sender("slack", team, user))

    async def welcome_if_first(self, client: AsyncWebClient, message: IncomingMessage) -> bool:
        """Post the welcome where ``message`` came from, if this is the person's first contact."""
        if not await first_contact(self.router.services.db, message.sender.identity):
            return False
        await self.post(client, message, await self.router.dispatch(
            welcome_request(message.sender, message.channel)))
        return True

    async def on_thread_started(self, body: dict[str, Any], client: AsyncWebClient,
                                context: dict[str, Any]) -> None:
        """A new assistant thread: suggested prompts, and the welcome the first time."""
        try:
            message = from_person_event(body)
        except NotForUs:
            return
        welcome = await self.router.dispatch(welcome_request(message.sender, message.channel))
        prompts = context.get("set_suggested_prompts")
        shown = prompts is not None and await self._try(
            message.sender.workspace, prompts(prompts=suggested(welcome), title=PROMPTS_TITLE))
        if not shown or await first_contact(self.router.services.db, message.sender.identity):
            # Without prompts the welcome's own buttons offer the questions.
            await self.post(client, message, welcome)

    @contextlib.asynccontextmanager
    async def looking_up(self, message: IncomingMessage,
                         context: dict[str, Any]) -> AsyncIterator[None]:
        """Show "is looking this up…" in a DM while the answer is prepared, where Slack can."""
        set_status = context.get("set_status") if message.is_direct else None
        shown = set_status is not None and await self._try(
            message.sender.workspace, set_status(status=STATUS))
        try:
            yield
        finally:
            if shown and message.thread is None and set_status is not None:
                # The answer went to the conversation, not the thread the status is on.
                await self._try(message.sender.workspace, set_status(status=""))

    async def _try(self, workspace: str, call: Awaitable[Any]) -> bool:
        """Run an assistant API call; False (and never again here) where the workspace lacks it."""
        if workspace in self.lacking:
            if asyncio.iscoroutine(call):
                call.close()
            return False
        try:
            await asyncio.wait_for(call, STATUS_WAIT)
            return True
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error in ("not_allowed_token_type", "unknown_method", "missing_scope",
                         "method_not_supported_for_channel_type", "not_allowed", "no_permission"):
                self.lacking.add(workspace)
            log.info("slack assistant feature unavailable", extra={"error": error})
        except (TimeoutError, OSError) as exc:
            log.info("slack assistant call failed", extra={"error": type(exc).__name__})
        return False
