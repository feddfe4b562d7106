"""The one-shot CLI: light imports, the index cache used and refreshed, the same answers."""

from __future__ import annotations

import gc
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge.index_cache import MAGIC
from tests.app.test_cli import cli
from tests.support import FIXTURE_KB, ROOT, write_config

SERVER_STACK = ("aiohttp", "slack_bolt", "microsoft_agents", "alembic", "prometheus_client")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, kb)
    write_config(tmp_path, knowledge_path=str(kb))
    return tmp_path


def test_importing_the_cli_imports_no_server_stack() -> None:
    code = ("import sys, app.cli.main; "
            f"print(sorted(m for m in {SERVER_STACK!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, timeout=60, check=True).stdout
    assert out.strip() == "[]"


def _ask(home: Path, question: str) -> dict:
    result = cli(home, "ask", "--json", question)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_ask_with_and_without_the_cache_and_after_an_edit(home: Path) -> None:
    cache = home / "data" / "index-cache"
    first = _ask(home, "what is the pause method")  # no cache yet: built and saved
    files = sorted(cache.glob("index-*.bin"))
    assert first["article_id"] == "ca-sample-pause" and len(files) == 1
    assert _ask(home, "what is the pause method") == first  # loaded from the cache
    assert sorted(cache.glob("index-*.bin")) == files

    article = next(p for p in (home / "kb").rglob("*.md") if "ca-sample-pause" in p.read_text())
    article.write_text(article.read_text().replace("PAUSE", "ZIGZAG"), encoding="utf-8")
    edited = _ask(home, "what is the zigzag method")
    assert edited["article_id"] == "ca-sample-pause"  # the edit is searchable: rebuilt
    assert sorted(cache.glob("index-*.bin")) != files

    (new,) = cache.glob("index-*.bin")
    new.write_bytes(b"not an index")
    assert _ask(home, "what is the zigzag method") == edited  # corrupt file ignored, rebuilt
    assert new.read_bytes().startswith(MAGIC)


def test_a_danger_report_is_flagged_in_json_as_the_text_leads_with_911(home: Path) -> None:
    danger = _ask(home, "man with a knife outside the polling place")
    assert danger["call_911"] is True and danger["refused"] is None
    assert _ask(home, "what is the pause method")["call_911"] is False
    assert cli(home, "ask", "man with a knife outside the polling place").stdout.startswith(
        "CALL 911 NOW")
    # a danger in the part of the message left out still leads with 911
    mixed = "what is the pause method, and also who should I vote for? a man has a knife here"
    partly = _ask(home, mixed)
    assert partly["declined"] == "partisan" and partly["question"] != mixed
    assert partly["call_911"] is True
    assert cli(home, "ask", mixed).stdout.startswith("CALL 911 NOW")


def test_one_shot_commands_flush_output_and_keep_exit_codes(home: Path) -> None:
    result = cli(home, "ask", "-", stdin="what is the pause method\n" * 3)
    assert result.returncode == 0 and result.stdout.count("PAUSE") >= 3
    assert cli(home, "config", "check").stdout.startswith("ok: ")
    bad = home / "kb" / "broken.md"
    bad.write_text("no front matter\n", encoding="utf-8")
    broken = cli(home, "kb", "check")
    assert broken.returncode == 1 and "broken.md:1:" in broken.stderr
    assert cli(home, "config", "check", ELECTIONBOT_CONFIG=str(home / "nope.yaml")).returncode == 2


def test_help_still_lists_every_domain_group(home: Path) -> None:
    out = cli(home, "--help").stdout
    for name in ("ask", "kb", "incidents", "alerts", "cert", "roster", "completions", "network"):
        assert f" {name} " in out
    assert cli(home, "cert", "--help").returncode == 0


def test_a_one_shot_command_pauses_the_collector_only_under_the_console_script() -> None:
    from app.cli.kb import _OneShot

    shot = _OneShot()
    shot()  # in-process (tests, CliRunner): the collector is left as it was
    assert shot.active and gc.isenabled()
    shot.ends_process = True  # as ``main`` sets it: the process ends with os._exit
    frozen = gc.get_freeze_count()
    try:
        shot()
        assert not gc.isenabled()
        shot.settle()  # after ask's first answer: what is loaded is exempt, collections resume
        assert gc.isenabled() and gc.get_freeze_count() >= frozen
        shot.settle()  # once only
        assert gc.isenabled()
    finally:
        gc.enable()
        if not frozen:  # leave a process that froze before as it was
            gc.unfreeze()
