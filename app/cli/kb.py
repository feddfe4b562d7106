"""``electionbot kb ...``: check, reload, eval and gaps for the knowledge base."""

from __future__ import annotations

import gc
import json
import os
import signal
from pathlib import Path
from typing import Annotated

import typer

from bot.cli import fail, pid_file, settings_or_exit


class _OneShot:
    """Set by a read-only one-shot command so ``app.cli.main.main`` may skip teardown.

    Under the console script (``ends_process``, set by ``main``) the command also runs without
    the cyclic garbage collector: what it loads (settings, articles, the index, the guard's
    weights) lives until ``os._exit``, so collections would only walk it again and again (about
    0.03 s of an ``ask``). :meth:`settle` hands the collector back for a longer run.
    """

    active = False
    ends_process = False
    _paused = False

    def __call__(self) -> None:
        """Mark the running command as read-only and one-shot."""
        self.active = True
        if self.ends_process and gc.isenabled():
            gc.disable()
            self._paused = True

    def settle(self) -> None:
        """Loading is done: exempt what is alive from collection and collect what comes next."""
        if self._paused:
            self._paused = False
            gc.freeze()
            gc.enable()


one_shot = _OneShot()

kb_app = typer.Typer(help="Knowledge base: check, reload, evaluate, find gaps.",
                     no_args_is_help=True)


@kb_app.command("check")
def kb_check() -> None:
    """Validate every article; exit 1 with file:line messages on any problem."""
    one_shot()
    from datetime import UTC, datetime

    from app.knowledge_base import knowledge_folder
    from knowledge.checks import check_articles, load_articles

    settings = settings_or_exit()
    folder = knowledge_folder(settings)
    articles, problems = load_articles(folder)
    problems += check_articles(articles, jurisdictions=[j.code for j in settings.app.jurisdictions],
                               today=datetime.now(UTC).date())
    for problem in problems:
        typer.echo(str(problem), err=True)
    if problems:
        raise typer.Exit(1)
    drafts = sum(a.is_draft for a in articles)
    typer.echo(f"ok: {len(articles)} articles ({len(articles) - drafts} approved, "
               f"{drafts} draft) in {folder}")


@kb_app.command("reload")
def kb_reload() -> None:
    """Check the base, then tell the running server (SIGHUP) to swap it in."""
    kb_check()
    settings = settings_or_exit()
    path = pid_file(settings)
    try:
        pid = int(path.read_text().strip())
        os.kill(pid, signal.SIGHUP)
    except (FileNotFoundError, ValueError):
        raise fail(f"no running server found ({path} missing); start one with "
                   "`electionbot serve`") from None
    except ProcessLookupError:
        raise fail(f"the server in {path} is not running any more") from None
    typer.echo(f"ok: asked the server (pid {pid}) to reload; /healthz shows the article count")


@kb_app.command("eval")
def kb_eval(
    file: Annotated[Path, typer.Argument(help="Question set in JSONL (faq_dev.jsonl format).")],
    json_out: Annotated[Path | None, typer.Option("--json", help="Write figures here.")] = None,
    figures_only: Annotated[bool, typer.Option(
        "--figures-only", help="Print and write the figures only, never a question (for a "
                               "held-out set, whose questions nobody may read).")] = False,
) -> None:
    """Score the bot on a question set: in-scope accuracy, abstain accuracy, misses."""
    # Settings and the knowledge base only, as ``ask``: no database, no audit key (the index
    # cache aside, nothing written).
    from app.knowledge_base import load_knowledge
    from handlers.faq.answer import KnowledgeOnly, answer_question
    from handlers.faq.cli import answer_to_json
    from handlers.faq.evaluate import EvalFileError, evaluate, load_items
    from handlers.faq.replies import article_text
    from knowledge.store import KnowledgeError

    settings = settings_or_exit()
    try:
        items = load_items(file)
    except (OSError, EvalFileError) as exc:
        raise fail(str(exc)) from None
    try:
        services = KnowledgeOnly(settings, load_knowledge(settings))
    except KnowledgeError as exc:
        raise fail(str(exc), 2) from None
    contact = settings.app.contact_for(None)
    kb = services.knowledge.current

    def retrieve(q: str) -> list[tuple[str, str]]:
        return [(a.id, article_text(a, lang)) for a, lang in kb.retrieve(q, limit=3)]

    report = evaluate(items, lambda q: answer_to_json(
        answer_question(question=q, services=services), contact), retrieve, kb.engine)
    figures = report.as_dict()
    if figures_only:
        figures["misses"] = len(report.misses)
    for miss in [] if figures_only else report.misses:
        typer.echo(f"miss  line {miss['line']}: {miss['question']!r} -> {miss['got']} "
                   f"({miss['confidence']}), expected {miss['expected']}")
    typer.echo(f"in-scope: {report.in_scope_correct}/{report.in_scope_total} "
               f"({figures['in_scope']['accuracy']:.1%})")
    typer.echo(f"abstain:  {report.abstain_correct}/{report.abstain_total} "
               f"({figures['abstain']['accuracy']:.1%})")
    for kind, row in figures["abstain"]["by_kind"].items():
        typer.echo(f"  {kind}: {row['correct']}/{row['total']}")
    ret = figures["retrieval"]
    typer.echo(f"retrieval ({ret['engine']}), before the decision: top-1 {ret['top1']:.1%}, "
               f"top-3 {ret['top3']:.1%} of {ret['total']} in-scope")
    if json_out is not None:
        json_out.write_text(json.dumps(figures, indent=2), encoding="utf-8")


@kb_app.command("gaps")
def kb_gaps(
    limit: Annotated[int, typer.Option(help="How many groups to show.")] = 30,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Questions the bot could not answer, or answered unhelpfully, grouped and ranked."""
    import asyncio

    from bot.db.engine import Database, upgrade
    from handlers.faq.service import list_gaps

    settings = settings_or_exit()
    upgrade(settings.env.DATABASE_URL)

    async def run() -> list:  # type: ignore[type-arg]
        db = Database(settings.env.DATABASE_URL)
        try:
            return await list_gaps(db=db, limit=limit)
        finally:
            await db.close()

    gaps = asyncio.run(run())
    if as_json:
        for gap in gaps:
            typer.echo(json.dumps({"example": gap.example, "count": gap.count,
                                   "not_helpful": gap.not_helpful,
                                   "articles": sorted(gap.articles),
                                   "last_asked": gap.last_asked.isoformat()
                                   if gap.last_asked else None}))
        return
    if not gaps:
        typer.echo("No gaps recorded yet.")
    for gap in gaps:
        extra = f", {gap.not_helpful} not helpful" if gap.not_helpful else ""
        typer.echo(f"{gap.count:>4}x{extra}  {gap.example}")
