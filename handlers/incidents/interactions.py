"""Form submissions and button clicks for incidents."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime

from bot.errors import UserError
from bot.messages import Form, FormField, IncomingMessage, Reply
from bot.ops.limits import origin_of
from bot.services import Services
from handlers.incidents import flows, service
from handlers.incidents.danger import REPORT_BUTTON
from handlers.incidents.enums import IncidentStatus, Severity
from handlers.incidents.forms import (
    DETAILS_PREFIX,
    FORM_PREFIX,
    build_details_form,
    build_report_form,
    is_step,
    validate_details,
    validate_report,
)
from handlers.incidents.models import Incident, IncidentCreate
from handlers.incidents.permissions import Actor
from handlers.incidents.replies import (
    DETAILS_BUTTON,
    build_confirmation,
    build_details_saved,
    build_routed,
    detail_values,
    summary_line,
)
from handlers.incidents.spanish import language_of, say, tagged, untag

CLOSE_FORM = "incident:close:"
STATUS_BUTTONS = {"incident:ack": IncidentStatus.TRIAGED,
                  "incident:escalate": IncidentStatus.ESCALATED,
                  "incident:resolve": IncidentStatus.RESOLVED}
COMPLETE_FORM = "incident:completeform:"


async def on_form(message: IncomingMessage, services: Services, actor: Actor,
                  now: datetime) -> Reply:
    """A submitted report (new or completing a quick one) or a close-out form."""
    assert message.form is not None
    form_id, values = message.form.form_id, message.form.values
    if form_id.startswith(CLOSE_FORM):
        return await close_or_ask(form_id.removeprefix(CLOSE_FORM), services, actor, now,
                                  fields=values)
    # The reporter's language rides in the form's id (``spanish.tagged``): every step, check
    # and confirmation is said in the language the form was opened in.
    if form_id.startswith(DETAILS_PREFIX):
        language, human_id = untag(form_id.removeprefix(DETAILS_PREFIX))
        return await _add_details(human_id, values, services, actor, now, language)
    if not form_id.startswith((FORM_PREFIX, COMPLETE_FORM)):
        raise UserError("That form has expired; run the incident command again.")
    prefix = FORM_PREFIX if form_id.startswith(FORM_PREFIX) else COMPLETE_FORM
    language, tail = untag(form_id.removeprefix(prefix))
    app = services.settings.app
    if message.form.changed or is_step(values):
        # Still filling it in (a category chosen): the form for that category, no errors yet.
        return _redrawn(form_id, build_report_form(
            app, nonce=tail, values=values, reporter=actor.identity, now=now,
            declared=message.jurisdiction, language=language), language=language)
    report, errors = validate_report(values, app, now)
    if report is None:
        # Send the form back with what was typed and a message per field: nothing is lost.
        form = build_report_form(app, nonce=tail, values=values, errors=errors,
                                 language=language)
        return _redrawn(form_id, form, say("Please fix the highlighted fields.", language),
                        language=language)
    if prefix == COMPLETE_FORM:
        return await _complete(tail, report, services, actor, now, origin_of(message), language)
    filed = await service.file_incident(
        db=services.db, app=app, report=report, reporter=actor.identity,
        key=f"form:{actor.identity}:{form_id}", now=now, origin=origin_of(message),
        language=language)
    return build_confirmation(filed.incident, created=filed.created, paged=filed.paged,
                              rumor_article=_rumor_article(services, report.category,
                                                           report.details, report.description),
                              language=language)


def _redrawn(form_id: str, form: Form, text: str = "", *, language: str = "en") -> Reply:
    """The report form again under the same id (a quick report's completion keeps its own)."""
    if form_id.startswith(COMPLETE_FORM):
        last = form.submit_label == say("File report", language)
        form = replace(form, form_id=form_id, submit_label=say("Save" if last else "Next",
                                                               language))
    return Reply(text=text or form.title, form=form, ephemeral=True)


async def _add_details(human_id: str, values: dict[str, str], services: Services, actor: Actor,
                       now: datetime, language: str = "en") -> Reply:
    """The "Add details" form sent: checked for the incident's category, saved in one go."""
    incident = await flows.may_add_details(db=services.db, actor=actor, human_id=human_id)
    clean, errors = validate_details(values, incident.category)
    if errors:
        form = build_details_form(incident.human_id, incident.category, values, errors=errors,
                                  language=language)
        return Reply(text=say("Please fix the highlighted fields.", language), form=form,
                     ephemeral=True)
    updated = await flows.add_details(db=services.db, actor=actor, human_id=incident.human_id,
                                      values=clean, now=now)
    return build_details_saved(updated, language)


def _rumor_article(services: Services, category: str, details: dict[str, str],
                   description: str) -> str | None:
    """A vetted rumor-control article that matches a misinformation report, if any."""
    if category != "misinformation":
        return None
    threshold = services.settings.app.thresholds.answer_confidence
    for query in (details.get("mis_claim", ""), description):
        hits = services.knowledge.current.search(query[:500], limit=1) if query else []
        if hits and hits[0].confidence >= threshold:
            return hits[0].article.title
    return None


async def _complete(human_id: str, report: IncidentCreate, services: Services, actor: Actor,
                    now: datetime, origin: str, language: str) -> Reply:
    incident = await service.complete_quick_report(db=services.db, actor=actor,
                                                   human_id=human_id, report=report, now=now,
                                                   origin=origin)
    return build_confirmation(incident, created=True, rumor_article=None, language=language)


def new_report(message: IncomingMessage, services: Services, actor: Actor,
               now: datetime, language: str | None = None) -> Reply:
    """The empty report form (``/incident`` alone, or the "Report an incident" button).

    In Spanish when the button was Spanish or the platform says the reader's locale is.
    """
    language = language or language_of(message.locale)
    form = build_report_form(services.settings.app, nonce=secrets.token_urlsafe(9),
                             reporter=actor.identity, now=now, declared=message.jurisdiction,
                             language=language)
    return Reply(text=form.title, form=form, ephemeral=True)


async def on_action(message: IncomingMessage, services: Services, actor: Actor,
                    now: datetime) -> Reply:
    """Buttons: complete, from-message, route a held report, acknowledge, take, escalate, resolve."""
    assert message.action is not None
    action = message.action.action_id
    language, value = untag(message.action.value)  # a Spanish reply's buttons stay Spanish
    db = services.db
    if action == REPORT_BUTTON:  # "Report an incident" under an answer or an abstention
        return new_report(message, services, actor, now, "es" if language == "es" else None)
    if action == "incident:from_message":
        language = language_of(message.locale)
        form = build_report_form(services.settings.app, nonce=secrets.token_urlsafe(9),
                                 values={"description": message.text[:3000],
                                         "source_link": message.action.value[:500]},
                                 reporter=actor.identity, now=now, language=language)
        return Reply(text=say("Report this message as an incident", language), form=form,
                     ephemeral=True)
    if action == "incident:complete":
        incident = await service.view_incident(db=db, actor=actor, human_id=value, now=now)
        if incident.reporter != actor.identity and not actor.can_change(incident):
            raise UserError("Only the reporter or a manager can complete this report.")
        form = build_report_form(services.settings.app, nonce="x",
                                 values={"description": incident.description,
                                         "jurisdiction": incident.jurisdiction},
                                 reporter=actor.identity, now=now, language=language)
        form_id = f"{COMPLETE_FORM}{tagged(incident.human_id, language)}"
        return Reply(text=say(f"Complete {incident.human_id}", language), ephemeral=True,
                     form=_redrawn(form_id, form, language=language).form)
    if action == DETAILS_BUTTON:
        incident = await flows.may_add_details(db=db, actor=actor, human_id=value)
        form = build_details_form(incident.human_id, incident.category, detail_values(incident),
                                  language=language)
        return Reply(text=form.title, form=form, ephemeral=True)
    if action == "incident:route":
        human_id, _, code = value.rpartition(":")
        routed = await flows.route(db=db, actor=actor, human_id=human_id, jurisdiction=code,
                                   now=now)
        return build_routed(routed, language)
    if action == "incident:take":
        incident = await service.assign(db=db, actor=actor, human_id=value,
                                        assignee=actor.identity, now=now)
    elif action in STATUS_BUTTONS:
        incident = await flows.change_status(db=db, actor=actor, human_id=value,
                                             status=STATUS_BUTTONS[action], note="", now=now)
    else:
        raise UserError("That button has expired.")
    return Reply(text=f"Updated: {summary_line(incident)}", ephemeral=True)


async def close_or_ask(human_id: str, services: Services, actor: Actor, now: datetime, *,
                       fields: dict[str, str] | None = None, note: str = "") -> Reply:
    """Close in one go, or ask for what closing needs (lessons learned; police info for SEV1/2).

    Close-out ``fields`` given (the close form) are kept even when something is still missing.
    """
    closing = await flows.close(db=services.db, actor=actor, human_id=human_id, now=now,
                                fields=fields, note=note)
    if not closing.missing:
        return Reply(text=f"Closed: {summary_line(closing.incident)}", ephemeral=True)
    return _close_form(closing.incident, closing.missing)


def _close_form(incident: Incident, missing: list[str]) -> Reply:
    """The close-out form, filled with what is recorded so far."""
    le_needed = Severity(incident.severity) >= Severity.SEV2
    fields = (
        FormField("lessons_learned", "Lessons learned", "textarea", max_length=3000,
                  value=incident.lessons_learned),
        FormField("resolution", "Resolution", "textarea", required=False, max_length=3000,
                  value=incident.resolution),
        FormField("law_enforcement_agency", "Law enforcement agency", required=le_needed,
                  max_length=200, value=incident.law_enforcement_agency),
        FormField("law_enforcement_case", "Case number", required=le_needed, max_length=100,
                  value=incident.law_enforcement_case),
    )
    return Reply(text=f"Before closing {incident.human_id}: {'; '.join(missing)}.",
                 form=Form(f"{CLOSE_FORM}{incident.human_id}", f"Close {incident.human_id}",
                           fields, "Close incident"), ephemeral=True)
