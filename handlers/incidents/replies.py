"""Wording of everything the incident feature says, for election staff to review."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.config.settings import AppConfig, Contact
from bot.messages import Button, Fact, Mention, Reply, Section, Tone, literal
from bot.when import moment
from handlers.incidents.catalog import CATEGORIES, SEVERITY_LABELS
from handlers.incidents.danger import call_911
from handlers.incidents.enums import IncidentStatus
from handlers.incidents.models import Incident, IncidentEvent
from handlers.incidents.spanish import say, tagged

if TYPE_CHECKING:
    from handlers.incidents.notify import Why

DETAILS_BUTTON = "incident:details"


def _category(incident: Incident, language: str = "en") -> str:
    label = say(CATEGORIES.get(incident.category, (incident.category, ()))[0], language)
    sub = incident.subcategory
    if sub and language == "es":
        sub = say(sub[:1].upper() + sub[1:], language)
    return f"{literal(label)}: {literal(sub)}" if sub else literal(label)


def local_time(at: datetime, zone: ZoneInfo, now: datetime | None = None) -> str:
    """A time as its reader reads it: 'Tue 03 Nov 2026 10:15 CST' (date, year and zone).

    With ``now``, also how long ago: only in replies read at once, never in a notification
    that stays in a channel and would outlive "2 hours ago".
    """
    return moment(at, zone, now)


def summary_line(incident: Incident, language: str = "en") -> str:
    """One line: id, severity, category, where, status (what people typed, as typed)."""
    where = literal(incident.jurisdiction) or say("jurisdiction not chosen yet", language)
    return (f"{incident.human_id} · {incident.severity} · {_category(incident, language)} · "
            f"{where} {literal(incident.site)} · {say(incident.status, language)}")


def build_confirmation(incident: Incident, *, created: bool, rumor_article: str | None,
                       paged: bool = True, language: str = "en") -> Reply:
    """Told only after the commit; SEV1 puts 'call 911' before anything else.

    ``paged`` False: a SEV1 over the paging limit, recorded and routed but on-call not paged.
    ``language`` is the reporter's (the form's): "es" says all of it in Spanish.
    """
    sections = []  # the main line says "call 911" and the id: the sections do not repeat them
    if incident.severity == "SEV1" and paged:
        sections.append(Section(say("The on-call team has been notified.", language)))
    elif incident.severity == "SEV1":
        sections.append(Section(say("Your report is recorded and routed to the incident team, "
                                    "but on-call was not paged: you have reached this hour's "
                                    "limit of SEV1 pages.", language)))
    filed = say(f"{'Filed' if created else 'Already filed'} {incident.human_id}.", language)
    sections.append(Section(summary_line(incident, language), context=say(
        "Keep this id. Incident records may be public records.", language)))
    if incident.needs_details:
        sections.append(Section(say("Please complete the report: use the button below.",
                                    language)))
    if rumor_article:
        sections.append(Section(say(f"Rumor control: see the vetted article \"{rumor_article}\" "
                                    "(ask me about it).", language)))
    value = tagged(incident.human_id, language)
    buttons = (Button(say("Complete report", language), "incident:complete", value,
                      "primary"),) if incident.needs_details else (
        Button(say("Add details", language), DETAILS_BUTTON, value),)
    text = f"{call_911(language)} " if incident.severity == "SEV1" else ""
    tone = Tone.DANGER if incident.severity == "SEV1" else Tone.SUCCESS
    return Reply(text=f"{text}{filed}", tone=tone, sections=tuple(sections), buttons=buttons,
                 ephemeral=True)


def detail_values(incident: Incident) -> dict[str, str]:
    """What the "Add details" form starts with: what the report already records."""
    values = {k: str(v) for k, v in json.loads(incident.details or "{}").items()}
    values.update(le_agency=incident.law_enforcement_agency,
                  le_case=incident.law_enforcement_case)
    return values


def build_details_saved(incident: Incident, language: str = "en") -> Reply:
    """The details are recorded (in the incident's history)."""
    return Reply(text=say(f"Details added to {incident.human_id}.", language), tone=Tone.SUCCESS,
                 sections=(Section(summary_line(incident, language)),), ephemeral=True)


def build_route_question(incident: Incident, choices: Sequence[tuple[str, str]], *,
                         paged: bool = True, language: str = "en") -> Reply:
    """A quick report held until its reporter says where it happened: a button per place.

    ``choices`` are (code, name) pairs, the likeliest first.
    """
    filed = build_confirmation(incident, created=True, rumor_article=None, paged=paged,
                               language=language)
    ask = Section(say("Where did this happen? Choose the jurisdiction: its incident managers are "
                      "told once you do, not before.", language))
    buttons = tuple(Button(name, "incident:route",
                           tagged(f"{incident.human_id}:{code}", language),
                           "primary" if n == 0 else "default")
                    for n, (code, name) in enumerate(choices))
    return Reply(text=filed.text, tone=filed.tone, sections=(ask, *filed.sections),
                 buttons=buttons + filed.buttons, ephemeral=True)


def build_routed(incident: Incident, language: str = "en") -> Reply:
    """The held report now has its jurisdiction and has been routed."""
    return Reply(text=say(f"Routed: {summary_line(incident, language)}", language),
                 tone=Tone.SUCCESS, ephemeral=True)


def build_notification(incident: Incident, *, reason: str,
                       changed: tuple[str, datetime, ZoneInfo] | None = None) -> Reply:
    """What the routing table's channels and people receive, with action buttons.

    ``changed`` (who, when, the readers' zone) re-renders a sent notification after a change:
    the current state, the assignee, and no buttons once the incident is resolved or closed.
    """
    heading = {"new": "New incident", "status": "Incident update",
               "severity": "Severity changed"}.get(reason, "Incident")
    lines = [literal(incident.description[:500])]
    if incident.severity == "SEV1":
        lines.insert(0, "**SEV1: someone may be in immediate danger.**")
    mentions: list[Mention] = []
    facts: list[Fact] = []
    if incident.assignee:
        mentions.append(Mention(incident.assignee))
        facts.append(Fact("Assignee", "{@0}"))
    if changed is not None:
        who, at, zone = changed
        mentions.append(Mention(who))
        lines.append(f"Now {incident.status} (last change by {{@{len(mentions) - 1}}}, "
                     f"{local_time(at, zone)}).")
    buttons: tuple[Button, ...] = () if incident.status in ("resolved", "closed") else (
        Button("Acknowledge", "incident:ack", incident.human_id, "primary"),
        Button("Assign to me", "incident:take", incident.human_id),
        Button("Escalate", "incident:escalate", incident.human_id, "danger"),
        Button("Resolve", "incident:resolve", incident.human_id),
    )
    tone = {"SEV1": Tone.DANGER, "SEV2": Tone.WARNING}.get(incident.severity, Tone.INFO)
    return Reply(text=summary_line(incident), title=heading, tone=tone, fields=tuple(facts),
                 sections=(Section("\n".join(lines),
                                   context=SEVERITY_LABELS.get(incident.severity, "")),),
                 mentions=tuple(mentions), buttons=buttons)


def build_email_notification(notice: Reply, incident: Incident, app: AppConfig, *, why: Why,
                             follows: str = "") -> Reply:
    """A notification for an ``email:`` reader, with a footer: why, and whom to ask.

    No buttons (they need someone signed in to chat): the text says what to do instead.
    ``follows``: the key of the first notice this address got (a later one threads under it).
    """
    act = Section(f"Incident managers act on it in chat ({app.commands.incident} show "
                  f"{incident.human_id}). Not in chat? Contact {contact_words(app, incident)}.")
    return replace(notice, buttons=(), sections=(*notice.sections, act), follows=follows,
                   footer=f"You receive this because {why_words(app, why, incident)}. "
                          "Incident records may be public records. Questions: "
                          f"{contact_words(app, incident)}.")


def on_call_footer(app: AppConfig) -> str:
    """The footer of an on-call note by e-mail that concerns no one incident."""
    return (f"You receive this because this address is on {app.office.name}'s on-call list, "
            "paged for SEV1 incidents.")


def _place(app: AppConfig, code: str) -> str:
    return next((j.name for j in app.jurisdictions if j.code == code), code)


def why_words(app: AppConfig, why: Why, incident: Incident) -> str:
    """Why an address is told, completing "You receive this because ..."."""
    office = app.office.name
    if why.kind == "on_call":
        return f"this address is on {office}'s on-call list, paged for SEV1 incidents"
    if why.kind == "manager":
        return (f"{office} lists this address as an incident contact for "
                f"{literal(_place(app, incident.jurisdiction))}")
    rule = why.rule
    what = ["incidents"]
    if rule is not None and rule.categories:
        what.insert(0, " or ".join(CATEGORIES.get(c, (c, ()))[0] for c in rule.categories))
    if rule is not None and rule.severities:
        what.insert(0, " or ".join(str(s) for s in rule.severities))
    if rule is not None and rule.jurisdictions:
        what.append("in " + " or ".join(_place(app, code) for code in rule.jurisdictions))
    return f"{office} sends {' '.join(what)} to this address"


def contact_words(app: AppConfig, incident: Incident) -> str:
    """The incident's jurisdiction's contact (else the office's default), with its ways in."""
    contact = app.contact_for(incident.jurisdiction)
    if contact is None:
        return app.office.name
    ways = [w for w in (contact.phone, contact.email) if w]
    return contact.name + (f" ({', '.join(ways)})" if ways else "")


def build_detail(incident: Incident, events: Sequence[IncidentEvent], zone: ZoneInfo,
                 now: datetime | None = None) -> Reply:
    """The full record for someone allowed to see it, its times in the reader's ``zone``."""
    details = json.loads(incident.details or "{}")
    rows = [summary_line(incident), f"When: {local_time(incident.occurred_at, zone, now)}",
            f"Description: {literal(incident.description)}"]
    rows += [f"{literal(k.replace('_', ' '))}: {literal(v)}" for k, v in sorted(details.items())]
    mentions = [Mention(incident.reporter)]  # people by name, never by raw identity
    rows.append("Reported by: {@0}")
    if incident.assignee:
        mentions.append(Mention(incident.assignee))
        rows.append("Assignee: {@1}")
    if incident.law_enforcement_agency:
        rows.append(f"Law enforcement: {literal(incident.law_enforcement_agency)} "
                    f"\\#{literal(incident.law_enforcement_case)}")
    if incident.source_link:
        rows.append(f"Reported from message: {literal(incident.source_link)}")
    history = [f"{e.seq}. {local_time(e.at, zone)} {e.kind} by {{@{_index(mentions, e.actor)}}}"
               for e in list(events)[-10:]]
    return Reply(text=summary_line(incident),
                 sections=(Section("\n".join(rows)),
                           Section("History:\n" + "\n".join(history))),
                 mentions=tuple(mentions), ephemeral=True)


def _index(mentions: list[Mention], identity: str) -> int:
    """The position of ``identity`` in ``mentions`` (added once)."""
    for n, mention in enumerate(mentions):
        if mention.identity == identity:
            return n
    mentions.append(Mention(identity))
    return len(mentions) - 1


def build_list(incidents: Sequence[Incident], scope: str) -> Reply:
    """A short list."""
    if not incidents:
        return Reply(text=f"No incidents ({literal(scope)}).", ephemeral=True)
    lines = [summary_line(i) for i in incidents[:25]]
    more = f"\n…and {len(incidents) - 25} more" if len(incidents) > 25 else ""
    return Reply(text=f"{len(incidents)} incident(s) ({literal(scope)})",
                 sections=(Section("\n".join(lines) + more),), ephemeral=True)


def build_usage(command: str) -> Reply:
    """How to use the incident command."""
    return Reply(text="Incident commands", title="Incident commands", sections=(Section(
        f"`{command}` opens the report form · `{command} TEXT` files a quick report\n"
        f"`{command} list [open|mine|sev1|jurisdiction CODE]` · `{command} show ID`\n"
        f"`{command} assign ID @user|me` · `{command} status ID STATUS [note]` "
        "(STATUS: acknowledged, in_progress, escalated, monitoring, resolved, closed)\n"
        f"`{command} severity ID SEV1-4 reason` · `{command} note ID text` · "
        f"`{command} close ID`"),), ephemeral=True)


def status_choices() -> str:
    """What ``status ID STATUS`` accepts (the button words too)."""
    return (f"Status must be one of: {', '.join(IncidentStatus)} "
            "(acknowledged means triaged; escalate and resolve work too).")


def build_close_form_prompt(incident: Incident, missing: list[str]) -> str:
    """Why an incident cannot be closed yet."""
    return f"Before closing {incident.human_id}: {'; '.join(missing)}."


LIMIT_NAMES = {"incidents_per_hour": "reports from you",
               "per_address_per_hour": "reports and alerts from your network address",
               "per_workspace_per_hour": "reports and alerts from your workspace"}


def build_limit_refusal(setting: str, limit: int, contact: Contact | None,
                        language: str = "en") -> str:
    """A report refused for a limit: it was not filed, call 911, and whom to phone instead.

    In the reporter's language: a Spanish form or quick report is refused in Spanish.
    """
    what = LIMIT_NAMES.get(setting, "reports")
    reach = "your election office"
    if contact is not None:
        ways = [w for w in (contact.phone, contact.email) if w]
        reach = contact.name_in(language) + (f" ({', '.join(ways)})" if ways else "")
    return f"{call_911(language)} " + say(
        f"This report was NOT filed: the limit of {limit} {what} per hour has been reached. "
        f"To report it now, contact {reach}. You can file again in the next hour; this refusal "
        "was recorded.", language)


def build_sev1_flood_note(limit: int, office: str) -> Reply:
    """To on-call, once an hour: SEV1 reports over the paging limit are recorded, not paged."""
    return Reply(
        text="SEV1 paging limit reached: check the incident list", tone=Tone.WARNING,
        sections=(Section(
            f"{office}: one reporter (or one network address) has sent more than {limit} SEV1 "
            "reports this hour. Their further SEV1 reports this hour are recorded and routed "
            "as usual but do not page on-call. Review them with the incident list (sev1)."),))
