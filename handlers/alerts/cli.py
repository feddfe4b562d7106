"""``electionbot network ...`` and ``electionbot alerts ...``: the coalition network."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from bot.cli import fail, settings_or_exit

network_app = typer.Typer(help="Coalition network: list, add, remove, import.",
                          no_args_is_help=True)
alerts_app = typer.Typer(help="Rapid-response alerts.", no_args_is_help=True)
TIER = typer.Option(help="T0, T1, T2 or T3")


def _run(work: Any) -> Any:
    from bot.db.engine import Database, upgrade

    settings = settings_or_exit()
    upgrade(settings.env.DATABASE_URL)

    async def run() -> Any:
        db = Database(settings.env.DATABASE_URL)
        try:
            return await work(db, settings.app)
        finally:
            await db.close()

    return asyncio.run(run())


class BadMember(ValueError):
    """One member that cannot be added, and why (the CLI prints it, with a line number)."""


def _member(group: str, tier: str, row: dict[str, str], *, demo: bool = False) -> Any:
    """Validate one member exactly as app.yaml members are validated (demo names included).

    The destination and backup come back in their normal form (``email:`` domains in lower
    case); BadMember names the field.
    """
    from handlers.alerts.config import Group, Member

    try:
        Group(name=group, tier=tier)  # type: ignore[arg-type]
        people = [p.strip() for p in (row.get("people") or "").split(";") if p.strip()]
        member = Member(destination=(row.get("destination") or "").strip(),
                        name=(row.get("name") or "").strip(),
                        organisation=(row.get("organisation") or "").strip(),
                        jurisdiction=(row.get("jurisdiction") or "").strip(),
                        backup=(row.get("backup") or "").strip() or None, people=people)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "member"
        raise BadMember(f"{where}: {err['msg'].removeprefix('Value error, ')}") from None
    named = {"destination": member.destination, "backup": member.backup or ""}
    named.update({f"people[{i}]": p for i, p in enumerate(member.people)})
    for field, value in named.items():
        if not demo and value.startswith("webchat:"):
            raise BadMember(f"{field}: {value!r}: webchat:local names are self-declared and "
                            "exist only in demo mode; name a slack:, teams:, signed-in web: "
                            "or email: destination (or pass --demo on a demo database)")
    return member


async def _known(db: Any, app: Any) -> dict[tuple[str, str], str]:
    """Every (group, destination) already in the network, with where it is listed."""
    from handlers.alerts.network import load_network

    return {(e.group, e.destination): e.source for e in await load_network(db, app)}


async def _add_rows(db: Any, app: Any, rows: list[tuple[int, str, str, Any]],
                    where: str) -> int:
    """Store the members, or none: a member already in its group is refused by line."""
    from sqlalchemy.exc import IntegrityError

    from handlers.alerts.models import NetworkMember

    known = await _known(db, app)
    clashes = [f"{f'{where}{line}: ' if where else ''}{m.destination} is already in group {group} "
               f"({'app.yaml' if known[(group, m.destination)] == 'app.yaml' else 'added earlier'})"
               for line, group, _tier, m in rows if (group, m.destination) in known]
    if clashes:
        for clash in clashes[:-1]:
            typer.echo(f"error: {clash}", err=True)
        raise fail(clashes[-1] + ("; nothing imported" if len(rows) > 1 else ""))
    async with db.session() as session:
        for _line, group, tier, m in rows:
            session.add(NetworkMember(group_name=group, tier=tier, destination=m.destination,
                                      name=m.name, organisation=m.organisation,
                                      jurisdiction=m.jurisdiction, backup=m.backup,
                                      people=json.dumps(m.people)))
        try:
            await session.commit()
        except IntegrityError:  # added by someone else meanwhile
            raise fail("a member with that group and destination already exists") from None
    return len(rows)


DEMO = typer.Option("--demo", help="A demo database: allow self-declared webchat:local names.")


@network_app.command("list")
def network_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every member: app.yaml and CLI-added."""
    from handlers.alerts.network import load_network

    entries = _run(lambda db, app: load_network(db, app))
    for e in entries:
        if as_json:
            typer.echo(json.dumps(e.__dict__))
        else:
            typer.echo(f"{e.tier} {e.group:<16} {e.destination:<36} {e.organisation} "
                       f"({e.jurisdiction}) backup={e.backup or '-'} [{e.source}]")


def _opt(help_text: str) -> Any:
    return typer.Option(help=help_text)


