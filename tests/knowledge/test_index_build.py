"""The vectorised build gives exactly the index the plain Python build gave (issue 16).

:func:`reference_layout` is the build as it was at b4ba5d1 (one Python pass per article, then
one per (article, term)), with the analysis it used then (``stem`` per word, every answer-type
pattern on every text, every clause scanned for numbers). The new build must give the same
layout, array for array: the same strings in the same order, the same postings and bit-identical
weights; and so the same ranked answers, scores and confidences. Checked on the real base, on the
benchmarks' synthetic base and on articles made to hit the edge cases (Spanish, numbers, phone
numbers, e-mail, accents, apostrophes, a synonym split across two question lines).
"""

from __future__ import annotations

import json
import random
import re
from array import array
from collections import Counter
from collections.abc import Sequence
from datetime import date

import pytest

from knowledge.article import Article, Translation
from knowledge.checks import load_articles
from knowledge.index_build import FIELDS, K1, build_layout
from knowledge.packed import NUMBER, OFFSET, WEIGHT, Layout, Runs, RunsBuilder
from knowledge.search import SearchIndex
from knowledge.synonyms import Analyzer
from knowledge.text import (
    _ANSWER_TYPES,
    _CLAUSE,
    COUNT_WINDOW,
    NUMBER_WORDS,
    STOP_WORDS,
    counted_nouns,
    stem,
    stems,
    supplied_types,
    words,
)
from tests.support import REAL_KB, ROOT

#: Questions asked of both indexes: the train splits only (never the held-out ones).
QUESTION_FILES = ("inscope_train.jsonl", "abstain_train.jsonl")


# --- the reference: the analysis and the build as they were -------------------------------

def old_terms(analyzer: Analyzer, text: str, language: str = "en") -> list[str]:
    stemmed = [stem(w, language) for w in words(text)]
    return [t for t in analyzer.synonyms.rewrite(stemmed) if t and t not in STOP_WORDS]


def old_supplied_types(text: str) -> frozenset[str]:
    low = text.lower()
    return frozenset(name for name, (_ask, has) in _ANSWER_TYPES.items() if has.search(low))


def old_counted_nouns(text: str) -> frozenset[str]:
    out: set[str] = set()
    for clause in _CLAUSE.split(text):
        tokens = words(clause)
        for i, tok in enumerate(tokens):
            if tok.isdigit() or tok in NUMBER_WORDS:
                for follower in tokens[i + 1:i + 1 + COUNT_WINDOW]:
                    out.update({stem(follower, "en"), stem(follower, "es")})
    return frozenset(out)


def _field_texts(art: Article) -> dict[str, tuple[str, str]]:
    texts = {"title": (art.title, "en"), "questions": ("\n".join(art.questions), "en"),
             "summary": (art.summary, "en"), "body": (art.body, "en"),
             "tags": (" ".join(t.replace("-", " ") for t in art.tags), "en")}
    if art.es is not None:
        texts["es_title"] = (art.es.title, "es")
        texts["es_questions"] = ("\n".join(art.es.questions), "es")
        texts["es_summary"] = (art.es.summary, "es")
        texts["es_body"] = (art.es.body, "es")
    return texts


