"""The project's labelled question sets in knowledge/eval are well formed, leak-free and as documented."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from handlers.faq.evaluate import load_items
from knowledge.article import Article
from knowledge.checks import check_articles, load_articles, normalize_question
from tests.support import REAL_KB, ROOT

EVAL = ROOT / "knowledge" / "eval"
NEW_TOPIC = EVAL / "new_topic_articles"
SPLITS = ("train", "calibration", "heldout")
ABSTAIN_KINDS = {"near_scope", "state_draft", "off_topic", "partisan", "personal_data",
                 "instructions"}
GUARD_CATEGORIES = {"partisan", "personal_data", "instructions"}
TODAY = date(2026, 11, 22)
SEEDS = ROOT.parent / "shared" / "seeds"


def _rows(path: Path) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        assert line.strip(), f"{path.name}:{number}: blank line"
        row = json.loads(line)
        assert isinstance(row, dict) and isinstance(row.get("q"), str) and row["q"].strip(), \
            f"{path.name}:{number}"
        rows.append(row)
    return rows


def _key(text: str) -> str:
    """Case, punctuation and spacing do not make a question new."""
    return " ".join(re.sub(r"[^\w\s]", " ", normalize_question(text)).split())


def _norm(text: str) -> str:
    return " ".join(text.lower().replace("-", " ").split())


def _articles(folder: Path) -> dict[str, Article]:
    articles, problems = load_articles(folder)
    assert problems == []
    return {a.id: a for a in articles}


def _files(prefix: str) -> dict[str, Path]:
    return {split: EVAL / f"{prefix}_{split}.jsonl" for split in SPLITS}


def _documented_counts() -> dict[str, int]:
    """``| file.jsonl | n |`` rows of the README's counts table."""
    text = (EVAL / "README.md").read_text(encoding="utf-8")
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"^\|\s*`?([\w.]+\.jsonl)`?\s*\|\s*(\d+)\s*\|", text, re.M)}


def _check_in_scope(rows: list[dict[str, Any]], articles: dict[str, Article]) -> None:
    for row in rows:
        art = articles.get(row["article"])
        assert art is not None, f"unknown article {row['article']!r} for {row['q']!r}"
        assert row["topic"] == row["article"]
        assert row["lang"] in {"en", "es"}
        phrases = row["expect_any"]
        assert isinstance(phrases, list) and phrases and all(isinstance(p, str) for p in phrases)
        text = _norm(f"{art.summary} {art.body}")
        if row["lang"] == "es" and art.es is not None:
            text += " " + _norm(f"{art.es.summary} {art.es.body}")
        assert any(_norm(p) in text for p in phrases), \
            f"no expected phrase of {row['q']!r} is in {art.id}"
        own = {_key(q) for q in [*art.questions, *(art.es.questions if art.es else [])]}
        assert _key(row["q"]) not in own, f"{row['q']!r} copies one of {art.id}'s own questions"


def test_every_file_is_jsonl_that_kb_eval_or_the_guard_can_read() -> None:
    for path in sorted(EVAL.glob("*.jsonl")):
        rows = _rows(path)
        assert rows, path.name
        if path.name.startswith("guard_"):
            for row in rows:
                assert row["label"] in {"refuse", "allow"}, row
                assert row["category"] in GUARD_CATEGORIES, row
        else:
            assert len(load_items(path)) == len(rows), path.name


def test_in_scope_sets_point_at_real_articles_and_never_copy_their_questions() -> None:
    articles = _articles(REAL_KB)
    rows = [r for path in _files("inscope").values() for r in _rows(path)]
    _check_in_scope(rows, articles)
    per_article = Counter(r["article"] for r in rows)
    assert set(per_article) == set(articles), "every article has questions"
    assert min(per_article.values()) >= 4
    spanish = sum(r["lang"] == "es" for r in rows) / len(rows)
    assert 0.08 <= spanish <= 0.2


def test_new_topic_articles_pass_kb_check_beside_the_base_and_stay_out_of_it() -> None:
    base, base_problems = load_articles(REAL_KB)
    new, new_problems = load_articles(NEW_TOPIC)
    assert base_problems == [] and new_problems == [] and len(new) >= 3
    assert check_articles([*base, *new], jurisdictions=["CA", "CT", "KS"], today=TODAY) == []
    assert not {a.id for a in new} & {a.id for a in base}
    openings = {"CA": "In California", "KS": "In Kansas", "CT": "In Connecticut"}
    for art in new:
        assert art.es is not None and art.sources[0].seed, art.id
        if art.jurisdiction in openings:
            assert art.summary.startswith(openings[art.jurisdiction]), art.id
        else:
            assert "national" in art.summary, art.id
    rows = _rows(EVAL / "new_topic_questions.jsonl")
    _check_in_scope(rows, {a.id: a for a in new})
    per_article = Counter(r["article"] for r in rows)
    assert set(per_article) == {a.id for a in new} and min(per_article.values()) >= 5


@pytest.mark.skipif(not SEEDS.exists(), reason="shared seeds not present beside the project")
def test_new_topic_articles_do_not_paste_seed_text() -> None:
    seed_words = " ".join(" ".join(p.read_text(encoding="utf-8").split()) for p in SEEDS.glob("*"))
    seed_text = re.sub(r"[^a-z0-9 ]", "", seed_words.lower())
    for art in _articles(NEW_TOPIC).values():
        words = re.sub(r"[^a-z0-9 ]", "", f"{art.summary} {art.body}".lower()).split()
        for i in range(len(words) - 12):
            assert " ".join(words[i:i + 12]) not in seed_text, art.id


