"""Retrieval: field-weighted BM25 (BM25F) with typo repair, short-query fuzzing and calibration.

How a question is answered:

1. The question is analysed like the articles (``knowledge.synonyms.Analyzer``): folded, stemmed,
   acronyms and Spanish glossary words mapped to canonical terms, stop words dropped.
2. Unknown terms are repaired against the index vocabulary with rapidfuzz (``registar`` ->
   ``registrar``); what cannot be repaired stays as an *uncovered* term.
3. Articles are ranked by BM25F over title, questions, summary, body, tags and the Spanish
   title / summary / questions / body. Per-(term, article) weights are precomputed at build time, so a
   query only walks the postings of its own terms.
4. Very short questions are re-ranked with ``token_set_ratio`` against the articles' questions.
5. Articles that cannot supply what the question explicitly asks for (a phone number, an email,
   a time of day, a count) are demoted.
6. Confidence in 0..1 (:func:`confidence`): how much of the question's
   information (IDF mass) the top article covers, how well one of its questions matches, the
   margin over the runner-up, and the answer-type check.

This module is the only place rapidfuzz is called.
"""

from __future__ import annotations

import heapq
import math
import re
from array import array
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process

from knowledge.article import Article
from knowledge.facts import Facts
from knowledge.language import detect_language
from knowledge.packed import Layout, views
from knowledge.synonyms import Analyzer
from knowledge.text import Ask, can_answer, counted_nouns, parse_ask, strip_preamble, supplied_types

FUZZY_MIN_LENGTH = 5
FUZZY_CUTOFF = 80.0
SHORT_QUERY_TERMS = 3
RERANK_DEPTH = 12
MISSING_TYPE_FACTOR = 0.25
#: Rambling questions: the best single clause (>= CLAUSE_MIN_TERMS terms) may carry the ask.
CLAUSE_SPLIT = re.compile(r"[.?!;,:]+|\s-{1,2}\s|\bbut\b|\bso\b")
CLAUSE_MIN_TERMS = 3
CLAUSE_DISCOUNT = 0.9
UNKNOWN_TERM_WEIGHT = 0.6
#: Calibration of :func:`confidence` (logistic over the evidence; see the tests' held-out set).
COVERAGE_SLOPE, COVERAGE_MID = 8.0, 0.6
PHRASE_SLOPE, PHRASE_MID = 3.0, 0.4
MARGIN_SLOPE, MARGIN_MID = 1.5, 0.2
STRENGTH_SLOPE, STRENGTH_MIN = 1.0, 3.0


#: term -> (article indexes, saturated BM25F weights); arrays keep the GC out of the way.
Postings = tuple[array, array]


@dataclass(frozen=True)
class Hit:
    """One ranked article, with the language to answer in (``es`` only if it has ``es``)."""

    article: Article
    score: float
    confidence: float
    language: str = "en"


@dataclass(frozen=True)
class Evidence:
    """What the confidence of the top article is computed from (IDF masses, scores)."""

    query_mass: float
    matched_mass: float
    phrase_mass: float
    top_score: float
    second_score: float
    unknown_terms: int
    missing_type: bool

    @property
    def coverage(self) -> float:
        """Share of the question's information (IDF mass) the article contains."""
        return self.matched_mass / self.query_mass if self.query_mass else 0.0

    @property
    def phrase_coverage(self) -> float:
        """Share of the question's information found in one single title or question."""
        return self.phrase_mass / self.query_mass if self.query_mass else 0.0

    @property
    def margin(self) -> float:
        """Relative lead of the top article over the runner-up (0..1)."""
        return (self.top_score - self.second_score) / self.top_score if self.top_score else 0.0


def confidence(ev: Evidence) -> float:
    """Calibrated 0..1: coverage of informative terms, one-question match, margin, answer type."""
    if ev.matched_mass <= 0:
        return 0.0
    z = (COVERAGE_SLOPE * (ev.coverage - COVERAGE_MID)
         + PHRASE_SLOPE * (ev.phrase_coverage - PHRASE_MID)
         + MARGIN_SLOPE * (ev.margin - MARGIN_MID))
    z -= STRENGTH_SLOPE * max(0.0, STRENGTH_MIN - ev.matched_mass)
    conf = 1.0 / (1.0 + math.exp(-z))
    return conf * MISSING_TYPE_FACTOR if ev.missing_type else conf


@dataclass(frozen=True)
class QueryTerm:
    """A question term, the index term it was matched to, and how sure that match is."""

    text: str
    term: str | None
    similarity: float


@dataclass(frozen=True)
class Analysis:
    """A question as the lexical channel sees it."""

    query: str
    language: str
    terms: list[QueryTerm]
    ask: Ask
    ranked: list[tuple[int, float]]
    #: The terms of each clause long enough to carry the ask on its own (see
    #: :meth:`SearchIndex.clause_terms`): analysed once, weighed against every candidate.
    clauses: list[list[QueryTerm]] = field(default_factory=list)