def reference_layout(articles: Sequence[Article], analyzer: Analyzer) -> Layout:
    """b4ba5d1's ``knowledge.search.build_layout``, word for word but for the names above.

    Only the answer facts are left out: the layout no longer holds them (the index finds them
    per article when a question asks for one); :func:`reference_facts` has them.
    """
    field_number = {name: i for i, name in enumerate(FIELDS)}
    field_weights = list(FIELDS.values())
    vocabulary: dict[str, int] = {}
    others: dict[str, int] = {}
    seg_field, seg_end, seg_length = array("b"), array("q"), array("q")
    doc_segments = array("q", [0])
    f_terms, f_counts = array(NUMBER), array(NUMBER)
    totals = [0] * len(FIELDS)
    phrases = RunsBuilder()
    phrase_starts = array(OFFSET, [0])

    def number(term: str) -> int:
        found = vocabulary.get(term)
        if found is None:
            found = vocabulary[term] = len(vocabulary)
        return found

    def other(text: str) -> int:
        found = others.get(text)
        if found is None:
            found = others[text] = len(others)
        return found

    for art in articles:
        field_terms = {}
        for name, (text, lang) in _field_texts(art).items():
            terms = field_terms[name] = old_terms(analyzer, text, lang)
            counts = Counter(terms)
            f_terms.extend(map(number, counts))
            f_counts.extend(counts.values())
            field = field_number[name]
            seg_field.append(field)
            seg_end.append(len(f_terms))
            seg_length.append(len(terms))
            totals[field] += len(terms)
        doc_segments.append(len(seg_field))
        texts = [field_terms["title"], *(old_terms(analyzer, q, "en") for q in art.questions)]
        if art.es is not None:
            texts += [field_terms["es_title"],
                      *(old_terms(analyzer, q, "es") for q in art.es.questions)]
        for terms in texts:
            phrases.add(list(map(other, dict.fromkeys(terms))))
        phrase_starts.append(len(phrases.offsets) - 1)

    n = len(articles)
    avg = [max(total / max(n, 1), 1.0) for total in totals]
    docs_of = [array(NUMBER) for _ in vocabulary]
    weights_of: list[array[float]] = [array(WEIGHT) for _ in vocabulary]
    doc_terms = RunsBuilder()
    start = 0
    for doc in range(n):
        tf: dict[int, float] = {}
        get = tf.get
        for seg in range(doc_segments[doc], doc_segments[doc + 1]):
            field = seg_field[seg]
            weight, b = field_weights[field]
            norm = 1 - b + b * seg_length[seg] / avg[field]
            end = seg_end[seg]
            for term, count in zip(f_terms[start:end], f_counts[start:end], strict=True):
                tf[term] = get(term, 0.0) + weight * count / norm
            start = end
        for term, value in tf.items():
            docs_of[term].append(doc)
            weights_of[term].append(value * (K1 + 1) / (K1 + value))
        doc_terms.add(array(NUMBER, tf))
    post_offsets, post_docs = array(OFFSET, [0]), array(NUMBER)
    post_weights: array[float] = array(WEIGHT)
    for docs, weights in zip(docs_of, weights_of, strict=True):
        post_docs.extend(docs)
        post_weights.extend(weights)
        post_offsets.append(len(post_docs))

    strings = list(vocabulary)
    renumber = array(NUMBER)
    for text in others:
        found = vocabulary.get(text)
        if found is None:
            found = len(strings)
            strings.append(text)
        renumber.append(found)

    def moved(runs: Runs) -> Runs:
        return Runs(runs.offsets, array(NUMBER, map(renumber.__getitem__, runs.values)))

    return Layout(strings, len(vocabulary), post_offsets, post_docs, post_weights,
                  doc_terms.done(), phrase_starts, moved(phrases.done()))


def reference_facts(articles: Sequence[Article]) -> list[tuple[frozenset[str], frozenset[str]]]:
    """Per article, the answer types and counted nouns b4ba5d1's build stored."""
    out = []
    for art in articles:
        answer = " ".join([art.summary, art.body, art.es.summary if art.es else "",
                           art.es.body if art.es else ""])
        out.append((old_supplied_types(answer), old_counted_nouns(answer)))
    return out


# --- the bases and questions ------------------------------------------------------------

def edge_articles(count: int) -> list[Article]:
    """Spanish, numbers and number words, phones, e-mail, times, prices, accents, apostrophes."""
    rng = random.Random(16)
    pieces = ["the county's", "registrar", "of voters", "ROV", "drop boxes", "8 a.m.", "noon",
              "555-010-1234", "clerk@example.gov", "$25", "free", "P.O. Box 12", "two dozen",
              "cómo", "¿dónde voto?", "elecciones", "Secretary of State", "80 fusion centers",
              "don't", "it’s", "twenty-one", "(see below)", "café", "naïve", "ﬁle", "½", "½ hour",
              "CISA", "ｆｕｌｌｗｉｄｔｈ ２０２４", "1st", "24/7", "e-mail", "no cost", "funding",
              "nul\x00byte", "soh\x01voter", "voter’s'"]  # the build's markers within a text

    def text(k: int) -> str:
        return " ".join(rng.choice(pieces) for _ in range(k)) + rng.choice([".", ";", ",", ""])

    out = []
    for i in range(count):
        es = (Translation(title=text(3), summary=text(8), questions=[text(4), text(3)],
                          body=text(10)) if i % 2 else None)
        questions = [text(rng.randint(1, 5)) for _ in range(rng.randint(1, 4))]
        if i % 5 == 0:  # a synonym split across two question lines
            questions = ["who is the registrar", "of voters here", *questions]
        out.append(Article(
            id=f"edge-{i}", title=text(4), summary=text(12), questions=questions,
            tags=["drop-box", f"t{i % 7}"], jurisdiction="general",
            sources=[{"document": "synthetic"}],  # type: ignore[list-item]
            owner="test", reviewed_on=date(2026, 1, 1), review_by=date(2099, 1, 1),
            status="approved", es=es, body=" ".join(text(6) for _ in range(rng.randint(0, 6)))))
    return out