@network_app.command("add")
def network_add(
        group: Annotated[str, _opt("group name (lower case, e.g. faith)")],
        tier: Annotated[str, TIER],
        destination: Annotated[str, _opt("slack:T..:C.., teams:tenant:conv, "
                                         "email:office@partner.example.org, ...")],
        organisation: Annotated[str, _opt("the organisation's name, shown in /alert status")],
        jurisdiction: Annotated[str, _opt("jurisdiction code; default: the office's state")] = "",
        name: Annotated[str, _opt("the member's name (a desk, a person)")] = "",
        backup: Annotated[str, _opt("destination told last when nobody answers")] = "",
        people: Annotated[str, _opt("identities who may answer for a channel, ';'-separated")] = "",
        demo: Annotated[bool, DEMO] = False) -> None:
    """Add one member (stored in the database), e.g. a partner known only by e-mail."""
    settings = settings_or_exit()
    row = {"destination": destination, "organisation": organisation, "name": name,
           "jurisdiction": jurisdiction or settings.app.office.state, "backup": backup,
           "people": people}
    try:
        member = _member(group, tier.upper(), row, demo=demo)
    except BadMember as exc:
        raise fail(str(exc)) from None
    _run(lambda db, app: _add_rows(db, app, [(0, group, tier.upper(), member)], where=""))
    typer.echo(f"added {member.destination} ({member.organisation}) to {group}")


@network_app.command("remove")
def network_remove(group: str, destination: str) -> None:
    """Remove a CLI-added member (app.yaml members are removed by editing app.yaml)."""
    import sqlalchemy as sa

    from bot.messages import Destination, InvalidDestination

    try:
        destination = str(Destination.parse(destination.strip()))
    except InvalidDestination as exc:
        raise fail(f"destination: {exc}") from None

    async def work(db: Any, _app: Any) -> int:
        async with db.session() as session:
            result = await session.execute(sa.text(
                "DELETE FROM network_member WHERE group_name = :g AND destination = :d"),
                {"g": group, "d": destination})
            await session.commit()
            return int(getattr(result, "rowcount", 0))
    if not _run(work):
        raise fail(f"no CLI-added member {destination} in {group} (app.yaml members are "
                   "edited in app.yaml)")
    typer.echo(f"removed {destination} from {group}")


COLUMNS = ("group", "tier", "destination", "organisation")


@network_app.command("import")
def network_import(path: Path, demo: Annotated[bool, DEMO] = False) -> None:
    """Import group,tier,destination,organisation[,jurisdiction,name,backup,people] rows (CSV).

    All or nothing: every bad line is named (line numbers as in the file, header = 1) and
    nothing is imported until all are fixed. A blank jurisdiction is the office's state.
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [c.strip().lower() for c in reader.fieldnames or ()]
            reader.fieldnames = header
            raw = [(reader.line_num, row) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise fail(f"{path}: {getattr(exc, 'strerror', None) or exc}") from None
    if missing := [c for c in COLUMNS if c not in header]:
        raise fail(f"{path}:1: missing column(s) {', '.join(missing)} (columns: "
                   "group, tier, destination, organisation, jurisdiction, name, backup, people)")
    state = settings_or_exit().app.office.state
    rows: list[tuple[int, str, str, Any]] = []
    errors: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in raw:
        group, tier = (row.get("group") or "").strip(), (row.get("tier") or "").strip().upper()
        try:
            member = _member(group, tier, {**row, "jurisdiction": (
                row.get("jurisdiction") or "").strip() or state}, demo=demo)
        except BadMember as exc:
            errors.append(f"{path}:{line}: {exc}")
            continue
        if (group, member.destination) in seen:
            errors.append(f"{path}:{line}: {member.destination} in group {group} repeats line "
                          f"{seen[(group, member.destination)]}")
            continue
        seen[(group, member.destination)] = line
        rows.append((line, group, tier, member))
    if errors:
        for error in errors:
            typer.echo(f"error: {error}", err=True)
        raise fail(f"{len(errors)} bad line(s) in {path}; nothing imported")
    count = _run(lambda db, app: _add_rows(db, app, rows, where=f"{path}:"))
    typer.echo(f"imported {count} member(s)")


@alerts_app.command("status")
def alerts_status(alert_id: str) -> None:
    """Delivered / failed, each answer column, who needs help and who has not answered."""
    from bot.errors import UserError
    from bot.messages import plain
    from handlers.alerts.delivery import status_reply
    from handlers.alerts.service import get_alert

    async def work(db: Any, app: Any) -> Any:
        from zoneinfo import ZoneInfo
        return await status_reply(db=db, alert=await get_alert(db, alert_id.upper()),
                                  zone=ZoneInfo(app.office.time_zone))
    try:
        reply = _run(work)
    except UserError as exc:
        raise fail(str(exc)) from None
    typer.echo(plain(reply.text, reply.mentions))
    typer.echo(" | ".join(f"{fact.label}: {plain(fact.value, reply.mentions)}"
                          for fact in reply.fields))
    for section in reply.sections:
        typer.echo(plain(section.text, reply.mentions))

#: The command groups this domain adds to ``electionbot`` (see ``handlers.FEATURES``).
GROUPS = [("network", network_app), ("alerts", alerts_app)]
