"""Who is asking and about where, and which of the fitting articles answer.

The asker's jurisdiction and the states a question names decide the primary article, an
"Also for <state>" article, or an "Also:" article answering another part of the question.

Pure functions over search hits; :mod:`handlers.faq.answer` calls them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from handlers.faq.guard_rules import BACK
from handlers.faq.places import named_states, state_name
from knowledge.article import Article
from knowledge.decide import family_key
from knowledge.language import detect_language
from knowledge.search import Hit
from knowledge.text import fold

GENERAL = "general"
#: A second state's article is offered beside the first only when its score is this close.
STATE_ALSO_RATIO = 0.75
#: A named state's article replaces a better-ranked one only when its score is this close
#: (an article that merely mentions "Kansas" must not answer a Kansas question on another topic).
STATE_SWITCH_RATIO = 0.85
#: Clause boundaries of a question with several parts ("... and also ...", "?", ";").
_PARTS = re.compile(r"\?+|;|\b(?:and also|also|plus|as well as|además|ademas|y también|"
                    r"y tambien|también|tambien)\b", re.IGNORECASE)
_AND = re.compile(r"\b(?:and|y)\b", re.IGNORECASE)
PART_MIN_WORDS = 3


@dataclass(frozen=True)
class Asker:
    """What we know about the person asking: their jurisdiction and whether they are state staff."""

    jurisdiction: str | None = None
    state_staff: bool = False


@dataclass(frozen=True)
class Extra:
    """An article shown after the answer: ``state`` (another state's version) or ``part``."""

    article: Article
    reason: str
    state: str | None = None


@dataclass(frozen=True)
class Choice:
    """What to show: the answering article (or None), extras, and what scoped the decision."""

    article: Article | None
    confidence: float
    extras: tuple[Extra, ...] = ()
    named_state: str | None = None  # the state the question names, when it names one
    preferred_state: str | None = None  # the asker's state, when it won over another state
    general_for_state: bool = False  # a vetted general article answering a state question
    related: tuple[Article, ...] = ()


def is_state(jurisdiction: str) -> bool:
    """Whether an article's jurisdiction is a state (not general guidance)."""
    return jurisdiction != GENERAL


def siblings(a: Article, b: Article) -> bool:
    """Articles of one family: per-step or per-year pages (:func:`knowledge.decide.family_key`).

    Their titles differ only by a step, number or year. Not every article of a program: "Class
    size for Kansas certification courses" and "Kansas certification course format" answer
    different parts of one question.
    """
    return family_key(a) == family_key(b)


def question_parts(question: str) -> list[str]:
    """The clauses of a question that may each ask something different."""
    parts: list[str] = []
    for chunk in _PARTS.split(question):
        pieces = _AND.split(chunk)
        if len(pieces) > 1 and all(len(p.split()) >= PART_MIN_WORDS for p in pieces):
            parts += pieces
        else:
            parts.append(chunk)
    return [p.strip(" ,.") for p in parts if len(p.split()) >= PART_MIN_WORDS]


def choose(question: str, hits: Sequence[Hit], *, threshold: float, asker: Asker,
           named: Sequence[str], search: Callable[[str], Sequence[Hit]]) -> Choice:
    """Pick the answer for the asker from ranked hits (``search`` asks about one part)."""
    if not hits:
        return Choice(None, 0.0, named_state=named[0] if named else None)
    best = hits[0].confidence
    fitting = [h for h in hits if h.confidence >= threshold]
    related = related_reading(hits, named)
    if named:
        top = hits[0].score
        close = [h for h in fitting if h is hits[0] or h.score >= STATE_SWITCH_RATIO * top]
        choice = _for_named_states(close, named, best, related)
        if choice.article is None and not fitting:  # each part may be the state's own article
            by_parts = _answer_by_parts(question, threshold, search, best, related, named=named)
            if by_parts.article is None:
                by_parts = _answer_the_asked_sentence(question, threshold, search, by_parts,
                                                      named=named)
            if by_parts.article is not None:
                return replace(by_parts, named_state=by_parts.article.jurisdiction)
        if choice.article is not None and not choice.extras:
            # "¿cuánto duran los cursos en Kansas y cuántas personas hay por clase?": the other
            # part's own article (of the named states, vetted) follows as "Also:"
            part = _second_part(question, choice.article, hits, threshold,
                                _for_states(search, named))
            if part is not None:
                return replace(choice, extras=(Extra(part, "part"),))
            # "How big are the Kansas classes? Also what is CTIC?": a part none of the named
            # states' articles answers may be general or another state's own topic; its article
            # follows, said to be that state's, rather than the part being dropped unsaid
            part = _second_part(question, choice.article, hits, threshold, _vetted(search),
                                ranked_only=False)
            if part is not None:
                return replace(choice, extras=(_extra_for(part, named),))
        return choice
    if not fitting:
        by_parts = _answer_by_parts(question, threshold, search, best, related)
        if by_parts.article is None:
            return _answer_the_asked_sentence(question, threshold, search, by_parts)
        return by_parts
    primary, extras, preferred = _prefer_asker_state(fitting, asker)
    if not extras:
        part = _second_part(question, primary.article, hits, threshold, search)
        extras = (Extra(part, "part"),) if part is not None else ()
    return Choice(primary.article, best, extras, preferred_state=preferred,
                  related=tuple(h.article for h in hits if h.article.id != primary.article.id)[:3])


def related_reading(hits: Sequence[Hit], named: Sequence[str]) -> tuple[Article, ...]:
    """Up to three close articles to offer.

    A question naming a state is offered only that state's and general ones: another state's
    contact page would send a clerk to the wrong office.
    """
    return tuple(h.article for h in hits
                 if not named or h.article.jurisdiction in named
                 or not is_state(h.article.jurisdiction))[:3]


def _for_named_states(fitting: list[Hit], named: Sequence[str], best: float,
                      related: tuple[Article, ...]) -> Choice:
    """A state's own vetted article, a vetted general one (said to be general), or nothing."""
    own = [h for h in fitting if h.article.jurisdiction in named and not h.article.is_draft]
    if own:
        primary = own[0]
        extras = tuple(Extra(h.article, "state", h.article.jurisdiction) for h in own[1:]
                       if h.article.jurisdiction != primary.article.jurisdiction)[:1]
        return Choice(primary.article, best, extras, named_state=primary.article.jurisdiction,
                      related=related)
    general = [h for h in fitting if not is_state(h.article.jurisdiction) and not h.article.is_draft]
    if general:
        return Choice(general[0].article, best, named_state=named[0], general_for_state=True,
                      related=related)
    return Choice(None, best, named_state=named[0], related=related)


def _prefer_asker_state(fitting: list[Hit], asker: Asker) -> tuple[Hit, tuple[Extra, ...],
                                                                  str | None]:
    """The asker's own state's article first when another state's article also fits."""
    top = fitting[0]
    mine = asker.jurisdiction
    if not mine:
        return top, (), None
    states = [h for h in fitting if is_state(h.article.jurisdiction) and not h.article.is_draft
              and h.score >= STATE_ALSO_RATIO * top.score]
    own = next((h for h in states if h.article.jurisdiction == mine), None)
    other = next((h for h in states if h.article.jurisdiction not in (mine,)), None)
    if own is None or other is None:
        return top, (), None
    return own, (Extra(other.article, "state", other.article.jurisdiction),), mine


#: Sentence boundaries of a message ("... left zero notes lol. someone mentioned ...?"); not
#: a dash, which joins a topic to its question ("ks seal mismatch - what's the procedure").
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\s*\n+\s*")
#: Words that stand for something the story said ("whats the reasoning behind that line").
_POINTS_BACK = re.compile(rf"\b(?:{BACK}|him|esa|ese)\b")
_ASKING = re.compile(r"^\W*(?:what|whats|how|who|whos|where|wheres|when|which|why|is|are|do|does|"
                     r"did|can|could|should|would|will|que|como|cuando|donde|quien|quienes|cual|"
                     r"cuales|cuanto|cuantos|cuantas|hay|puedo|podemos|pueden|se puede)\b")
#: Words of told context, besides the question, for the question to be searched alone; and
#: the least words of a question read without its story.
CONTEXT_MIN_WORDS = 6
ASKED_MIN_WORDS = 5


def asked_sentence(question: str) -> str | None:
    """The one sentence of a message that asks, after sentences that only tell (None otherwise).

    "hey so im the new county clerk in a small ks county, started in august ... lol. so what do
    the certification courses cover in the first year?": the story around a question dilutes
    its words; the question alone is searched, unless it points back into the story.
    """
    pieces = [p.strip() for p in _SENTENCES.split(question) if p.strip()]
    if len(pieces) < 2:
        return None
    asking = [p for p in pieces if p.endswith("?") or _ASKING.match(fold(p))]
    if len(asking) != 1 or len(asking[0].split()) < ASKED_MIN_WORDS \
            or _POINTS_BACK.search(fold(asking[0])):
        return None
    told = sum(len(p.split()) for p in pieces if p is not asking[0])
    return asking[0] if told >= CONTEXT_MIN_WORDS else None


def _answer_the_asked_sentence(question: str, threshold: float,
                               search: Callable[[str], Sequence[Hit]], none: Choice,
                               named: Sequence[str] = ()) -> Choice:
    """The answer to the one sentence that asks (:func:`asked_sentence`), or ``none``.

    A message naming states takes only those states' vetted articles (as :func:`_answer_by_parts`).
    """
    asked = asked_sentence(question)
    if asked is None:
        return none
    hits = (_for_states(search, named) if named else search)(asked)
    if not hits or hits[0].confidence < threshold:
        return none
    return Choice(hits[0].article, hits[0].confidence, related=none.related)


def _answer_by_parts(question: str, threshold: float, search: Callable[[str], Sequence[Hit]],
                     best: float, related: tuple[Article, ...],
                     named: Sequence[str] = ()) -> Choice:
    """A question whose parts are each answered well by a different article (none for all).

    A question about ``named`` states (a part may ask without naming it again) takes only
    those states' vetted articles.
    """
    parts = question_parts(question)
    if len(parts) < 2:  # one part finds one article at most: nothing to search for
        return Choice(None, best, related=related)
    found: list[Hit] = []
    elsewhere: list[Hit] = []  # parts the named states have no article for (general, another's)

    def new(hit: Hit) -> bool:
        return hit.confidence >= threshold and all(
            hit.article.id != f.article.id and not siblings(hit.article, f.article)
            for f in found + elsewhere)

    for part in parts:
        hits = search(about_state(part, named))
        if hits and named and (hits[0].article.jurisdiction not in named
                               or hits[0].article.is_draft):
            hits = _vetted(search)(part)
            if hits and new(hits[0]):
                elsewhere.append(hits[0])
            continue
        if hits and new(hits[0]):
            found.append(hits[0])
    if len(found) >= 2:
        first, second = found[:2]
        extra = Extra(second.article, "part")
    elif found and elsewhere:  # the named state's article first, the other part's after it
        first, second = found[0], elsewhere[0]
        extra = _extra_for(second.article, named)
    else:
        return Choice(None, best, related=related)
    return Choice(first.article, min(first.confidence, second.confidence), (extra,),
                  related=related)


def _for_states(search: Callable[[str], Sequence[Hit]],
                named: Sequence[str]) -> Callable[[str], Sequence[Hit]]:
    """``search`` of a part of a question about ``named`` states: only their vetted articles.

    A part that does not name a state again is asked about the first one named.
    """
    def searched(part: str) -> Sequence[Hit]:
        hits = search(about_state(part, named))
        return [h for h in hits if h.article.jurisdiction in named and not h.article.is_draft][:1]
    return searched


def _vetted(search: Callable[[str], Sequence[Hit]]) -> Callable[[str], Sequence[Hit]]:
    """``search`` of a part as typed, its first hit only when vetted."""
    def searched(part: str) -> Sequence[Hit]:
        return [h for h in search(part)[:1] if not h.article.is_draft]
    return searched


def _extra_for(article: Article, named: Sequence[str]) -> Extra:
    """An article for another part of a question about ``named`` states.

    Said to be another state's when it is ("Also for Connecticut:").
    """
    if is_state(article.jurisdiction) and article.jurisdiction not in named:
        return Extra(article, "state", article.jurisdiction)
    return Extra(article, "part")


def about_state(part: str, named: Sequence[str]) -> str:
    """A part of a question about ``named`` states, asked about the first when it names none.

    "… and how long is each course?" after "Kansas": still Kansas.
    """
    if not named or named_states(part):
        return part
    return f"{part} ({state_name(named[0], detect_language(part))})"


def _second_part(question: str, primary: Article, hits: Sequence[Hit], threshold: float,
                 search: Callable[[str], Sequence[Hit]], *,
                 ranked_only: bool = True) -> Article | None:
    """An article that answers another part of the question than ``primary`` does.

    ``ranked_only``: one the whole question's search ranked too (``hits``); a part about
    another state than the one the question names was not ranked there.
    """
    parts = question_parts(question)
    if len(parts) < 2:
        return None
    candidates = {h.article.id for h in hits}
    for part in parts:
        found = search(part)
        if not found or found[0].confidence < threshold:
            continue
        art = found[0].article
        if art.id != primary.id and (art.id in candidates or not ranked_only) \
                and not siblings(art, primary):
            return art
    return None
