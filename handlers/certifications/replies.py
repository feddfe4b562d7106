"""Wording of everything the certification feature says, for election staff to review."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from functools import lru_cache
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

from bot.config.settings import AppConfig
from bot.messages import Button, Form, FormField, Mention, Reply, Section, Tone, literal
from bot.outbox.queue import dumps
from bot.when import day
from bot.when import day as day_words
from handlers.certifications.reach import is_email
from handlers.certifications.reminders import Due, OfficialRecord
from handlers.certifications.status import Standing, plural

LABELS = {"not_started": "not started", "in_progress": "in progress",
          "provisional": "provisionally certified", "certified": "certified",
          "renewal_due": "renewal due", "overdue": "overdue", "lapsed": "lapsed",
          "exempt": "exempt (waiver)"}
HELP = ("Use `/cert` for your status, `/cert done COURSE [date] [hours]` to report a course "
        "(date: YYYY-MM-DD, today or yesterday), `/cert @user` or `/cert jurisdiction XX` if you "
        "supervise.")


def words(code: str | None) -> str:
    """A stored code as plain words: 'county_clerk' -> 'county clerk'."""
    return (code or "").replace("_", " ").strip()


def requirement_words(standing: Standing) -> str:
    """The requirement as people read it: its title, else its id in plain words."""
    return standing.requirement_title or words(standing.requirement)


def build_usage(command: str, *, supervises: bool, state_staff: bool) -> Reply:
    """How to use the certification command: the verbs this person may use."""
    lines = [f"`{command}` your status · `{command} done COURSE [date] [hours]` "
             "reports a course you completed (date: YYYY-MM-DD, today or yesterday)"]
    if supervises or state_staff:
        scope = "anywhere" if state_staff else "in the jurisdictions you supervise"
        lines.append(f"`{command} @user` one official's status · "
                     f"`{command} jurisdiction CODE` everyone in a jurisdiction")
        lines.append(f"`{command} unreachable` officials with a deadline the bot cannot reach "
                     f"({scope})")
    return Reply(text="Certification commands", title="Certification commands",
                 sections=(Section("\n".join(lines)),), ephemeral=True)


@lru_cache(maxsize=4096)  # a pass asks for the same few (deadline, day) pairs 100,000s of times
def when(deadline: date, today: date) -> str:
    """The real time left from ``today`` (the send day in the official's zone) to ``deadline``.

    'due in 36 days, on Thu 31 Dec 2026', 'due tomorrow, Thu 31 Dec 2026', 'due today, ...',
    'overdue since Thu 31 Dec 2026 (8 days)'. Counted from the day, never from the ladder step,
    so a reminder sent late still states the right number.
    """
    days = (deadline - today).days
    on = day(deadline)
    if days > 1:
        return f"due in {days} days, on {on}"
    if days == 1:
        return f"due tomorrow, {on}"
    if days == 0:
        return f"due today, {on}"
    return f"overdue since {on} ({-days} day{'s' if days < -1 else ''})"


def standing_line(standing: Standing, today: date) -> str:
    """One line per program: one statement of where the person stands, then what is missing.

    A passed deadline is said once ('overdue since Thu 31 Dec 2025 (3 days ago): Year One
    courses'); otherwise the next deadline ('renewal due; next deadline Thu 31 Dec 2026 (in 33
    days): ...'). The certification date comes last, as a fact, never as "... since". Dates
    read as :func:`bot.when.day` writes them: weekday, year, and how far from ``today``.
    """
    line = f"**{standing.program}**: {LABELS[standing.status]}"
    what = requirement_words(standing)
    if standing.deadline and standing.deadline < today:
        line += f" since {day(standing.deadline, today)}"
        line += f": {what}" if what else ""
    elif standing.deadline:
        line += (f"; next deadline {day(standing.deadline, today)}"
                 + (f": {what}" if what else ""))
    elif standing.certified_on:
        line += f" since {day(standing.certified_on)}"
    if standing.certified_on and standing.deadline:
        line += f"; certified on {day(standing.certified_on)}"
    if standing.missing:
        line += f"; still needed: {'; '.join(standing.missing[:6])}"
    return line


def build_status(name: str, standings: Sequence[Standing], today: date, *, done: Sequence[str],
                 hours_this_year: float, pending: int, sessions: Sequence[str]) -> Reply:
    """``/cert``: what is done, what is due next and by when, hours this year."""
    if not standings:
        return Reply(text=f"{literal(name)}: you are not on the certification roster. Ask your state "
                          "election office to add you.", ephemeral=True)
    sections = [Section(standing_line(s, today)) for s in standings]
    sections.append(Section(f"Completed: {', '.join(literal(d) for d in done) or 'nothing recorded yet'}",
                            context=f"Hours logged in {today.year}: {hours_this_year:g}"
                                    + (f" · {pending} awaiting verification" if pending else "")))
    if sessions:
        sections.append(Section("Next course sessions: " + "; ".join(sessions)))
    return Reply(text=f"Certification status for {literal(name)}",
                 title=f"Certification status for {literal(name)}", sections=tuple(sections),
                 ephemeral=True)


def build_overview(title: str, rows: Sequence[tuple[OfficialRecord, Standing]],
                   today: date) -> Reply:
    """A supervisor's view of several officials."""
    if not rows:
        return Reply(text=f"{literal(title)}: no officials on the roster.", ephemeral=True)
    lines = [f"{literal(r.name)} ({literal(r.jurisdiction)}) · {standing_line(s, today)}"
             for r, s in rows[:40]]
    more = f" (first 40 of {len(rows)})" if len(rows) > 40 else ""
    return Reply(text=f"{literal(title)}{more}", sections=tuple(Section(t) for t in lines),
                 ephemeral=True)


def build_digest(recipient: str, items: Sequence[Due], records: dict[int, OfficialRecord],
                 app: AppConfig) -> Reply:
    """The one reminder message a person gets on a day, with buttons per deadline.

    By e-mail (``email:`` recipient: an official without a reachable chat identity) there are
    no buttons, which need someone signed in to chat; the message says whom to ask instead
    and its footer why this reader receives it. :class:`DigestRenderer` writes the same
    message straight to its stored form for a whole pass.
    """
    by_email = is_email(recipient)
    sections, buttons, own = [], [], []
    items, hidden = shown_escalations(recipient, items, records)
    for item in items:
        record = records[item.official_id]
        if _is_own(recipient, record):
            own.append(item)
            sections.append(own_section(app, item, by_email=by_email))
            if not by_email:
                buttons += own_buttons(item)
        else:
            sections.append(escalation_section(record, item))
    if hidden:
        sections.append(Section(more_escalations(app, hidden, records)))
    tail = _email_tail(app, records, own, by_email)
    if tail is None:
        return _digest_reply(sections, buttons)
    return _digest_reply([*sections, tail[0]], buttons, tail[1])


#: Escalation lines one digest lists (a chat message holds about 50 blocks, a Teams card 26 KB);
#: a supervisor of thousands gets the most urgent ones and a count of the rest per jurisdiction.
ESCALATIONS_SHOWN = 20


def shown_escalations(recipient: str, items: Sequence[Due], records: dict[int, OfficialRecord],
                      ) -> tuple[Sequence[Due], list[Due]]:
    """The items a digest lists and the escalations it only counts.

    Up to :data:`ESCALATIONS_SHOWN` escalations the digest lists every item as given. Past that
    it lists the reader's own deadlines, then the most urgent escalations (earliest deadline,
    then name), and counts the rest.
    """
    if len(items) <= ESCALATIONS_SHOWN:
        return items, []
    others = [i for i in items if not _is_own(recipient, records[i.official_id])]
    if len(others) <= ESCALATIONS_SHOWN:
        return items, []

    def urgency(item: Due) -> tuple[date, str, str]:
        return (item.standing.deadline or item.day, records[item.official_id].name, item.key)
    ranked = sorted(others, key=urgency)
    shown = {id(i) for i in ranked[:ESCALATIONS_SHOWN]}
    own = [i for i in items if _is_own(recipient, records[i.official_id])]
    return [*own, *ranked[:ESCALATIONS_SHOWN]], [i for i in others if id(i) not in shown]


def more_escalations(app: AppConfig, hidden: Sequence[Due],
                     records: dict[int, OfficialRecord]) -> str:
    """'...and 1,204 more deadlines of 980 officials: CT 700, KS 504. See ...'."""
    by_place: dict[str, int] = {}
    for item in hidden:
        place = records[item.official_id].jurisdiction or "?"
        by_place[place] = by_place.get(place, 0) + 1
    places = sorted(by_place.items(), key=lambda kv: (-kv[1], kv[0]))
    listed = ", ".join(f"{literal(p)} {n:,}" for p, n in places[:12])
    if len(places) > 12:
        listed += f", and {len(places) - 12:,} more jurisdictions"
    people = len({i.official_id for i in hidden})
    example = literal(places[0][0])
    return (f"...and {len(hidden):,} more deadline{'s' if len(hidden) != 1 else ''} of "
            f"{people:,} official{'s' if people != 1 else ''} you supervise, not listed here: "
            f"{listed}. For everyone in a jurisdiction, type "
            f"`{app.commands.cert} jurisdiction {example}` in chat.")


def _is_own(recipient: str, record: OfficialRecord) -> bool:
    """Whether ``recipient`` is the official (their identity or address), not a supervisor."""
    return recipient in (record.identity, f"email:{record.email}" if record.email else None)


def own_section(app: AppConfig, item: Due, *, by_email: bool) -> Section:
    """An official's own deadline: the program, the requirement, when, what is still needed."""
    s = item.standing
    return Section(f"**{program_name(app, s.program) if by_email else s.program}** "
                   f"{requirement_words(s)}: {when(s.deadline or item.day, item.day)}",
                   context="Still needed: " + ("; ".join(s.missing[:6]) or "-"))


def own_buttons(item: Due) -> list[Button]:
    """Mark complete, snooze and not-me for one deadline (chat only)."""
    what = requirement_words(item.standing)
    return [Button(f"Mark complete ({what})", "cert:complete", item.key, "primary"),
            Button("Snooze 7 days", "cert:snooze", item.key),
            Button("Not me / role changed", "cert:notme", item.key, "danger")]


def escalation_section(record: OfficialRecord, item: Due) -> Section:
    """A supervisor's line about one official's deadline."""
    return Section(escalation_text(record, item), context=ESCALATION_CONTEXT)


ESCALATION_CONTEXT = "You receive this as their certification supervisor."


def escalation_text(record: OfficialRecord, item: Due) -> str:
    """The text of :func:`escalation_section`."""
    s = item.standing
    return (f"Escalation: {literal(record.name)} ({literal(record.jurisdiction)}) is "
            f"{when(s.deadline or item.day, item.day)} on **{s.program}** {requirement_words(s)}.")


def _email_tail(app: AppConfig, records: dict[int, OfficialRecord], own: Sequence[Due],
                by_email: bool) -> tuple[Section, str] | None:
    """An e-mailed official's last section (whom to send certificates to) and footer."""
    if not by_email or not own:
        return None
    jurisdiction = records[own[0].official_id].jurisdiction
    return (Section("To record a course you completed, send its certificate to "
                    f"{contact_words(app, jurisdiction)}."),
            email_footer(app, jurisdiction, [i.standing.program for i in own]))


def _digest_reply(sections: Sequence[Section], buttons: Sequence[Button],
                  footer: str = "") -> Reply:
    return Reply(text="Certification reminder", title="Certification reminder",
                 tone=Tone.WARNING, sections=tuple(sections), buttons=tuple(buttons),
                 footer=footer)


class DigestRenderer:
    """A pass's digests in their stored form (``dumps(build_digest(...))``), parts reused.

    Officials share programs, requirements, deadlines and days: an official's own section is
    serialised once per distinct (standing, day, channel) and reused; their buttons differ
    only by the deadline key, written into a template of the three; the message around the
    parts is serialised once per footer. 100,000 digests then cost string joins instead of
    building and serialising 100,000 replies. Escalations (a few supervisors' long digests)
    are serialised part by part. One renderer per pass, used by one thread at a time.
    """

    def __init__(self, app: AppConfig) -> None:
        """Empty caches; they live as long as the renderer (one pass)."""
        self.app = app
        self._own: dict[tuple[Any, ...], str] = {}
        self._buttons: dict[str, list[str]] = {}
        self._shells: dict[str, tuple[str, str, str]] = {}
        self._escalations: list[str] | None = None

    def payload(self, recipient: str, items: Sequence[Due],
                records: dict[int, OfficialRecord]) -> str:
        """What ``dumps(build_digest(recipient, items, records, app))`` gives."""
        by_email = is_email(recipient)
        sections: list[str] = []
        buttons: list[str] = []
        own: list[Due] = []
        items, hidden = shown_escalations(recipient, items, records)
        for item in items:
            record = records[item.official_id]
            if _is_own(recipient, record):
                own.append(item)
                sections.append(self._own_section(item, by_email))
                if not by_email:
                    buttons.append(self._own_buttons(item))
            else:
                sections.append(self._escalation(record, item))
        if hidden:
            sections.append(dumps(Section(more_escalations(self.app, hidden, records))))
        footer = ""
        tail = _email_tail(self.app, records, own, by_email)
        if tail is not None:
            sections.append(dumps(tail[0]))
            footer = tail[1]
        head, middle, end = self._shell(footer)
        return f"{head}{', '.join(sections)}{middle}{', '.join(buttons)}{end}"

    def _own_section(self, item: Due, by_email: bool) -> str:
        s = item.standing
        key = (s.program, s.requirement, s.requirement_title, s.deadline, s.missing[:6],
               item.day, by_email)
        found = self._own.get(key)
        if found is None:
            found = self._own[key] = dumps(own_section(self.app, item, by_email=by_email))
        return found

    def _escalation(self, record: OfficialRecord, item: Due) -> str:
        if self._escalations is None:  # the section for a marker text, cut where it goes
            marked = dumps(Section(_MARK, context=ESCALATION_CONTEXT))
            self._escalations = _cut(marked, dumps(_MARK), 1)
        before, after = self._escalations
        return f"{before}{_json_string(escalation_text(record, item))}{after}"

    def _own_buttons(self, item: Due) -> str:
        what = requirement_words(item.standing)
        parts = self._buttons.get(what)
        if parts is None:  # the three buttons for a marker key, cut where the key goes
            marked = ", ".join(dumps(b) for b in own_buttons(replace(item, key=_MARK)))
            parts = self._buttons[what] = _cut(marked, dumps(_MARK), 3)
        key = _json_string(item.key)
        return f"{parts[0]}{key}{parts[1]}{key}{parts[2]}{key}{parts[3]}"

    def _shell(self, footer: str) -> tuple[str, str, str]:
        """The message without its sections and buttons, cut where they go."""
        found = self._shells.get(footer)
        if found is None:
            empty = dumps(_digest_reply((), (), footer))
            head, rest = _cut(empty, '"sections": []', 1)
            middle, end = _cut(rest, '"buttons": []', 1)
            found = self._shells[footer] = (head + '"sections": [', ']' + middle
                                            + '"buttons": [', ']' + end)
        return found


_MARK = "\x00part\x00"  # a marker no part of a digest holds (a NUL)
_json_string = encode_basestring_ascii  # a string as json.dumps (ensure_ascii) writes it


def _cut(text: str, marker: str, times: int) -> list[str]:
    """``text`` split at ``marker``, which must occur exactly ``times`` times."""
    parts = text.split(marker)
    if len(parts) != times + 1:
        raise ValueError(f"expected {times} marker(s) in a serialised digest part")
    return parts


def program_name(app: AppConfig, code: str) -> str:
    """A program's name from its file ("Kansas County Clerk Certification"), else its code."""
    from handlers.certifications.ledger import programs_for

    found = programs_for(app).get(code)
    return found.program.name if found else code


def jurisdiction_words(app: AppConfig, code: str) -> str:
    """A jurisdiction's configured name, else its code."""
    return next((j.name for j in app.jurisdictions if j.code == code), code)


def contact_words(app: AppConfig, jurisdiction: str) -> str:
    """Whom to ask: the jurisdiction's contact (else the office's default) with its ways in."""
    contact = app.contact_for(jurisdiction)
    if contact is None:
        return app.office.name
    ways = [w for w in (contact.phone, contact.email, contact.url) if w]
    return contact.name + (f" ({', '.join(ways)})" if ways else "")


def email_footer(app: AppConfig, jurisdiction: str, programs: Sequence[str]) -> str:
    """Why an official receives a reminder by e-mail, and whom to contact.

    No unsubscribe: the reminders follow a legal requirement of their office and stop when it
    is met.
    """
    names = list(dict.fromkeys(program_name(app, p) for p in programs))
    rosters = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    noun = "roster" if len(names) == 1 else "rosters"
    return (f"You receive this because you are on the {rosters} {noun} for "
            f"{jurisdiction_words(app, jurisdiction)}, kept by {app.office.name}. Reminders "
            "stop once the requirement is met. Questions, a course already completed, or not "
            f"you or your role changed: contact {contact_words(app, jurisdiction)}.")


def build_complete_form(key: str, courses: Sequence[tuple[str, str]], today: date) -> Reply:
    """The 'mark complete' form: which course, when, how many hours."""
    form = Form(form_id=f"cert:done:{key}", title="Report a completed course", fields=(
        FormField("course", "Course", kind="select", options=tuple(courses)),
        FormField("completed_on", "Completed on", kind="date", value=today.isoformat()),
        FormField("hours", "Hours", required=False, hint="leave empty for the course's hours")),
        submit_label="Report", intro="A verifier confirms it before it counts.")
    return Reply(text="Report a completed course", form=form, ephemeral=True)


def build_reported(course: str, on: date, hours: float, *, created: bool) -> Reply:
    """After ``/cert done`` or the form."""
    verb = "Recorded" if created else "Already recorded"
    return Reply(tone=Tone.SUCCESS,
                 text=f"{verb}: {literal(course)} on {day(on)} ({hours:g} h), pending verification. "
                      "A verifier has been asked to confirm it.", ephemeral=True)


def build_verify_request(completion_id: int, name: str, course: str, on: date,
                         hours: float, evidence: str) -> Reply:
    """To verifiers: confirm or reject a self-reported completion."""
    return Reply(
        text=f"Please verify: {literal(name)} reports {literal(course)} on {day(on)} "
             f"({hours:g} h).",
        sections=(Section(f"Evidence: {literal(evidence) or 'none given'}"),),
        buttons=(Button("Verify", "cert:verify", str(completion_id), "primary"),
                 Button("Reject", "cert:reject", str(completion_id), "danger")))


def build_verified(course: str, name: str, *, approved: bool, already: bool) -> Reply:
    """After a verifier's click."""
    if already:
        return Reply(text=f"{literal(course)} for {literal(name)} was already decided.",
                     ephemeral=True)
    word = "verified" if approved else "rejected"
    return Reply(text=f"{literal(course)} for {literal(name)} is {word}. Thank you.",
                 ephemeral=True)


def build_snoozed(until: date) -> Reply:
    """After 'snooze 7 days'."""
    return Reply(text=f"Snoozed: no reminders for this deadline until {day(until)} "
                      "(overdue escalations still go to your supervisor).", ephemeral=True)


def build_not_me_ack() -> Reply:
    """After 'not me / role changed'."""
    return Reply(text="Thanks: state election staff have been told, and will correct the roster.",
                 ephemeral=True)


def build_not_me_notice(name: str, external_id: str, identity: str, key: str) -> Reply:
    """To state staff: someone says a reminder was not for them."""
    return Reply(tone=Tone.WARNING, text=f"Roster check needed: {literal(name)} "
                      f"(roster id {literal(external_id)}, {{@0}}) says the "
                      f"certification reminder {key} is not theirs or their role changed.",
                 mentions=(Mention(identity),))


def build_unreachable(rows: Sequence[tuple[str, str, str]]) -> Reply:
    """For state staff: officials the bot cannot reach (no identity or failed sends)."""
    if not rows:
        return Reply(text="Everyone with a certification deadline is reachable.", ephemeral=True)
    return Reply(text=f"{plural(len(rows), 'official')} the bot cannot reach; please contact "
                      "them directly:",
                 sections=tuple(Section(f"{literal(n)} ({literal(j)}): {why}")
                                for n, j, why in rows[:40]),
                 ephemeral=True)


def build_unreachable_digest(rows: Sequence[tuple[str, str, str]], day: date) -> Reply:
    """The daily note to state staff: officials with a deadline the bot cannot reach."""
    return Reply(text=f"Certification: {plural(len(rows), 'official')} with a deadline cannot be "
                      f"reached by chat or e-mail ({day_words(day)}); please contact them "
                      "directly.",
                 sections=tuple(Section(f"{literal(n)} ({literal(j)}): {why}")
                                for n, j, why in rows[:40]))


def denied_reason(what: str) -> str:
    """Why a role check failed, completing "... can {what}" (the denial is audited)."""
    return f"Only certification supervisors and state staff can {what}."
