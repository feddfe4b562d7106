"""The guard rules' needed-strings table is current, and rules compile only when a text needs them."""

from __future__ import annotations

import json
import subprocess
import sys

from handlers.faq import guard_rules


def test_the_shipped_table_matches_the_rules() -> None:
    shipped = json.loads(guard_rules.NEEDS_FILE.read_text(encoding="utf-8"))
    assert shipped == guard_rules.needs_table(), (
        "handlers/faq/guard_needs.json is stale: run `python -m handlers.faq.guard_rules`")


def test_a_pattern_missing_from_the_table_is_parsed() -> None:
    pattern = r"\bnever in the table (foo|bar)baz\b"
    assert guard_rules._needs_of(pattern) == frozenset({"never in the table "})


def test_import_compiles_no_rule_and_a_question_compiles_few() -> None:
    code = (
        "import handlers.faq.guard_rules as g\n"
        "before = sum('pattern' in r.__dict__ for r in g.RULES)\n"
        "g.match('how do I report a phishing email')\n"
        "after = sum('pattern' in r.__dict__ for r in g.RULES)\n"
        "print(before, after, len(g.RULES))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after, total = map(int, out.stdout.split())
    assert before == 0
    assert 0 < after < total / 2


def test_lazily_compiled_rules_still_refuse() -> None:
    assert guard_rules.match("which party should I vote for") is not None
    assert guard_rules.match("how do we protect staff from doxxing") is None
