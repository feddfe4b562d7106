"""Building the lexical index's layout: text analysis in Python, BM25F arithmetic in numpy.

Pass one analyses each article once (every title and question stemmed once, used for its field
and for its phrase) and keeps only numbers: the term counts of each field, the term sets of each
title and question, the answer types and counted nouns. Pass two needs the average field lengths,
so it runs over those numbers, vectorised and a block of articles at a time (the memory it needs
stays bounded): per (article, term) the BM25F term frequency, summed field by field in field order
exactly as a Python loop adds them (one IEEE addition per field, never a pairwise sum), then
saturated, then the postings sorted by term.

numpy is imported here only, when an index is built: loading a cached index and answering never
import it.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from knowledge.article import Article
from knowledge.packed import NUMBER, OFFSET, WEIGHT, Layout, Runs, RunsBuilder
from knowledge.synonyms import Analyzer
from knowledge.text import counted_nouns, stems, supplied_types

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
BLOCK = 2048

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


def _answer_text(art: Article) -> str:
    """The text whose facts (answer types, counted nouns) an article supplies."""
    return " ".join([art.summary, art.body, art.es.summary if art.es else "",
                     art.es.body if art.es else ""])


def build_layout(articles: Sequence[Article], analyzer: Analyzer) -> Layout:
    """Analyse the articles into the index's arrays: postings with BM25F weights, term sets."""
    vocabulary = _Numbering()  # search terms
    others = _Numbering()  # strings of the sets that are not (yet) search terms
    seg_field, seg_end, seg_length = array("b"), array("q"), array("q")
    doc_segments = array("q", [0])
    f_terms, f_counts = array(NUMBER), array(NUMBER)
    totals = [0] * len(FIELDS)
    phrases, supplies, counted = RunsBuilder(), RunsBuilder(), RunsBuilder()
    phrase_starts = array(OFFSET, [0])
    number, other = vocabulary.__getitem__, others.__getitem__
    finish = analyzer.finish

    for art in articles:
        stemmed, phrase_words = _stemmed_fields(art)
        for name, words in stemmed.items():
            terms = finish(words)
            counts = Counter(terms)
            f_terms.extend(map(number, counts))
            f_counts.extend(counts.values())
            field = _FIELD_NUMBER[name]
            seg_field.append(field)
            seg_end.append(len(f_terms))
            seg_length.append(len(terms))
            totals[field] += len(terms)
        doc_segments.append(len(seg_field))
        for words in phrase_words:
            phrases.add(list(map(other, dict.fromkeys(finish(words)))))
        phrase_starts.append(len(phrases.offsets) - 1)
        answer = _answer_text(art)
        supplies.add(list(map(other, sorted(supplied_types(answer)))))
        counted.add(list(map(other, sorted(counted_nouns(answer)))))

    n = len(articles)
    avg = [max(total / max(n, 1), 1.0) for total in totals]
    post_offsets, post_docs, post_weights, doc_terms = _weigh(
        n, len(vocabulary), avg, seg_field, seg_end, seg_length, doc_segments, f_terms, f_counts)

    # The sets' strings: search terms keep their numbers, the others follow the vocabulary.
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
                  doc_terms, phrase_starts, moved(phrases.done()),
                  moved(supplies.done()), moved(counted.done()))