class SearchIndex:
    """An immutable index over a set of articles; build once, query many times.

    Its data is a :class:`knowledge.packed.Layout` (flat arrays, what the cache file stores);
    ``postings``, ``doc_terms`` and ``phrases`` are views over it (a mapping of term ->
    (article numbers, weights), and per article a frozenset or a list of them); ``supplies``
    and ``counted`` (one frozenset per article) are found the first time a question needs them.
    """

    def __init__(self, articles: Sequence[Article], *, analyzer: Analyzer | None = None) -> None:
        """Analyse every article and precompute postings, IDF and answer types."""
        from knowledge.index_build import build_layout  # not needed to load a cached index

        self.articles = list(articles)
        self.analyzer = analyzer or Analyzer()
        self._use(build_layout(self.articles, self.analyzer))

    @classmethod
    def from_layout(cls, articles: Sequence[Article], layout: Layout, *,
                    analyzer: Analyzer | None = None) -> SearchIndex:
        """An index from a layout built earlier (``knowledge.index_cache``), without analysing.

        Raises :class:`knowledge.packed.LayoutError` when the arrays do not fit the articles.
        """
        layout.check(len(articles))
        self = cls.__new__(cls)
        self.articles = list(articles)
        self.analyzer = analyzer or Analyzer()
        self._use(layout)
        return self

    def _use(self, layout: Layout) -> None:
        """Views over the layout; IDF, the vocabulary by length and the typo-repair cache."""
        self.layout = layout
        self.postings, self.doc_terms, self.phrases = views(layout)
        #: Each article's fact kinds as bitmasks (``knowledge.decide.kinds_masks``) when the
        #: index came through the cache (``knowledge.index_cache``); None: found on first use.
        self.kinds: array | None = None
        self.supplies = Facts(self.articles, supplied_types)
        self.counted = Facts(self.articles, counted_nouns)
        n = len(self.articles)
        self.idf = {t: math.log(1 + (n - df + 0.5) / (df + 0.5))
                    for t, df in self.postings.document_counts()}
        self.unknown_idf = math.log(1 + (n + 0.5) / 0.5)
        self._by_length: dict[int, list[str]] = defaultdict(list)
        for term in sorted(self.postings):
            self._by_length[len(term)].append(term)
        self.correct = lru_cache(maxsize=8192)(self._correct)

    def _correct(self, token: str) -> tuple[str | None, float]:
        """Closest vocabulary term for an unknown token (typo repair), with similarity 0..1."""
        if len(token) < FUZZY_MIN_LENGTH or token.isdigit():
            return None, 0.0
        candidates = [t for size in (len(token) - 1, len(token), len(token) + 1)
                      for t in self._by_length.get(size, ())]
        best = process.extractOne(token, candidates, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        return (best[0], best[1] / 100.0) if best else (None, 0.0)

    def query_terms(self, query: str, language: str) -> list[QueryTerm]:
        """Analysed, de-duplicated question terms matched to the vocabulary."""
        out: list[QueryTerm] = []
        for text in dict.fromkeys(self.analyzer.terms(query, language)):
            if text in self.postings:
                out.append(QueryTerm(text, text, 1.0))
            else:
                term, sim = self.correct(text)
                out.append(QueryTerm(text, term, sim))
        return out

    def _rank(self, terms: Iterable[QueryTerm]) -> dict[int, float]:
        """BM25F scores of every article sharing at least one term."""
        scores: dict[int, float] = {}
        get = scores.get
        for qt in terms:
            if qt.term is None:
                continue
            idf = self.idf[qt.term] * qt.similarity
            for doc, weight in zip(*self.postings[qt.term], strict=True):
                scores[doc] = get(doc, 0.0) + idf * weight
        return scores

    def _rerank(self, query: str, terms: list[QueryTerm], ask: Ask,
                scores: dict[int, float]) -> list[tuple[int, float]]:
        """Best candidates with short-query fuzzing and answer-type demotion applied."""
        top = heapq.nsmallest(RERANK_DEPTH, scores.items(), key=lambda kv: (-kv[1], kv[0]))
        if not top:
            return []
        best = top[0][1]
        short = len(terms) <= SHORT_QUERY_TERMS
        text = " ".join(qt.term or qt.text for qt in terms)
        ranked = []
        for doc, score in top:
            if short:
                ratio = max((fuzz.token_set_ratio(text, " ".join(sorted(p)))
                             for p in self.phrases[doc]), default=0.0)
                score = 0.7 * score + 0.3 * best * ratio / 100.0
            if not self.fits(doc, ask):
                score *= MISSING_TYPE_FACTOR
            ranked.append((doc, score))
        ranked.sort(key=lambda kv: (-kv[1], kv[0]))
        return ranked

    def fits(self, doc: int, ask: Ask) -> bool:
        """Whether an article can supply the kind of fact the question asks for."""
        if not ask.types and ask.count_of is None and not ask.places:
            return True  # asks for no particular fact (most questions): nothing to find
        supplied = self.supplies[doc] if ask.types else frozenset()
        counted = self.counted[doc] if ask.count_of is not None else frozenset()
        return can_answer(ask, supplied, counted, self.doc_terms[doc])

    def evidence(self, doc: int, terms: list[QueryTerm], ranked: list[tuple[int, float]],
                 ask: Ask) -> Evidence:
        """Collect the calibration inputs for one candidate article."""
        mass = {qt.text: (self.idf[qt.term] if qt.term else self.unknown_idf * UNKNOWN_TERM_WEIGHT)
                for qt in terms}
        doc_terms = self.doc_terms[doc]
        matched = {qt.text: mass[qt.text] * qt.similarity for qt in terms
                   if qt.term is not None and qt.term in doc_terms}
        by_term = {qt.term: qt.text for qt in terms if qt.term is not None}
        # What each index term of a phrase adds: its question term's matched mass. The other
        # terms add nothing, so only phrases sharing a matched term are summed. A phrase is a
        # set, whose order changes with the process's hash seed: ``math.fsum`` is exact, so every
        # process (web, worker, CLI) gets the same figure and the same decision.
        weight = {t: matched[text] for t, text in by_term.items() if text in matched}
        phrase = max((math.fsum(weight[t] for t in p if t in weight)
                      for p in self.phrases[doc] if not p.isdisjoint(weight)), default=0.0)
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        return Evidence(query_mass=sum(mass.values()), matched_mass=sum(matched.values()),
                        phrase_mass=phrase, top_score=ranked[0][1], second_score=second,
                        unknown_terms=sum(1 for qt in terms if qt.term is None),
                        missing_type=not self.fits(doc, ask))

    def clause_terms(self, query: str, lang: str) -> list[list[QueryTerm]]:
        """Per clause of at least ``CLAUSE_MIN_TERMS`` terms, its terms (none for one clause).

        A rambling question's ask may be one of its clauses.
        """
        clauses = [c for c in CLAUSE_SPLIT.split(query) if c.strip()]
        if len(clauses) < 2:
            return []
        found = (self.query_terms(clause, lang) for clause in clauses)
        return [terms for terms in found if len(terms) >= CLAUSE_MIN_TERMS]

    def _confidence(self, terms: list[QueryTerm], clauses: list[list[QueryTerm]],
                    ranked: list[tuple[int, float]], ask: Ask, doc: int | None = None,
                    ev: Evidence | None = None) -> float:
        """Confidence of an article (the top one by default) for the question or its best clause.

        ``ev`` is the article's evidence for the whole question when the caller has it already.
        """
        doc = ranked[0][0] if doc is None else doc
        best = confidence(ev if ev is not None else self.evidence(doc, terms, ranked, ask))
        for clause_terms in clauses:
            clause_ev = self.evidence(doc, clause_terms, ranked, ask)
            best = max(best, CLAUSE_DISCOUNT * confidence(clause_ev))
        return best

    def analyse(self, query: str, language: str | None = None) -> Analysis:
        """The lexical view of a question: language, terms, ask and ranked candidates."""
        query = strip_preamble(query)
        lang = language or detect_language(query)
        terms = self.query_terms(query[:2000], lang)
        ask = parse_ask(query[:2000], lang)
        ranked = self._rerank(query, terms, ask, self._rank(terms))
        clauses = self.clause_terms(query[:2000], lang) if ranked else []
        return Analysis(query[:2000], lang, terms, ask, ranked, clauses)

    def candidate_confidence(self, an: Analysis, doc: int, ev: Evidence | None = None) -> float:
        """The hand-calibrated lexical confidence of any article for an analysed question.

        ``ev``: the article's :meth:`evidence` for ``an`` when the caller has it already.
        """
        if not an.ranked:
            return 0.0
        return self._confidence(an.terms, an.clauses, an.ranked, an.ask, doc, ev)

    def search(self, query: str, *, limit: int = 3, language: str | None = None) -> list[Hit]:
        """Best articles first, each with a calibrated confidence in 0..1 (never raises)."""
        return self.hits(self.analyse(query, language), query, limit=limit)

    def hits(self, an: Analysis, query: str, *, limit: int = 3) -> list[Hit]:
        """:meth:`search` on a question already analysed (the decision step reuses it)."""
        lang, terms, ask, ranked = an.language, an.terms, an.ask, an.ranked
        if not ranked:
            return []
        if query[:2000] != an.query:  # as analysed, without its opener
            query = strip_preamble(query)
        clauses = an.clauses if query[:2000] == an.query else self.clause_terms(query[:2000], lang)
        top_conf = self._confidence(terms, clauses, ranked, ask)
        hits = []
        for pos, (doc, score) in enumerate(ranked[:max(limit, 0)]):
            art = self.articles[doc]
            conf = top_conf if pos == 0 else min(top_conf, score / ranked[0][1] * top_conf)
            answer_lang = "es" if lang == "es" and art.es is not None else "en"
            hits.append(Hit(art, round(score, 6), round(conf, 6), answer_lang))
        return hits
