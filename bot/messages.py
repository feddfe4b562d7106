"""Neutral message types shared by every adapter and handler. No platform SDK imports here."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal, get_args

# "webchat" is the self-declared demo identity; "web" a signed-in one (web:local:<user>,
# web:<provider>:<subject>); "email" a mailbox reached through the office's SMTP relay
# (written ``email:<address>``; it sends nothing in, so no Sender is ever "email").
Platform = Literal["slack", "teams", "webchat", "web", "email"]
PLATFORMS: frozenset[str] = frozenset(get_args(Platform))
#: The one "workspace" of e-mail destinations: the office's relay.
EMAIL_WORKSPACE = "relay"


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sent a message, by platform identity (the only thing authorization may use)."""

    platform: Platform
    workspace: str
    user_id: str
    display_name: str = ""

    @property
    def identity(self) -> str:
        """The stable key used in app.yaml roles: ``platform:workspace:user``."""
        return f"{self.platform}:{self.workspace}:{self.user_id}"


@dataclass(frozen=True, slots=True)
class Action:
    """A button click: which button and its opaque value."""

    action_id: str
    value: str = ""


@dataclass(frozen=True, slots=True)
class FormSubmission:
    """Values typed into a form, keyed by field name."""

    form_id: str
    values: dict[str, str] = field(default_factory=dict)
    #: A field marked ``refresh`` that changed: the person is still filling the form in, and
    #: wants it redrawn for the new value (never a final submission). "" for a submission.
    changed: str = ""


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """One thing a person did: typed text, ran a command, clicked a button or sent a form."""

    sender: Sender
    text: str = ""
    channel: str = ""
    thread: str | None = None
    command: str | None = None
    action: Action | None = None
    form: FormSubmission | None = None
    is_direct: bool = False
    jurisdiction: str | None = None
    locale: str | None = None
    #: Web chat: the client's address, for per-address limits only (never shown or stored).
    address: str = ""
    #: People named in ``text``, in order, as parsed by the adapter (Slack ``<@U1>``, Teams
    #: mention entities, web chat ``@name``); the adapter writes each one as ``@name`` in text.
    mentions: tuple[Mention, ...] = ()
    #: The request's dedupe key, still to be claimed: the router claims it before the handler
    #: runs, or a handler that records the request anyway (``claims_requests``) claims it in
    #: that same transaction. A replay raises :class:`bot.errors.Replayed`.
    claim: str = ""

    @property
    def platform(self) -> Platform:
        """Shortcut for ``sender.platform``."""
        return self.sender.platform


@dataclass(frozen=True, slots=True)
class Button:
    """A button; ``action_id`` routes the click back to a handler, ``value`` is opaque."""

    label: str
    action_id: str
    value: str = ""
    style: Literal["default", "primary", "danger"] = "default"


@dataclass(frozen=True, slots=True)
class FormField:
    """One input of a form."""

    name: str
    label: str
    kind: Literal["text", "textarea", "select", "multiselect", "date"] = "text"
    required: bool = True
    options: tuple[tuple[str, str], ...] = ()
    max_length: int = 3000
    value: str = ""  # a multiselect's chosen values are comma separated
    hint: str = ""
    #: The rest of the form depends on this field: a platform that can redraw a form asks the
    #: handler again (``FormSubmission.changed``) when it changes; others submit it as a step.
    refresh: bool = False


@dataclass(frozen=True, slots=True)
class Form:
    """A form (Slack modal, Adaptive Card inputs, web chat form)."""

    form_id: str
    title: str
    fields: tuple[FormField, ...]
    submit_label: str = "Submit"
    #: Plain text per field (it may quote what was typed); every renderer shows it as is.
    errors: dict[str, str] = field(default_factory=dict)
    intro: str = ""
    #: A danger-toned line every renderer shows first, before the title and any field
    #: (the incident form's "call 911 first").
    banner: str = ""
    #: The button that leaves the form (Slack's modal "close"), in the form's language.
    cancel_label: str = "Cancel"


