"""The persisted lexical index: same answers as a fresh build, rebuilt on any change or damage."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from knowledge.checks import load_articles
from knowledge.index_cache import load_or_build
from knowledge.search import SearchIndex
from tests.support import REAL_KB

QUESTIONS = ["what is the PAUSE method", "how do I register to vote", "¿dónde voto?",
             "registar to vote deadline", "phone number for the county clerk"]


def _copy_kb(tmp_path: Path) -> Path:
    folder = tmp_path / "kb"
    shutil.copytree(REAL_KB, folder)
    return folder


def _answers(index: SearchIndex) -> list[list[tuple[str, float, float]]]:
    return [[(h.article.id, h.score, h.confidence) for h in index.search(q, limit=5)]
            for q in QUESTIONS]


def _cache_files(cache: Path) -> list[Path]:
    return sorted(cache.glob("index-*.json"))


def test_loaded_index_answers_exactly_like_a_fresh_build(tmp_path: Path) -> None:
    articles, problems = load_articles(REAL_KB)
    assert not problems
    cache = tmp_path / "cache"
    built = load_or_build(articles, cache)
    assert len(_cache_files(cache)) == 1
    loaded = load_or_build(articles, cache)
    assert loaded.postings.keys() == built.postings.keys()
    assert loaded.doc_terms == built.doc_terms and loaded.phrases == built.phrases
    assert _answers(loaded) == _answers(built) == _answers(SearchIndex(articles))


def test_an_edited_article_invalidates_the_cache(tmp_path: Path) -> None:
    folder = _copy_kb(tmp_path)
    cache = tmp_path / "cache"
    load_or_build(load_articles(folder)[0], cache)
    first = _cache_files(cache)
    target = next(p for p in sorted(folder.rglob("*.md")) if "PAUSE" in p.read_text())
    target.write_text(target.read_text().replace("PAUSE", "HALT"), encoding="utf-8")
    articles = load_articles(folder)[0]
    index = load_or_build(articles, cache)
    assert _cache_files(cache) != first and len(_cache_files(cache)) == 1  # rebuilt, old dropped
    assert "halt" in index.postings  # the edit is searchable, not the stale index
    assert _answers(index) == _answers(SearchIndex(articles))


def test_a_corrupt_or_foreign_cache_file_is_ignored_and_rewritten(tmp_path: Path) -> None:
    articles = load_articles(REAL_KB)[0]
    cache = tmp_path / "cache"
    load_or_build(articles, cache)
    (path,) = _cache_files(cache)
    fresh = _answers(SearchIndex(articles))
    good = path.read_bytes()
    data = json.loads(good)
    data["docs"][0] = [10**6]  # an article index that does not exist
    for damage in (good[: len(good) // 2], b"\x00garbage", json.dumps(data).encode(),
                   json.dumps({**json.loads(good), "key": "0" * 64}).encode(), b"[]"):
        path.write_bytes(damage)
        assert _answers(load_or_build(articles, cache)) == fresh
        assert path.read_bytes() == good  # rebuilt and written again


def test_an_unwritable_cache_dir_still_answers(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    articles = load_articles(REAL_KB)[0]
    assert _answers(load_or_build(articles, blocker / "cache")) == _answers(SearchIndex(articles))
