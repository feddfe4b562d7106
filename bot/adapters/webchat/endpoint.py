"""The web chat: a page at / and a JSON endpoint, through the same router as Slack/Teams.

Outside demo mode everyone signs in (:mod:`bot.adapters.webchat.signin`): the sender is the
session's identity (``web:local:<name>`` or ``web:<provider>:<subject>``) and the inbox holds
only that identity's messages. In demo mode (``electionbot serve --demo``) identities are
self-declared names, ``webchat:local:<name>``, as typed into the page's "You are" box.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlmodel import select

from bot.adapters import http_input
from bot.adapters.webchat.signin import WebAuth, sender_for
from bot.db.engine import Database, utcnow
from bot.db.models import WebChatInbox
from bot.home import home_request
from bot.messages import (
    REPEAT_LINE,
    Action,
    Destination,
    FormSubmission,
    IncomingMessage,
    Mention,
    Reply,
    Sender,
    lead,
    reply_to_dict,
)
from bot.ops.limits import client_address
from bot.outbox.transport import Checkable, Editable, Transport
from bot.router import Router
from knowledge.language import detect_language

HERE = Path(__file__).parent / "static"
ASSETS = {"/": ("page.html", "text/html"),
          "/webchat/chat.js": ("chat.js", "application/javascript"),
          "/webchat/chat.css": ("chat.css", "text/css")}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
       "img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'")
USER = re.compile(r"^[A-Za-z0-9._-]{1,40}$")
AT_NAME = re.compile(r"(?<![\w@])@([A-Za-z0-9._-]{1,40})(?![\w@])")
MAX_TEXT = 4000
MAX_FIELDS = 40
FREE_TEXT = ("text", "values", "value")  # what a person typed: cleaned, never refused
INBOX: Any = WebChatInbox.__table__  # type: ignore[attr-defined]
INBOX_PAGE = 50  # messages per inbox read; chat.js reads again at once after a full page


class BadRequest(ValueError):
    """Input the web chat refuses, with a message the page can show."""


def render(reply: Reply) -> dict[str, Any]:
    """A neutral reply as JSON for the page, which builds elements from it, never HTML.

    ``lead`` is the main line as the page shows it: empty when the title, the form's title or
    the sections already say it, so nothing is shown twice. ``lang`` (``en`` or ``es``) is the
    language the reply is written in, for the page's ``lang`` attribute (screen readers pick
    their voice by it).
    """
    data = reply_to_dict(reply)
    main = lead(reply, reply.sections)
    if reply.repeat:  # the marking is the first line
        data["text"] = f"{REPEAT_LINE}\n\n{reply.text}"
        main = f"{REPEAT_LINE}\n\n{main}" if main else REPEAT_LINE
    data["lead"] = main
    data["lang"] = reply_language(reply)
    for section, shown in zip(reply.sections, data["sections"], strict=True):
        shown["lang"] = detect_language(section.text)
    return data


def reply_language(reply: Reply) -> str:
    """``es`` when the reply's words read as Spanish, else ``en`` (the detector questions use)."""
    said = [reply.title, reply.text, *(s.text for s in reply.sections), *reply.items]
    if reply.form:
        said += [reply.form.title, *(f.label for f in reply.form.fields)]
    return detect_language("\n".join(said))


def inbox_key(destination: Destination) -> str:
    """Whose inbox: a demo name as typed, or the whole signed-in identity (``web:p:user``)."""
    user = destination.user_id or destination.channel
    if destination.platform == "web":
        return f"web:{destination.workspace}:{user}"[:300]
    return user[:40]


