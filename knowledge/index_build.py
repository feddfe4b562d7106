"""Building the lexical index's layout: text analysis in Python, BM25F arithmetic in numpy.

Pass one analyses each article once (every title and question stemmed once, for its field and
for its phrase) and keeps numbers only: the term of every token, field after field, and the term
sets of each title and question. Pass two needs the average field lengths, so it runs over those
numbers, vectorised and a block of articles at a time (its memory stays bounded): the count of
each term in each field, per (article, term) the BM25F term frequency summed field by field in
field order exactly as a Python loop adds it (one IEEE addition per field, never a pairwise sum),
saturated, then the postings sorted by term.

The facts an answer supplies (a phone number, a count of something) are found per article when a
question first asks for one (:class:`Facts`): most questions never do.

numpy is imported here only, when an index is built: loading a cached index and answering never
import it.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, overload

from knowledge.article import Article
from knowledge.packed import NUMBER, OFFSET, WEIGHT, Layout, Runs, RunsBuilder
from knowledge.synonyms import Analyzer
from knowledge.text import stems

if TYPE_CHECKING:
    import numpy as np

#: BM25F field weights and length normalisation (b). Questions and titles weigh most.
FIELDS: dict[str, tuple[float, float]] = {
    "title": (3.0, 0.3), "questions": (2.5, 0.2), "summary": (1.2, 0.6), "body": (0.6, 0.75),
    "tags": (1.0, 0.0), "es_title": (3.0, 0.3), "es_questions": (2.5, 0.2),
    "es_summary": (1.2, 0.6),
}
K1 = 1.2
#: Articles per block of pass two (bounds its temporary arrays).
BLOCK = 512
#: Token numbers move from a list to the array this many at a time.
_FLUSH = 1 << 16

_FIELD_NUMBER = {name: i for i, name in enumerate(FIELDS)}


class _Numbering(dict[str, int]):
    """string -> its number, numbered in order of first use."""

    def __missing__(self, key: str) -> int:
        found = self[key] = len(self)
        return found


def _stemmed_fields(art: Article) -> tuple[dict[str, list[str]], list[list[str]]]:
    """Stemmed words of each indexed field, and of each title and question (the phrases).

    A field of several questions is their lines joined; stemming goes word by word and a line
    break ends a word, so its stems are the questions' stems one after the other.
    """
    questions = [stems(q, "en") for q in art.questions]
    fields = {"title": stems(art.title, "en"), "questions": [s for q in questions for s in q],
              "summary": stems(art.summary, "en"), "body": stems(art.body, "en"),
              "tags": stems(" ".join(t.replace("-", " ") for t in art.tags), "en")}
    phrases = [fields["title"], *questions]
    if art.es is not None:
        questions = [stems(q, "es") for q in art.es.questions]
        fields["es_title"] = stems(art.es.title, "es")
        fields["es_questions"] = [s for q in questions for s in q]
        fields["es_summary"] = stems(art.es.summary, "es")
        phrases += [fields["es_title"], *questions]
    return fields, phrases


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


def build_layout(articles: Sequence[Article], analyzer: Analyzer) -> Layout:
    """Analyse the articles into the index's arrays: postings with BM25F weights, term sets."""
    vocabulary = _Numbering()  # search terms
    others = _Numbering()  # strings of the phrases that are not (yet) search terms
    seg_field, seg_end = array("b"), array("q")
    doc_segments = array("q", [0])
    tokens = array(NUMBER)  # the term of every token, field after field
    pending: list[int] = []
    totals = [0] * len(FIELDS)
    phrases = RunsBuilder()
    phrase_starts = array(OFFSET, [0])
    number, other = vocabulary.__getitem__, others.__getitem__
    finish = analyzer.finish

    for art in articles:
        stemmed, phrase_words = _stemmed_fields(art)
        for name, words in stemmed.items():
            terms = finish(words)
            pending += map(number, terms)
            field = _FIELD_NUMBER[name]
            seg_field.append(field)
            seg_end.append(len(tokens) + len(pending))
            totals[field] += len(terms)
        doc_segments.append(len(seg_field))
        if len(pending) >= _FLUSH:
            tokens.fromlist(pending)
            pending.clear()
        for words in phrase_words:
            phrases.add(list(map(other, dict.fromkeys(finish(words)))))
        phrase_starts.append(len(phrases.offsets) - 1)
    tokens.fromlist(pending)
    del pending

    n = len(articles)
    avg = [max(total / max(n, 1), 1.0) for total in totals]
    post_offsets, post_docs, post_weights, doc_terms = _weigh(
        n, len(vocabulary), avg, seg_field, seg_end, doc_segments, tokens)

    strings, phrase_runs = _renumbered(vocabulary, others, phrases.done())
    return Layout(strings, len(vocabulary), post_offsets, post_docs, post_weights, doc_terms,
                  phrase_starts, phrase_runs)


