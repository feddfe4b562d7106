"""Building the lexical index's layout: text analysis and BM25F arithmetic on numbers, in numpy.

Pass one turns the text into numbers with as little Python per word as it can: a block of
articles' fields is joined into one string (markers between fields and between questions) and
split into words in one go (:func:`knowledge.text.marked_words`), each word numbered by one dict
lookup; each distinct word is stemmed once, and the synonyms (tried only where a stem starts a
variant) and stop words are applied to the stem numbers of the whole base at once. That gives
exactly what stemming and finishing each field gave (:meth:`knowledge.synonyms.Analyzer.finish`:
the questions joined for their field, each title and question alone for its phrase), checked
against the plain per-article build in ``tests/knowledge/test_index_build.py``. Terms and the
other strings are numbered in order of first use, as before. Pass two needs the average field
lengths, so it runs over those numbers, vectorised and a block of articles at a time (its memory
stays bounded): the count of each term in each field, per (article, term) the BM25F term
frequency summed field by field in field order exactly as a Python loop adds it (one IEEE
addition per field, never a pairwise sum), saturated, then the postings sorted by term.

The facts an answer supplies (a phone number, a count of something) are found per article when a
question first asks for one (:class:`knowledge.facts.Facts`): most questions never do.

numpy is imported here only, when an index is built: loading a cached index and answering never
import it.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from knowledge.article import Article
from knowledge.packed import NUMBER, OFFSET, WEIGHT, Layout, Runs
from knowledge.synonyms import Analyzer, SynonymTable
from knowledge.text import MARKERS, STOP_WORDS, marked_words, stem_words

if TYPE_CHECKING:
    import numpy as np

#: BM25F field weights and length normalisation (b). Questions and titles weigh most.
FIELDS: dict[str, tuple[float, float]] = {
    "title": (3.0, 0.3), "questions": (2.5, 0.2), "summary": (1.2, 0.6), "body": (0.6, 0.75),
    "tags": (1.0, 0.0), "es_title": (3.0, 0.3), "es_questions": (2.5, 0.2),
    "es_summary": (1.2, 0.6), "es_body": (0.6, 0.75),
}
K1 = 1.2
#: Articles per block of pass two (bounds its temporary arrays).
BLOCK = 512

_FIELD_NUMBER = {name: i for i, name in enumerate(FIELDS)}


class _Numbering(dict[str, int]):
    """string -> its number, numbered in order of first use."""

    def __missing__(self, key: str) -> int:
        found = self[key] = len(self)
        return found


#: Stem numbers of the two markers (:data:`knowledge.text.MARKERS`): ``_END`` ends a field (and
#: a title), ``_NEXT`` separates one question from the next within the questions field.
_END, _NEXT = 0, 1
_END_TEXT, _NEXT_TEXT = (f" {marker} " for marker in MARKERS)
#: The fields of an article in English (and in Spanish), in field order, as their numbers.
_ENGLISH = bytes(_FIELD_NUMBER[f] for f in ("title", "questions", "summary", "body", "tags"))
_SPANISH = bytes(_FIELD_NUMBER[f] for f in ("es_title", "es_questions", "es_summary", "es_body"))
#: Per field number: whether it is stemmed the Spanish way.
_SPANISH_FIELD = bytes(number in _SPANISH for number in range(len(FIELDS)))
#: Per language: whether each field's texts are phrases (title, questions), by whether there
#: are questions (a field of no questions is an empty field but no phrase).
_PHRASE_FIELDS = {True: b"\x01\x01\x00\x00\x00", False: b"\x01\x00\x00\x00\x00"}
_ES_PHRASE_FIELDS = {True: b"\x01\x01\x00\x00", False: b"\x01\x00\x00\x00"}


class _Text:
    """Pass one's text: every field of every article, one after the other, as numbers.

    The articles' text is analysed a block at a time (:func:`knowledge.text.marked_words`: one
    pass over the block's text, the fields ended by ``_END`` and the questions separated by
    ``_NEXT``) into word numbers; each distinct word is stemmed once.
    """

    def __init__(self, articles: Sequence[Article]) -> None:
        self.words = _Numbering({marker: number for number, marker in enumerate(MARKERS)})
        self.numbers = array(NUMBER)  # the word number of every word and marker
        self.seg_field = bytearray()  # per field of each article: which field
        self.seg_phrases = bytearray()  # per field: 1 when its texts are phrases
        self.doc_segments = array(OFFSET, [0])
        self.phrase_starts = array(OFFSET, [0])
        for start in range(0, len(articles), BLOCK):
            self._add(articles[start:start + BLOCK])

    def _add(self, block: Sequence[Article]) -> None:
        seg_field, seg_phrases = self.seg_field, self.seg_phrases
        fields, nexts = len(seg_field), 0  # how many _END and _NEXT markers the text will have
        phrases = self.phrase_starts[-1]
        for art in block:
            seg_field += _ENGLISH
            seg_phrases += _PHRASE_FIELDS[bool(art.questions)]
            phrases += 1 + len(art.questions)
            nexts += max(len(art.questions) - 1, 0)
            if art.es is not None:
                seg_field += _SPANISH
                seg_phrases += _ES_PHRASE_FIELDS[bool(art.es.questions)]
                phrases += 1 + len(art.es.questions)
                nexts += max(len(art.es.questions) - 1, 0)
            self.doc_segments.append(len(seg_field))
            self.phrase_starts.append(phrases)
        text = _block_text(block, _same)
        if text.count(MARKERS[0]) != len(seg_field) - fields or text.count(MARKERS[1]) != nexts:
            # A text holding a marker character: as a space it splits words the same way.
            spaces = str.maketrans(dict.fromkeys(MARKERS, " "))
            text = _block_text(block, lambda t: t.translate(spaces))
        self.numbers.fromlist(list(map(self.words.__getitem__, marked_words(text))))


def _same(text: str) -> str:
    return text


def _block_text(block: Sequence[Article], clean: Callable[[str], str]) -> str:
    """The articles' fields in field order, each ended by _END, questions separated by _NEXT."""
    parts: list[str] = []
    for art in block:
        tags = " ".join(t.replace("-", " ") for t in art.tags)
        parts += (clean(art.title), _NEXT_TEXT.join(map(clean, art.questions)),
                  clean(art.summary), clean(art.body), clean(tags))
        if art.es is not None:
            parts += (clean(art.es.title), _NEXT_TEXT.join(map(clean, art.es.questions)),
                      clean(art.es.summary), clean(art.es.body))
    return _END_TEXT.join(parts) + _END_TEXT if parts else ""


