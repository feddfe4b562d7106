"""The danger rules on their labelled sets: the figures ``handlers/incidents/eval`` reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handlers.incidents.danger import may_report, reports_danger, signals_danger

EVAL = Path(__file__).resolve().parents[3] / "handlers" / "incidents" / "eval"
#: file -> (reports read as reports, reports with a 911 line, questions, harmless), measured.
BARS = {"danger_train1.jsonl": (50, 50, 48, 51), "danger_train2.jsonl": (50, 50, 43, 50),
        "danger_train3.jsonl": (60, 60, 35, 60), "danger_train4.jsonl": (41, 41, 34, 58),
        "danger_heldout.jsonl": (40, 41, 29, 59)}


def figures(path: Path) -> tuple[int, int, int, int]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    reports = [r["text"] for r in rows if r["label"] == "report"]
    questions = [r["text"] for r in rows if r["label"] == "question"]
    harmless = [r["text"] for r in rows if r["label"] == "harmless"]
    return (sum(map(reports_danger, reports)), sum(map(signals_danger, reports)),
            sum(signals_danger(q) and not reports_danger(q) for q in questions),
            sum(not signals_danger(h) for h in harmless))


def test_every_set_is_listed_and_well_formed() -> None:
    assert sorted(p.name for p in EVAL.glob("*.jsonl")) == sorted(BARS)
    for name in BARS:
        for line in (EVAL / name).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            assert set(row) == {"text", "label", "lang"}
            assert row["label"] in ("report", "question", "harmless") and row["lang"] in ("en", "es")
    assert all(name in (EVAL / "README.md").read_text(encoding="utf-8") for name in BARS)


@pytest.mark.parametrize("name", sorted(BARS))
def test_the_rules_keep_their_measured_figures(name: str) -> None:
    found = figures(EVAL / name)
    assert all(f >= bar for f, bar in zip(found, BARS[name], strict=True)), (name, found)


#: file -> (reports without a danger word, of those ending an abstention with the 911 line).
UNWORDED = {"danger_train4.jsonl": (19, 17), "danger_heldout.jsonl": (19, 19)}


@pytest.mark.parametrize("name", sorted(UNWORDED))
def test_reports_the_words_miss_still_end_an_abstention_with_the_911_line(name: str) -> None:
    """An abstention's 911 line is kept for messages that may report (``may_report``): the
    reports with no danger word (the FAQ gets them) keep it; plain questions lose it."""
    rows = [json.loads(line) for line in (EVAL / name).read_text(encoding="utf-8").splitlines()]
    unworded = [r["text"] for r in rows if r["label"] == "report" and not signals_danger(r["text"])]
    total, bar = UNWORDED[name]
    assert len(unworded) == total and sum(map(may_report, unworded)) >= bar
