"""The persisted lexical index: same answers as a fresh build, rebuilt on any change or damage."""

from __future__ import annotations

import hashlib
import io
import random
import shutil
from array import array
from datetime import date
from pathlib import Path

import pytest

from knowledge.article import Article, Translation
from knowledge.checks import load_articles
from knowledge.decide import KIND_BITS, BaseFacts, Retriever, kinds_masks
from knowledge.index_cache import _HEADER, FORMAT, MAGIC, cache_key, load_or_build, read, write
from knowledge.packed import NUMBER, Layout, all_below
from knowledge.search import SearchIndex
from tests.support import REAL_KB

QUESTIONS = ["what is the PAUSE method", "how do I register to vote", "¿dónde voto?",
             "registar to vote deadline", "phone number for the county clerk",
             "how many fusion centers are there", "what time do the polls open",
             "who do I call about a threat to an election worker in Kansas"]


def _copy_kb(tmp_path: Path) -> Path:
    folder = tmp_path / "kb"
    shutil.copytree(REAL_KB, folder)
    return folder


def _answers(index: SearchIndex) -> list[list[tuple[str, float, float, str]]]:
    return [[(h.article.id, h.score, h.confidence, h.language) for h in index.search(q, limit=6)]
            for q in QUESTIONS]


def _cache_files(cache: Path) -> list[Path]:
    return sorted(cache.glob("index-*"))


def _same_index(a: SearchIndex, b: SearchIndex) -> None:
    """Every view equal: postings (articles and exact weights), term sets, phrases, facts."""
    assert list(a.postings) == list(b.postings)
    for term in a.postings:
        assert a.postings[term] == b.postings[term]
    assert a.idf == b.idf
    assert list(a.doc_terms) == list(b.doc_terms) and list(a.phrases) == list(b.phrases)
    assert list(a.supplies) == list(b.supplies) and list(a.counted) == list(b.counted)


def _synthetic(count: int) -> list[Article]:
    """Articles with Spanish, numbers, phone numbers, accents and apostrophes."""
    out = []
    for i in range(count):
        es = (Translation(title=f"Cómo votar {i}", summary=f"Llame al {i} 555-010-{i:04d}.",
                          questions=[f"¿dónde está la oficina {i}?"], body="Más información.")
              if i % 2 else None)
        out.append(Article(
            id=f"synthetic-{i}", title=f"Step {i}: the county's {i} drop boxes",
            summary=f"There are {i} fusion centers; call 555-010-{i:04d} or mail x{i}@example.gov.",
            questions=[f"how many drop boxes are in county {i}", f"who runs centre {i}"],
            tags=["drop-box", f"t{i % 7}"], jurisdiction="general",
            sources=[{"document": "synthetic"}],  # type: ignore[list-item]
            owner="test", reviewed_on=date(2026, 1, 1), review_by=date(2099, 1, 1),
            status="approved", es=es, body=f"Open 8 a.m. to {i % 12 + 1} p.m. at {i} Main Street."))
    return out


def test_loaded_index_answers_exactly_like_a_fresh_build(tmp_path: Path) -> None:
    articles, problems = load_articles(REAL_KB)
    assert not problems
    articles += _synthetic(300)
    cache = tmp_path / "cache"
    built = load_or_build(articles, cache)
    (path,) = _cache_files(cache)
    assert path.suffix == ".bin" and path.read_bytes().startswith(MAGIC)
    loaded = load_or_build(articles, cache)
    assert loaded.layout is not built.layout  # really read back from the file
    fresh = SearchIndex(articles)
    _same_index(loaded, fresh)
    _same_index(built, fresh)
    assert _answers(loaded) == _answers(built) == _answers(fresh)
    assert any(_answers(fresh))  # the questions do find articles
    # The decision's fact kinds, stored in the file, are those found per article without it.
    assert fresh.kinds is None and loaded.kinds == built.kinds
    found, stored = BaseFacts(articles), BaseFacts(articles, loaded.kinds)
    assert [stored[d] for d in range(len(articles))] == [found[d] for d in range(len(articles))]
    assert any(found[d].kinds for d in range(len(articles)))
    assert ([_decided(Retriever(loaded, None), q) for q in QUESTIONS]
            == [_decided(Retriever(fresh, None), q) for q in QUESTIONS])


def _decided(retriever: Retriever, question: str) -> list[tuple[str, float]]:
    return [(h.article.id, h.confidence) for h in retriever.search(question, limit=3)]


def test_the_file_round_trips_every_array(tmp_path: Path) -> None:
    articles = load_articles(REAL_KB)[0]
    layout = SearchIndex(articles).layout
    kinds = kinds_masks(articles)
    key = cache_key(articles)
    out = io.BytesIO()
    write(layout, kinds, key, len(articles), out)
    out.seek(0)
    again = read(out, key, len(articles))
    assert again == (layout, kinds)  # dataclass equality: every array and the strings


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


