"""The page an e-mailed acknowledgement link opens: GET shows the answer, only POST records it.

Why two steps: mail security gateways (and some mail programs' link previews) open every link
in a message before a person does, with GET or HEAD. Recording on GET would acknowledge alerts
nobody read. So GET and HEAD only show the alert's headline, the answer the link gives and
one button; pressing it sends a POST, which records. Scanners follow links, they do not press
buttons (there is no script to run either).

Why no CSRF token: the link's token is itself the capability (signed, one recipient, one
answer, expiring), and anyone able to make a browser POST it already holds it and could POST
it themselves. The form must still carry its own ``confirm`` field naming the link's answer
(a bare POST to a link records nothing), and a POST whose browser says it came from another
site (``Origin`` or ``Sec-Fetch-Site``) is refused, which costs nothing and stops a page
elsewhere from pressing the button for someone.

What each outcome answers: a first answer is recorded exactly as a chat click is
(:func:`handlers.alerts.acks.record`); a link used again, or another answer after the first,
shows "Already recorded: <first answer> at <time>" (200, nothing more recorded; "Need help"
still tells state staff once, as in chat); a token we did not sign, or one cut or changed,
400; one past its expiry, 410 naming whom to contact; a signed token whose recipient is not
an e-mail recipient of its alert, 403 and audited; too many pages for one client address in
an hour (``alerts.ack_links.per_address_per_hour``; views and confirmations counted apart),
429. Every answer recorded through a link is audited too, by recipient row (never the address).
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.db.engine import Database
from bot.ops.audit import audit
from bot.ops.limits import LimitReached, Quota, take
from bot.outbox.queue import find
from bot.pages import Page, PageRequest, PageRoute
from bot.services import Services
from handlers.alerts import acks
from handlers.alerts.config import AlertsConfig
from handlers.alerts.email_copy import email_identity, is_email
from handlers.alerts.link_replies import (
    CONFIRM_FIELD,
    build_already_page,
    build_bad_link_page,
    build_busy_page,
    build_confirm_page,
    build_cross_site_page,
    build_expired_page,
    build_recorded_page,
    build_refused_page,
    build_unavailable_page,
    build_use_button_page,
    describe,
)
from handlers.alerts.links import ROUTE, AckClaim, BadToken, ack_links
from handlers.alerts.models import Alert, AlertAck, AlertRecipient
from handlers.alerts.service import delivery_key, key_prefix

ACTION = "alert:ack-link"


def alert_pages() -> list[PageRoute]:
    """The alert feature's pages: the answer page of e-mailed links."""
    return [PageRoute(ROUTE, ack_page, post=True)]


async def ack_page(request: PageRequest, services: Services) -> Page:
    """GET / HEAD: what the link would record; POST: record it (see the module docstring)."""
    app = services.settings.app
    now = services.clock().astimezone(UTC)
    byline = f"{app.office.name} - election alerts"
    contact = describe(app.contact_for(None), app.office.name)
    if not await _within_limit(services, request, now):
        return build_busy_page(contact, byline)
    signer = ack_links(services.settings).signer
    if signer is None:
        return build_unavailable_page(contact, byline)
    try:
        claim = signer.verify(request.params.get("token", ""))
    except BadToken:
        return build_bad_link_page(contact, byline)
    found = await _find(services.db, claim)
    if found is None:
        await audit(services.db, actor=_actor(claim), action=ACTION, target=claim.public_id,
                    allowed=False, reason="signed link names no e-mail recipient of this alert")
        return build_refused_page(contact, byline)
    alert, recipient = found
    contact = describe(app.contact_for(recipient.jurisdiction), app.office.name)
    if claim.expires <= now:
        return build_expired_page(contact, byline)
    person = email_identity(recipient.destination)
    zone = ZoneInfo(app.office.time_zone)
    if not request.changes:
        return await _show(services.db, claim, alert, recipient, person, zone, byline)
    if request.cross_site or request.form.get(CONFIRM_FIELD) != claim.kind:
        reason = "sent from another site" if request.cross_site else "not the page's own form"
        await audit(services.db, actor=_actor(claim), action=ACTION, target=claim.public_id,
                    allowed=False, reason=reason)
        return build_cross_site_page(byline) if request.cross_site else build_use_button_page(byline)
    return await _confirm(services, claim, alert, recipient, person, zone, byline, now)