class WebChatTransport(Transport, Checkable, Editable):
    """Proactive sends to a web chat user: kept in the inbox the page polls."""

    def __init__(self, db: Database) -> None:
        """Write into this database."""
        self.db = db

    async def send(self, destination: Destination, reply: Reply, *, key: str,
                   replaces: str | None = None) -> str:
        """Store the message for ``destination.user_id`` (or the channel name)."""
        extra = {"replaces": replaces} if replaces else {}
        # The outbox key rides along (like Slack's message metadata) for already_sent. A
        # broadcast's sends share transactions (group commit) instead of one session each.
        row_id = await self.db.writer(INBOX, pace=0.0).add({
            "user_id": inbox_key(destination), "created_at": utcnow(),
            "payload": json.dumps({**render(reply), "outbox_key": key, **extra})})
        return f"webchat:{row_id}"

    async def already_sent(self, destination: Destination, key: str, *,
                           since: datetime | None = None) -> str | None:
        """The reference of an earlier message with ``key`` in this user's recent inbox.

        An exact check in our own table, so never a repeat: the outbox trusts a None.
        """
        user = inbox_key(destination)
        async with self.db.session() as session:
            rows = (await session.exec(
                select(WebChatInbox.id, WebChatInbox.payload)  # plain rows, not 500 objects
                .where(WebChatInbox.user_id == user)
                .order_by(WebChatInbox.id.desc()).limit(500))).all()  # type: ignore[union-attr]
        written = json.dumps(key)  # as the payload holds it: only those rows are decoded
        for row_id, payload in rows:
            if written in payload and json.loads(payload).get("outbox_key") == key:
                return f"webchat:{row_id}"
        return None


    async def update(self, destination: Destination, message_ref: str, reply: Reply) -> None:
        """An edit arrives as a new inbox item naming the one it replaces; the page swaps it in."""
        await self.send(destination, reply, key=f"update:{message_ref}", replaces=message_ref)


async def read_inbox(db: Database, user: str, after: int) -> list[dict[str, Any]]:
    """Messages for ``user`` newer than ``after`` (oldest first, at most INBOX_PAGE)."""
    async with db.session() as session:
        rows = (await session.exec(
            select(WebChatInbox).where(WebChatInbox.user_id == user, WebChatInbox.id > after)  # type: ignore[operator]
            .order_by(WebChatInbox.id).limit(INBOX_PAGE))).all()  # type: ignore[arg-type]
    return [{"id": r.id, "reply": json.loads(r.payload)} for r in rows]


def _str(value: Any, name: str, limit: int) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string")
    if len(value) > limit:
        raise BadRequest(f"{name} is too long (at most {limit} characters)")
    return value


def to_incoming_message(payload: Any, signed_in: Sender | None = None) -> IncomingMessage:
    """Validate the page's JSON and turn it into a neutral message (pure, no I/O).

    ``signed_in`` is the session's sender; without one (demo mode) the page's ``user`` is used.
    """
    if not isinstance(payload, dict):
        raise BadRequest("body must be a JSON object")
    if signed_in is not None:
        sender, channel = signed_in, signed_in.identity
    else:
        user = _str(payload.get("user", ""), "user", 40)
        if not USER.match(user):
            raise BadRequest("user must be 1-40 letters, digits, dots, dashes or underscores")
        sender, channel = Sender("webchat", "local", user, display_name=user), f"webchat:{user}"
    jurisdiction = payload.get("jurisdiction")
    if jurisdiction is not None:
        jurisdiction = _str(jurisdiction, "jurisdiction", 40)

    def make(**kw: Any) -> IncomingMessage:
        return IncomingMessage(sender=sender, channel=channel, is_direct=True,
                               jurisdiction=jurisdiction, **kw)
    if "action" in payload:
        action = payload["action"]
        if not isinstance(action, dict):
            raise BadRequest("action must be an object with id and value")
        return make(action=Action(
            _str(action.get("id", ""), "action.id", 200),
            _str(action.get("value", ""), "action.value", 2000)))
    if "form" in payload:
        form = payload["form"]
        if not isinstance(form, dict) or not isinstance(form.get("values", {}), dict):
            raise BadRequest("form must be an object with id and values")
        values = form.get("values", {})
        if len(values) > MAX_FIELDS:
            raise BadRequest("form has too many fields")
        clean = {_str(k, "field name", 100): _str(v, f"field {k}", MAX_TEXT)
                 for k, v in values.items()}
        return make(form=FormSubmission(
            _str(form.get("id", ""), "form.id", 200), clean,
            changed=_str(form.get("changed", ""), "form.changed", 100)))
    text = _str(payload.get("text", ""), "text", MAX_TEXT)
    if not text.strip():
        raise BadRequest("text is empty")
    return make(text=text, mentions=mentions_in(text, sender))