def test_the_key_follows_articles_order_synonyms_and_format(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    articles = load_articles(REAL_KB)[0]
    key = cache_key(articles)
    assert cache_key(list(articles)) == key  # stable
    assert cache_key(articles[::-1]) != key and cache_key(articles[:-1]) != key
    synonyms = tmp_path / "synonyms.yaml"
    synonyms.write_bytes((REAL_KB.parent / "synonyms.yaml").read_bytes() + b"\n# edited\n")
    assert cache_key(articles, synonyms_path=synonyms) != key
    monkeypatch.setattr("knowledge.index_cache.FORMAT", FORMAT + 1)
    assert cache_key(articles) != key
    monkeypatch.setattr("knowledge.index_cache.FORMAT", FORMAT)
    assert cache_key(articles) == key
    monkeypatch.setattr("knowledge.index_cache.unidata_version", "0.0.0")  # another Python
    assert cache_key(articles) != key


def test_the_range_check_is_max_below(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("knowledge.packed.CHUNK", 3)  # numbers compared a few at a time
    rng = random.Random(16)
    edges = [0, 1, -1, 255, 256, 65535, 65536, 2**31 - 1, -2**31]
    for _ in range(20000):
        numbers = [rng.choice([*edges, rng.randrange(-2**31, 2**31), rng.randrange(300)])
                   for _ in range(rng.randint(0, 8))]
        unsigned = [n % 2**32 for n in numbers]
        below = rng.choice([0, 1, 2, 255, 256, 257, 65536, 2**31, 2**32, 2**32 + 1, -1,
                            rng.randrange(1, 2**33), *unsigned, *(u + 1 for u in unsigned)])
        expected = all(u < below for u in unsigned)
        assert all_below(array(NUMBER, numbers), below) == expected, (numbers, below)


def _reseal(data: bytes) -> bytes:
    """The same file with its digest recomputed (a damaged file that passes the checksum)."""
    start = len(MAGIC) + _HEADER.size
    fields = list(_HEADER.unpack_from(data, len(MAGIC)))
    fields[3] = hashlib.sha256(data[start:]).digest()
    return MAGIC + _HEADER.pack(*fields) + data[start:]


def test_a_corrupt_or_foreign_cache_file_is_ignored_and_rewritten(tmp_path: Path) -> None:
    articles = load_articles(REAL_KB)[0]
    cache = tmp_path / "cache"
    load_or_build(articles, cache)
    (path,) = _cache_files(cache)
    fresh = _answers(SearchIndex(articles))
    good = path.read_bytes()
    start = len(MAGIC) + _HEADER.size
    flipped = bytearray(good)
    flipped[-5] ^= 0x01  # one bit of a stored number: caught by the digest
    fields = list(_HEADER.unpack_from(good, len(MAGIC)))
    strings_size = fields[6]
    post_docs = start + strings_size + fields[7]  # after the strings and the posting offsets
    out_of_range = bytearray(good)
    out_of_range[post_docs:post_docs + 4] = array("i", [10**6]).tobytes()  # no such article
    backwards = bytearray(good)  # the first posting offset is not 0
    backwards[start + strings_size:start + strings_size + 8] = array("q", [5]).tobytes()
    other_key = bytearray(good)
    other_key[len(MAGIC) + 5:len(MAGIC) + 69] = b"0" * 64
    huge = bytearray(good)  # a section said to be far larger than the file
    huge[len(MAGIC) + 117:len(MAGIC) + 125] = (2**60).to_bytes(8, "little")
    other_format = bytearray(good)
    other_format[len(MAGIC):len(MAGIC) + 4] = (FORMAT + 1).to_bytes(4, "little")
    unknown_kind = bytearray(good)  # a fact kind no code knows, in the last article's mask
    unknown_kind[-4:] = array("I", [1 << len(KIND_BITS)]).tobytes()
    for damage in (good[: len(good) // 2], b"\x00garbage", b"", MAGIC, bytes(flipped),
                   _reseal(bytes(unknown_kind)),
                   _reseal(bytes(out_of_range)), _reseal(bytes(backwards)),
                   _reseal(good[:start] + b"[1,2" + good[start + 4:]),
                   bytes(other_key), bytes(other_format), _reseal(bytes(huge))):
        path.write_bytes(damage)
        assert _answers(load_or_build(articles, cache)) == fresh
        assert path.read_bytes() == good  # rebuilt and written again


def test_an_old_json_cache_is_replaced(tmp_path: Path) -> None:
    articles = load_articles(REAL_KB)[0]
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / f"index-{cache_key(articles)[:32]}.json").write_text("{}")
    load_or_build(articles, cache)
    assert [p.suffix for p in _cache_files(cache)] == [".bin"]


def test_an_unwritable_cache_dir_still_answers(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    articles = load_articles(REAL_KB)[0]
    index = load_or_build(articles, blocker / "cache")
    assert _answers(index) == _answers(SearchIndex(articles))
    assert index.kinds is None  # found per article on first use, not all at every start


def test_the_views_behave_like_the_lists_they_replace() -> None:
    index = SearchIndex(_synthetic(5))
    terms = [index.doc_terms[i] for i in range(5)]
    assert index.doc_terms[-1] == terms[-1] and index.doc_terms[1:3] == terms[1:3]
    assert len(index.doc_terms) == len(index.phrases) == len(index.supplies) == 5
    with pytest.raises(IndexError):
        index.doc_terms[5]
    phrases = index.phrases[0]
    phrases.clear()  # a caller changing its copy does not change the index
    assert index.phrases[0] and all(isinstance(p, frozenset) for p in index.phrases[0])
    assert "phone" in index.supplies[1] and "email" in index.supplies[1]
    assert {"fusion", "center"} <= index.counted[3]
    docs, weights = index.postings["fusion"]
    assert list(docs) == [0, 1, 2, 3, 4] and len(weights) == 5
    assert "no-such-term" not in index.postings
    with pytest.raises(KeyError):
        index.postings["no-such-term"]


def test_layout_equality_is_what_the_file_stores() -> None:
    layout = SearchIndex(_synthetic(3)).layout
    assert isinstance(layout, Layout) and layout.terms <= len(layout.strings)
    layout.check(3)
