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


def _member(group: str, tier: str, row: dict[str, str], *, demo: bool = False) -> Any:
    """Validate one member exactly as app.yaml members are validated (demo names included)."""
    from handlers.alerts.config import Group, Member

    try:
        Group(name=group, tier=tier)  # type: ignore[arg-type]
        people = [p.strip() for p in (row.get("people") or "").split(";") if p.strip()]
        member = Member(destination=row.get("destination", ""), name=row.get("name", ""),
                        organisation=row.get("organisation", ""),
                        jurisdiction=row.get("jurisdiction", ""),
                        backup=row.get("backup") or None, people=people)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise fail(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}") from None
    named = {"destination": member.destination, "backup": member.backup or ""}
    named.update({f"people[{i}]": p for i, p in enumerate(member.people)})
    for field, value in named.items():
        if not demo and value.startswith("webchat:"):
            raise fail(f"{field}: {value!r}: webchat:local names are self-declared and exist "
                       "only in demo mode; name a slack:, teams: or signed-in web: identity "
                       "(or pass --demo on a demo database)")
    return member


async def _add_rows(db: Any, rows: list[tuple[str, str, Any]]) -> int:
    from sqlalchemy.exc import IntegrityError

    from handlers.alerts.models import NetworkMember

    async with db.session() as session:
        for group, tier, m in rows:
            session.add(NetworkMember(group_name=group, tier=tier, destination=m.destination,
                                      name=m.name, organisation=m.organisation,
                                      jurisdiction=m.jurisdiction, backup=m.backup,
                                      people=json.dumps(m.people)))
        try:
            await session.commit()
        except IntegrityError:
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


@network_app.command("add")
def network_add(group: str, tier: Annotated[str, TIER], destination: str, organisation: str,
                jurisdiction: str, name: str = "", backup: str = "", people: str = "",
                demo: Annotated[bool, DEMO] = False) -> None:
    """Add one member (stored in the database)."""
    member = _member(group, tier.upper(), {
        "destination": destination, "organisation": organisation, "jurisdiction": jurisdiction,
        "name": name, "backup": backup, "people": people}, demo=demo)
    _run(lambda db, app: _add_rows(db, [(group, tier.upper(), member)]))
    typer.echo(f"added {destination} to {group}")


@network_app.command("remove")
def network_remove(group: str, destination: str) -> None:
    """Remove a CLI-added member (app.yaml members are removed by editing app.yaml)."""
    import sqlalchemy as sa

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


@network_app.command("import")
def network_import(path: Path, demo: Annotated[bool, DEMO] = False) -> None:
    """Import group,tier,destination,organisation,jurisdiction,name,backup,people rows (CSV)."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            raw = list(csv.DictReader(handle))
    except OSError as exc:
        raise fail(f"{path}: {exc.strerror}") from None
    rows = []
    for number, row in enumerate(raw, start=2):
        try:
            rows.append((row["group"], row["tier"].upper(),
                         _member(row["group"], row["tier"].upper(), row, demo=demo)))
        except (KeyError, AttributeError):
            raise fail(f"{path}:{number}: needs group and tier columns") from None
    typer.echo(f"imported {_run(lambda db, app: _add_rows(db, rows))} member(s)")


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
