"""``electionbot incidents ...``: verify, checkpoint, export and the after-action report."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.cli import fail, run_with_db, settings_or_exit

incidents_app = typer.Typer(help="Incident records: verify, checkpoint, export, after-action "
                                 "report.", no_args_is_help=True)


def _since(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        raise fail(f"not a date: {value!r} (use YYYY-MM-DD)") from None


def _run_keyed(work: Callable[[Any, Any], Awaitable[Any]]) -> Any:
    """Migrate, open the database with the configured audit key, run ``work(db, key)``."""
    from bot.db.engine import Database, upgrade
    from bot.ops.audit_key import bind_audit_key, settings_audit_key

    settings = settings_or_exit()
    upgrade(settings.env.DATABASE_URL)
    key = settings_audit_key(settings)

    async def run() -> Any:
        db = Database(settings.env.DATABASE_URL)
        bind_audit_key(db.engine.sync_engine, key)
        try:
            return await work(db, key)
        finally:
            await db.close()

    return asyncio.run(run())


@incidents_app.command("verify")
def verify(
    checkpoint: Annotated[Path | None, typer.Option(
        help="A checkpoint file (one signed line per checkpoint): also catch truncation, "
             "deletion and re-computation since each.")] = None,
    reseal: Annotated[bool, typer.Option(
        help="First re-seal records from before the upgrade with the audit key (each is "
             "verified the old way first; one that fails is reported and left alone).")] = False,
) -> None:
    """Check every incident chain, the numbering and the audit log; exit 1 naming each break."""
    from handlers.incidents.checkpoint import compare, parse_checkpoints
    from handlers.incidents.records import reseal as reseal_all
    from handlers.incidents.records import verify_all

    text = _read(checkpoint) if checkpoint is not None else None

    async def work(db: Any, key: Any) -> tuple[list[str], Any, list[str]]:
        if reseal and text is not None:  # never re-seal what changed since a checkpoint
            checkpoints, bad = parse_checkpoints(text, key)
            changed = bad + [p for one in checkpoints for p in await compare(db, one)]
            if changed:
                before = await verify_all(db, key)
                return (["refused: the record differs from the checkpoint; nothing re-sealed"],
                        before, list(before.breaks) + changed)
        refusals = await reseal_all(db, key) if reseal else []
        result = await verify_all(db, key)
        problems = list(result.breaks)
        if text is not None:
            checkpoints, bad = parse_checkpoints(text, key)
            problems += bad
            for one in checkpoints:
                problems += [p for p in await compare(db, one) if p not in problems]
        return refusals, result, problems

    refusals, result, problems = _run_keyed(work)
    for line in refusals:
        typer.echo(f"RESEAL {line}", err=True)
    for line in result.warnings:
        typer.echo(f"warning: {line}", err=True)
    for line in problems:
        typer.echo(f"BROKEN {line}", err=True)
    if problems or refusals:
        raise typer.Exit(1)
    typer.echo(f"ok: {result.incidents} incident(s), {result.events} event(s), "
               f"{result.audit_entries} audit entries verified")


@incidents_app.command("checkpoint")
def checkpoint(
    out: Annotated[Path | None, typer.Option(
        help="Append the checkpoint to this file (default: stdout). Keep it off this machine, "
             "on write-once storage.")] = None,
) -> None:
    """Write signed chain heads (verified first) that an office keeps outside the database."""
    from bot.db.engine import utcnow
    from handlers.incidents.checkpoint import build_checkpoint
    from handlers.incidents.records import verify_all

    async def work(db: Any, key: Any) -> tuple[Any, dict[str, Any] | None]:
        result = await verify_all(db, key)
        if result.breaks:
            return result, None
        return result, await build_checkpoint(db, key, utcnow())

    result, signed = _run_keyed(work)
    for line in result.warnings:
        typer.echo(f"warning: {line}", err=True)
    if signed is None:
        for line in result.breaks:
            typer.echo(f"BROKEN {line}", err=True)
        raise fail("refusing to checkpoint a record that does not verify")
    line = json.dumps(signed, sort_keys=True, separators=(",", ":")) + "\n"
    if out is None:
        typer.echo(line, nl=False)
        return
    try:
        with out.open("a", encoding="utf-8") as handle:
            handle.write(line)
    except OSError as exc:
        raise fail(f"cannot append to {out}: {exc.strerror}") from None
    typer.echo(f"ok: checkpoint of {result.incidents} incident(s) appended to {out}", err=True)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read checkpoint file {path}: {exc}") from None


@incidents_app.command("export")
def export(
    since: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")],
    fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    redact: Annotated[bool, typer.Option(help="Remove reporter identities and personal data.")]
    = False,
    out: Annotated[Path | None, typer.Option(help="File to write (default: stdout).")] = None,
) -> None:
    """Export incidents for after-action reports and public-records requests."""
    from handlers.incidents.records import export_rows, incidents_since, to_csv

    if fmt not in ("csv", "json"):
        raise fail("--format must be csv or json")
    start = _since(since)
    rows = export_rows(run_with_db(lambda db: incidents_since(db, start)), redact=redact)
    text = to_csv(rows) if fmt == "csv" else json.dumps(rows, indent=2)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"ok: {len(rows)} incident(s) written to {out}", err=True)


@incidents_app.command("report")
def report(
    election: Annotated[str, typer.Option(help="Election day, YYYY-MM-DD; the period starts "
                                               "30 days before.")],
) -> None:
    """After-action summary: counts, time to acknowledge / resolve, open items, lessons."""
    from datetime import timedelta

    from handlers.incidents.records import after_action, incidents_since

    start = _since(election) - timedelta(days=30)
    summary = after_action(run_with_db(lambda db: incidents_since(db, start)))
    typer.echo(f"Incidents since {start:%Y-%m-%d}: {summary.total}")
    for title, counter in (("By category", summary.by_category),
                           ("By severity", summary.by_severity),
                           ("By jurisdiction", summary.by_jurisdiction)):
        typer.echo(f"{title}: " + (", ".join(f"{k} {v}" for k, v in sorted(counter.items()))
                                   or "none"))
    typer.echo(f"Minutes to acknowledge: median {summary.minutes_to_ack['median']}, "
               f"p90 {summary.minutes_to_ack['p90']}")
    typer.echo(f"Minutes to resolve: median {summary.minutes_to_resolve['median']}, "
               f"p90 {summary.minutes_to_resolve['p90']}")
    typer.echo("Open items: " + ("; ".join(summary.open_items) or "none"))
    typer.echo("Lessons learned:")
    for lesson in summary.lessons or ["none recorded"]:
        typer.echo(f"  - {lesson}")

#: The command groups this domain adds to ``electionbot`` (see ``handlers.FEATURES``).
GROUPS = [("incidents", incidents_app)]