def _stem_numbers(np: Any, text: _Text, stems: _Numbering,
                  lengths: np.ndarray) -> np.ndarray:
    """The stem number of every word (by its field's language); markers keep their numbers.

    ``lengths``: how many words and markers each field has, its ``_END`` marker included.
    """
    english = np.array(list(map(stems.__getitem__, stem_words(text.words, "en"))), dtype=np.intc)
    spanish = np.array(list(map(stems.__getitem__, stem_words(text.words, "es"))), dtype=np.intc)
    numbers = _np(np, text.numbers, np.intc)
    out = english[numbers]
    spanish_field = np.frombuffer(_SPANISH_FIELD, dtype=bool)[_np(np, text.seg_field, np.int8)]
    spanish_word = np.repeat(spanish_field, lengths)
    out[spanish_word] = spanish[numbers[spanish_word]]
    return out


class _Synonyms:
    """The synonym table over stem numbers, as :meth:`SynonymTable.rewrite` applies it."""

    def __init__(self, np: Any, table: SynonymTable, stems: _Numbering) -> None:
        self.np = np
        self.targets: dict[bytes, np.ndarray] = {}
        sizes: dict[int, set[int]] = {}
        for variant, target in table.phrases.items():
            if all(s in stems for s in variant):  # else it matches no text here
                key = np.array([stems[s] for s in variant], dtype=np.intc)
                self.targets[key.tobytes()] = np.array([stems[s] for s in target], dtype=np.intc)
                sizes.setdefault(int(key[0]), set()).add(len(variant))
        self.starts = {first: sorted(n, reverse=True) for first, n in sizes.items()}

    def rewrite(self, numbers: np.ndarray, count: int) -> np.ndarray:
        """:meth:`SynonymTable.rewrite` of a stream of stem numbers (``count``: how many stems).

        Markers are in no variant, so no variant is replaced across one.
        """
        np = self.np
        starts = self.starts
        if not starts or not len(numbers):
            return numbers
        first = np.zeros(count, dtype=bool)
        first[list(starts)] = True
        at = np.flatnonzero(first[numbers])
        raw, size_of, n = numbers.tobytes(), numbers.itemsize, len(numbers)
        out: list[Any] = []  # numpy arrays
        done = 0
        for j, number in zip(at.tolist(), numbers[at].tolist(), strict=True):
            if j < done:  # inside a variant already replaced
                continue
            for size in starts[number]:
                if size <= n - j:
                    target = self.targets.get(raw[j * size_of:(j + size) * size_of])
                    if target is not None:
                        out += (numbers[done:j], target)
                        done = j + size
                        break
        if not out:
            return numbers
        out.append(numbers[done:])
        return np.concatenate(out)


