"""Alert clicks and forms: the composer submission, send / approve / refuse, acknowledgements."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.errors import Refused, UserError
from bot.messages import Destination, IncomingMessage, Reply
from bot.ops.limits import origin_of
from bot.outbox.queue import enqueue
from bot.services import Services
from handlers.alerts import acks, service
from handlers.alerts.commands import on_text, require_broadcaster
from handlers.alerts.enums import AckKind, AlertStatus
from handlers.alerts.forms import FORM_PREFIX, build_composer, validate
from handlers.alerts.links import ack_links
from handlers.alerts.models import Alert
from handlers.alerts.network import load_network
from handlers.alerts.replies import (
    build_ack_thanks,
    build_alert_message,
    build_approval_request,
    build_decision,
    build_exclusions,
    build_help_thanks,
    build_preview,
    build_sent,
)
from handlers.alerts.service import Actor


async def on_form(message: IncomingMessage, services: Services, actor: Actor,
                  now: datetime) -> Reply:
    """A composer submission: validate, store a draft, show the preview."""
    assert message.form is not None
    form_id, values = message.form.form_id, message.form.values
    if not form_id.startswith(FORM_PREFIX):
        raise UserError("That form has expired; run the alert command again.")
    require_broadcaster(actor, "compose alerts")
    nonce, _, parent_id = form_id.removeprefix(FORM_PREFIX).partition(":")
    app = services.settings.app
    groups = {e.group for e in await load_network(services.db, app)}
    clean, errors = validate(values, app, now, child=bool(parent_id), known_groups=groups)
    if clean is None:
        return Reply(text="Please fix the highlighted fields.", ephemeral=True,
                     form=build_composer(app, nonce=nonce, parent=parent_id, values=values,
                                         errors=errors, groups=sorted(groups)))
    parent = await service.get_alert(services.db, parent_id) if parent_id else None
    alert, per_tier = await service.create_draft(
        db=services.db, app=app, actor=actor, clean=clean, now=now, parent=parent,
        reply_to=str(service.destination_of(actor.identity)), origin=origin_of(message))
    message_preview = build_alert_message(alert, parent=parent_id,
                                          zone=ZoneInfo(app.office.time_zone))
    reasons = service.approval_reasons(clean, app, set(per_tier), parent=parent)
    planned = await service.plan(services.db, app, alert)
    return build_preview(alert, message_preview, dict(per_tier), parent=parent_id,
                         reasons=reasons, excluded=planned.excluded)


async def on_action(message: IncomingMessage, services: Services, actor: Actor,
                    now: datetime) -> Reply:
    """Send / approve / refuse / discard / status / acknowledgement buttons."""
    assert message.action is not None
    action, public_id = message.action.action_id, message.action.value.strip().upper()
    if action.startswith("alert:ack:"):
        return await _acknowledge(message, services, action.removeprefix("alert:ack:"),
                                  public_id, now)
    if action == "alert:status":
        return await on_text(_with_text(message, f"status {public_id}"), services, actor, now)
    if not actor.is_broadcaster:
        await service.audit(services.db, actor=actor.identity, action=action, target=public_id,
                            reason="not a broadcaster")
        raise Refused("Only broadcasters can send, approve or refuse alerts.")
    if action == "alert:send":
        return await _send_or_ask(services, actor, public_id, now)
    if action in ("alert:approve", "alert:refuse"):
        return await _decide(services, actor, public_id, action == "alert:approve", now)
    if action == "alert:discard":
        alert = await service.get_alert(services.db, public_id)
        await service.decide(db=services.db, alert=alert, actor=actor, status=AlertStatus.DISCARDED,
                             now=now)
        return Reply(text=f"Alert {public_id} discarded; nothing was sent.", ephemeral=True)
    raise UserError("That button has expired.")


def _with_text(message: IncomingMessage, text: str) -> IncomingMessage:
    return IncomingMessage(sender=message.sender, text=text, channel=message.channel)


async def _send_or_ask(services: Services, actor: Actor, public_id: str, now: datetime) -> Reply:
    db, app = services.db, services.settings.app
    alert = await service.get_alert(db, public_id)
    if not alert.needs_approval:
        alert, count = await service.send(db=db, app=app, actor=actor, public_id=public_id,
                                          now=now, links=ack_links(services.settings))
        return build_sent(alert, count, await service.excluded_counts(db, alert))
    planned = await service.plan(db, app, alert)
    others = [i for i in app.roles.get("broadcaster", []) if i != actor.identity]
    if not others:
        raise UserError("This alert needs a second broadcaster, and app.yaml names no other.")
    alert = await service.decide(db=db, alert=alert, actor=actor, status=AlertStatus.PENDING_APPROVAL,
                                 now=now)
    request = build_approval_request(alert, dict(planned.per_tier), actor.identity,
                                     excluded=planned.excluded)
    async with db.session() as session:
        for other in others:
            enqueue(session, key=service.delivery_key(public_id, "approve", other),
                    destination=service.destination_of(other), reply=request)
        await session.commit()
    return Reply(text=f"Approval requested from {len(others)} other broadcaster(s) for alert "
                      f"{public_id}. It goes out when one of them approves.", ephemeral=True)


async def _decide(services: Services, actor: Actor, public_id: str, approve: bool,
                  now: datetime) -> Reply:
    db, app = services.db, services.settings.app
    alert = await service.get_alert(db, public_id)
    if alert.created_by == actor.identity:
        await service.audit(db, actor=actor.identity, action="alert:approve", target=public_id,
                            reason="approving one's own alert")
        raise Refused("A second broadcaster must decide; you composed this alert.")
    if alert.status != AlertStatus.PENDING_APPROVAL:
        raise UserError(f"Alert {public_id} is {alert.status.replace('_', ' ')}; nothing to do.")
    if approve:
        alert, count = await service.send(db=db, app=app, actor=actor, public_id=public_id,
                                          now=now, expected=AlertStatus.PENDING_APPROVAL,
                                          links=ack_links(services.settings))
        await _tell_requester(services, alert, True, actor.identity, "approved")
        kept_out = build_exclusions(await service.excluded_counts(db, alert), alert.tlp)
        return Reply(text=f"Approved. Alert {public_id} is going out to {count} destination(s)."
                          + (f" {kept_out}" if kept_out else ""), ephemeral=True)
    alert = await service.decide(db=db, alert=alert, actor=actor, status=AlertStatus.REFUSED, now=now,
                                 note="refused by second broadcaster")
    await _tell_requester(services, alert, False, actor.identity, "refused")
    return Reply(text=f"Refused. Alert {public_id} will not be sent.", ephemeral=True)


async def _tell_requester(services: Services, alert: Alert, approved: bool, who: str,
                          kind: str) -> None:
    async with services.db.session() as session:
        enqueue(session, key=service.delivery_key(alert.public_id, kind, alert.reply_to),
                destination=Destination.parse(alert.reply_to),
                reply=build_decision(alert, approved, who))
        await session.commit()


async def _acknowledge(message: IncomingMessage, services: Services, answer: str, public_id: str,
                       now: datetime) -> Reply:
    if answer not in set(AckKind):
        raise UserError("That button has expired.")
    kind = AckKind(answer)
    outcome = await acks.record(services, public_id=public_id, person=message.sender.identity,
                                channel=message.channel, kind=kind, now=now)
    if outcome.help_asked is None:
        return build_ack_thanks(kind, outcome.created, outcome.ack.kind)
    return build_help_thanks(outcome.created, outcome.ack.kind, asked=outcome.help_asked)
