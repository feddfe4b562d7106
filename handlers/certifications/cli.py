"""``electionbot cert|roster|completions ...``: certification data in and out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.cli import fail, run_with_db, settings_or_exit
from handlers.certifications.config import CertificationConfig

cert_app = typer.Typer(help="Certification: rules check, reports, waivers.", no_args_is_help=True)
roster_app = typer.Typer(help="Officials roster import.", no_args_is_help=True)
completions_app = typer.Typer(help="Course completions import.", no_args_is_help=True)
rules_app = typer.Typer(help="Program rule files.", no_args_is_help=True)
cert_app.add_typer(rules_app, name="rules")
PROGRESS_FROM = 500




@rules_app.command("check")
def rules_check(
    folder: Annotated[Path | None, typer.Argument(help="Folder of program YAML files.")] = None,
) -> None:
    """Validate program files; print line-numbered errors and exit 1 when any is wrong."""
    from handlers.certifications.rules import PROGRAMS_DIR, ProgramError, load_programs
    from handlers.certifications.status import plural

    if folder is None:
        configured = settings_or_exit().app.section(CertificationConfig).programs_path
        folder = Path(configured) if configured else PROGRAMS_DIR
    try:
        programs = load_programs(folder)
    except ProgramError as exc:
        for error in exc.errors:
            typer.echo(error, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"ok: {plural(len(programs), 'program')}: {', '.join(sorted(programs))}")


def _report_errors(errors: list[Any], accepted: int, partial: bool) -> None:
    from handlers.certifications.status import plural

    for error in errors:
        typer.echo(f"REJECTED {error}", err=True)
    typer.echo(f"{plural(accepted, 'row')} valid, {len(errors)} rejected")
    if errors and not partial:
        raise fail("nothing imported (all-or-nothing); fix the rows or use --partial")


def _with_progress(total: int, work: Callable[[Callable[[int], None] | None], Any]) -> Any:
    if total < PROGRESS_FROM:
        return work(None)
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("importing", total=total)
        return work(lambda n: bar.advance(task, n))


@roster_app.command("import")
def roster_import(
    path: Annotated[Path, typer.Argument(help="officials.csv")],
    partial: Annotated[bool, typer.Option(help="Import the valid rows even if some fail.")]
    = False,
) -> None:
    """Import officials and their role assignments (re-importing the same file changes nothing).

    Columns: external_id, name, jurisdiction, program, role (required); identity (chat),
    email (for officials reached by e-mail), time_zone, term_type, took_office, term_end,
    from_deputy, acting.
    """
    from handlers.certifications import service
    from handlers.certifications.importer import parse_roster
    from handlers.certifications.ledger import programs_for

    app = settings_or_exit().app
    taken = run_with_db(lambda db: service.email_owners(db=db))
    rows, errors = parse_roster(path.read_text(encoding="utf-8"), app, programs_for(app),
                                taken=taken)
    _report_errors(errors, len(rows), partial)
    summary = _with_progress(len(rows), lambda p: run_with_db(
        lambda db: service.import_roster(db=db, rows=rows, progress=p)))
    typer.echo(f"ok: {summary.created} created, {summary.updated} updated, "
               f"{summary.unchanged} unchanged")


@completions_app.command("import")
def completions_import(
    path: Annotated[Path, typer.Argument(help="completions.csv")],
    partial: Annotated[bool, typer.Option(help="Import the valid rows even if some fail.")]
    = False,
    actor: Annotated[str, typer.Option(help="Who vouches for this file.")] = "import",
) -> None:
    """Import verified course completions (idempotent)."""
    from handlers.certifications import service
    from handlers.certifications.importer import parse_completions
    from handlers.certifications.ledger import programs_for

    app = settings_or_exit().app
    courses = {code: c.hours for p in programs_for(app).values() for code, c in p.courses.items()}
    known = set(run_with_db(lambda db: service.official_ids(db=db)))
    rows, errors = parse_completions(path.read_text(encoding="utf-8"), courses, known)
    _report_errors(errors, len(rows), partial)
    summary = _with_progress(len(rows), lambda p: run_with_db(
        lambda db: service.import_completions(db=db, rows=rows, actor=actor, progress=p)))
    typer.echo(f"ok: {summary.created} created, {summary.unchanged} unchanged")


@cert_app.command("report")
def report(
    jurisdiction: Annotated[str | None, typer.Option(help="Only this jurisdiction.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or csv.")] = "table",
    chart: Annotated[Path | None, typer.Option(help="Also write a PNG chart here.")] = None,
) -> None:
    """Compliance per jurisdiction and role: certified, due soon, overdue, lapsed."""
    from zoneinfo import ZoneInfo

    from bot.db.engine import utcnow
    from handlers.certifications import report as rep
    from handlers.certifications.ledger import load_records, programs_for

    if fmt not in ("table", "csv"):
        raise fail("--format must be table or csv")
    app = settings_or_exit().app
    now = utcnow()
    records = run_with_db(lambda db: load_records(db, app, now.date()))
    rows = rep.compliance(records, programs_for(app), now, jurisdiction)
    names = {j.code: j.name for j in app.jurisdictions}
    typer.echo(rep.to_csv(rows) if fmt == "csv" else rep.to_table(rows, names), nl=False)
    if chart is not None:
        rep.chart(rows, chart, now.astimezone(ZoneInfo(app.office.time_zone)).date(), names)
        typer.echo(f"chart written to {chart}", err=True)


def _waiver_args(until: str | None) -> tuple[Any, Any, set[str], Any]:
    """(app, --until as a date, known program codes, the office's today) or exit with one line."""
    from datetime import date
    from zoneinfo import ZoneInfo

    from bot.db.engine import utcnow
    from handlers.certifications.ledger import programs_for

    app = settings_or_exit().app
    day = None
    if until is not None:
        try:
            day = date.fromisoformat(until)
        except ValueError:
            raise fail(f"--until must be a date like 2027-06-30, got {until!r}") from None
    today = utcnow().astimezone(ZoneInfo(app.office.time_zone)).date()
    return app, day, set(programs_for(app)), today


def _default_actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in this environment
        return "cli:unknown"


@cert_app.command("waive")
def waive(
    official: Annotated[str, typer.Argument(help="The official's roster id (external_id).")],
    program: Annotated[str, typer.Argument(help="Program code, e.g. KS-CLERK.")],
    reason: Annotated[str | None, typer.Option(help="Why (recorded with the decision).")] = None,
    until: Annotated[str | None, typer.Option(help="Last exempt day, YYYY-MM-DD.")] = None,
    by: Annotated[str | None, typer.Option(help="Who decides (default: your user name).")]
    = None,
) -> None:
    """Exempt an official from a program (status becomes exempt); recorded with who and when."""
    from handlers.certifications import waivers
    from handlers.certifications.service import CertError

    _, day, known, today = _waiver_args(until)
    actor = by or _default_actor()
    try:
        waiver = run_with_db(lambda db: waivers.grant(
            db=db, external_id=official, program=program.upper(), reason=reason or "",
            until=day, actor=actor, today=today, known=known))
    except CertError as exc:
        raise fail(str(exc)) from None
    span = f"until {waiver.until}" if waiver.until else "indefinitely"
    typer.echo(f"ok: {official} is exempt from {waiver.program} {span} (by {actor})")


@cert_app.command("unwaive")
def unwaive(
    official: Annotated[str, typer.Argument(help="The official's roster id (external_id).")],
    program: Annotated[str, typer.Argument(help="Program code, e.g. KS-CLERK.")],
    reason: Annotated[str, typer.Option(help="Why the waiver ends (optional).")] = "",
    by: Annotated[str | None, typer.Option(help="Who decides (default: your user name).")]
    = None,
) -> None:
    """End an official's active waiver; the program's deadlines apply again."""
    from handlers.certifications import waivers
    from handlers.certifications.service import CertError

    _, _, known, today = _waiver_args(None)
    actor = by or _default_actor()
    try:
        run_with_db(lambda db: waivers.revoke(db=db, external_id=official, program=program.upper(),
                                       actor=actor, today=today, known=known, reason=reason))
    except CertError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"ok: {official} is no longer exempt from {program.upper()} (by {actor})")

#: The command groups this domain adds to ``electionbot`` (see ``handlers.FEATURES``).
GROUPS = [("cert", cert_app), ("roster", roster_app), ("completions", completions_app)]
