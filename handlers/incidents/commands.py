"""The typed incident verbs (list, show, assign, status, severity, note, close), quick reports."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from bot.errors import UserError
from bot.messages import PLATFORMS, IncomingMessage, Mention, Reply, Tone
from bot.ops.limits import origin_of
from bot.ops.privacy import sensitive_patterns
from bot.services import Services
from bot.when import reader_zone
from handlers.incidents import flows, queries, service
from handlers.incidents.catalog import quick_triage
from handlers.incidents.danger import danger_language
from handlers.incidents.enums import IncidentStatus, Severity
from handlers.incidents.forms import MAX_TEXT
from handlers.incidents.interactions import close_or_ask, new_report
from handlers.incidents.models import IncidentCreate
from handlers.incidents.permissions import Actor
from handlers.incidents.replies import (
    build_confirmation,
    build_detail,
    build_list,
    build_route_question,
    build_usage,
    status_choices,
    summary_line,
)
from handlers.incidents.routing import jurisdiction_name, route_quick_report
from handlers.incidents.spanish import say
from knowledge.language import detect_language

E = TypeVar("E", bound=StrEnum)
VERBS = frozenset({"list", "show", "assign", "status", "severity", "note", "close", "help"})
ID = re.compile(r"^INC-\d{4}-\d{6}$", re.I)


async def on_text(message: IncomingMessage, services: Services, actor: Actor,
                  now: datetime) -> Reply:
    """``/incident`` with no text opens the form; a verb runs; other text is a quick report."""
    text = message.text.strip()
    app = services.settings.app
    if not text:
        return new_report(message, services, actor, now)
    verb, _, rest = text.partition(" ")
    verb = verb.lower()
    if verb not in VERBS:
        return await _quick_report(message, services, now)
    args = rest.split()
    if verb == "help":
        return build_usage(app.commands.incident)
    if verb == "list":
        scope = args[0].lower() if args else "open"
        if scope not in ("open", "mine", "sev1", "jurisdiction", "all"):
            raise UserError("List what? open, mine, sev1 or jurisdiction CODE.")
        value = args[1] if len(args) > 1 else ""
        rows = await queries.list_incidents(db=services.db, actor=actor, scope=scope, value=value)
        return build_list(rows, f"{scope} {value}".strip())
    if not args or not ID.match(args[0]):
        raise UserError(f"Give an incident id like INC-{now.year}-000123.")
    return await _verb(verb, args[0].upper(), args[1:], message, services, actor, now)


async def _verb(verb: str, human_id: str, args: list[str], message: IncomingMessage,
                services: Services, actor: Actor, now: datetime) -> Reply:
    db = services.db
    if verb == "show":
        incident = await service.view_incident(db=db, actor=actor, human_id=human_id, now=now)
        # The reader's own zone (Slack tells it), else their jurisdiction's, else the
        # incident's, else the office's.
        zone = reader_zone(await services.people.time_zone_of(message.sender.identity),
                           services.settings.app.time_zone_for(
                               message.jurisdiction or incident.jurisdiction))
        return build_detail(incident, await queries.events_of(db, incident), zone, now)
    if verb == "assign":
        if not args:
            raise UserError("Assign to whom? @user or me.")
        assignee = resolve_person(args[0], message)
        incident = await service.assign(db=db, actor=actor, human_id=human_id,
                                        assignee=assignee, now=now)
        return Reply(text=f"Assigned: {summary_line(incident)} to {{@0}}", tone=Tone.SUCCESS,
                     mentions=(Mention(assignee),), ephemeral=True)
    if verb == "status":
        status = IncidentStatus.from_word(args[0]) if args else None
        if status is None:
            raise UserError(status_choices())
        if status is IncidentStatus.CLOSED:
            return await close_or_ask(human_id, services, actor, now, note=" ".join(args[1:]))
        incident = await flows.change_status(db=db, actor=actor, human_id=human_id,
                                             status=status, note=" ".join(args[1:]), now=now)
        return Reply(text=f"Updated: {summary_line(incident)}", ephemeral=True)
    if verb == "severity":
        severity = _member(Severity, args[0].upper() if args else "")
        if severity is None:
            raise UserError("Severity must be SEV1, SEV2, SEV3 or SEV4, then a reason.")
        incident = await flows.change_severity(db=db, actor=actor, human_id=human_id,
                                               severity=severity, reason=" ".join(args[1:]),
                                               now=now)
        return Reply(text=f"Updated: {summary_line(incident)}", ephemeral=True)
    if verb == "note":
        if not args:
            raise UserError("Write the note after the id.")
        await service.add_note(db=db, actor=actor, human_id=human_id, text=" ".join(args),
                               now=now)
        return Reply(text=f"Note added to {human_id}.", ephemeral=True)
    return await close_or_ask(human_id, services, actor, now)


def _member(enum: type[E], value: str) -> E | None:
    """The member of a closed set spelled ``value``, or None."""
    try:
        return enum(value)
    except ValueError:
        return None


def resolve_person(token: str, message: IncomingMessage) -> str:
    """``me``, an ``@mention`` (parsed by the adapter into ``message.mentions``) or an identity.

    A mention written with spaces (a Teams display name) is found when it is the only one.
    """
    if token.lower() == "me":
        return message.sender.identity
    if token.count(":") >= 2 and token.split(":")[0] in PLATFORMS:
        return token
    if token.startswith("@") and len(token) > 1:
        named = [m for m in message.mentions if f"@{m.label}" == token]
        if named or len(message.mentions) == 1:
            return (named or list(message.mentions))[0].identity
    raise UserError("Name the person as @mention, me, or platform:workspace:user.")


async def _quick_report(message: IncomingMessage, services: Services, now: datetime) -> Reply:
    """File the text as a report, where it names (or its reporter works); else hold and ask."""
    text = message.text.strip()[:MAX_TEXT]
    app = services.settings.app
    routing = route_quick_report(text, app, identity=message.sender.identity,
                                 declared=message.jurisdiction)
    report = IncidentCreate(category="other", jurisdiction=routing.jurisdiction or "",
                            occurred_at=now, severity=quick_triage(text), description=text,
                            needs_details=True)
    language = danger_language(text, detect_language(text))  # the reporter's ("amenaza de bomba")
    if sensitive_patterns(text):
        raise UserError(say("That looks like a Social Security number or date of birth. "
                            "Incident records may be public records: please remove it.",
                            language))
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    key = f"quick:{message.sender.identity}:{digest}:{now:%Y%m%d%H%M}"
    filed = await service.file_incident(
        db=services.db, app=app, report=report, reporter=message.sender.identity, key=key,
        now=now, origin=origin_of(message), language=language)
    if routing.jurisdiction is None and not filed.incident.jurisdiction:  # held, also on a resend
        choices = [(code, jurisdiction_name(app, code)) for code in routing.choices]
        return build_route_question(filed.incident, choices, paged=filed.paged,
                                    language=language)
    return build_confirmation(filed.incident, created=filed.created, paged=filed.paged,
                              rumor_article=None, language=language)