def _renumbered(vocabulary: dict[str, int], others: dict[str, int],
                phrases: Runs) -> tuple[list[str], Runs]:
    """The strings (search terms keep their numbers, the others follow) and phrases with them."""
    strings = list(vocabulary)
    renumber = array(NUMBER)
    for text in others:
        found = vocabulary.get(text)
        if found is None:
            found = len(strings)
            strings.append(text)
        renumber.append(found)
    return strings, Runs(phrases.offsets, array(NUMBER, map(renumber.__getitem__, phrases.values)))


def _weigh(n: int, terms: int, avg: list[float], seg_field: array, seg_end: array,
           doc_segments: array, tokens: array) -> tuple[array, array, array, Runs]:
    """Pass two: postings (offsets, articles, saturated BM25F weights) and each article's terms.

    ``tokens``: the term of every token, field after field (segment ``s`` ends at
    ``seg_end[s]``; article ``d`` has segments ``doc_segments[d]`` up to ``doc_segments[d + 1]``).
    An article's terms come in order of first use.
    """
    import numpy as np

    ends = _np(np, seg_end, np.int64)
    fields = _np(np, seg_field, np.int8)
    lengths = np.diff(ends, prepend=0)
    weight = np.array([w for w, _ in FIELDS.values()])[fields]
    b = np.array([b for _, b in FIELDS.values()])[fields]
    # The same operations in the same order as 1 - b + b * length / avg[field].
    norm = 1 - b + b * lengths / np.array(avg)[fields]
    del b, fields
    firsts = _np(np, doc_segments, np.int64)
    keys = max(terms, 1)  # keys are (field or article) * keys + term
    pairs = []  # per block: its (article, term) pairs' articles, terms and weights
    doc_terms, per_doc = array(NUMBER), array(OFFSET, [0])
    for start in range(0, n, BLOCK):
        docs, term_of, weights, used, counts = _weigh_block(
            np, start, min(start + BLOCK, n), keys, firsts, ends, lengths, weight, norm, tokens)
        pairs.append([docs, term_of, weights])
        doc_terms.frombytes(used.tobytes())
        per_doc.extend(np.cumsum(counts) + per_doc[-1])
    # Postings by term, each term's articles in article order: the blocks are in article order
    # and each is placed after what the blocks before it put under the same terms.
    per_term = np.zeros(terms, dtype=np.int64)
    for _docs, term_of, _weights in pairs:
        per_term += np.bincount(term_of, minlength=terms)
    post_offsets = _offsets(np, per_term)
    post_docs, post_weights = _zeros(NUMBER, post_offsets[-1]), _zeros(WEIGHT, post_offsets[-1])
    docs_out = _np(np, post_docs, np.intc)
    weights_out = _np(np, post_weights, np.float64)
    free = post_offsets[:-1].copy()  # the next free place of each term
    for block in pairs:
        docs, term_of, weights = block
        block.clear()
        order = np.argsort(term_of, kind="stable")
        term_of = term_of[order]
        first = np.ones(len(term_of), dtype=bool)
        first[1:] = term_of[1:] != term_of[:-1]
        starts = np.flatnonzero(first)
        rank = np.arange(len(term_of)) - starts[np.cumsum(first) - 1]
        place = free[term_of] + rank
        docs_out[place] = docs[order]
        weights_out[place] = weights[order]
        free[term_of[starts]] += np.diff(starts, append=len(term_of))
    return (_array(np, post_offsets, OFFSET), post_docs, post_weights, Runs(per_doc, doc_terms))


