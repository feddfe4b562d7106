"""The lexical index's flat layout: strings numbered once, per-article sets as runs of numbers.

Held as Python objects (a frozenset of terms per article, a list of frozensets per title and
question, two arrays per term), a 10,000-article index takes hundreds of MB and millions of
small objects. Here each kind of data is one array of numbers plus one array of offsets (run
``i`` is ``values[offsets[i]:offsets[i + 1]]``), so the index is a handful of arrays: built
without the small objects, and written to and read from disk as raw bytes
(:mod:`knowledge.index_cache`).

The views below give :class:`knowledge.search.SearchIndex` exactly what it used to hold (a
frozenset of terms per article, the postings of a term as two arrays): sets are made again only
for the few articles a question ranks, and the last ones made are kept.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import overload

#: Typecodes: offsets are 8-byte, numbers (string, article) 4-byte, weights 8-byte floats.
OFFSET, NUMBER, WEIGHT = "q", "i", "d"
#: How many per-article sets each view keeps made (a question touches a dozen or two).
KEEP = 512


class LayoutError(ValueError):
    """Arrays that do not describe an index (damaged or foreign cache file)."""


@dataclass(frozen=True)
class Runs:
    """Numbered runs of numbers: run ``i`` is ``values[offsets[i]:offsets[i + 1]]``."""

    offsets: array
    values: array

    def __len__(self) -> int:
        """How many runs."""
        return len(self.offsets) - 1

    def run(self, i: int) -> array:
        """The numbers of run ``i``."""
        return self.values[self.offsets[i]:self.offsets[i + 1]]

    def check(self, runs: int, below: int) -> None:
        """Raise LayoutError unless there are ``runs`` runs of numbers in ``[0, below)``."""
        if self.values.typecode != NUMBER:
            raise LayoutError("numbers of the wrong type")
        check_offsets(self.offsets, runs, len(self.values))
        if not all_below(self.values, below):
            raise LayoutError("a number out of range")


@lru_cache(maxsize=64)
def _byte_tables(limit: int) -> tuple[bytes, bytes]:
    """``bytes.translate`` tables: 1 for a byte above ``limit`` (else 0), 1 for ``limit``."""
    return (bytes(c > limit for c in range(256)), bytes(c == limit for c in range(256)))


#: Numbers :func:`all_below` compares at a time (bounds its temporary copies to a few MB).
CHUNK = 1 << 18


def all_below(values: array, below: int) -> bool:
    """Whether every number of ``values``, read as unsigned (a negative one is huge), is below.

    Compared byte by byte from the most significant with the largest number allowed, in C, many
    numbers at once: a number is too big when its first byte that differs from that one's is
    larger. Each byte position becomes a big integer holding one byte (1 or 0) per number.
    """
    if not values or below >= 1 << (8 * values.itemsize):
        return True
    if below <= 0:
        return False
    limit = (below - 1).to_bytes(values.itemsize, sys.byteorder)
    significance = range(values.itemsize)
    if sys.byteorder == "little":
        significance = significance[::-1]
    for start in range(0, len(values), CHUNK):
        raw = values[start:start + CHUNK].tobytes()  # a bytes slice with a step: a C loop
        tied = int.from_bytes(b"\x01" * (len(raw) // values.itemsize), "little")
        for k in significance:  # tied: the numbers equal to the limit so far
            column = raw[k::values.itemsize]
            if not limit[k] and column.count(0) == len(column):  # the usual high bytes: all 0
                continue
            above, equal = _byte_tables(limit[k])
            if tied & int.from_bytes(column.translate(above), "little"):
                return False
            tied &= int.from_bytes(column.translate(equal), "little")
            if not tied:
                break
    return True


def check_offsets(offsets: array, runs: int, end: int) -> None:
    """Raise LayoutError unless ``offsets`` cut ``[0, end)`` into ``runs`` runs, in order."""
    if offsets.typecode != OFFSET or len(offsets) != runs + 1:
        raise LayoutError("wrong number of runs")
    if offsets[0] != 0 or offsets[-1] != end:
        raise LayoutError("offsets do not cover the values")
    listed = offsets.tolist()
    if listed != sorted(listed):  # timsort checks a sorted list in one pass, in C
        raise LayoutError("offsets go backwards")


class RunsBuilder:
    """Appends runs one after the other."""

    def __init__(self) -> None:
        """No runs yet."""
        self.offsets = array(OFFSET, [0])
        self.values = array(NUMBER)

    def add(self, numbers: Sequence[int] | array) -> None:
        """Append one run."""
        self.values.extend(numbers)
        self.offsets.append(len(self.values))

    def done(self) -> Runs:
        """The runs added."""
        return Runs(self.offsets, self.values)


@dataclass(frozen=True)
class Layout:
    """Everything a lexical index is, as arrays (what the cache file stores).

    ``strings``: the vocabulary (the first ``terms`` strings, numbered in order) followed by the
    other strings the phrases use (a synonym that only the questions joined make).
    ``postings``: per term, its articles (``post_docs``) and BM25F weights (``post_weights``),
    both at ``post_offsets``. ``doc_terms``: one run per article. ``phrases``: one run per title
    or question; article ``d`` has the phrases numbered ``phrase_starts[d]`` up to
    ``phrase_starts[d + 1]``. (The facts an article supplies are not here: they are found when
    a question first needs them, :class:`knowledge.facts.Facts`.)
    """

    strings: list[str]
    terms: int
    post_offsets: array
    post_docs: array
    post_weights: array
    doc_terms: Runs
    phrase_starts: array
    phrases: Runs

    def check(self, articles: int) -> None:
        """Raise LayoutError unless the arrays describe an index over ``articles`` articles."""
        if not 0 <= self.terms <= len(self.strings):
            raise LayoutError("more terms than strings")
        Runs(self.post_offsets, self.post_docs).check(self.terms, articles)
        if self.post_weights.typecode != WEIGHT or len(self.post_weights) != len(self.post_docs):
            raise LayoutError("weights do not match the postings")
        self.doc_terms.check(articles, self.terms)
        self.phrases.check(len(self.phrases.offsets) - 1, len(self.strings))
        check_offsets(self.phrase_starts, articles, len(self.phrases))


class _Sets(Sequence[frozenset[str]]):
    """One frozenset of strings per article, made on demand from runs (the last KEEP kept)."""

    def __init__(self, strings: Sequence[str], runs: Runs) -> None:
        self._strings = strings
        self._runs = runs
        self._n = len(runs)
        self._make = lru_cache(maxsize=KEEP)(self._set)

    def _set(self, i: int) -> frozenset[str]:
        return frozenset(map(self._strings.__getitem__, self._runs.run(i)))

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> frozenset[str]: ...

    @overload
    def __getitem__(self, i: slice) -> list[frozenset[str]]: ...

    def __getitem__(self, i: int | slice) -> frozenset[str] | list[frozenset[str]]:
        if isinstance(i, slice):
            return [self[j] for j in range(self._n)[i]]
        if not -self._n <= i < self._n:
            raise IndexError(i)
        return self._make(i if i >= 0 else i + self._n)


class _PhraseSets(Sequence[list[frozenset[str]]]):
    """Per article, the term sets of its titles and questions (the last KEEP articles kept)."""

    def __init__(self, strings: Sequence[str], starts: array, phrases: Runs) -> None:
        self._strings = strings
        self._starts = starts
        self._phrases = phrases
        self._n = len(starts) - 1
        self._make = lru_cache(maxsize=KEEP)(self._list)

    def _list(self, i: int) -> list[frozenset[str]]:
        get = self._strings.__getitem__
        return [frozenset(map(get, self._phrases.run(p)))
                for p in range(self._starts[i], self._starts[i + 1])]

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> list[frozenset[str]]: ...

    @overload
    def __getitem__(self, i: slice) -> list[list[frozenset[str]]]: ...

    def __getitem__(self, i: int | slice) -> list[frozenset[str]] | list[list[frozenset[str]]]:
        if isinstance(i, slice):
            return [self[j] for j in range(self._n)[i]]
        if not -self._n <= i < self._n:
            raise IndexError(i)
        return list(self._make(i if i >= 0 else i + self._n))  # a copy: the kept one stays


class PostingLists(Mapping[str, tuple[array, array]]):
    """Term -> (article numbers, saturated BM25F weights), sliced from the flat arrays."""

    def __init__(self, layout: Layout) -> None:
        """Number the vocabulary (the first ``layout.terms`` strings)."""
        self._number = {term: i for i, term in enumerate(layout.strings[:layout.terms])}
        self._offsets = layout.post_offsets
        self._docs = layout.post_docs
        self._weights = layout.post_weights

    def __getitem__(self, term: str) -> tuple[array, array]:
        i = self._number[term]
        start, end = self._offsets[i], self._offsets[i + 1]
        return self._docs[start:end], self._weights[start:end]

    def __contains__(self, term: object) -> bool:
        return term in self._number

    def __iter__(self) -> Iterator[str]:
        return iter(self._number)

    def __len__(self) -> int:
        return len(self._number)

    def document_counts(self) -> Iterator[tuple[str, int]]:
        """(term, how many articles have it), without slicing the postings."""
        offsets = self._offsets
        return ((term, offsets[i + 1] - offsets[i]) for term, i in self._number.items())


def views(layout: Layout) -> tuple[PostingLists, _Sets, _PhraseSets]:
    """Postings, terms and phrases per article, over ``layout``."""
    strings = layout.strings
    return (PostingLists(layout), _Sets(strings, layout.doc_terms),
            _PhraseSets(strings, layout.phrase_starts, layout.phrases))