def _first_use(np: Any, numbers: np.ndarray, count: int) -> np.ndarray:
    """The distinct numbers in ``[0, count)`` of ``numbers``, in order of first use."""
    first = np.full(count, len(numbers), dtype=np.intp)
    np.minimum.at(first, numbers, np.arange(len(numbers), dtype=np.intp))
    used = np.flatnonzero(first < len(numbers))
    return used[np.argsort(first[used], kind="stable")]


def build_layout(articles: Sequence[Article], analyzer: Analyzer) -> Layout:
    """Analyse the articles into the index's arrays: postings with BM25F weights, term sets.

    The same as stemming every field (:func:`knowledge.text.stems`) and finishing it
    (:meth:`Analyzer.finish`: the questions joined for their field, and each title and question
    alone for its phrase), done on numbers: words are numbered, each distinct word stemmed once,
    and the synonyms and stop words applied to the stem numbers of all the text at once.
    """
    import numpy as np

    text = _Text(articles)
    stems = _Numbering({marker: number for number, marker in enumerate(MARKERS)})
    # How many words and markers each field has (its _END marker included).
    raw_lengths = np.diff(np.flatnonzero(_np(np, text.numbers, np.intc) == _END), prepend=-1)
    numbers = _stem_numbers(np, text, stems, raw_lengths)
    del text.numbers
    synonyms = _Synonyms(np, analyzer.synonyms, stems)  # numbers the targets' stems too
    count = len(stems)
    strings = list(stems)
    dropped = np.array([s in STOP_WORDS or not s for s in strings], dtype=bool)

    def finish(stream: np.ndarray) -> np.ndarray:
        stream = synonyms.rewrite(stream, count)
        return stream[~dropped[stream]]

    # The fields: every question of an article in one field.
    fields = finish(numbers[numbers != _NEXT])
    ends = np.flatnonzero(fields == _END)
    seg_end = ends - np.arange(len(ends))  # the end of each field, in tokens
    tokens = fields[fields != _END]
    del fields, ends
    vocabulary = _first_use(np, tokens, count)
    term_of = np.full(count, -1, dtype=np.intc)
    term_of[vocabulary] = np.arange(len(vocabulary), dtype=np.intc)
    tokens = term_of[tokens]
    seg_field = _np(np, text.seg_field, np.int8)
    lengths = np.diff(seg_end, prepend=0)
    totals = [int(t) for t in np.bincount(seg_field, weights=lengths, minlength=len(FIELDS))]

    # The phrases: each title and question alone, its terms once each in order of first use.
    stream = numbers[np.repeat(_np(np, text.seg_phrases, bool), raw_lengths)]
    del numbers
    stream[stream == _NEXT] = _END
    phrase_ids, phrase_runs, others = _phrases(np, finish(stream), count, term_of)
    del stream
    string_of = term_of.copy()
    string_of[others] = len(vocabulary) + np.arange(len(others), dtype=np.intc)
    phrase_values = _array(np, string_of[phrase_ids], NUMBER)

    n = len(articles)
    avg = [max(total / max(n, 1), 1.0) for total in totals]
    post_offsets, post_docs, post_weights, doc_terms = _weigh(
        n, len(vocabulary), avg, seg_field, seg_end, _np(np, text.doc_segments, np.int64),
        tokens)
    return Layout([strings[s] for s in vocabulary.tolist() + others.tolist()],
                  len(vocabulary), post_offsets, post_docs, post_weights, doc_terms,
                  text.phrase_starts, Runs(phrase_runs, phrase_values))


def _phrases(np: Any, stream: np.ndarray, count: int,
             term_of: np.ndarray) -> tuple[np.ndarray, array, np.ndarray]:
    """Each phrase's stems once, in order of first use, and where each phrase's run starts.

    ``stream``: the phrases' stem numbers, each phrase ended by ``_END``. Also returns the
    stems the phrases use that are no search term, in order of first use.
    """
    ends = stream == _END
    phrase = (np.cumsum(ends) - ends)[~ends]
    values = stream[~ends]
    first = np.unique(phrase.astype(np.int64) * count + values, return_index=True)[1]
    keep = np.sort(first)
    values, phrase = values[keep], phrase[keep]
    runs = _offsets(np, np.bincount(phrase, minlength=int(ends.sum())))
    others = values[term_of[values] < 0]
    return values, _array(np, runs, OFFSET), _first_use(np, others, count)


