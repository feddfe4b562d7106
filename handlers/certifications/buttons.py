"""Reminder and verifier buttons, and the 'mark complete' form."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.messages import IncomingMessage, Reply
from bot.services import Services
from handlers.certifications import replies, service
from handlers.certifications.ledger import programs_for
from handlers.certifications.models import Official
from handlers.certifications.service import CertError
from handlers.certifications.views import _today, parse_done

SNOOZE_DAYS = 7


async def _owner(services: Services, message: IncomingMessage, key: str) -> Official:
    """The official a deadline key belongs to; only they may press its buttons."""
    head = key.split(":", 1)[0]
    if not head.isdigit():
        raise CertError("That button is not valid any more.")
    async with services.db.session() as session:
        official = await session.get(Official, int(head))
    if official is None:
        raise CertError("That button is not valid any more.")
    if official.identity != message.sender.identity:
        await service.audit(db=services.db, actor=message.sender.identity,
                            action="cert.button", target=key, allowed=False,
                            reason="button of another official")
        raise PermissionError("use another official's reminder buttons")
    return official


def _missing_courses(services: Services, key: str) -> list[tuple[str, str]]:
    parts = key.split(":")
    program = programs_for(services.settings.app).get(parts[1]) if len(parts) > 1 else None
    if program is None:
        return []
    return [(c.code, f"{c.code}: {c.title}") for c in program.program.courses]


async def on_action(message: IncomingMessage, services: Services, now: datetime) -> Reply:
    """cert:complete / cert:snooze / cert:notme (the official), cert:verify / cert:reject."""
    assert message.action is not None
    action, value = message.action.action_id, message.action.value
    if action in ("cert:verify", "cert:reject"):
        if not value.isdigit():
            raise CertError("That button is not valid any more.")
        try:
            completion, official, changed = await service.decide_completion(
                db=services.db, app=services.settings.app, completion_id=int(value),
                verifier=message.sender.identity, approve=action == "cert:verify")
        except PermissionError:
            await service.audit(db=services.db, actor=message.sender.identity,
                                action=action, target=value, allowed=False,
                                reason="not a verifier for this jurisdiction")
            raise
        return replies.build_verified(completion.course, official.name,
                                      approved=action == "cert:verify", already=not changed)
    official = await _owner(services, message, value)
    today = _today(official, services.settings.app, now)
    if action == "cert:snooze":
        until = today + timedelta(days=SNOOZE_DAYS)
        await service.snooze(db=services.db, key=value, until=until)
        return replies.build_snoozed(until)
    if action == "cert:notme":
        await service.flag_not_me(db=services.db, app=services.settings.app, official=official,
                                  key=value, actor=message.sender.identity)
        return replies.build_not_me_ack()
    if action == "cert:complete":
        return replies.build_complete_form(value, _missing_courses(services, value), today)
    raise CertError("That button is not valid any more.")


async def on_form(message: IncomingMessage, services: Services, now: datetime) -> Reply:
    """The 'mark complete' form: record a pending completion."""
    assert message.form is not None
    key = message.form.form_id.removeprefix("cert:done:")
    official = await _owner(services, message, key)
    values = message.form.values
    args = [values.get("course", ""), values.get("completed_on", ""), values.get("hours", "")]
    today: date = _today(official, services.settings.app, now)
    course, on, hours = parse_done([a for a in args if a], services.settings.app, today)
    _, created = await service.report_completion(
        db=services.db, app=services.settings.app, official=official, course=course, on=on,
        hours=hours, reporter=message.sender.identity, evidence="reported from a reminder")
    return replies.build_reported(course, on, hours, created=created)
