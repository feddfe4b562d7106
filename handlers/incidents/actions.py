"""Form submissions and button clicks for incidents."""

from __future__ import annotations

import secrets
from datetime import datetime

from bot.messages import Form, FormField, IncomingMessage, Reply
from bot.ops.limits import origin_of
from bot.services import Services
from handlers.incidents import queries, service
from handlers.incidents.forms import (
    FORM_PREFIX,
    CleanReport,
    build_report_form,
    validate_report,
)
from handlers.incidents.permissions import Actor, IncidentError, PermissionDenied
from handlers.incidents.replies import build_confirmation, summary_line

CLOSE_FORM = "incident:close:"
COMPLETE_FORM = "incident:completeform:"


async def on_form(message: IncomingMessage, services: Services, actor: Actor,
                  now: datetime) -> Reply:
    """A submitted report (new or completing a quick one) or a close-out form."""
    assert message.form is not None
    form_id, values = message.form.form_id, message.form.values
    if form_id.startswith(CLOSE_FORM):
        return await _submit_close(form_id.removeprefix(CLOSE_FORM), values, services, actor, now)
    if not form_id.startswith((FORM_PREFIX, COMPLETE_FORM)):
        raise IncidentError("That form has expired; run the incident command again.")
    app = services.settings.app
    report, errors = validate_report(values, app, now)
    if report is None:
        # Send the form back with what was typed and a message per field: nothing is lost.
        nonce = form_id.rpartition(":")[2]
        form = build_report_form(app, nonce=nonce, values=values, errors=errors)
        return Reply(text="Please fix the highlighted fields.", form=form, ephemeral=True)
    if form_id.startswith(COMPLETE_FORM):
        return await _complete(form_id.removeprefix(COMPLETE_FORM), report, services, actor, now,
                               origin_of(message))
    filed = await service.file_incident(
        db=services.db, app=app, report=report, reporter=actor.identity,
        key=f"form:{actor.identity}:{form_id}", now=now, source_link=report.source_link,
        origin=origin_of(message))
    return build_confirmation(filed.incident, created=filed.created, paged=filed.paged,
                              rumor_article=_rumor_article(services, report.category,
                                                           report.details, report.description))


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


async def _complete(human_id: str, report: CleanReport, services: Services, actor: Actor,
                    now: datetime, origin: str) -> Reply:
    incident = await service.complete_quick_report(db=services.db, actor=actor,
                                                   human_id=human_id, report=report, now=now,
                                                   origin=origin)
    return build_confirmation(incident, created=True, rumor_article=None)


async def on_action(message: IncomingMessage, services: Services, actor: Actor,
                    now: datetime) -> Reply:
    """Buttons: complete report, from-message shortcut, acknowledge, take, escalate, resolve."""
    assert message.action is not None
    action, value = message.action.action_id, message.action.value
    db = services.db
    if action == "incident:from_message":
        form = build_report_form(services.settings.app, nonce=secrets.token_urlsafe(9),
                                 values={"description": message.text[:3000],
                                         "source_link": value[:500]})
        return Reply(text="Report this message as an incident", form=form, ephemeral=True)
    if action == "incident:complete":
        incident = await service.view_incident(db=db, actor=actor, human_id=value, now=now)
        if incident.reporter != actor.identity and not actor.can_change(incident):
            raise IncidentError("Only the reporter or a manager can complete this report.")
        form = build_report_form(services.settings.app, nonce="x",
                                 values={"description": incident.description})
        return Reply(text=f"Complete {incident.human_id}", ephemeral=True,
                     form=Form(f"{COMPLETE_FORM}{incident.human_id}", form.title, form.fields,
                               "Save", intro=form.intro))
    if action == "incident:ack":
        incident = await service.change_status(db=db, actor=actor, human_id=value,
                                               status="triaged", note="", now=now)
    elif action == "incident:take":
        incident = await service.assign(db=db, actor=actor, human_id=value,
                                        assignee=actor.identity, now=now)
    elif action == "incident:escalate":
        incident = await service.change_status(db=db, actor=actor, human_id=value,
                                               status="escalated", note="", now=now)
    elif action == "incident:resolve":
        incident = await service.change_status(db=db, actor=actor, human_id=value,
                                               status="resolved", note="", now=now)
    else:
        raise IncidentError("That button has expired.")
    return Reply(text=f"Updated: {summary_line(incident)}", ephemeral=True)


async def close_or_ask(human_id: str, services: Services, actor: Actor, now: datetime) -> Reply:
    """Close, or ask for what closing needs (lessons learned; police info for SEV1/SEV2)."""
    incident = await queries.get_incident(services.db, human_id)
    if incident is None:
        raise IncidentError(f"No incident {human_id}.")
    missing = service.close_requirements(incident)
    if not missing:
        if incident.status not in ("resolved", "closed"):
            await service.change_status(db=services.db, actor=actor, human_id=human_id,
                                        status="resolved", note="", now=now)
        incident = await service.change_status(db=services.db, actor=actor, human_id=human_id,
                                               status="closed", note="", now=now)
        return Reply(text=f"Closed: {summary_line(incident)}", ephemeral=True)
    if not actor.can_change(incident):
        raise PermissionDenied(f"You can't close {incident.human_id}.")
    le_needed = incident.severity in ("SEV1", "SEV2")
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


async def _submit_close(human_id: str, values: dict[str, str], services: Services, actor: Actor,
                        now: datetime) -> Reply:
    await service.update_fields(db=services.db, actor=actor, human_id=human_id, fields=values,
                                now=now)
    return await close_or_ask(human_id, services, actor, now)