class Tone(StrEnum):
    """What kind of message a reply is; each renderer picks its own colour or emoji."""

    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    DANGER = "danger"  # someone may be in danger, or something urgent (SEV1, call 911)
    DENIED = "denied"  # a permission refusal


@dataclass(frozen=True, slots=True)
class Mention:
    """A person named in a reply or a message, by identity (``platform:workspace:user``).

    In reply text a mention is written ``{@N}``, N its index in ``Reply.mentions``; the renderer
    turns it into a ping where its platform allows (Slack, same workspace) and a name elsewhere.
    """

    identity: str
    name: str = ""

    @property
    def label(self) -> str:
        """What to show when the platform cannot ping: the name, else a readable stand-in."""
        return self.name or readable_label(self.identity)


#: Who an identity is when no name is known yet: platform ids (Slack U…, Teams GUIDs) mean
#: nothing to a reader, web chat names are chosen by people and read as they are.
_UNNAMED = {"slack": "a Slack user", "teams": "a Teams user"}


def readable_label(identity: str) -> str:
    """A name for ``platform:workspace:user`` when none is known: never the raw identity."""
    platform, _, rest = identity.partition(":")
    user = rest.partition(":")[2].lstrip("@")
    if platform in ("web", "webchat", "email") and user:
        return user  # names people chose, or the address they are reached at
    return _UNNAMED.get(platform, "someone")


@dataclass(frozen=True, slots=True)
class Fact:
    """A label and its value (a table row: Slack fields, a Teams FactSet, a web chat list)."""

    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Link:
    """A link shown on its own line or as a link button."""

    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Section:
    """A block of CommonMark text, optional facts and list items, and a small-print context.

    ``buttons`` act on this section only (a home lists several alerts, each with its own
    acknowledgement buttons); renderers show them right below it.
    """

    text: str = ""
    context: str = ""
    fields: tuple[Fact, ...] = ()
    items: tuple[str, ...] = ()
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True, slots=True)
class Reply:
    """What a handler answers, by meaning; each adapter renders it for its platform.

    ``text`` is CommonMark (``**bold**``, ``_italic_``, `` `code` ``, ``[label](url)`` or bare
    URLs) and is also the notification / fallback line. ``title`` is shown once, as a heading.
    """

    text: str
    title: str = ""
    tone: Tone = Tone.INFO
    fields: tuple[Fact, ...] = ()
    items: tuple[str, ...] = ()
    sections: tuple[Section, ...] = ()
    links: tuple[Link, ...] = ()
    mentions: tuple[Mention, ...] = ()
    buttons: tuple[Button, ...] = ()
    form: Form | None = None
    ephemeral: bool = False
    repeat: bool = False  # a resend that may already have arrived: renderers lead with REPEAT_LINE
    #: A handling label the reader must see first ("TLP:AMBER"); e-mail puts it in the subject
    #: and the first line too.
    marking: str = ""
    #: The outbox key of the earlier message this one follows up (an update, an all-clear):
    #: e-mail threads under it (In-Reply-To / References), chat may ignore it.
    follows: str = ""
    #: Why this reader receives the message and whom to ask (e-mail's official footer).
    footer: str = ""



def for_one_person(message: IncomingMessage, reply: Reply) -> bool:
    """Whether ``reply`` is meant for the person who clicked, not for the whole conversation.

    An ephemeral reply (a click's confirmation, a refusal, a form sent back with its errors) to
    a button click or a form submitted in a shared conversation (a channel, a group chat). What
    someone typed is answered where they typed it; a personal chat is private anyway.
    """
    return (reply.ephemeral and not message.is_direct
            and (message.action is not None or message.form is not None))


def redraws_form(message: IncomingMessage, reply: Reply) -> bool:
    """Whether ``reply`` is the submitted form again, one step further ("Next"), without errors.

    Such a reply replaces the form it answers where the platform can update a sent message.
    """
    return (message.form is not None and reply.form is not None
            and reply.form.form_id == message.form.form_id and not reply.form.errors)

