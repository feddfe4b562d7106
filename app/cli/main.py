"""The ``electionbot`` command. Errors are one clear line on stderr and a non-zero exit.

Each command imports what it uses inside its own function (asyncio included): the one-shot
commands (``ask``, ``kb check``, ``config check``) must not pay for the server stack
(tests/app/test_cli_imports.py holds them to it).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from importlib import import_module
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from app.cli.kb import kb_app, one_shot
from app.cli.users import users_app
from bot.cli import fail, pid_file, settings_or_exit, use_sections

#: Between the answers of ``ask -`` in text mode.
ANSWER_RULE = "-" * 40


class _Commands(TyperGroup):
    """The top-level command; each domain's groups (``Feature.cli``) join it on first need.

    ``electionbot ask`` never imports the incident, alert or certification command modules: they
    are imported when a name is not one of the core commands, or when the help lists them all.
    """

    _domains_added = False

    def _add_domains(self) -> None:
        if self._domains_added:
            return
        self._domains_added = True
        from handlers import FEATURES

        for feature in FEATURES:
            if feature.cli:
                for name, group in import_module(feature.cli).GROUPS:
                    command = typer.main.get_group(group)
                    command.name = name
                    self.add_command(command, name)

    def list_commands(self, ctx: Any) -> list[str]:
        """Every command, the domains' included (for ``--help``)."""
        self._add_domains()
        return super().list_commands(ctx)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """A core command as is; anything else after adding the domains' groups."""
        command = super().get_command(ctx, cmd_name)
        if command is None and not self._domains_added:
            self._add_domains()
            command = super().get_command(ctx, cmd_name)
        return command


def _domain_sections() -> Any:
    from handlers import config_sections

    return config_sections()


app = typer.Typer(help="electionbot: a trustworthy assistant for election offices.", cls=_Commands,
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
config_app = typer.Typer(help="Configuration.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
manifest_app = typer.Typer(help="Platform app manifests.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
app.add_typer(manifest_app, name="manifest")
app.add_typer(kb_app, name="kb")
app.add_typer(users_app, name="users")
use_sections(_domain_sections)


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
    import asyncio

    from aiohttp import web

    from app.server import create_app
    from app.services import build_services
    from bot.config.settings import ConfigError
    from bot.db.engine import upgrade
    from bot.ops import logs
    from bot.ops.jobs import prepare_engine_schema
    from bot.ops.runtime import ready_to_serve
    from knowledge.store import KnowledgeError

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
    ready_to_serve()
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
    import asyncio

    from app.server import create_app
    from app.services import build_services
    from bot.db.engine import upgrade
    from bot.ops import logs
    from bot.ops.jobs import run_worker
    from bot.ops.runtime import ready_to_serve
    from handlers import build_periodic
    from knowledge.store import KnowledgeError

    settings = settings_or_exit(demo=demo)
    if not settings.env.DATABASE_URL.startswith("postgresql"):
        raise fail("the worker needs DATABASE_URL=postgresql+psycopg://...; on SQLite, "
                   "`electionbot serve` runs the background work itself", 2)
    if concurrency < 1:
        raise fail("--concurrency must be at least 1", 2)
    logs.configure(settings.env.ELECTIONBOT_LOG_LEVEL)
    upgrade(settings.env.DATABASE_URL)
    try:
        services = build_services(settings)
    except KnowledgeError as exc:
        raise fail(str(exc), 2) from None
    create_app(services, background=False)  # registers each platform's transport on the outbox
    ready_to_serve()
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
    one_shot()
    # Settings and the knowledge base only: no database, no server stack; nothing
    # written but the index cache (knowledge.index_cache), which any load may refresh.
    from app.knowledge_base import load_knowledge
    from handlers.faq.answer import KnowledgeOnly, answer_question
    from handlers.faq.cli import answer_to_json, answer_to_text
    from knowledge.store import KnowledgeError

    settings = settings_or_exit()
    try:
        services = KnowledgeOnly(settings, load_knowledge(settings))
    except KnowledgeError as exc:
        raise fail(str(exc), 2) from None
    contact = settings.app.contact_for(None)
    questions = sys.stdin if question == "-" else [question]
    first = True
    for line in questions:
        text = line.strip()
        if not text:
            continue
        answer = answer_question(question=text, services=services)
        if as_json:
            typer.echo(json.dumps(answer_to_json(answer, contact, asked=text), ensure_ascii=False))
        else:  # answers to several questions: a rule between them
            shown = answer_to_text(answer, contact, asked=text,
                                   report_command=settings.app.commands.incident)
            typer.echo(shown if first else f"\n{ANSWER_RULE}\n\n{shown}")
        first = False
        one_shot.settle()  # more questions from stdin: the collector runs again


@config_app.command("check")
def config_check(
    demo: Annotated[bool, typer.Option(
        "--demo", help="Check as `serve --demo` loads it (demo.yaml merged in).")] = False,
) -> None:
    """Validate app.yaml and the environment; exit 2 with the key and the fix on error."""
    one_shot()
    from bot.config.settings import environment_warnings, mail_warnings, proxy_warnings

    settings = settings_or_exit(demo=demo)
    for warning in (environment_warnings(settings.env) + proxy_warnings(settings)
                    + mail_warnings(settings)):
        typer.echo(f"warning: {warning}", err=True)
    platforms = [name for name, on in (("slack", settings.slack_enabled),
                                       ("teams", settings.teams_enabled)) if on]
    typer.echo(f"ok: {settings.config_path} ({settings.app.office.name}); "
               f"platforms: {', '.join(platforms + ['webchat']) }; {settings.mode} mode")
    relay = settings.relay
    typer.echo(f"e-mail: relay {relay.shown}, {settings.app.email.pacing.per_second:g}/s"
               if relay is not None else "e-mail: off (set SMTP_URL and MAIL_FROM to turn it on)")
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
            import asyncio

            from app.services import build_services
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
    from bot.config.settings import ConfigError

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
    from bot.config.settings import ConfigError

    settings = settings_or_exit()
    try:
        write_teams_package(settings, out)
    except ConfigError as exc:
        raise fail(str(exc), 2) from None
    typer.echo(f"ok: wrote {out}")
    typer.echo(registration_hint(settings))


def main() -> None:
    """Console-script entry point; a read-only one-shot command ends without interpreter teardown.

    ``ask``, ``kb check`` and ``config check`` only read files and print: they open no database
    connection, start no thread or task and write nothing that is buffered except stdout/stderr
    and log handlers, which are flushed here. After that, ``os._exit`` skips the ~0.4 s the
    interpreter spends destroying modules and objects at exit, with nothing left to lose. Every
    other command exits normally (``serve``, ``db upgrade`` and the domains' writes need their
    ``finally`` blocks, atexit hooks and connection pools closed).
    """
    one_shot.ends_process = True
    try:
        app()
    except SystemExit as exc:
        if not one_shot.active:
            raise
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exc.code is not None and not isinstance(exc.code, int):
            sys.stderr.write(f"{exc.code}\n")
        for handler in logging.getLogger().handlers:
            handler.flush()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