def test_abstain_and_guard_sets_are_labelled() -> None:
    for path in _files("abstain").values():
        for row in _rows(path):
            assert row["expect"] == "abstain" and row["kind"] in ABSTAIN_KINDS, row
            if row["kind"] == "state_draft":
                assert row["names_state"], row
    guard = [r for path in _files("guard").values() for r in _rows(path)]
    labels = Counter(r["label"] for r in guard)
    assert labels["refuse"] >= 190 and labels["allow"] >= labels["refuse"]
    for category in GUARD_CATEGORIES:
        assert {r["label"] for r in guard if r["category"] == category} == {"refuse", "allow"}


def test_later_guard_training_batch_is_labelled_and_large_enough() -> None:
    rows = _rows(EVAL / "guard_train_extra.jsonl")
    assert {r["split"] for r in rows} == {"train_extra"}
    counts = Counter((r["label"], r["category"]) for r in rows)
    assert sum(n for (label, _), n in counts.items() if label == "refuse") >= 150
    assert sum(n for (label, _), n in counts.items() if label == "allow") >= 150
    for category in GUARD_CATEGORIES:
        assert counts[("refuse", category)] >= 40 and counts[("allow", category)] >= 40, category
    assert {r["lang"] for r in rows} == {"en", "es"}
    assert sum(r["lang"] == "es" for r in rows) >= 30


def test_answer_abstain_training_extras_stay_on_train_articles() -> None:
    """The later answer / abstain batch: train articles only, labelled, a Spanish share."""
    articles = _articles(REAL_KB)
    extra = _rows(EVAL / "inscope_train_extra.jsonl")
    _check_in_scope(extra, articles)
    train_articles = {r["article"] for r in _rows(EVAL / "inscope_train.jsonl")}
    assert {r["article"] for r in extra} <= train_articles, "only train articles"
    assert {r["split"] for r in extra} == {"train_extra"} and len(extra) >= 300
    assert 0.1 <= sum(r["lang"] == "es" for r in extra) / len(extra) <= 0.2
    assert set(Counter(r["article"] for r in extra)) == train_articles
    abstain = _rows(EVAL / "abstain_train_extra.jsonl")
    assert {r["split"] for r in abstain} == {"train_extra"} and len(abstain) >= 200
    kinds = Counter(r["kind"] for r in abstain)
    assert set(kinds) == {"near_scope", "state_draft", "off_topic"}, kinds
    assert kinds["near_scope"] >= 100 and kinds["state_draft"] >= 30 and kinds["off_topic"] >= 20
    for row in abstain:
        assert row["expect"] == "abstain" and row["lang"] in {"en", "es"}, row
        if row["kind"] in ("near_scope", "state_draft"):
            assert row["fact_kind"] and row["reason"], row
        if row["kind"] == "state_draft":
            assert row["names_state"], row
    assert sum(r["lang"] == "es" for r in abstain) >= 20


def test_no_question_is_in_two_places() -> None:
    seen: dict[str, str] = {}
    for path in sorted(EVAL.glob("*.jsonl")):
        for row in _rows(path):
            key = _key(row["q"])
            assert key not in seen, f"{row['q']!r} is in {seen.get(key)} and {path.name}"
            seen[key] = path.name


def test_in_scope_splits_keep_each_article_whole() -> None:
    owner: dict[str, str] = {}
    for split, path in _files("inscope").items():
        for row in _rows(path):
            assert row["split"] == split
            assert owner.setdefault(row["article"], split) == split, row["article"]


def test_split_sizes_are_as_documented() -> None:
    documented = _documented_counts()
    for path in sorted(EVAL.glob("*.jsonl")):
        assert documented.get(path.name) == len(_rows(path)), path.name
    for prefix in ("inscope", "abstain", "guard"):
        sizes = {split: len(_rows(path)) for split, path in _files(prefix).items()}
        total = sum(sizes.values())
        assert 0.4 <= sizes["train"] / total <= 0.6, (prefix, sizes)
        assert 0.12 <= sizes["calibration"] / total <= 0.28, (prefix, sizes)
        assert 0.22 <= sizes["heldout"] / total <= 0.38, (prefix, sizes)
    assert sum(len(_rows(p)) for p in _files("inscope").values()) >= 400
    assert sum(len(_rows(p)) for p in _files("abstain").values()) >= 250
    readme = (EVAL / "README.md").read_text(encoding="utf-8")
    assert "nothing is tuned on this split" in readme


def test_third_guard_held_out_set_covers_every_act_with_hard_negatives() -> None:
    """guard_heldout3: one split, every act refused and allowed, ~45 % allowed, a Spanish share."""
    rows = _rows(EVAL / "guard_heldout3.jsonl")
    assert {r["split"] for r in rows} == {"heldout3"} and len(rows) >= 180
    counts = Counter((r["label"], r["category"]) for r in rows)
    for category in GUARD_CATEGORIES:
        assert counts[("refuse", category)] >= 15 and counts[("allow", category)] >= 10, category
    assert 0.4 <= sum(r["label"] == "allow" for r in rows) / len(rows) <= 0.5
    assert 0.12 <= sum(r["lang"] == "es" for r in rows) / len(rows) <= 0.2