def _weigh(n: int, terms: int, avg: list[float], seg_field: array, seg_end: array,
           seg_length: array, doc_segments: array, f_terms: array,
           f_counts: array) -> tuple[array, array, array, Runs]:
    """Pass two: postings (offsets, articles, saturated BM25F weights) and each article's terms.

    ``f_terms`` / ``f_counts``: each field's distinct terms and counts, field after field
    (segment ``s`` ends at ``seg_end[s]``, article ``d`` has segments ``doc_segments[d]`` up to
    ``doc_segments[d + 1]``). The terms of an article come in order of first use.
    """
    import numpy as np

    weight = np.array([w for w, _ in FIELDS.values()])
    b = np.array([b for _, b in FIELDS.values()])
    fields = np.frombuffer(seg_field, dtype=np.int8) if seg_field else np.zeros(0, np.int8)
    lengths = _np(np, seg_length, np.int64)
    # The same operations in the same order as 1 - b + b * length / avg, weight * count / norm.
    seg_b = b[fields]
    norm = 1 - seg_b + seg_b * lengths / np.array(avg)[fields]
    seg_weight = weight[fields]
    del seg_b, lengths
    ends = _np(np, seg_end, np.int64)
    firsts = _np(np, doc_segments, np.int64)
    blocks = [_weigh_block(np, start, min(start + BLOCK, n), terms, firsts, ends, norm,
                           seg_weight, f_terms, f_counts) for start in range(0, n, BLOCK)]
    docs = np.concatenate([blk[0] for blk in blocks]) if blocks else np.zeros(0, np.intc)
    term_of = np.concatenate([blk[1] for blk in blocks]) if blocks else np.zeros(0, np.intc)
    weights = np.concatenate([blk[2] for blk in blocks]) if blocks else np.zeros(0)
    doc_terms = np.concatenate([blk[3] for blk in blocks]) if blocks else np.zeros(0, np.intc)
    per_doc = np.concatenate([blk[4] for blk in blocks]) if blocks else np.zeros(0, np.int64)
    del blocks
    # Postings: by term; the pairs are in article order, so a stable sort keeps it per term.
    order = np.argsort(term_of, kind="stable")
    post_offsets = _offsets(np, np.bincount(term_of, minlength=terms))
    del term_of
    return (_array(post_offsets, OFFSET), _array(docs[order], NUMBER),
            _array(weights[order], WEIGHT),
            Runs(_array(_offsets(np, per_doc), OFFSET), _array(doc_terms, NUMBER)))


def _weigh_block(np: Any, start: int, stop: int, terms: int, firsts: np.ndarray,
                 ends: np.ndarray, norm: np.ndarray, seg_weight: np.ndarray, f_terms: array,
                 f_counts: array) -> tuple[np.ndarray, ...]:
    """Pass two for articles ``start`` to ``stop``.

    Returns their (article, term) pairs in article then term order with saturated weights, their
    terms in order of first use, and how many terms each has.
    """
    seg_lo, seg_hi = int(firsts[start]), int(firsts[stop])
    lo = int(ends[seg_lo - 1]) if seg_lo else 0
    hi = int(ends[seg_hi - 1]) if seg_hi else 0
    term = np.frombuffer(f_terms, dtype=np.intc, count=hi - lo, offset=lo * f_terms.itemsize)
    count = np.frombuffer(f_counts, dtype=np.intc, count=hi - lo, offset=lo * f_counts.itemsize)
    sizes = np.diff(ends[seg_lo:seg_hi], prepend=lo)
    seg = np.repeat(np.arange(seg_lo, seg_hi), sizes)
    doc = np.repeat(np.arange(start, stop), np.diff(firsts[start:stop + 1]))
    entry_doc = np.repeat(doc, sizes)
    share = seg_weight[seg] * count / norm[seg]
    del seg, count, doc
    # Group the entries by (article, term); a stable sort keeps each group in field order.
    key = entry_doc.astype(np.int64) * terms + term
    order = np.argsort(key, kind="stable")
    key = key[order]
    share = share[order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    starts = np.flatnonzero(first)
    group = np.cumsum(first) - 1
    rank = np.arange(len(key)) - starts[group]
    tf = share[starts]  # 0.0 + the first share, exactly
    for k in range(1, int(rank.max(initial=0)) + 1):
        at = rank == k  # at most one entry of each group: one addition per group
        tf[group[at]] += share[at]
    weights = tf * (K1 + 1) / (K1 + tf)
    pair_doc = entry_doc[order[starts]]
    pair_term = term[order[starts]]
    # The terms of each article in order of first use (entries are in article order).
    used = np.argsort(order[starts], kind="stable")
    per_doc = np.bincount(pair_doc - start, minlength=stop - start)
    return (pair_doc.astype(np.intc), pair_term.astype(np.intc), weights,
            pair_term[used].astype(np.intc), per_doc)


def _np(np: Any, values: array, dtype: Any) -> np.ndarray:
    """A numpy view of an array (an empty one when it is empty)."""
    return np.frombuffer(values, dtype=dtype) if values else np.zeros(0, dtype)


def _offsets(np: Any, counts: np.ndarray) -> np.ndarray:
    """Run offsets from run lengths: 0, then the running total."""
    out = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def _array(values: Iterable[Any], code: str) -> array:
    """A stdlib array (what the layout holds) with the numbers of a numpy array."""
    import numpy as np

    out = array(code)
    out.frombytes(np.ascontiguousarray(values, dtype=np.dtype(code)).tobytes())
    return out
