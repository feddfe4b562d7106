"""CI runs exactly the README's test command, then ruff, mypy and the slow scenarios."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.support import ROOT


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```(?:sh|bash)?\n(.*?)```", text, re.S)
    assert block, "README starts with a code block holding the two commands"
    return [line for line in block.group(1).splitlines() if line and not line.startswith("#")]


def test_readme_starts_with_two_commands_and_ci_runs_the_second() -> None:
    commands = _readme_commands()
    assert len(commands) == 2
    assert "electionbot serve --demo" in commands[0]  # the try-it command is demo mode
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert commands[1] in ci


def test_ci_lints_and_runs_the_slow_scenarios_as_their_own_steps() -> None:
    steps = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert ".venv/bin/ruff check ." in steps
    assert ".venv/bin/mypy" in steps
    assert ".venv/bin/python -m pytest -n auto -m slow" in steps


def test_knowledge_base_check_passes() -> None:
    result = subprocess.run([sys.executable, "-m", "app", "kb", "check"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "ELECTIONBOT_CONFIG": "app.yaml"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok:")
