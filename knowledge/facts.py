"""The facts an article's answer supplies (answer types, counted nouns), found per article on first use.

Apart from :mod:`knowledge.index_build` so that an index loaded from the cache (every one-shot
``electionbot ask`` after the first) does not import the build code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import overload

from knowledge.article import Article


def answer_text(art: Article) -> str:
    """The text whose facts (answer types, counted nouns) an article supplies."""
    return " ".join([art.summary, art.body, art.es.summary if art.es else "",
                     art.es.body if art.es else ""])


class Facts(Sequence[frozenset[str]]):
    """Per article, ``find(answer_text(article))``, found when first asked for and kept."""

    def __init__(self, articles: Sequence[Article], find: Callable[[str], frozenset[str]]) -> None:
        self._articles = articles
        self._find = find
        self._found: list[frozenset[str] | None] = [None] * len(articles)

    def __len__(self) -> int:
        return len(self._found)

    @overload
    def __getitem__(self, i: int) -> frozenset[str]: ...

    @overload
    def __getitem__(self, i: slice) -> list[frozenset[str]]: ...

    def __getitem__(self, i: int | slice) -> frozenset[str] | list[frozenset[str]]:
        if isinstance(i, slice):
            return [self[j] for j in range(len(self))[i]]
        found = self._found[i]  # raises IndexError like a list
        if found is None:
            found = self._found[i] = self._find(answer_text(self._articles[i]))
        return found
