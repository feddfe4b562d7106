"""Limits on filing reports and on paging on-call, checked inside the filing transaction.

Over ``limits.incidents_per_hour`` (per reporter) or the origin's limit (web chat address,
Slack workspace, Teams tenant) a report is refused before anything is stored: the person is
told it was NOT filed, to call 911 and whom to phone, and the refusal is audited (identity and
limit only, no report text). Over ``limits.sev1_pages_per_hour`` a SEV1 report is still stored
and routed, but on-call is not paged for it; on-call gets one note per hour about the flood.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config.settings import AppConfig
from bot.errors import UserError
from bot.messages import Destination
from bot.ops.limits import LimitReached, Quota, first_in_window, quotas, take, window_of
from bot.outbox.queue import enqueue
from handlers.incidents.config import IncidentSettings
from handlers.incidents.models import Incident
from handlers.incidents.notify import enqueue_notifications
from handlers.incidents.replies import build_limit_refusal, build_sev1_flood_note, on_call_footer


class IncidentLimit(UserError):
    """A report refused for a limit; the message is the reply (not filed, 911, whom to call)."""

    def __init__(self, quota: Quota, text: str) -> None:
        """Keep the quota that was full and the reply text."""
        super().__init__(text)
        self.quota = quota


def filing_quotas(app: AppConfig, reporter: str, origin: str) -> list[Quota]:
    """The reporter's hourly filings and the origin's shared hourly budget."""
    return quotas(app.limits, action="incident", per_identity=app.limits.incidents_per_hour,
                  setting="incidents_per_hour", identity=reporter, origin=origin)


async def take_filing(session: AsyncSession, app: AppConfig, *, reporter: str, origin: str,
                      jurisdiction: str, now: datetime, language: str = "en") -> None:
    """Count one filing in the caller's transaction, or raise IncidentLimit.

    Its text is in the reporter's ``language``.
    """
    try:
        await take(session, filing_quotas(app, reporter, origin), now)
    except LimitReached as exc:
        raise IncidentLimit(exc.quota, build_limit_refusal(
            exc.quota.setting, exc.quota.limit, app.contact_for(jurisdiction),
            language)) from None


async def page_allowed(session: AsyncSession, app: AppConfig, *, reporter: str, origin: str,
                       now: datetime) -> bool:
    """Take one SEV1 page for the reporter (and a web chat address); False when over."""
    limit = app.limits.sev1_pages_per_hour
    wanted = [Quota(f"sev1:{reporter}"[:200], limit, "sev1_pages_per_hour")]
    if origin.startswith("address:"):
        wanted.append(Quota(f"sev1:{origin}"[:200], limit, "sev1_pages_per_hour"))
    try:
        await take(session, wanted, now)
    except LimitReached:
        return False
    return True


async def notify(session: AsyncSession, incident: Incident, app: AppConfig, *, reason: str,
                 reporter: str, origin: str, now: datetime, route: bool = True) -> bool:
    """Queue the notifications; a SEV1 pages on-call only within the limit. Return paged.

    ``route`` False: on-call only, the routing table waits for the jurisdiction.
    """
    paged = True
    if incident.severity == "SEV1":
        paged = await page_allowed(session, app, reporter=reporter, origin=origin, now=now)
    await enqueue_notifications(session, incident, app, reason=reason, page=paged, route=route)
    if not paged and await first_in_window(session, "sev1-flood-note", now):
        note = build_sev1_flood_note(app.limits.sev1_pages_per_hour, app.office.name)
        for target in dict.fromkeys(app.section(IncidentSettings).on_call):
            destination = Destination.parse(target)
            enqueue(session, key=f"limits:sev1-flood:{window_of(now)}:{target}"[:200],
                    destination=destination, reply=note if destination.address is None else
                    replace(note, footer=on_call_footer(app)))
    return paged
