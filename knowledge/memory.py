"""Questions the curators have labelled, kept as a memory the semantic decision consults.

Each labelled question (answered by article X, or one the base must decline) is kept as its
sentence vector. For a new question the memory says how close it comes to the known phrasings of
each candidate article, and to questions the base was found unable to answer: the nearest
labelled neighbours, a non-linear signal beside the decision's linear weights. It changes whether
to answer and which candidate the decision prefers, never what an answer says.

Why: grouped by writing batch on train (``benchmarks/fit_decision.py --cv``), the fused decision
with these features answers more in-scope questions at the same abstain rate (see the fit's docs).

The memory belongs to one base: a question labelled "decline" means *this* base cannot answer it.
Rows about articles the base does not hold are dropped; a base with no labelled questions runs the
decision model fitted without the memory (``knowledge.decide.Retriever.model``).

Vectors: the texts are embedded as questions are (the analysed question, clipped as
:class:`knowledge.semantic.QueryCache` clips it). ``memory_vectors.npz`` next to this file ships
them for the shipped base and engine (``benchmarks/fit_decision.py`` writes it), so a first start
does not spend a minute embedding; what it lacks is embedded and kept in the embedding cache.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.semantic import (
    BATCH,
    DEFAULT_CACHE,
    QUERY_TOKENS,
    EmbeddingCache,
    _key,
    _words,
    clip,
    stored_key,
)
from knowledge.text import strip_preamble

log = logging.getLogger(__name__)

#: The candidate features the memory adds (the ``lexical+semantic+memory`` model reads them).
MEMORY_FEATURES = ("mem_sim", "mem_has", "mem_top", "mem_lead", "neg_sim", "neg_gap")
#: Vectors shipped for the shipped base's labelled questions (see the module's docs).
SHIPPED = Path(__file__).with_name("memory_vectors.npz")
#: Kinds the guard refuses before retrieval: not the decision's business.
GUARDED = frozenset({"partisan", "personal_data", "instructions"})
#: A memory file is read only up to this size (a labelled set is a few hundred KB).
MAX_FILE_BYTES = 20_000_000


@dataclass(frozen=True)
class Labelled:
    """One labelled question: the article that answers it, or None (the base must decline)."""

    text: str
    article: str | None
    group: str


def group_of(path: Path) -> str:
    """The writing batch of a file (``inscope_train_extra3.jsonl`` -> ``train_extra3``).

    The in-scope and decline files of one batch were written together: one group.
    """
    return path.stem.split("_", 1)[-1]


def read_labelled(paths: Iterable[Path]) -> list[Labelled]:
    """The answer / decline questions of JSON-lines files (``knowledge/eval`` format).

    A row with ``expect_any`` and an ``article`` is answered by that article; a row with
    ``"expect": "abstain"`` must be declined, except the kinds the guard refuses. Unreadable files
    and malformed rows are skipped with a warning that gives the file and the count, not the text.
    """
    out: list[Labelled] = []
    for path in sorted(set(paths)):
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise OSError("file too large")
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("labelled questions unreadable; skipped",
                        extra={"file": path.name, "error": type(exc).__name__})
            continue
        bad = 0
        for line in lines:
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text = row["q"]
                if not isinstance(row, dict) or not isinstance(text, str) or not text.strip():
                    raise ValueError
            except (ValueError, KeyError, TypeError, RecursionError):  # nested past json's limit
                bad += 1
                continue
            if row.get("kind") in GUARDED:
                continue
            if "expect_any" in row and isinstance(row.get("article"), str):
                out.append(Labelled(text, row["article"], group_of(path)))
            elif row.get("expect") == "abstain":
                out.append(Labelled(text, None, group_of(path)))
        if bad:
            log.warning("malformed labelled questions skipped", extra={"file": path.name,
                                                                        "rows": bad})
    return out


def resolve(patterns: Sequence[str], base: Path) -> list[Path]:
    """Files matching app.yaml's ``question_memory`` globs (relative to ``base``), sorted."""
    found: set[Path] = set()
    for pattern in patterns:
        p = Path(pattern)
        if p.is_absolute():
            found.update(q for q in Path(p.anchor).glob(str(p.relative_to(p.anchor))) if q.is_file())
        else:
            found.update(q for q in base.glob(pattern) if q.is_file())
    return sorted(found)