# The one wording of the repeat marking; every renderer puts it first when ``Reply.repeat``.
REPEAT_LINE = "Repeat: this message may already have reached you"


MENTION = re.compile(r"\{@(\d{1,3})\}")
_STRONG = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
#: What :func:`literal` escapes: every character that could start markup in any renderer
#: (CommonMark emphasis, code, links, autolinks, headings, images, strikethrough, tables, our
#: ``{@N}`` mentions) and the backslash itself.
LITERAL_CHARS = "\\`*_{}[]()<>#!~|"
_LITERAL = re.compile("([" + re.escape(LITERAL_CHARS) + "])")
#: A CommonMark backslash escape: a backslash before any ASCII punctuation character.
ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
#: Renderers hide each escaped character as one private-use character while they convert
#: markup (so no pattern can use it), then show it as their platform's literal character.
_SHIELD = 0xE000
_SHIELDED = re.compile("[\uE021-\uE07E]")


def literal(text: str) -> str:
    """``text`` typed by a person (or imported) as CommonMark that reads exactly as typed.

    Every markup character is backslash-escaped, so a typed ``[Click](https://evil.example)``,
    ``**URGENT**``, ``{@0}`` or ``<!channel>`` stays those characters on every platform: no
    link, no bold, no ping. Use it for every user- or import-supplied string placed in a
    reply's text, fields, items or sections (never for vetted article text).
    """
    return _LITERAL.sub(r"\\\1", str(text))


def shield(text: str) -> str:
    """Each backslash escape as one private-use character no markup pattern matches.

    Characters of that private range already in ``text`` (typed by someone) are dropped, so
    only the renderer's own escapes are ever shown as a literal character.
    """
    text = _SHIELDED.sub("", text)
    return ESCAPE.sub(lambda m: chr(_SHIELD + ord(m.group(1))), text)


def unshield(text: str, show: Callable[[str], str] = lambda ch: ch) -> str:
    """The inverse of :func:`shield`: each escaped character as ``show(character)``."""
    return _SHIELDED.sub(lambda m: show(chr(ord(m.group(0)) - _SHIELD)), text)


def unescape(text: str) -> str:
    """CommonMark backslash escapes removed: the characters as a person typed them."""
    return ESCAPE.sub(r"\1", text)


def plain(text: str, mentions: tuple[Mention, ...] = ()) -> str:
    """CommonMark text for a terminal or a plain-text field: bold markers and escapes dropped.

    ``{@N}`` becomes ``@name`` (the mention's label) when ``mentions`` are given.
    """
    out = _STRONG.sub(r"\1", shield(text))
    out = fill_mentions(out, mentions, lambda m: shield(literal("@" + m.label)))
    return unshield(out)


def fill_mentions(text: str, mentions: tuple[Mention, ...],
                  show: Callable[[Mention], str]) -> str:
    r"""Replace each ``{@N}`` in already-rendered ``text`` by ``show(mentions[N])``.

    An escaped ``\\{@0}`` (what :func:`literal` makes of typed text) is left as it is, and so
    is a shielded one.
    """
    def one(match: re.Match[str]) -> str:
        if match.group("n") is None:  # an escape: kept for the renderer
            return match.group(0)
        index = int(match.group("n"))
        return show(mentions[index]) if index < len(mentions) else match.group(0)
    return _MENTION_OR_ESCAPE.sub(one, text) if mentions else text


_MENTION_OR_ESCAPE = re.compile(r"\\[!-/:-@\[-`{-~]|\{@(?P<n>\d{1,3})\}")