async def _show(db: Database, claim: AckClaim, alert: Alert, recipient: AlertRecipient,
                person: str, zone: ZoneInfo, byline: str) -> Page:
    """The page before the button: the answer to confirm, or the answer already recorded."""
    first = await _first_answer(db, alert, person)
    kept = ""
    if first is not None:
        if claim.kind != "need_help" or await _help_asked(db, alert, person):
            return build_already_page(headline=alert.headline, first=first.kind, at=first.at,
                                      zone=zone, byline=byline,
                                      help_known=claim.kind == "need_help")
        kept = first.kind  # "Need help" after an answer still reaches state staff
    return build_confirm_page(headline=alert.headline, organisation=recipient.organisation,
                              kind=claim.kind, expires=claim.expires, zone=zone, byline=byline,
                              kept=kept)


async def _confirm(services: Services, claim: AckClaim, alert: Alert, recipient: AlertRecipient,
                   person: str, zone: ZoneInfo, byline: str, now: datetime) -> Page:
    """The button was pressed: record exactly as a chat click does, audit, say what happened."""
    outcome = await acks.record(services, public_id=alert.public_id, person=person, channel="",
                                kind=claim.kind, now=now)
    first = outcome.ack
    if outcome.created:
        reason = f"{claim.kind} recorded"
    else:
        help_note = {True: ", state staff told of need_help", False: ", help already asked",
                     None: ""}[outcome.help_asked]
        reason = f"first answer {first.kind} kept{help_note}"
    await audit(services.db, actor=_actor(claim), action=ACTION, target=alert.public_id,
                allowed=True, reason=reason)
    if outcome.created or outcome.help_asked:
        return build_recorded_page(headline=alert.headline, organisation=recipient.organisation,
                                   kind=claim.kind, byline=byline,
                                   kept="" if outcome.created else first.kind)
    return build_already_page(headline=alert.headline, first=first.kind, at=first.at,
                              zone=zone, byline=byline, help_known=outcome.help_asked is False)


def _actor(claim: AckClaim) -> str:
    """Who acted, for the audit log: the link's recipient row (an address is personal data)."""
    return f"email-link:{claim.public_id}:recipient:{claim.recipient_id}"


async def _within_limit(services: Services, request: PageRequest, now: datetime) -> bool:
    """Count this request against its client address's hourly budget (views, confirmations)."""
    limit = services.settings.app.section(AlertsConfig).ack_links.per_address_per_hour
    kind = "ack-confirm" if request.changes else "ack-view"
    quota = Quota(f"{kind}:address:{request.address}"[:200], limit,
                  "alerts.ack_links.per_address_per_hour")
    async with services.db.session() as session:
        try:
            await take(session, [quota], now)
        except LimitReached:
            await session.rollback()
            return False
        await session.commit()
    return True


async def _find(db: Database, claim: AckClaim) -> tuple[Alert, AlertRecipient] | None:
    """The alert and the e-mail recipient row the link names, when they belong together."""
    async with db.session() as session:
        alert = (await session.exec(select(Alert).where(
            Alert.public_id == claim.public_id))).first()
        recipient = await session.get(AlertRecipient, claim.recipient_id)
    if alert is None or recipient is None or recipient.alert_id != alert.id \
            or not is_email(recipient.destination):
        return None
    return alert, recipient


async def _first_answer(db: Database, alert: Alert, person: str) -> AlertAck | None:
    async with db.session() as session:
        return (await session.exec(select(AlertAck).where(
            AlertAck.alert_id == alert.id, AlertAck.person == person))).first()


async def _help_asked(db: Database, alert: Alert, person: str) -> bool:
    """Whether state staff were already told that ``person`` needs help (the keys tell)."""
    async with db.engine.connect() as conn:
        asked = await find(conn, key_prefix(alert.public_id, "help"))
    return any(q.key == delivery_key(alert.public_id, "help", f"{person}>{q.destination}")
               for q in asked)
