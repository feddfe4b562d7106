"""handlers/ writes meaning, never platform markup (architecture rule 1).

Every string literal in handlers/ (docstrings excepted: they document, they are never shown) is
scanned for Slack emoji codes, Slack ``*bold*``, Slack mention / special syntax and Adaptive
Card JSON. Renderers in bot/adapters/ choose emoji, bold and cards; handlers give a tone, a
title, CommonMark text and facts.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"

# An emoji code is a whole word, ":name:", not part of a key such as "cert:done:", a time like
# 10:15 or a SQL pattern like "%:edit:%", and not a docutils role (":func:`x`", followed by a
# backtick).
EMOJI = re.compile(r"(?<![\w:{}%])(:[a-z0-9_+-]+:)(?![\w`{%])")
# Slack bold: one asterisk each side of a word (CommonMark bold, **x**, is the neutral form).
SLACK_BOLD = re.compile(r"(?<![*\w\\])\*[^*\s](?:[^*\n]*[^*\s])?\*(?![*\w])")
# Slack mentions and special mentions (<@U1>, <#C1>, <!here>, <!subteam^S1>, <!date^...>).
SLACK_SYNTAX = re.compile(r"<@|<#[A-Z0-9]|<!(?:here|channel|everyone|subteam|date)\b")
CARD_JSON = re.compile(r"AdaptiveCard|TextBlock|FactSet|Action\.(?:Submit|Execute|OpenUrl)|"
                       r"adaptivecards\.io|application/vnd\.microsoft\.card|\"blocks\"|mrkdwn")
RULES = {"emoji code": EMOJI, "Slack *bold*": SLACK_BOLD, "Slack mention syntax": SLACK_SYNTAX,
         "card or Block Kit JSON": CARD_JSON}


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string nodes that are docstrings."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string literal but docstrings; f-strings by their source text."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            out.append((node.lineno, ast.get_source_segment(source, node) or ""))
            skip.update(id(v) for v in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            out.append((node.lineno, node.value))
    return out


def markup_in(source: str) -> list[tuple[int, str, str]]:
    """(line, rule, match) for every piece of platform markup in the literals of ``source``."""
    return [(line, rule, match.group(0)) for line, text in literals(source)
            for rule, pattern in RULES.items() for match in pattern.finditer(text)]


def test_the_scanner_finds_each_kind_of_markup() -> None:
    """The rules catch what they are for, and leave neutral text and keys alone."""
    bad = '''x = f":no_entry: {a}"\ny = "*New incident*: x"\nz = "<@U123> and <!here>"\n''' \
          '''w = {"type": "AdaptiveCard"}\n'''
    assert {rule for _line, rule, _m in markup_in(bad)} == set(RULES)
    good = '''"""Doc :func:`x` and *emphasis*."""\nk = f"cert:done:{key}"\n''' \
           '''t = "at 10:15 UTC"\nb = "**Ask a question**: `/ask`"\nm = "by {@0}"\n''' \
           '''r = f"{key}:edit:{seq}"\ns = "TLP:AMBER | SEVERE"\np = 2 * 3 * 4\n'''
    assert markup_in(good) == []


@pytest.mark.parametrize("path", sorted(HANDLERS.rglob("*.py")), ids=lambda p: str(
    p.relative_to(HANDLERS.parent)))
def test_no_platform_markup_in_handlers(path: Path) -> None:
    """No emoji code, Slack bold or mention, or card JSON in any string a handler writes."""
    found = markup_in(path.read_text(encoding="utf-8"))
    assert found == [], f"{path.name}: platform markup {found}; give the Reply a tone/title " \
                        "and CommonMark text instead"