def lead(reply: Reply, sections: tuple[Section, ...]) -> str:
    """The main line as a card or page shows it ("" when the title, form or sections say it)."""
    said = {reply.title.strip(), reply.form.title.strip() if reply.form else ""}
    if reply.text.strip() in said or said_by(reply.text, sections):
        return ""
    # A notification line that starts with the title ("Status of alert X: headline") shows
    # only what follows it under the title, not the title a second time.
    title = reply.title.strip()
    if title and reply.text.startswith(f"{title}: ") and reply.text[len(title) + 2:].strip():
        return reply.text[len(title) + 2:]
    # A first line that is the title's last part (an exercise alert's title is its headline
    # line behind "EXERCISE ... | ") is not shown a second time under it; a line the title
    # merely ends with ("closed" under "Polling place closed") is kept.
    first, _, rest = reply.text.partition("\n")
    first = first.strip()
    if first and title.endswith(first) and _TITLE_PART.search(title[:len(title) - len(first)]):
        return rest.lstrip("\n")
    return reply.text


#: What may stand before a title's last part: nothing, or a separator such as " | " or ": ".
_TITLE_PART = re.compile(r"(?:^|[|:\-\u2013\u2014]\s+)$")


def said_by(text: str, sections: tuple[Section, ...]) -> bool:
    """Whether every paragraph of ``text`` already appears in ``sections`` (text or context).

    Renderers then show the sections without the main line above them, so a reply whose
    sections restate it (an answer's short form, an alert's headline) is not read twice.
    """
    shown = "\n".join(f"{s.text}\n{s.context}" for s in sections)
    return bool(sections) and all(
        part.strip() in shown for part in text.split("\n\n") if part.strip())


class InvalidDestination(ValueError):
    """A destination nothing can be delivered to (empty workspace or user, odd characters, ...).

    Raised when one is built or parsed, so it is refused when queued instead of stopping the
    outbox later.
    """


# Platform ids (Slack T…/C…/U…, Teams tenant GUIDs, "19:…@thread.tacv2" conversations, web chat
# names) are printable ASCII without spaces; the workspace has no ':' (it ends there).
_WORKSPACE = re.compile(r"[!-9;-~]{1,100}")
_TARGET = re.compile(r"[!-~]{1,300}")


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a proactive message goes: a channel / conversation, or a person (``user_id``).

    Written in app.yaml as ``platform:workspace:channel`` or ``platform:workspace:@user``.
    Every instance is valid (:class:`InvalidDestination` otherwise) and survives
    ``Destination.parse(str(d)) == d``.
    """

    platform: Platform
    workspace: str
    channel: str = ""
    user_id: str | None = None

    def __post_init__(self) -> None:
        """Refuse what could never be delivered (or read back from the outbox)."""
        problem = _problem(self.platform, self.workspace, self.channel, self.user_id)
        if problem:
            target = self.channel if self.user_id is None else f"@{self.user_id}"
            shown = f"{self.platform}:{self.workspace}:{target}"[:300]
            raise InvalidDestination(f"{problem}: {shown!r}")

    @classmethod
    def email(cls, address: str) -> Destination:
        """The mailbox ``address`` (normalised; :class:`InvalidDestination` when not one)."""
        return cls("email", EMAIL_WORKSPACE, user_id=email_address(address))

    @property
    def address(self) -> str | None:
        """The e-mail address of an ``email:`` destination, else None."""
        return self.user_id if self.platform == "email" else None

    @classmethod
    def parse(cls, text: str) -> Destination:
        """Parse ``slack:T1:C2``, ``slack:T1:@U3``, ``teams:tenant:@aad-id``, ``email:a@b.org``."""
        if str(text).startswith("email:"):
            return cls.email(str(text)[len("email:"):])
        platform, _, rest = str(text).partition(":")
        workspace, _, target = rest.partition(":")
        if platform not in PLATFORMS or not workspace or not target:
            raise InvalidDestination(f"{str(text)[:300]!r} is not platform:workspace:channel or "
                                     "platform:workspace:@user")
        if target.startswith("@"):
            return cls(platform, workspace, user_id=target[1:])  # type: ignore[arg-type]
        return cls(platform, workspace, channel=target)  # type: ignore[arg-type]

    def __str__(self) -> str:
        """The app.yaml spelling."""
        if self.platform == "email":
            return f"email:{self.user_id}"
        target = f"@{self.user_id}" if self.user_id is not None else self.channel
        return f"{self.platform}:{self.workspace}:{target}"


@functools.lru_cache(maxsize=65_536)
def email_address(text: str) -> str:
    """``text`` as one plain e-mail address in normal form (domain lower-cased).

    Cached: a broadcast checks each of thousands of stored addresses more than once, and the
    check (tens of microseconds) is pure.

    Refused (:class:`InvalidDestination`): display names, several addresses, non-ASCII (relays
    may lack SMTPUTF8), quoted local parts, IP-literal domains and anything over 254 characters.
    Deliverability is not looked up (no DNS on the request path).
    """
    from email_validator import EmailNotValidError, validate_email

    text = str(text).strip()
    if not text or len(text) > 254 or any(c in text for c in "<>,; \t\r\n\"()"):
        raise InvalidDestination(f"{text[:300]!r} is not a plain e-mail address")
    try:
        checked = validate_email(text, check_deliverability=False, allow_smtputf8=False,
                                 allow_quoted_local=False, allow_domain_literal=False)
    except EmailNotValidError as error:
        raise InvalidDestination(f"{text[:300]!r} is not a valid e-mail address ({error})") from None
    return checked.normalized


def _problem(platform: str, workspace: str, channel: str, user_id: str | None) -> str:
    """What is wrong with a destination's parts, or "" when nothing is."""
    if platform not in PLATFORMS:
        return f"unknown platform {str(platform)[:20]!r}"
    if platform == "email":
        if workspace != EMAIL_WORKSPACE or channel or not isinstance(user_id, str):
            return "an e-mail destination is email:<address>"
        try:
            if email_address(user_id) != user_id:
                return "e-mail address not in its normal form"
        except InvalidDestination as error:
            return str(error)
        return ""
    if not isinstance(workspace, str) or not _WORKSPACE.fullmatch(workspace):
        return "empty or malformed workspace"
    if user_id is not None:
        if channel:
            return "both a channel and a user"
        if not isinstance(user_id, str) or not _TARGET.fullmatch(user_id):
            return "empty or malformed user id"
        return ""
    if not isinstance(channel, str) or not _TARGET.fullmatch(channel) or channel.startswith("@"):
        return "empty or malformed channel"
    return ""


