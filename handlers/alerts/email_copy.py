"""Each e-mail recipient's own copy of an alert: answer links, TLP marking, why they receive it.

A chat copy is one message for everyone with buttons carrying only the alert's id (the
platform says who clicked). An e-mail says nothing back, so each address gets its own copy:
four signed links (:mod:`handlers.alerts.links`) naming its recipient row, instead of the
buttons; ``marking`` (``TLP:<label>``, for the subject and first line); a ``footer`` saying why
this address receives it and whom to contact; and for an update, all-clear or cancel,
``follows``: the outbox key of the original alert's copy to the same address, so the mail
threads under it.

The person who answers through a link is ``email:relay:<address>`` (:func:`email_identity`):
the identity ``service.acknowledge`` matches against the ``email:<address>`` recipient row.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config.settings import AppConfig
from bot.messages import EMAIL_WORKSPACE, Destination, Reply, Section
from handlers.alerts.link_replies import build_email_footer, build_links_intro, describe
from handlers.alerts.links import AckLinks, LinkSetupError
from handlers.alerts.models import Alert
from handlers.alerts.network import Entry
from handlers.alerts.replies import ACK_KINDS

EMAIL = "email:"


def is_email(destination: str) -> bool:
    """Whether a destination (as written in app.yaml) is an e-mail address."""
    return destination.startswith(EMAIL)


def email_identity(destination: str) -> str:
    """Who answers for an ``email:<address>`` destination: ``email:relay:<address>``."""
    return f"email:{EMAIL_WORKSPACE}:{Destination.parse(destination).address}"


def check_links(alert: Alert, entries: Sequence[Entry], links: AckLinks | None) -> None:
    """Refuse (LinkSetupError) before anything is sent when e-mail copies need links we cannot make."""
    if not alert.ack_required or not any(is_email(e.destination) for e in entries):
        return
    if links is None:
        raise LinkSetupError("E-mail acknowledgement links cannot be made here. Nothing was sent.")
    links.ready()


def with_links(message: Reply, *, alert: Alert, recipient_id: int, links: AckLinks | None,
               sent_at: datetime) -> Reply:
    """``message`` with the recipient's answer links instead of buttons (when the alert asks).

    The links of one recipient are the same in every message about the alert (their expiry
    counts from ``sent_at``), so a reminder carries the very links of the first e-mail.
    """
    if not alert.ack_required or links is None or links.problem:
        return dataclasses.replace(message, buttons=())
    found = links.for_recipient(alert.public_id, recipient_id,
                                links.expiry(alert.expires_at, sent_at), ACK_KINDS)
    return dataclasses.replace(message, buttons=(), links=found,
                               sections=(*message.sections, Section(build_links_intro())))


def email_copy(message: Reply, *, alert: Alert, entry: Entry, recipient_id: int,
               app: AppConfig, links: AckLinks | None, now: datetime, follows: str) -> Reply:
    """One address's copy of ``message`` (the alert as everyone sees it)."""
    linked = with_links(message, alert=alert, recipient_id=recipient_id, links=links,
                        sent_at=now)
    footer = build_email_footer(
        who=entry.name or entry.organisation, group=entry.group, tier=entry.tier,
        organisation=entry.organisation, office=app.office.name,
        contact=describe(app.contact_for(entry.jurisdiction), app.office.name))
    return dataclasses.replace(linked, marking=f"TLP:{alert.tlp}", footer=footer,
                               follows=follows)


async def email_copies(session: AsyncSession, alert: Alert, entries: Sequence[Entry],
                       message: Reply, *, app: AppConfig, links: AckLinks | None,
                       now: datetime, follows: Callable[[str], str]) -> dict[str, Reply]:
    """Each e-mail destination's own copy, by destination; call after the recipient rows exist.

    ``follows(destination)``: the key of the copy this one threads under ("" for none).
    """
    mailed = {e.destination: e for e in entries if is_email(e.destination)}
    if not mailed:
        return {}
    rows = (await session.execute(sa.text(
        "SELECT id, destination FROM alert_recipient WHERE alert_id = :id "
        "AND excluded = '' AND destination LIKE 'email:%'"), {"id": alert.id})).all()

    def build() -> dict[str, Reply]:
        return {dest: email_copy(message, alert=alert, entry=mailed[dest], recipient_id=rid,
                                 app=app, links=links, now=now, follows=follows(dest))
                for rid, dest in rows if dest in mailed}
    # Off the loop: 5,000 addresses are 20,000 signed links (about 35 us each).
    return await asyncio.to_thread(build)