def _weigh_block(np: Any, start: int, stop: int, keys: int, firsts: np.ndarray,
                 ends: np.ndarray, lengths: np.ndarray, weight: np.ndarray, norm: np.ndarray,
                 tokens: array) -> tuple[np.ndarray, ...]:
    """Pass two for articles ``start`` to ``stop``.

    Returns their (article, term) pairs in article then term order with saturated weights, their
    terms in order of first use, and how many terms each has.
    """
    seg_lo, seg_hi = int(firsts[start]), int(firsts[stop])
    lo = int(ends[seg_lo - 1]) if seg_lo else 0
    hi = int(ends[seg_hi - 1]) if seg_hi else 0
    term = np.frombuffer(tokens, dtype=np.intc, count=hi - lo, offset=lo * tokens.itemsize)
    seg = np.repeat(np.arange(seg_lo, seg_hi), lengths[seg_lo:seg_hi])
    # Each term's count in each field (entries sorted by field, then term), first token kept.
    fields_terms, first_token, count = np.unique(seg * keys + term, return_index=True,
                                                 return_counts=True)
    seg = fields_terms // keys
    term = fields_terms % keys
    doc = np.repeat(np.arange(start, stop), np.diff(firsts[start:stop + 1]))[seg - seg_lo]
    # The same operations in the same order as weight * count / norm.
    share = weight[seg] * count / norm[seg]
    del fields_terms, count
    # Group by (article, term); a stable sort keeps each group in field order.
    order = np.argsort(doc * keys + term, kind="stable")
    doc, term, share, first_token = doc[order], term[order], share[order], first_token[order]
    first = np.ones(len(doc), dtype=bool)
    first[1:] = (doc[1:] != doc[:-1]) | (term[1:] != term[:-1])
    starts = np.flatnonzero(first)
    group = np.cumsum(first) - 1
    rank = np.arange(len(doc)) - starts[group]
    tf = share[starts]  # 0.0 + the first field's share, exactly
    for k in range(1, int(rank.max(initial=0)) + 1):
        at = rank == k  # at most one entry per group: one addition per group, in field order
        tf[group[at]] += share[at]
    weights = tf * (K1 + 1) / (K1 + tf)
    doc, term = doc[starts], term[starts]
    # A group's first token is its first field's first token; order of first use per article.
    used = np.argsort(first_token[starts], kind="stable")
    per_doc = np.bincount(doc - start, minlength=stop - start)
    return doc.astype(np.intc), term.astype(np.intc), weights, term[used].astype(np.intc), per_doc


def _np(np: Any, values: array, dtype: Any) -> np.ndarray:
    """A numpy view of an array (an empty one when it is empty)."""
    return np.frombuffer(values, dtype=dtype) if len(values) else np.zeros(0, dtype)


def _offsets(np: Any, counts: np.ndarray) -> np.ndarray:
    """Run offsets from run lengths: 0, then the running total."""
    out = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def _array(np: Any, values: np.ndarray, code: str) -> array:
    """A stdlib array (what the layout holds) with the numbers of a numpy array."""
    out = array(code)
    out.frombytes(np.ascontiguousarray(values, dtype=np.dtype(code)).tobytes())
    return out


def _zeros(code: str, size: int) -> array:
    """A stdlib array of ``size`` zeros."""
    return array(code, [0]) * int(size)
