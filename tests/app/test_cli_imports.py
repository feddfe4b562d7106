"""The one-shot commands import only what they use: no server stack, no database, no domains.

Each command runs for real (in a fresh interpreter, on a copy of the fixture base) and the test
reads ``sys.modules`` after it has answered. ``serve`` and ``worker`` still import everything
(``tests/app/test_cli.py`` and the server tests run them).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import FIXTURE_KB, ROOT, write_config

#: Never imported by ask, kb check or config check: the web / platform stack, the database, the
#: background machinery and every domain's handler (only their config models are needed).
HEAVY = ("aiohttp", "slack_bolt", "slack_sdk", "microsoft_agents", "alembic",
         "prometheus_client", "sqlalchemy", "sqlmodel", "asyncio", "cryptography",
         "procrastinate", "bot.db", "bot.outbox", "bot.services", "bot.ops.metrics",
         "handlers.incidents.handler", "handlers.alerts.handler",
         "handlers.certifications.handler", "handlers.home.handler", "handlers.faq.handler",
         "handlers.faq.service")

_RUN = """
import json, sys
from app.cli.main import app
try:
    app({args!r}, standalone_mode=False)
except SystemExit as exc:
    assert not exc.code, exc.code
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


@pytest.fixture
def home(tmp_path: Path) -> Path:
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, kb)
    write_config(tmp_path, knowledge_path=str(kb))
    return tmp_path


def modules_after(home: Path, *args: str) -> tuple[str, set[str]]:
    """Run ``electionbot ARGS`` in a fresh interpreter; its stdout and every module it imported."""
    env = {"PATH": "/usr/bin:/bin", "ELECTIONBOT_CONFIG": str(home / "app.yaml"),
           "DATABASE_URL": f"sqlite:///{home / 'bot.db'}"}
    result = subprocess.run([sys.executable, "-c", _RUN.format(args=list(args))], cwd=home,
                            env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout, set(json.loads(result.stderr.strip().splitlines()[-1]))


def heavy_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY
                  or any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_ask_answers_without_the_server_the_database_or_other_domains(home: Path) -> None:
    out, modules = modules_after(home, "ask", "--json", "what is the pause method")
    assert json.loads(out)["article_id"] == "ca-sample-pause"
    assert heavy_in(modules) == []
    assert "handlers.faq.guard" in modules  # it did answer through the guard
    assert not (home / "data" / "audit.key").exists()  # and wrote no audit key
    assert "knowledge.index_build" in modules and "numpy" in modules  # the first ask built


def test_ask_with_the_index_cached_does_not_build(home: Path) -> None:
    modules_after(home, "ask", "what is the pause method")  # builds and caches the index
    assert list((home / "data" / "index-cache").glob("index-*.bin"))
    out, modules = modules_after(home, "ask", "--json", "how do I pause")
    assert json.loads(out)["article_id"] == "ca-sample-pause"
    assert heavy_in(modules) == []
    assert not any(m == "numpy" or m.startswith("numpy.") for m in modules)  # loaded, not built


def test_kb_check_and_config_check_do_not_load_the_answering_side(home: Path) -> None:
    out, modules = modules_after(home, "kb", "check")
    assert out.startswith("ok: ")
    assert heavy_in(modules) == [] and "handlers.faq.guard" not in modules
    assert "knowledge.checks" in modules and "knowledge.search" not in modules
    out, modules = modules_after(home, "config", "check")
    assert out.startswith("ok: ")
    assert heavy_in(modules) == [] and "handlers.faq.guard" not in modules
    assert not any(m.startswith("knowledge.") and m != "knowledge.yamlload" for m in modules)


def test_serve_still_builds_every_handler() -> None:
    code = ("import sys; from handlers import build_handlers; "
            "print(sorted(type(h).__name__ for h in build_handlers()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, timeout=60, check=True).stdout
    assert json.loads(out.replace("'", '"')) == sorted(
        ["AlertHandler", "CertificationHandler", "FaqHandler", "HelpHandler", "HomeHandler",
         "IncidentHandler"])
