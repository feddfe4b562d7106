"""The typed ``/cert`` verbs: status, done, a person, a jurisdiction, unreachable.

Role checks, then the service, then wording; buttons and forms are in ``interactions.py``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config.settings import AppConfig
from bot.messages import IncomingMessage, Reply, literal
from bot.services import Services
from bot.when import day
from handlers.certifications import replies, service
from handlers.certifications.config import CertificationConfig
from handlers.certifications.enums import CertStatus, CompletionStatus
from handlers.certifications.ledger import load_records, programs_for
from handlers.certifications.models import Official
from handlers.certifications.reminders import OfficialRecord, standings_for
from handlers.certifications.service import CertError, CertRefused
from handlers.certifications.status import Standing
from handlers.certifications.unreachable import unreachable_rows as find_unreachable


def local_today(official: Official | None, app: AppConfig, now: datetime) -> date:
    """Today where the official lives (the office's zone when there is no official)."""
    zone = official.time_zone if official else app.office.time_zone
    return now.astimezone(ZoneInfo(zone)).date()


def may_supervise(app: AppConfig, identity: str, jurisdiction: str | None) -> bool:
    """State staff see everyone; a jurisdiction's supervisors see their jurisdiction."""
    if app.has_role(identity, "state_staff"):
        return True
    return jurisdiction is not None and identity in app.section(CertificationConfig).supervisors.get(
        jurisdiction, [])


def supervises_any(app: AppConfig, identity: str) -> bool:
    """State staff, or a supervisor of at least one jurisdiction."""
    return app.has_role(identity, "state_staff") or any(
        identity in members for members in app.section(CertificationConfig).supervisors.values())


async def _deny(services: Services, identity: str, action: str, target: str,
                what: str | None = None) -> None:
    """Audit the refusal, then refuse; ``what`` completes "Only ... can" (default: a lookup)."""
    await service.audit(db=services.db, actor=identity, action=action, target=target,
                        allowed=False, reason="not a supervisor of this jurisdiction")
    raise CertRefused(what or f"look up other officials ({target})")


async def on_text(message: IncomingMessage, services: Services, now: datetime) -> Reply:
    """``/cert``, ``help``, ``done ...``, ``@user``, ``jurisdiction X``, ``unreachable``."""
    words = message.text.split()
    identity = message.sender.identity
    # Free text this handler claimed ("am I up to date on my certification?") asks about
    # oneself: only a command's words name verbs or people.
    if not message.command or not words or words[0].lower() in ("me", "status"):
        official = await service.find_official(db=services.db, ref=identity)
        return await status_reply(services, official, now, name=message.sender.display_name)
    verb = words[0].lower()
    if verb == "help":
        app = services.settings.app
        return replies.build_usage(app.commands.cert, supervises=supervises_any(app, identity),
                                   state_staff=app.has_role(identity, "state_staff"))
    if verb == "done":
        return await _done(message, services, now, words[1:])
    if verb == "jurisdiction" and len(words) == 2:
        return await _jurisdiction(services, identity, words[1].upper(), now)
    if verb == "unreachable":
        return await _unreachable(services, identity, now)
    return await _someone(services, message, words[0], now)


async def status_reply(services: Services, official: Official | None, now: datetime, *,
                       name: str = "") -> Reply:
    """One official's own status with hours this year and pending reports."""
    app = services.settings.app
    if official is None or official.id is None:
        return replies.build_status(name or "You", [], local_today(None, app, now), done=[],
                                    hours_this_year=0, pending=0, sessions=[])
    today, standings = await standings_of(services, official, now)
    rows = await service.completions_of(db=services.db, official_id=official.id)
    verified = [c for c in rows if c.status == CompletionStatus.VERIFIED]
    hours = sum(c.hours for c in verified if c.completed_on.year == today.year)
    courses = {s.program for s in standings}
    sessions = [f"{s.course} on {day(s.day, today)}{' at ' + s.place if s.place else ''}"
                for s in app.section(CertificationConfig).sessions
                if s.day >= today and any(s.course.startswith(p.split('-')[0]) for p in courses)]
    return replies.build_status(official.name, standings, today,
                                done=[f"{c.course} ({day(c.completed_on)})" for c in verified],
                                hours_this_year=hours,
                                pending=sum(c.status == CompletionStatus.PENDING for c in rows),
                                sessions=sessions[:5])


async def standings_of(services: Services, official: Official,
                       now: datetime) -> tuple[date, list[Standing]]:
    """Today in the official's own time zone, and where they stand in each program."""
    app = services.settings.app
    today = local_today(official, app, now)
    records = await load_records(services.db, app, today, official_ids=[official.id or 0])
    return today, standings_for(records[0], programs_for(app), today) if records else []


LATE = frozenset({CertStatus.OVERDUE, CertStatus.LAPSED})


async def late_count(services: Services, now: datetime,
                     jurisdictions: set[str] | None = None) -> int:
    """Officials with an overdue or lapsed program (each counted once); None: everywhere."""
    app = services.settings.app
    records = [r for r in await load_records(services.db, app, local_today(None, app, now))
               if jurisdictions is None or r.jurisdiction in jurisdictions]
    programs = programs_for(app)
    return sum(any(s.status in LATE for s in standings_for(
        r, programs, now.astimezone(ZoneInfo(r.time_zone)).date())) for r in records)


def course_hours(app: AppConfig, code: str) -> float | None:
    """A course's default hours, or None when no program has it."""
    for program in programs_for(app).values():
        if code in program.courses:
            return program.courses[code].hours
    return None


#: Words for a completion day, as days before the person's local today.
RELATIVE_DAYS = {"today": 0, "yesterday": 1}


def parse_day(arg: str, today: date) -> date | None:
    """``YYYY-MM-DD``, ``today`` or ``yesterday`` (``today`` is the person's local day)."""
    back = RELATIVE_DAYS.get(arg.lower())
    if back is not None:
        return today - timedelta(days=back)
    try:
        return date.fromisoformat(arg)
    except ValueError:
        return None


def parse_done(args: list[str], app: AppConfig, today: date) -> tuple[str, date, float]:
    """``COURSE [date] [hours]`` -> values; CertError says what is wrong.

    The date is ``YYYY-MM-DD``, ``today`` or ``yesterday``, counted from ``today`` (the
    official's local day: the jurisdiction's zone).
    """
    if not args:
        raise CertError("Which course? For example: `/cert done KS-Y1-PLAN 2026-03-14 3`.")
    course = args[0].upper()
    default = course_hours(app, course)
    if default is None:
        raise CertError(f"I do not know the course {literal(repr(course))}.")
    on, hours = today, default
    for arg in args[1:3]:
        day = parse_day(arg, today)
        if day is not None:
            on = day
            continue
        try:
            hours = float(arg)
        except ValueError:
            raise CertError(f"{literal(repr(arg))} is neither a date (YYYY-MM-DD, today or yesterday) "
                            "nor hours.") from None
    if on > today:
        raise CertError("The completion date is in the future.")
    if not 0 <= hours <= 200:
        raise CertError("Hours must be between 0 and 200.")
    return course, on, hours


async def _done(message: IncomingMessage, services: Services, now: datetime,
                args: list[str]) -> Reply:
    app = services.settings.app
    official = await service.find_official(db=services.db, ref=message.sender.identity)
    if official is None:
        raise CertError("You are not on the certification roster.")
    course, on, hours = parse_done(args, app, local_today(official, app, now))
    _, created = await service.report_completion(
        db=services.db, app=app, official=official, course=course, on=on, hours=hours,
        reporter=message.sender.identity)
    return replies.build_reported(course, on, hours, created=created)


async def _overview(services: Services, now: datetime, title: str,
                    keep: list[OfficialRecord]) -> Reply:
    programs = programs_for(services.settings.app)
    rows: list[tuple[OfficialRecord, Standing]] = []
    for record in keep:
        today = now.astimezone(ZoneInfo(record.time_zone)).date()
        rows.extend((record, s) for s in standings_for(record, programs, today))
    return replies.build_overview(title, rows, local_today(None, services.settings.app, now))


async def _jurisdiction(services: Services, identity: str, code: str, now: datetime) -> Reply:
    app = services.settings.app
    if not may_supervise(app, identity, code):
        await _deny(services, identity, "cert.jurisdiction", code)
    records = await load_records(services.db, app, local_today(None, app, now))
    return await _overview(services, now, f"Certification in {code}",
                           [r for r in records if r.jurisdiction == code])


async def _someone(services: Services, message: IncomingMessage, ref: str,
                   now: datetime) -> Reply:
    app = services.settings.app
    sender = message.sender
    # An @mention is a person the adapter already resolved; a bare word is an id or a name of
    # the sender's own realm (``/cert kim`` in the web chat).
    named = [m.identity for m in message.mentions if f"@{m.label}" == ref]
    clean = named[0] if named else ref.removeprefix("@")
    official = await service.find_official(db=services.db, ref=clean)
    if official is None and clean.count(":") < 2:
        official = await service.find_official(
            db=services.db, ref=f"{sender.platform}:{sender.workspace}:{clean}")
    if official is None:
        if not may_supervise(app, sender.identity, None):
            await _deny(services, sender.identity, "cert.lookup", clean)
        raise CertError(f"No official {clean!r} on the roster.")
    if official.identity != sender.identity and \
            not may_supervise(app, sender.identity, official.jurisdiction):
        await _deny(services, sender.identity, "cert.lookup", official.external_id)
    return await status_reply(services, official, now)


async def _unreachable(services: Services, identity: str, now: datetime) -> Reply:
    """State staff see every jurisdiction; a supervisor sees the jurisdictions they supervise."""
    app = services.settings.app
    if app.has_role(identity, "state_staff"):
        return replies.build_unreachable(await unreachable_rows(services, now))
    mine = {code for code, members in app.section(CertificationConfig).supervisors.items()
            if identity in members}
    if not mine:
        await _deny(services, identity, "cert.unreachable", "all",
                    "list the officials the bot cannot reach")
    return replies.build_unreachable(await unreachable_rows(services, now, mine))


async def unreachable_rows(services: Services, now: datetime,
                           jurisdictions: set[str] | None = None) -> list[tuple[str, str, str]]:
    """Officials with a deadline the bot cannot reach (see ``unreachable``); None: everywhere."""
    app = services.settings.app
    records = [r for r in await load_records(services.db, app, local_today(None, app, now))
               if jurisdictions is None or r.jurisdiction in jurisdictions]
    programs = programs_for(app)
    for r in records:
        r.standings = standings_for(r, programs, now.astimezone(ZoneInfo(r.time_zone)).date())
    return await find_unreachable(services.db, services.outbox, records)
