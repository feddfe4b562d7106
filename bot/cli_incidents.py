"""``electionbot incidents ...``: verify, export and the after-action report."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from bot.cli_common import fail, run_with_db

incidents_app = typer.Typer(help="Incident records: verify, export, after-action report.",
                            no_args_is_help=True)




def _since(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        raise fail(f"not a date: {value!r} (use YYYY-MM-DD)") from None


@incidents_app.command("verify")
def verify() -> None:
    """Re-compute every incident's hash chain; exit 1 naming the first broken link."""
    from handlers.incidents.records import verify_all

    count, breaks = run_with_db(verify_all)
    for broken in breaks:
        typer.echo(f"BROKEN {broken}", err=True)
    if breaks:
        raise typer.Exit(1)
    typer.echo(f"ok: {count} incident record(s) verified")


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
