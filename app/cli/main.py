"""The ``electionbot`` command. Errors are one clear line on stderr and a non-zero exit."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from app.cli.kb import kb_app
from app.cli.users import users_app
from bot.cli import fail, pid_file, settings_or_exit, use_sections
from bot.config.settings import ConfigError
from bot.ops import logs
from handlers import FEATURES, config_sections

app = typer.Typer(help="electionbot: a trustworthy assistant for election offices.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
config_app = typer.Typer(help="Configuration.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
manifest_app = typer.Typer(help="Platform app manifests.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
app.add_typer(manifest_app, name="manifest")
app.add_typer(kb_app, name="kb")
app.add_typer(users_app, name="users")
use_sections(config_sections())
for _feature in FEATURES:
    if _feature.cli:
        for _name, _group in importlib.import_module(_feature.cli).GROUPS:
            app.add_typer(_group, name=_name)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 3978,
    no_worker: Annotated[bool, typer.Option(
        "--no-worker", help="Web only: background work goes to `electionbot worker` "
                            "(PostgreSQL).")] = False,
    demo: Annotated[bool, typer.Option(
        "--demo", help="Try the bot locally: anyone picks a web chat name, demo.yaml's role "
                       "grants apply, loopback only, proxied requests refused. Never with real "
                       "data.")] = False,
) -> None:
    """Run the bot: Slack, Teams and the local web chat on one HTTP server."""
    from aiohttp import web

    from app.server import build_services, create_app
    from bot.db.engine import upgrade
    from bot.ops.heap import freeze_startup_objects
    from bot.ops.jobs import prepare_engine_schema
    from knowledge import KnowledgeError

    settings = settings_or_exit(demo=demo)
    try:
        settings.check_listen_address(host)
    except ConfigError as exc:
        raise fail(str(exc), 2) from None
    if no_worker and not settings.env.DATABASE_URL.startswith("postgresql"):
        raise fail("--no-worker needs DATABASE_URL=postgresql+psycopg://... (workers share "
                   "the database); on SQLite run `electionbot serve` alone", 2)
    logs.configure(settings.env.ELECTIONBOT_LOG_LEVEL)
    upgrade(settings.env.DATABASE_URL)
    try:
        services = build_services(settings)
    except KnowledgeError as exc:
        raise fail(str(exc), 2) from None
    asyncio.run(prepare_engine_schema(services))
    pid = pid_file(settings)
    pid.parent.mkdir(parents=True, exist_ok=True)
    pid.write_text(str(os.getpid()))
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    typer.echo(f"electionbot listening on http://{shown}:{port}/  (health: /healthz; "
               f"{settings.mode} mode)", err=True)
    application = create_app(services, worker=not no_worker)
    freeze_startup_objects()
    try:
        web.run_app(application, host=host, port=port, print=None,
                    access_log=None, handle_signals=True)
    finally:
        pid.unlink(missing_ok=True)


@app.command()
def worker(
    queues: Annotated[str, typer.Option(help="Comma-separated queues to serve.")]
    = "outbox,periodic",
    concurrency: Annotated[int, typer.Option(help="Jobs run at once in this process.")] = 8,
    demo: Annotated[bool, typer.Option(
        "--demo", help="Work for web instances run with `serve --demo` (loads demo.yaml; "
                       "the worker serves no HTTP).")] = False,
) -> None:
    """Run background work (deliveries, reminders, follow-ups) on PostgreSQL via procrastinate."""
    from app.server import build_services, create_app
    from bot.db.engine import upgrade
    from bot.ops.heap import freeze_startup_objects
    from bot.ops.jobs import run_worker
    from handlers import build_periodic

    settings = settings_or_exit(demo=demo)
    if not settings.env.DATABASE_URL.startswith("postgresql"):
        raise fail("the worker needs DATABASE_URL=postgresql+psycopg://...; on SQLite, "
                   "`electionbot serve` runs the background work itself", 2)
    if concurrency < 1:
        raise fail("--concurrency must be at least 1", 2)
    logs.configure(settings.env.ELECTIONBOT_LOG_LEVEL)
    upgrade(settings.env.DATABASE_URL)
    services = build_services(settings)
    create_app(services, background=False)  # registers each platform's transport on the outbox
    freeze_startup_objects()
    typer.echo(f"electionbot worker: queues {queues}, concurrency {concurrency}", err=True)
    asyncio.run(run_worker(services, build_periodic(services),
                           queues=[q.strip() for q in queues.split(",") if q.strip()],
                           concurrency=concurrency))


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, or - to read one per line.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per answer.")] = False,
) -> None:
    """Ask the knowledge base from the command line."""
    from app.server import build_services
    from handlers.faq.cli import answer_to_json, answer_to_text
    from handlers.faq.service import answer_question
    from knowledge import KnowledgeError

    settings = settings_or_exit()
    try:
        services = build_services(settings)
    except KnowledgeError as exc:
        raise fail(str(exc), 2) from None
    contact = settings.app.contact_for(None)
    questions = sys.stdin if question == "-" else [question]
    for line in questions:
        text = line.strip()
        if not text:
            continue
        answer = answer_question(question=text, services=services)
        if as_json:
            typer.echo(json.dumps(answer_to_json(answer, contact), ensure_ascii=False))
        else:
            typer.echo(answer_to_text(answer, contact))


@config_app.command("check")
def config_check(
    demo: Annotated[bool, typer.Option(
        "--demo", help="Check as `serve --demo` loads it (demo.yaml merged in).")] = False,
) -> None:
    """Validate app.yaml and the environment; exit 2 with the key and the fix on error."""
    from bot.config.settings import environment_warnings, proxy_warnings

    settings = settings_or_exit(demo=demo)
    for warning in environment_warnings(settings.env) + proxy_warnings(settings):
        typer.echo(f"warning: {warning}", err=True)
    platforms = [name for name, on in (("slack", settings.slack_enabled),
                                       ("teams", settings.teams_enabled)) if on]
    typer.echo(f"ok: {settings.config_path} ({settings.app.office.name}); "
               f"platforms: {', '.join(platforms + ['webchat']) }; {settings.mode} mode")
    if settings.teams_enabled or settings.app.teams.cloud != "public":
        from bot.adapters.teams.manifest import registration_hint

        typer.echo(registration_hint(settings))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (safe to repeat)."""
    from bot.db.engine import upgrade

    settings = settings_or_exit()
    try:
        upgrade(settings.env.DATABASE_URL)
        if not settings.env.DATABASE_URL.startswith("sqlite"):
            from app.server import build_services
            from bot.ops.jobs import prepare_engine_schema

            asyncio.run(prepare_engine_schema(build_services(settings)))
    except Exception as exc:  # one clear line instead of a traceback
        raise fail(f"database upgrade failed: {type(exc).__name__}: {exc}".splitlines()[0]) from None
    typer.echo("ok: database is at the latest schema")