def mentions_in(text: str, sender: Sender) -> tuple[Mention, ...]:
    """``@name`` in typed text names a person of the sender's own sign-in realm."""
    return tuple(Mention(f"{sender.platform}:{sender.workspace}:{name}", name)
                 for name in AT_NAME.findall(text))


def setup(app: web.Application, router: Router) -> bool:
    """Mount the page and its endpoint when web chat is enabled in app.yaml."""
    enabled = router.services.settings.app.webchat.enabled
    auth = WebAuth(router.services)

    async def asset(request: web.Request) -> web.Response:
        name, content_type = ASSETS[request.path]
        return web.Response(text=(HERE / name).read_text(encoding="utf-8"),
                            content_type=content_type,
                            headers={"Content-Security-Policy": CSP,
                                     "X-Content-Type-Options": "nosniff"})

    async def messages(request: web.Request) -> web.Response:
        signed_in = None
        if not auth.demo:
            row, refusal = await auth.signed_in(request, changes=True)
            if refusal is not None:
                return refusal
            signed_in = sender_for(row)  # type: ignore[arg-type]
        if request.content_type != "application/json":
            return web.json_response({"error": "send application/json"}, status=415)
        try:
            # Limits, strict UTF-8; NUL / lone surrogates cleaned in free text, else a 400.
            payload = http_input.loads(await request.read(), free_text=FREE_TEXT)
            message = to_incoming_message(payload, signed_in)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.json_response({"error": "body is not valid JSON"}, status=400)
        except BadRequest as exc:
            return web.json_response({"error": str(exc)}, status=400)
        # Per-address limits count the client (X-Forwarded-For only from trusted proxies).
        address = client_address(request.remote, request.headers.get("X-Forwarded-For", ""),
                                 router.services.settings.app.webchat.trusted_proxies)
        reply = await router.dispatch(dataclasses.replace(message, address=address))
        # The language the person wrote in: the page speaks it too (its labels, lang=).
        asked_in = {"lang": detect_language(message.text)} if message.text else {}
        return web.json_response({"replies": [render(reply)], **asked_in})

    async def inbox(request: web.Request) -> web.Response:
        after = http_input.query_int(request.query, "after")  # InputError: a 400
        if auth.demo:
            user = request.query.get("user", "")
        else:  # the signed-in identity's own inbox; ?user= is ignored
            row, refusal = await auth.signed_in(request, changes=False)
            if refusal is not None:
                return refusal
            user = row.identity  # type: ignore[union-attr]
        if not (USER.match(user) or user.startswith("web:")):
            return web.json_response({"error": "user and a numeric after= are required"},
                                     status=400)
        items = await read_inbox(router.services.db, user, after)
        return web.json_response({"messages": items})

    async def home(request: web.Request) -> web.Response:
        """The landing's home panel for the signed-in person (demo: ``?user=NAME``)."""
        if auth.demo:
            user = request.query.get("user", "")
            if not USER.match(user):
                return web.json_response({"error": "user must be 1-40 letters, digits, dots, "
                                                   "dashes or underscores"}, status=400)
            sender, channel = Sender("webchat", "local", user, display_name=user), f"webchat:{user}"
        else:
            row, refusal = await auth.signed_in(request, changes=False)
            if refusal is not None:
                return refusal
            sender = sender_for(row)  # type: ignore[arg-type]
            channel = sender.identity
        reply = await router.dispatch(home_request(sender, channel))
        return web.json_response({"reply": render(reply)})

    async def disabled(_request: web.Request) -> web.Response:
        return web.json_response({"error": "the web chat is disabled in app.yaml"}, status=404)

    for path in ASSETS:
        app.router.add_get(path, asset if enabled else disabled)
    app.router.add_post("/webchat/messages", messages if enabled else disabled)
    app.router.add_get("/webchat/inbox", inbox if enabled else disabled)
    app.router.add_get("/webchat/home", home if enabled else disabled)
    if enabled:
        auth.routes(app)
        transport = WebChatTransport(router.services.db)
        router.services.outbox.register("webchat", transport)
        router.services.outbox.register("web", transport)
    return enabled