def _weigh(n: int, terms: int, avg: list[float], seg_field: np.ndarray, seg_end: np.ndarray,
           doc_segments: np.ndarray, tokens: np.ndarray) -> tuple[array, array, array, Runs]:
    """Pass two: postings (offsets, articles, saturated BM25F weights) and each article's terms.

    ``tokens``: the term of every token, field after field (segment ``s`` ends at
    ``seg_end[s]``; article ``d`` has segments ``doc_segments[d]`` up to ``doc_segments[d + 1]``).
    An article's terms come in order of first use.
    """
    import numpy as np

    ends, fields, firsts = seg_end, seg_field, doc_segments
    lengths = np.diff(ends, prepend=0)
    weight = np.array([w for w, _ in FIELDS.values()])[fields]
    b = np.array([b for _, b in FIELDS.values()])[fields]
    # The same operations in the same order as 1 - b + b * length / avg[field].
    norm = 1 - b + b * lengths / np.array(avg)[fields]
    del b
    keys = max(terms, 1)  # keys are (field or article) * keys + term
    # Per block: its first article, how many terms each of its articles has, and its (article,
    # term) pairs' terms and weights. Terms below 2**16 are kept as 16-bit numbers: smaller, and
    # numpy sorts those stably by radix, in one pass.
    small = np.uint16 if terms <= 1 << 16 else np.intc
    pairs: list[tuple[int, np.ndarray, np.ndarray, np.ndarray] | None] = []
    doc_terms, per_doc = array(NUMBER), array(OFFSET, [0])
    for start in range(0, n, BLOCK):
        term_of, weights, used, counts = _weigh_block(
            np, start, min(start + BLOCK, n), keys, firsts, ends, lengths, fields, weight, norm,
            tokens)
        pairs.append((start, counts, term_of.astype(small), weights))
        doc_terms.frombytes(used.tobytes())
        per_doc.extend(np.cumsum(counts) + per_doc[-1])
    # Postings by term, each term's articles in article order: the blocks are in article order
    # and each is placed after what the blocks before it put under the same terms.
    per_term = np.zeros(terms, dtype=np.int64)
    for block in pairs:
        assert block is not None
        per_term += np.bincount(block[2], minlength=terms)
    post_offsets = _offsets(np, per_term)
    post_docs, post_weights = _zeros(NUMBER, post_offsets[-1]), _zeros(WEIGHT, post_offsets[-1])
    docs_out = _np(np, post_docs, np.intc)
    weights_out = _np(np, post_weights, np.float64)
    free = post_offsets[:-1].copy()  # the next free place of each term
    for i, block in enumerate(pairs):
        assert block is not None
        start, counts, term_of, weights = block
        pairs[i] = block = None  # its memory goes as the postings fill
        docs = np.repeat(np.arange(start, start + len(counts), dtype=np.intc), counts)
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
                 ends: np.ndarray, lengths: np.ndarray, fields: np.ndarray, weight: np.ndarray,
                 norm: np.ndarray, tokens: np.ndarray) -> tuple[np.ndarray, ...]:
    """Pass two for articles ``start`` to ``stop``.

    Returns the terms of their (article, term) pairs in article then term order with saturated
    weights, their terms in order of first use, and how many terms each has.
    """
    seg_lo, seg_hi = int(firsts[start]), int(firsts[stop])
    lo = int(ends[seg_lo - 1]) if seg_lo else 0
    hi = int(ends[seg_hi - 1]) if seg_hi else 0
    term = tokens[lo:hi]
    seg = np.repeat(np.arange(seg_lo, seg_hi), lengths[seg_lo:seg_hi])
    doc = np.repeat(np.arange(start, stop), np.diff(firsts[start:stop + 1]))[seg - seg_lo]
    # Each term's count in each field, sorted by article, term, then field (an article's fields
    # are its segments in field order), with the field's first token.
    pair_field, first_token, count = np.unique(
        (doc * keys + term) * len(FIELDS) + fields[seg], return_index=True, return_counts=True)
    seg = seg[first_token]
    pair = pair_field // len(FIELDS)
    del pair_field, term
    # The same operations in the same order as weight * count / norm.
    share = weight[seg] * count / norm[seg]
    first = np.ones(len(pair), dtype=bool)
    first[1:] = pair[1:] != pair[:-1]
    starts = np.flatnonzero(first)
    group = np.cumsum(first) - 1
    rank = np.arange(len(pair)) - starts[group]
    tf = share[starts]  # 0.0 + the first field's share, exactly
    for k in range(1, int(rank.max(initial=0)) + 1):
        at = rank == k  # at most one entry per group: one addition per group, in field order
        tf[group[at]] += share[at]
    weights = tf * (K1 + 1) / (K1 + tf)
    pair = pair[starts]
    doc, term = pair // keys, pair % keys
    # A group's first token is its first field's first token; order of first use per article.
    used = np.argsort(first_token[starts], kind="stable")
    per_doc = np.bincount(doc - start, minlength=stop - start)
    return term, weights, term[used].astype(np.intc), per_doc


def _np(np: Any, values: array | bytearray, dtype: Any) -> np.ndarray:
    """A numpy view of an array or bytearray (an empty one when it is empty)."""
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