@manifest_app.command("slack")
def manifest_slack(
    url: Annotated[str | None, typer.Option(
        help="Public https:// base URL of this server (default: webchat.public_url).")] = None,
) -> None:
    """Print a Slack app manifest (YAML) for the configured commands."""
    from bot.adapters.slack.manifest import build_slack_manifest, public_base_url

    settings = settings_or_exit()
    try:
        base_url = public_base_url(settings, url)
    except ConfigError as exc:
        raise fail(str(exc), 2) from None
    typer.echo(build_slack_manifest(settings, base_url=base_url))


@manifest_app.command("teams")
def manifest_teams(
    out: Annotated[Path, typer.Option(help="Zip file to write.")] = Path("electionbot-teams.zip"),
) -> None:
    """Write a Teams app package (manifest.json + icons, zipped) and say where it goes.

    The second line names the ``teams.cloud``'s bot registration and Teams admin center.

    Needs MICROSOFT_APP_ID, office.privacy_url and office.terms_url (exit 2 naming what is missing).
    """
    from bot.adapters.teams.manifest import registration_hint, write_teams_package

    settings = settings_or_exit()
    try:
        write_teams_package(settings, out)
    except ConfigError as exc:
        raise fail(str(exc), 2) from None
    typer.echo(f"ok: wrote {out}")
    typer.echo(registration_hint(settings))


def main() -> None:
    """Console-script entry point."""
    app()
