"""The knowledge base in service: load, validate, search, and reload atomically."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from knowledge.article import Article, ArticleError
from knowledge.checks import check_articles, load_articles
from knowledge.decide import Retriever
from knowledge.index_cache import load_or_build
from knowledge.search import Hit, SearchIndex

log = logging.getLogger(__name__)

class KnowledgeError(Exception):
    """The knowledge base could not be loaded; ``problems`` says where."""

    def __init__(self, problems: list[ArticleError]) -> None:
        """Keep every problem; the message shows the first few."""
        shown = "\n".join(str(p) for p in problems[:20])
        super().__init__(f"{len(problems)} problem(s) in the knowledge base:\n{shown}")
        self.problems = problems


@dataclass(frozen=True)
class KnowledgeBase:
    """An immutable, searchable set of articles."""

    articles: dict[str, Article]
    index: SearchIndex
    retriever: Retriever | None = None

    @classmethod
    def load(cls, folder: Path, *, jurisdictions: Iterable[str], today: date,
             strict_review: bool = False, semantic: bool = True,
             cache_dir: Path | None = None,
             memory_files: Sequence[Path] = ()) -> KnowledgeBase:
        """Load and check a folder; raise KnowledgeError on any problem.

        Review dates that have passed are reported by ``kb check`` (strict) but do not stop a
        running bot from serving its vetted answers. ``semantic``: add the embedding channel
        when its package is installed (``knowledge.semantic``). ``cache_dir``: keep the lexical
        index there (``knowledge.index_cache``) and load it while the articles are unchanged.
        ``memory_files``: labelled questions about this base (``knowledge.memory``), which the
        semantic decision consults; read again on every load, like the articles.
        """
        articles, problems = load_articles(folder)
        checked = check_articles(articles, jurisdictions=jurisdictions, today=today)
        if not strict_review:
            checked = [p for p in checked if "review_by" not in p.message]
        problems += checked
        if problems:
            raise KnowledgeError(problems)
        index = load_or_build(articles, cache_dir)
        sem = memory = None
        if semantic:
            from knowledge.memory import QuestionMemory, read_labelled
            from knowledge.semantic import SemanticIndex, load_embedder

            embedder = load_embedder()
            sem = SemanticIndex(articles, embedder) if embedder is not None else None
            if embedder is not None and memory_files:
                memory = QuestionMemory.build(read_labelled(memory_files),
                                              article_ids=[a.id for a in articles],
                                              embedder=embedder)
        return cls({a.id: a for a in articles}, index, Retriever(index, sem, memory=memory))

    @property
    def engine(self) -> str:
        """Which retrieval runs: ``lexical+semantic`` or ``lexical``."""
        return self.retriever.engine if self.retriever is not None else "lexical"

    @property
    def memory_size(self) -> int:
        """Labelled questions the decision consults (0: none, or the memory is not used)."""
        r = self.retriever
        return len(r.memory) if r is not None and r.memory is not None and r.uses_memory else 0

    @property
    def needs_thread(self) -> bool:
        """True when answering takes long enough (the semantic model) to keep off the event loop."""
        return self.engine != "lexical"

    def get(self, article_id: str) -> Article | None:
        """One article by id."""
        return self.articles.get(article_id)

    def retrieve(self, query: str, *, limit: int = 3) -> list[tuple[Article, str]]:
        """The retrieval stage alone (fused ranking, before the decision): (article, language)."""
        if self.retriever is not None:
            return self.retriever.retrieve(query, limit=limit)
        return [(h.article, h.language) for h in self.index.search(query, limit=limit)]

    def search(self, query: str, *, limit: int = 3) -> list[Hit]:
        """Best articles for a question, each with a confidence in 0..1 (0.5: answer)."""
        if self.retriever is not None:
            return self.retriever.search(query, limit=limit)
        return self.index.search(query, limit=limit)


class KnowledgeStore:
    """Holds the knowledge base in service; ``reload`` swaps it only when the new one is good."""

    def __init__(self, folder: Path, *, jurisdictions: Iterable[str], today: date,
                 semantic: bool = False, cache_dir: Path | None = None,
                 memory_files: Callable[[], Sequence[Path]] = tuple) -> None:
        """Load once; a broken base at start-up is an error.

        ``semantic``, ``cache_dir``: see :meth:`KnowledgeBase.load`; ``memory_files``: the
        labelled question files, looked up again on each reload.
        """
        self.folder = folder
        self.jurisdictions = tuple(jurisdictions)
        self.semantic = semantic
        self.cache_dir = cache_dir
        self.memory_files = memory_files
        self.current = KnowledgeBase.load(folder, jurisdictions=self.jurisdictions, today=today,
                                          semantic=semantic, cache_dir=cache_dir,
                                          memory_files=memory_files())
        self.last_error: str | None = None

    def reload(self, *, today: date) -> bool:
        """Load again; keep serving the old base and record the error if the new one is broken."""
        try:
            fresh = KnowledgeBase.load(self.folder, jurisdictions=self.jurisdictions, today=today,
                                       semantic=self.semantic, cache_dir=self.cache_dir,
                                       memory_files=self.memory_files())
        except KnowledgeError as exc:
            self.last_error = str(exc)
            log.warning("knowledge reload refused; still serving the previous base",
                        extra={"problems": len(exc.problems)})
            return False
        self.current = fresh
        self.last_error = None
        log.info("knowledge reloaded", extra={"articles": len(fresh.articles)})
        return True