def reply_to_dict(reply: Reply) -> dict[str, Any]:
    """A reply as plain data (stored in the outbox, sent to the web chat)."""
    return asdict(reply)


def _section(data: dict[str, Any]) -> Section:
    return Section(text=data.get("text", ""), context=data.get("context", ""),
                   fields=tuple(Fact(**f) for f in data.get("fields", ())),
                   items=tuple(data.get("items", ())),
                   buttons=tuple(Button(**b) for b in data.get("buttons", ())))


def reply_from_dict(data: dict[str, Any]) -> Reply:
    """The inverse of :func:`reply_to_dict` (older stored replies lack the newer keys)."""
    form = data.get("form")
    return Reply(
        text=data["text"],
        title=data.get("title", ""),
        tone=Tone(data.get("tone", Tone.INFO)),
        fields=tuple(Fact(**f) for f in data.get("fields", ())),
        items=tuple(data.get("items", ())),
        sections=tuple(_section(s) for s in data.get("sections", ())),
        links=tuple(Link(**link) for link in data.get("links", ())),
        mentions=tuple(Mention(**m) for m in data.get("mentions", ())),
        buttons=tuple(Button(**b) for b in data.get("buttons", ())),
        form=None if form is None else Form(
            form_id=form["form_id"], title=form["title"],
            fields=tuple(FormField(**{**f, "options": tuple(tuple(o) for o in f["options"])})
                         for f in form["fields"]),
            submit_label=form.get("submit_label", "Submit"), errors=dict(form.get("errors", {})),
            intro=form.get("intro", ""), banner=form.get("banner", ""),
            cancel_label=form.get("cancel_label", "Cancel")),
        ephemeral=bool(data.get("ephemeral", False)),
        repeat=bool(data.get("repeat", False)),
        marking=str(data.get("marking", "")),
        follows=str(data.get("follows", "")),
        footer=str(data.get("footer", "")),
    )
