"""Bolt listeners: ack first, then dedupe, dispatch through the router and deliver the reply.

The same listeners serve HTTP (``/slack/events``) and Socket Mode. Commands, clicks and events
are acknowledged before any database or Web API work (with ``process_before_response=False``
Bolt returns the ack while the rest of the listener runs as a task), so a slow database never
makes Slack show "operation_timeout". Only view submissions run inside the 3 s window, because
their validation errors must be the ack body.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import IntegrityError

from bot.adapters.slack.home import ClientFor, SlackHome
from bot.adapters.slack.render import to_slack_message, to_slack_modal, to_view_response
from bot.adapters.slack.response_url import post_response, response_url_allowed
from bot.adapters.slack.translate import (
    REPORT_SHORTCUT,
    NotForUs,
    from_block_actions,
    from_event,
    from_message_shortcut,
    from_slash_command,
    from_view_action,
    from_view_submission,
)
from bot.db.idempotency import first_time
from bot.errors import Replayed
from bot.messages import Button, Destination, IncomingMessage, InvalidDestination, Reply
from bot.ops import metrics
from bot.ops.audit import audit
from bot.outbox.queue import enqueue
from bot.router import Router

log = logging.getLogger(__name__)
#: The keep-alive connection pool answers to a response_url go out on.
Connections = Callable[[], aiohttp.ClientSession]
VIEW_BUDGET = 2.5  # seconds of Slack's 3 s view_submission window we allow the handler
QUIET_EVENTS = ("tokens_revoked", "app_uninstalled")
COMMAND = re.compile(r"^/.+")  # what Bolt's command listener matched: any slash command
OPEN_FORM = "slack:open_form"  # a button that asks again with a click, which can open a modal
MAX_BUTTON_VALUE = 2000  # Slack's limit on a button's value
NO_SUBMITTER = ("Slack did not say who sent this form, so nothing was done. "
                "Please open the form again and send it once more.")


def dedupe_key(body: dict[str, Any], signature: str | None) -> str | None:
    """Return the idempotency key of one intent: event id, else signature, else trigger id.

    Event retries carry a new signature but the same event_id; an exact replay of a signed
    command or click carries the same signature; Socket Mode has no signature, but every
    command, click and submission has its own trigger_id.
    """
    if body.get("type") == "event_callback" and body.get("event_id"):
        return f"slack:event:{body['event_id']}"
    if signature:
        return f"slack:sig:{signature}"
    if body.get("trigger_id"):
        return f"slack:trigger:{body['trigger_id']}"
    return None


def _signature(request: AsyncBoltRequest) -> str | None:
    values = request.headers.get("x-slack-signature") or []
    return values[0] if values else None


class SlackListeners:
    """Everything the Bolt app does with a request, bound to one router."""

    def __init__(self, router: Router, client_for: ClientFor | None = None,
                 connections: Connections | None = None) -> None:
        """Keep the router; its services hold the database used for dedupe.

        ``client_for(team)`` (the outbox transport's) lets homes be republished after changes;
        ``connections()`` gives the keep-alive pool answers to a response_url are posted on
        (without it, Bolt's ``respond`` opens a connection per answer).
        """
        self.router = router
        self.connections = connections
        self.home = SlackHome(router, post_reply, client_for)

    def register(self, bolt: AsyncApp) -> None:
        """Attach listeners for every configured command, events, clicks and submissions."""
        # Every command, one global middleware after Bolt's own (SSL check, authorization):
        # the router picks the handler by the command's name, and one without a handler (in
        # the manifest but renamed, or not built yet) gets the help fallback instead of Bolt's
        # 404, which Slack shows as an error.
        bolt.use(SlashCommands(self.on_command))
        self.home.register(bolt, self.on_event)  # Home tab, assistant threads
        bolt.event("app_mention")(self.on_event)
        bolt.event("message")(self.on_event)
        for quiet in QUIET_EVENTS:
            bolt.event(quiet)(self.on_quiet_event)
        bolt.action(re.compile(".*"), middleware=[ack_first])(self.on_action)
        bolt.message_shortcut(REPORT_SHORTCUT, middleware=[ack_first])(self.on_shortcut)
        bolt.view(re.compile(".*"))(self.on_view)

    async def _first(self, body: dict[str, Any], request: AsyncBoltRequest) -> bool:
        key = dedupe_key(body, _signature(request))
        if key is None or await first_time(self.router.services.db, key):
            return True
        metrics.REPLAYS.labels("slack").inc()
        return False

    async def on_command(self, body: dict[str, Any], respond: AsyncRespond | None,
                         request: AsyncBoltRequest, client: AsyncWebClient) -> None:
        """Slash command (acked by :class:`SlashCommands`): answer through response_url or a modal.

        The request's dedupe key rides with the message: the router (or the handler, in the
        transaction that records the question) claims it, and a replay is answered nothing.
        """
        try:
            message = from_slash_command(body)
        except NotForUs:  # no user id: nobody to answer for
            return
        key = dedupe_key(body, _signature(request))
        try:
            reply = await self.router.dispatch(replace(message, claim=key or ""))
        except Replayed:
            metrics.REPLAYS.labels("slack").inc()
            return
        await self._answer_interaction(reply, message, body, respond, client)

    async def on_action(self, body: dict[str, Any], respond: AsyncRespond,
                        request: AsyncBoltRequest, client: AsyncWebClient) -> None:
        """Button click (acked by :func:`ack_first`): answer through response_url (never replacing)."""
        if body.get("type") != "block_actions" or not await self._first(body, request):
            return
        if (body.get("container") or {}).get("type") == "view" and body.get("view"):
            await self.redraw_view(body, client)
            return
        try:
            message = from_block_actions(body)
        except NotForUs:
            return
        if message.action is not None and message.action.action_id == OPEN_FORM:
            # What the person typed, asked again by them: this time with a trigger.
            message = replace(message, action=None, text=message.action.value)
        reply = await self.router.dispatch(message)
        await self._answer_interaction(reply, message, body, respond, client)

    async def redraw_view(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        """A choice inside a modal: the handler's form for it replaces the modal's blocks.

        ``hash`` makes Slack refuse the update when the modal changed meanwhile (a later
        choice), so a slow answer never overwrites a newer one.
        """
        try:
            message = from_view_action(body)
        except NotForUs:
            return
        reply = await self.router.dispatch(message)
        view = body.get("view") or {}
        if reply.form is None:  # refused or expired: say so in the modal
            new_view = to_view_response(reply)["view"]
        else:
            new_view = to_slack_modal(reply.form, lead=reply.text,
                                      private_metadata=str(view.get("private_metadata") or ""))
        try:
            await client.views_update(view_id=str(view.get("id") or ""),
                                      hash=view.get("hash"), view=new_view)
        except SlackApiError as exc:
            log.warning("views.update failed", extra={"error": exc.response.get("error")})

    async def on_shortcut(self, body: dict[str, Any], respond: AsyncRespond,
                          request: AsyncBoltRequest, client: AsyncWebClient) -> None:
        """"Report as incident" on a message (acked by :func:`ack_first`): the pre-filled form."""
        if not await self._first(body, request):
            return
        try:
            message = from_message_shortcut(body)
        except NotForUs:
            return
        reply = await self.router.dispatch(message)
        await self._answer_interaction(reply, message, body, respond, client)

    async def on_event(self, body: dict[str, Any], context: dict[str, Any],
                       request: AsyncBoltRequest, client: AsyncWebClient) -> None:
        """Mention or IM (already acked by Bolt): answer with chat.postMessage."""
        try:
            message = from_event(body, context.get("bot_user_id"))
        except NotForUs:
            return
        if not await self._first(body, request):
            return
        # The welcome came when the person first opened this DM (app_home_opened, messages tab).
        async with self.home.looking_up(message, context):
            reply = await self.router.dispatch(message)
            await post_reply(client, message, offer_form(reply, message.text))

    async def on_quiet_event(self, body: dict[str, Any]) -> None:
        """Accept subscribed events with nothing to do yet, so Slack gets a 200."""
        log.info("slack event ignored", extra={"event": (body.get("event") or {}).get("type")})

    async def on_view(self, ack: AsyncAck, body: dict[str, Any], request: AsyncBoltRequest,
                      client: AsyncWebClient) -> None:
        """Modal submission: dispatch inside the window; errors go back as the ack body.

        A result (no form) is also queued as a DM to the reporter before the ack, so the
        confirmation and its id stay visible once the modal is closed.
        """
        try:
            message = from_view_submission(body)
        except NotForUs:  # no user id: nothing is filed, nothing queued to nobody
            await ack(**to_view_response(Reply(text=NO_SUBMITTER)))
            return
        if not await self._first(body, request):
            await ack()  # a replay: close the modal, do nothing twice
            return
        started = asyncio.get_running_loop().time()
        view = body.get("view") or {}
        metadata, view_id = str(view.get("private_metadata") or ""), str(view.get("id") or "")
        work = asyncio.ensure_future(self.router.dispatch(message))
        try:
            reply = await asyncio.wait_for(asyncio.shield(work), VIEW_BUDGET)
        except TimeoutError:
            await ack(**to_view_response(Reply(
                text="Still working on it; I'll send you a message when it is done.")))
            work.add_done_callback(lambda done: self._later(message, view_id, done))
            return
        if reply.form is None:
            left = VIEW_BUDGET - (asyncio.get_running_loop().time() - started)
            await _within(self.confirm_to_reporter(message, reply, view_id), max(left, 0.2))
        await ack(**to_view_response(reply, metadata))

    async def confirm_to_reporter(self, message: IncomingMessage, reply: Reply,
                                  view_id: str) -> None:
        """Queue ``reply`` as a DM to the submitter, once per view (the outbox delivers it)."""
        sender = message.sender
        try:
            destination = Destination("slack", sender.workspace, user_id=sender.user_id)
        except InvalidDestination:  # the submission stands; only its DM cannot be addressed
            log.warning("slack confirmation not queued: no valid reply address")
            return
        services = self.router.services
        try:
            async with services.db.session() as session:
                enqueue(session, key=f"slack:confirm:{destination}:{view_id or id(reply)}",
                        destination=destination, reply=reply)
                await session.commit()
        except IntegrityError:
            return  # this view's confirmation is already queued

    def _later(self, message: IncomingMessage, view_id: str, done: asyncio.Future[Reply]) -> None:
        """A submission that outlived the ack window: its result arrives as a DM."""
        if done.cancelled() or done.exception() is not None:
            return
        _spawn(self.confirm_to_reporter(message, done.result(), view_id))

    async def _answer_interaction(self, reply: Reply, message: IncomingMessage,
                                  body: dict[str, Any], respond: AsyncRespond | None,
                                  client: AsyncWebClient) -> None:
        if reply.form is not None and body.get("trigger_id"):
            metadata = json.dumps({"channel": message.channel})
            try:
                await client.views_open(trigger_id=body["trigger_id"], view=to_slack_modal(
                    reply.form, private_metadata=metadata, lead=reply.text))
                return
            except SlackApiError as exc:
                log.warning("views.open failed", extra={"error": exc.response.get("error")})
        kwargs = to_slack_message(reply, workspace=message.sender.workspace)
        response_type = "ephemeral" if reply.ephemeral else "in_channel"
        try:
            if respond is None:  # no response_url: nowhere to answer
                log.warning("slack answer not sent: the request has no response_url")
            elif not response_url_allowed(respond.response_url or "",
                                          self.router.services.settings.env.SLACK_API_URL):
                log.warning("slack answer not sent: the response_url is not Slack's")
                await audit(self.router.services.db, actor=message.sender.identity,
                            action="slack.response_url", target=message.sender.workspace[:40],
                            allowed=False, reason="response_url not on Slack's hook host")
            elif self.connections is not None and respond.response_url:
                await post_response(self.connections(), respond.response_url, {
                    **kwargs, "response_type": response_type, "replace_original": False})
            else:
                await respond(**kwargs, response_type=response_type, replace_original=False)
        except Exception as exc:  # an expired or used-up response_url; nothing else to try
            log.warning("response_url post failed", extra={"error": type(exc).__name__})


OnCommand = Callable[[dict[str, Any], AsyncRespond | None, AsyncBoltRequest, AsyncWebClient],
                     Awaitable[None]]


class SlashCommands(AsyncMiddleware):
    """Every slash command: acknowledged at once, answered by ``on_command`` in a task.

    Slash commands are the busiest request kind, and Bolt's listener layer did nothing for
    them that this does not: it ran the command matcher, a listener middleware that acked
    and the listener, building every argument Bolt can inject three times per request, then
    started the listener as a task. As a global middleware after Bolt's own (SSL check and
    authorization, which refuses workspaces not admitted), this acks with the same plain 200
    and starts the same work; a failure is logged, as Bolt's listener error handler did.
    """

    def __init__(self, on_command: OnCommand) -> None:
        """Answer every command with ``on_command(body, respond, request, client)``."""
        self.on_command = on_command

    async def async_process(self, *, req: AsyncBoltRequest, resp: BoltResponse,
                            next: Callable[[], Awaitable[BoltResponse]],  # noqa: A002
                            ) -> BoltResponse | None:
        """A command is acked here (its work goes on in a task); anything else goes on."""
        body = req.body
        command = body.get("command")
        if not isinstance(command, str) or not COMMAND.match(command):
            return await next()
        context = req.context
        _spawn(self._answer(body, context.respond, req, context.client))
        return BoltResponse(status=200, body="")

    async def _answer(self, body: dict[str, Any], respond: AsyncRespond | None,
                      request: AsyncBoltRequest, client: AsyncWebClient) -> None:
        try:
            await self.on_command(body, respond, request, client)
        except Exception:
            # By kind and frames only: the message may quote what the person typed.
            log.exception("slack command failed", extra={"hide_exception_message": True})


async def ack_first(ack: AsyncAck, next: Callable[[], Awaitable[None]]) -> None:  # noqa: A002
    """Acknowledge before the listener runs: commands, clicks and shortcuts are acked at once.

    Acked here, the ack is there when Bolt first looks for it and the HTTP response goes out
    straight away; acked as the listener's first step instead, Bolt's runner polls for it
    every 10 ms, so every ack would wait for one poll. (Bolt's name for the argument.)
    """
    await ack()
    await next()


def offer_form(reply: Reply, text: str) -> Reply:
    """A form answering a message: Slack opens modals only from a click or a command.

    The reply keeps its text and the form's intro (such as "call 911 first") and gains an
    "Open the form" button whose click asks ``text`` again, which then opens the modal.
    """
    if reply.form is None:
        return reply
    lead = reply.text or reply.form.title
    if reply.form.intro and reply.form.intro not in lead:
        lead = f"{lead}\n\n{reply.form.intro}"
    if reply.form.banner and reply.form.banner not in lead:  # the form's first line comes first
        lead = f"**{reply.form.banner}**\n\n{lead}"
    if len(text) > MAX_BUTTON_VALUE:  # cannot ride on the button whole; never cut it
        return replace(reply, form=None,
                       text=f"{lead}\n\nUse the slash command to open the form.")
    return replace(reply, form=None, text=f"{lead}\n\nPress the button to open the form.",
                   buttons=(Button("Open the form", OPEN_FORM, text, style="primary"),
                            *reply.buttons))


_PENDING: set[asyncio.Future[None]] = set()


def _spawn(job: Coroutine[Any, Any, None]) -> asyncio.Future[None]:
    """Run ``job`` in the background, held (a task nobody holds may be collected mid-run)."""
    task = asyncio.ensure_future(job)
    _PENDING.add(task)
    task.add_done_callback(_PENDING.discard)
    return task


async def _within(job: Coroutine[Any, Any, None], seconds: float) -> None:
    """Await ``job`` for at most ``seconds``; past that it finishes in the background."""
    task = _spawn(job)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(task), seconds)


async def post_reply(client: AsyncWebClient, message: IncomingMessage, reply: Reply) -> None:
    """Post a reply where the message came from: in its thread, ephemeral in channels if asked."""
    kwargs = to_slack_message(reply, workspace=message.sender.workspace)
    try:
        if reply.ephemeral and not message.is_direct:
            await client.chat_postEphemeral(channel=message.channel, user=message.sender.user_id,
                                            thread_ts=message.thread, text=kwargs["text"],
                                            blocks=kwargs["blocks"])
        else:
            await client.chat_postMessage(channel=message.channel, thread_ts=message.thread,
                                          **kwargs)
    except SlackApiError as exc:
        # Reported by error code only: the response may echo message text.
        log.warning("slack post failed", extra={"error": exc.response.get("error"),
                                                "channel": message.channel})