def train_questions() -> list[str]:
    out = []
    for name in QUESTION_FILES:
        lines = (ROOT / "knowledge" / "eval" / name).read_text(encoding="utf-8").splitlines()
        out += [json.loads(line)["q"] for line in lines if line.strip()]
    return out


@pytest.fixture(scope="module")
def real() -> list[Article]:
    articles, problems = load_articles(REAL_KB)
    assert not problems
    return articles


def _synthetic(real: list[Article], n: int) -> list[Article]:
    from benchmarks.faq_bench import synthetic

    return synthetic(real, n)


def _answers(index: SearchIndex, questions: list[str]) -> list[list[tuple[str, float, float]]]:
    return [[(h.article.id, h.score, h.confidence) for h in index.search(q, limit=6)]
            for q in questions]


# --- the checks ---------------------------------------------------------------------------

@pytest.mark.parametrize("base", ["real", "edge", "real+synthetic"])
def test_the_layout_is_the_reference_layout(real: list[Article], base: str) -> None:
    articles = {"real": real, "edge": edge_articles(120),
                "real+synthetic": real + _synthetic(real, 1000 - len(real))}[base]
    analyzer = Analyzer()
    built, reference = build_layout(articles, analyzer), reference_layout(articles, analyzer)
    assert built.strings == reference.strings and built.terms == reference.terms
    for name in ("post_offsets", "post_docs", "post_weights", "phrase_starts"):
        ours, theirs = getattr(built, name), getattr(reference, name)
        assert ours.typecode == theirs.typecode and ours.tobytes() == theirs.tobytes(), name
    for name in ("doc_terms", "phrases"):
        assert getattr(built, name) == getattr(reference, name), name
    assert built == reference
    index = SearchIndex.from_layout(articles, built)
    assert list(zip(index.supplies, index.counted, strict=True)) == reference_facts(articles)


def test_the_answers_are_the_reference_answers(real: list[Article]) -> None:
    questions = train_questions()
    assert len(questions) > 200
    for articles in (real, real + _synthetic(real, 1000 - len(real))):
        fresh = SearchIndex(articles)
        reference = SearchIndex.from_layout(articles, reference_layout(articles, Analyzer()))
        assert _answers(fresh, questions) == _answers(reference, questions)
    assert sum(1 for a in _answers(fresh, questions) if a) > 100  # the questions do rank


def test_the_faster_analysis_gives_the_same_terms_and_facts(real: list[Article]) -> None:
    analyzer = Analyzer()
    texts = [t for a in real + edge_articles(60)
             for t in (a.title, a.summary, a.body, *a.questions, "\n".join(a.questions))]
    for text in texts:
        for language in ("en", "es"):
            assert analyzer.terms(text, language) == old_terms(analyzer, text, language)
            assert stems(text, language) == [stem(w, language) for w in words(text)]
        assert supplied_types(text) == old_supplied_types(text), text
        assert counted_nouns(text) == old_counted_nouns(text), text
    rng = random.Random(16)
    alphabet = "ab019 @$.,;:()\n-–—'’áñ½²ﬁ٣" + "".join(sorted({c for w in NUMBER_WORDS for c in w}))
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        text += rng.choice(["", " 12 noon", " o'clock", " po box", " free", " one two"])
        assert supplied_types(text) == old_supplied_types(text), repr(text)
        assert counted_nouns(text) == old_counted_nouns(text), repr(text)


def test_questions_field_is_the_questions_stems_one_after_the_other() -> None:
    analyzer = Analyzer()
    rng = random.Random(16)
    pieces = ["registrar", "of", "voters", "it’s", "don't", "café", "½", "ﬁle", "Σ", "ΣΑΣ",
              "x", "9", "-", "'", ".", "voter's", "\u0301", "İ"]
    for _ in range(2000):
        questions = [" ".join(rng.choice(pieces) for _ in range(rng.randint(0, 5)))
                     for _ in range(rng.randint(0, 4))]
        joined = [s for q in questions for s in stems(q)]
        assert stems("\n".join(questions)) == joined, questions
        assert analyzer.terms("\n".join(questions)) == analyzer.finish(joined)


def test_pass_two_blocks_do_not_change_the_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    articles = edge_articles(50)
    whole = build_layout(articles, Analyzer())
    monkeypatch.setattr("knowledge.index_build.BLOCK", 7)
    assert build_layout(articles, Analyzer()) == whole
    assert build_layout([], Analyzer()) == reference_layout([], Analyzer())


def test_stem_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from knowledge import text

    monkeypatch.setattr(text, "STEM_CACHE_SIZE", 10)
    many = " ".join(f"word{i}s" for i in range(100))
    assert stems(many) == [stem(w) for w in words(many)]
    assert len(text._STEMS["en"]) <= 10
    assert re.fullmatch(r"word\d+", stems(many)[-1])
