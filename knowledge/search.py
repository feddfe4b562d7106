"""Retrieval engine (placeholder: being replaced by the hybrid ranker)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from knowledge.article import Article


@dataclass(frozen=True)
class Hit:
    """One ranked article."""

    article: Article
    score: float
    confidence: float


class SearchIndex:
    """Ranks articles for a question."""

    def __init__(self, articles: Sequence[Article]) -> None:
        """Index the questions and titles."""
        self._keys: list[str] = []
        self._owner: list[Article] = []
        for art in articles:
            for text in [art.title, *art.questions]:
                self._keys.append(text.lower())
                self._owner.append(art)

    def search(self, query: str, *, limit: int = 3) -> list[Hit]:
        """Best articles first."""
        seen: set[str] = set()
        hits: list[Hit] = []
        for _key, score, idx in process.extract(query.lower(), self._keys,
                                                scorer=fuzz.WRatio, limit=limit * 4):
            art = self._owner[idx]
            if art.id not in seen:
                seen.add(art.id)
                hits.append(Hit(art, score, score / 100.0))
        return hits[:limit]
