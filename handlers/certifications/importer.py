"""CSV validation for roster and completion imports (pure: no database, no I/O).

Every row is checked (unknown jurisdiction, program, role or course, bad date, bad identity,
bad e-mail address, duplicate within the file) and errors carry the file's line number.

An official is reached by their chat identity, else by their e-mail address (the ``email``
column, stored in its normal form), else not at all (state staff are told daily). Each
official's address is their own: two officials sharing one would read each other's deadlines.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config.settings import AppConfig
from bot.messages import PLATFORMS, InvalidDestination, email_address
from handlers.certifications.ledger import zone_for
from handlers.certifications.status import CompiledProgram

ROSTER_REQUIRED = ("external_id", "name", "jurisdiction", "program", "role")
COMPLETION_REQUIRED = ("external_id", "course", "completed_on")
TRUE = {"yes", "true", "1", "y"}
#: The longest address kept: a reminder's outbox key (``cert:email:<address>:<day>``, at most
#: 200 characters) must hold it whole, or two days' reminders would share one key.
MAX_EMAIL = 178
CHAT = PLATFORMS - {"email"}


@dataclass(frozen=True)
class RowError:
    """A rejected row and why."""

    line: int
    message: str

    def __str__(self) -> str:
        """``line 7: unknown jurisdiction 'XX'``."""
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class RosterRow:
    """One valid roster row."""

    line: int
    external_id: str
    name: str
    email: str
    identity: str | None
    jurisdiction: str
    time_zone: str
    program: str
    role: str
    term_type: str
    took_office: date | None
    term_end: date | None
    from_deputy: bool
    acting: bool


@dataclass(frozen=True)
class CompletionRow:
    """One valid completion row."""

    line: int
    external_id: str
    course: str
    completed_on: date
    hours: float
    evidence: str


def _date(value: str, column: str, required: bool = False) -> date | None:
    value = value.strip()
    if not value:
        if required:
            raise ValueError(f"{column} is required")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"bad date in {column}: {value!r} (use YYYY-MM-DD)") from None


def _rows(text: str, required: tuple[str, ...]) -> tuple[list[tuple[int, dict[str, str]]],
                                                        list[RowError]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        return [], [RowError(1, f"missing column(s): {', '.join(missing)}")]
    rows = []
    for row in reader:
        clean = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        rows.append((reader.line_num, clean))
    return rows, []


def _identity(value: str) -> str | None:
    if not value:
        return None
    if value.startswith("email:"):
        raise ValueError(f"identity {value[:80]!r} is an e-mail address: put it in the email "
                         "column (identity is a chat identity, platform:workspace:user)")
    parts = value.split(":", 2)
    if len(parts) != 3 or parts[0] not in CHAT or not all(parts):
        raise ValueError(f"identity {value!r} must be platform:workspace:user")
    return value


def roster_email(value: str) -> str:
    """The ``email`` column in its normal form ("" when empty); ValueError naming the problem.

    ``jane@example.org`` and ``email:jane@example.org`` are both accepted.
    """
    value = value.strip().removeprefix("email:")
    if not value:
        return ""
    try:
        address = email_address(value)
    except InvalidDestination as exc:
        raise ValueError(f"email: {exc}") from None
    if len(address) > MAX_EMAIL:
        raise ValueError(f"email is longer than {MAX_EMAIL} characters")
    return address


def parse_roster(text: str, app: AppConfig, programs: dict[str, CompiledProgram], *,
                 taken: dict[str, str] | None = None) -> tuple[list[RosterRow], list[RowError]]:
    """Valid rows and line-numbered errors for an officials CSV.

    ``taken`` maps the addresses (lower case) of officials already stored to their
    external_id: an address may not move to another official unless its owner is in this file.
    """
    raw, errors = _rows(text, ROSTER_REQUIRED)
    codes = {j.code for j in app.jurisdictions}
    seen: dict[tuple[str, str], int] = {}
    valid: list[RosterRow] = []
    for line, r in raw:
        try:
            row = _roster_row(line, r, app, codes, programs)
            key = (r["external_id"], r["program"])
            if key in seen:
                raise ValueError(f"duplicate of line {seen[key]} ({key[0]} in {key[1]})")
            seen[key] = line
            valid.append(row)
        except ValueError as exc:
            errors.append(RowError(line, str(exc)))
    # A stored official's address is free for others only if one of their rows is kept (it then
    # says where they are reached now); a refused row frees nothing. Refusing a row can leave its
    # official with no row kept, so check again without them until nothing changes.
    in_file = {row.external_id for row in valid}
    while True:
        people = _People(taken or {}, in_file)
        rows, conflicts = [], []
        for row in valid:
            try:
                people.check(row)
                rows.append(row)
            except ValueError as exc:
                conflicts.append(RowError(row.line, str(exc)))
        kept = {row.external_id for row in rows}
        if kept == in_file:
            break
        in_file = kept
    return rows, sorted(errors + conflicts, key=lambda e: e.line)


class _People:
    """One address per official, one official per address, across the file and the database."""

    def __init__(self, taken: dict[str, str], in_file: set[str]) -> None:
        # An official in the file gives up their stored address unless the file repeats it.
        self.owners = {a: (o, 0) for a, o in taken.items() if o not in in_file}
        self.emails: dict[str, tuple[str, int]] = {}  # external_id -> (address, line)

    def check(self, row: RosterRow) -> None:
        """Refuse ``row`` (ValueError) when its address conflicts; remember it otherwise."""
        earlier = self.emails.get(row.external_id)
        if earlier is not None and earlier[0] != row.email:
            raise ValueError(f"email differs from line {earlier[1]} for {row.external_id} "
                             "(one address per official)")
        if row.email:
            owner, line = self.owners.get(row.email.lower(), (row.external_id, 0))
            if owner != row.external_id:
                where = f"line {line}" if line else "the stored roster"
                raise ValueError(f"email is already {owner}'s ({where}); each official needs "
                                 "their own address")
            self.owners[row.email.lower()] = (row.external_id, earlier[1] if earlier else
                                              row.line)
        self.emails.setdefault(row.external_id, (row.email, row.line))


def _roster_row(line: int, r: dict[str, str], app: AppConfig, codes: set[str],
                programs: dict[str, CompiledProgram]) -> RosterRow:
    for column in ROSTER_REQUIRED:
        if not r.get(column):
            raise ValueError(f"{column} is required")
    if r["jurisdiction"] not in codes:
        raise ValueError(f"unknown jurisdiction {r['jurisdiction']!r} (app.yaml jurisdictions)")
    program = programs.get(r["program"])
    if program is None:
        raise ValueError(f"unknown program {r['program']!r}; known: {sorted(programs)}")
    if r["role"] not in program.program.roles:
        raise ValueError(f"role {r['role']!r} is not in {program.code} ({program.program.roles})")
    zone = r.get("time_zone") or zone_for(app, r["jurisdiction"])
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {zone!r}") from None
    return RosterRow(
        line=line, external_id=r["external_id"], name=r["name"],
        email=roster_email(r.get("email", "")),
        identity=_identity(r.get("identity", "")), jurisdiction=r["jurisdiction"],
        time_zone=zone, program=program.code, role=r["role"], term_type=r.get("term_type", ""),
        took_office=_date(r.get("took_office", ""), "took_office"),
        term_end=_date(r.get("term_end", ""), "term_end"),
        from_deputy=r.get("from_deputy", "").lower() in TRUE,
        acting=r.get("acting", "").lower() in TRUE)


def parse_completions(text: str, courses: dict[str, float],
                      officials: set[str]) -> tuple[list[CompletionRow], list[RowError]]:
    """Valid rows and line-numbered errors for a completions CSV."""
    raw, errors = _rows(text, COMPLETION_REQUIRED)
    seen: dict[tuple[str, str, date], int] = {}
    rows = []
    for line, r in raw:
        try:
            for column in COMPLETION_REQUIRED:
                if not r.get(column):
                    raise ValueError(f"{column} is required")
            if r["external_id"] not in officials:
                raise ValueError(f"unknown official {r['external_id']!r} (import the roster first)")
            if r["course"] not in courses:
                raise ValueError(f"unknown course {r['course']!r}")
            on = _date(r["completed_on"], "completed_on", required=True)
            assert on is not None
            hours = float(r["hours"]) if r.get("hours") else courses[r["course"]]
            if not 0 <= hours <= 200:
                raise ValueError(f"hours {hours:g} out of range 0-200")
            key = (r["external_id"], r["course"], on)
            if key in seen:
                raise ValueError(f"duplicate of line {seen[key]}")
            seen[key] = line
            rows.append(CompletionRow(line, r["external_id"], r["course"], on, hours,
                                      r.get("evidence", "")[:500]))
        except ValueError as exc:
            msg = str(exc)
            errors.append(RowError(line, f"bad hours {r.get('hours')!r}" if "float" in msg
                                   else msg))
    return rows, errors