class QuestionMemory:
    """Labelled question vectors and the article (index in the base, -1: decline) of each."""

    def __init__(self, vectors: np.ndarray, docs: np.ndarray, groups: Sequence[str],
                 n_docs: int, keys: Sequence[bytes] = ()) -> None:
        """Keep the rows.

        ``vectors`` (n x d, unit length), ``docs`` (n), ``groups`` (n), ``n_docs`` articles in
        the base; ``keys``: each vector's cache key (what :func:`save_shipped` writes).
        """
        self.keys = list(keys)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.docs = np.asarray(docs, dtype=np.intp)
        self.groups = np.asarray(list(groups), dtype=object)
        self.n_docs = n_docs
        self._views: dict[frozenset[str], tuple[np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        """How many labelled questions it holds."""
        return len(self.docs)

    @property
    def answered(self) -> int:
        """How many of them an article answers."""
        return int((self.docs >= 0).sum())

    @classmethod
    def build(cls, labelled: Sequence[Labelled], *, article_ids: Sequence[str],
              embedder: Any, cache_dir: Path | None = None,
              disk_cache: bool = True, shipped: Path | None = SHIPPED) -> QuestionMemory | None:
        """Embed (or read back) each labelled question about this base; None when none is.

        Vectors missing from ``shipped`` are kept in ``cache_dir`` (default: the embedding cache,
        :data:`knowledge.semantic.DEFAULT_CACHE`; ``disk_cache=False``: nowhere).

        Each question is embedded from the text the retriever embeds a question from
        (``SearchIndex.analyse``'s query: without its opener, at most 2,000 characters, clipped),
        without running the search itself.
        """
        doc_of = {a: n for n, a in enumerate(article_ids)}
        rows = [lab for lab in labelled if lab.article is None or lab.article in doc_of]
        if not any(lab.article is not None for lab in rows):
            return None
        count = getattr(embedder, "token_count", _words)
        texts = [clip(strip_preamble(lab.text)[:2000], count, QUERY_TOKENS) for lab in rows]
        keep = [n for n, t in enumerate(texts) if t.strip()]
        rows, texts = [rows[n] for n in keep], [texts[n] for n in keep]
        keys = [_key("query\0" + t) for t in texts]
        folder = cache_dir or (DEFAULT_CACHE if disk_cache else None)
        cache = EmbeddingCache(folder, embedder.name + "-questions")
        cached = cache.load()
        stored = {**load_shipped(shipped, embedder.name), **cached}
        missing = sorted({i for i, k in enumerate(keys) if k not in stored},
                         key=lambda i: keys[i])
        fresh: dict[bytes, np.ndarray] = {}
        for lo in range(0, len(missing), BATCH):
            batch = missing[lo:lo + BATCH]
            for i, vec in zip(batch, embedder.queries([texts[i] for i in batch]), strict=True):
                fresh[keys[i]] = np.asarray(vec, dtype=np.float32)
        if fresh:
            every = {**cached, **fresh}  # the shipped vectors stay in their own file
            cache.save(list(every), np.vstack(list(every.values())).astype(np.float32))
        vectors = np.vstack([fresh[k] if k in fresh else stored[k] for k in keys])
        docs = np.array([-1 if lab.article is None else doc_of[lab.article] for lab in rows])
        return cls(vectors, docs, [lab.group for lab in rows], len(article_ids), keys)

    def without(self, groups: Iterable[str]) -> QuestionMemory:
        """The memory less some groups (the fit asks each batch's questions without its own)."""
        keep = ~np.isin(self.groups, list(groups))
        return QuestionMemory(self.vectors[keep], self.docs[keep], list(self.groups[keep]),
                              self.n_docs, [k for k, kept in zip(self.keys, keep, strict=True)
                                            if kept] if self.keys else ())

    def _view(self, exclude: str | Iterable[str] | None) -> tuple[np.ndarray, np.ndarray]:
        """Vectors and their owners, without the excluded groups."""
        key = frozenset((exclude,) if isinstance(exclude, str) else exclude or ())
        if key not in self._views:
            keep = ~np.isin(self.groups, list(key)) if key else np.ones(len(self.docs), bool)
            self._views[key] = (self.vectors[keep], self.docs[keep])
        return self._views[key]

    def features(self, query_vec: Any, docs: Sequence[int], *,
                 exclude: str | Iterable[str] | None = None,
                 unknown: Iterable[int] = ()) -> dict[int, dict[str, float]]:
        """:data:`MEMORY_FEATURES` of each candidate article.

        ``exclude``: leave these groups out; ``unknown``: articles treated as having no labelled
        question, as a new one has none.

        - ``mem_sim``: the closest labelled question about that article (0 when it has none);
          ``mem_has``: it has some; ``mem_top``: it owns the closest answered question;
          ``mem_lead``: ``mem_sim`` minus the closest about any other article;
        - ``neg_sim``: the closest question to decline; ``neg_gap``: that minus the closest
          answered one (the same for every candidate of a question).
        """
        vectors, owners = self._view(exclude)
        # one thread, as knowledge.semantic.best_per_article: BLAS would wait on the second core
        sims = np.einsum("ij,j->i", vectors, np.asarray(query_vec, dtype=np.float32))
        answered = owners >= 0
        per = np.full(self.n_docs, -np.inf, dtype=np.float32)
        np.maximum.at(per, owners[answered], sims[answered])
        per[list(unknown)] = -np.inf
        neg = sims[~answered]
        known = bool(np.isfinite(per).any())
        best = float(per.max()) if known else 0.0
        top = int(per.argmax()) if known else -1
        second = float(np.partition(per, -2)[-2]) if self.n_docs > 1 else -np.inf
        neg_sim = float(neg.max()) if neg.size else 0.0
        out = {}
        for doc in docs:
            has = bool(np.isfinite(per[doc]))
            own = float(per[doc]) if has else 0.0
            other = second if doc == top else best
            out[doc] = {"mem_sim": own, "mem_has": float(has), "mem_top": float(doc == top),
                        "mem_lead": own - (other if np.isfinite(other) else 0.0),
                        "neg_sim": neg_sim, "neg_gap": neg_sim - best}
        return out


def load_shipped(path: Path | None, engine: str) -> dict[bytes, np.ndarray]:
    """Shipped vectors by key, when they were made by this engine (else none)."""
    if path is None or not path.exists():
        return {}
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["engine"]) != engine:
                return {}
            return {stored_key(k): v.astype(np.float32)
                    for k, v in zip(data["keys"], data["vecs"], strict=True)}
    except (OSError, ValueError, KeyError):
        log.warning("shipped question vectors unreadable; embedding instead")
        return {}


def save_shipped(path: Path, memory_keys: Sequence[bytes], vectors: np.ndarray,
                 engine: str) -> None:
    """Write the shipped vectors (float16: half the size, cosines unchanged to 3 decimals)."""
    np.savez_compressed(path, engine=np.array(engine), keys=np.array(list(memory_keys), dtype="S16"),
                        vecs=vectors.astype(np.float16))
