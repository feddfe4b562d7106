"""Answering one question: guard, retrieve, decide. No database, nothing recorded.

Apart from :mod:`handlers.faq.service` (which records questions and feedback in the database) so
``electionbot ask`` answers without importing the database and server stack.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from handlers.faq import guard
from handlers.faq.places import introduced_states, named_states
from handlers.faq.replies import build_answer_reply, refusal_text
from handlers.faq.scope import Asker, Extra, choose
from handlers.incidents.danger import reports_danger
from knowledge.article import Article
from knowledge.decide import states_compared
from knowledge.language import detect_language

if TYPE_CHECKING:
    from bot.config.settings import Contact, Settings
    from bot.messages import Reply
    from knowledge.store import KnowledgeStore


class Sources(Protocol):
    """What answering reads: the settings and the knowledge base (``Services`` has both)."""

    @property
    def settings(self) -> Settings:
        """The process's settings (thresholds, jurisdictions, contacts)."""

    @property
    def knowledge(self) -> KnowledgeStore:
        """The knowledge base in service."""


@dataclass(frozen=True)
class KnowledgeOnly:
    """Settings and a knowledge base without the rest of ``Services`` (one-shot ``ask``)."""

    settings: Settings
    knowledge: KnowledgeStore


#: How many ranked articles the decision looks at (answer, "Also", related reading).
SEARCH_DEPTH = 6


@dataclass(frozen=True)
class Answer:
    """The decision for one question."""

    question: str
    article: Article | None
    confidence: float
    refused: str | None = None
    refusal_kind: str | None = None
    suggestions: list[Article] = field(default_factory=list)
    language: str = "en"
    extras: tuple[Extra, ...] = ()
    asker: Asker = Asker()
    named_state: str | None = None
    preferred_state: str | None = None
    general_for_state: bool = False
    contact: Contact | None = None
    #: The asker's state when the answer is another state's article (and no state was named):
    #: the reply says so and names the asker's own contact (``contact``).
    other_state_for: str | None = None
    #: The guard's category for the part of the message left out: the answer is to its opening
    #: (:attr:`question`), and the reply says what was declined first.
    declined: str | None = None

    @property
    def answered(self) -> bool:
        """True only when a vetted article is given."""
        return self.article is not None

    @property
    def outcome(self) -> str:
        """answered, abstained or refused."""
        if self.refused is not None:
            return "refused"
        return "answered" if self.answered else "abstained"

    def answer_reply(self, question_id: int | None = None) -> Reply:
        """The reply that gives :attr:`article` (chat and terminal alike); needs an article."""
        assert self.article is not None
        return build_answer_reply(
            self.article, language=self.language, question_id=question_id, extras=self.extras,
            preferred_state=self.preferred_state,
            general_for_state=self.named_state if self.general_for_state else None,
            other_state_for=(self.other_state_for, self.contact) if self.other_state_for else None)

    @property
    def contact_jurisdiction(self) -> str | None:
        """Whose contact an abstention names: the state asked about, else the asker's."""
        return self.named_state or self.asker.jurisdiction


def answer_question(*, question: str, services: Sources, asker: Asker | None = None) -> Answer:
    """Refuse what the guard catches; otherwise the vetted article, or abstain with suggestions.

    A message whose opening passes the guard on its own is answered on that opening, the rest
    declined (:attr:`Answer.declined`, :func:`handlers.faq.guard.answerable_opening`).

    A question naming a state gets that state's vetted article (or a vetted general one, said
    to be general), never a draft or another state's rule; when articles from two states fit,
    the asker's own state comes first.
    """
    asker = asker or Asker()
    app = services.settings.app
    kind = guard.check(question)
    if kind is not None:
        # "how do we seal the bags, and also what's the judge's cell?": the opening is answered
        # on its own (it passes the guard by itself) and the rest declined
        opening = guard.answerable_opening(question)
        if opening is not None:
            answered = answer_question(question=opening, services=services, asker=asker)
            if answered.refused is None:
                return replace(answered, declined=kind)
        asked_in = detect_language(question)
        return Answer(question, None, 0.0, refused=refusal_text(kind, asked_in),
                      refusal_kind=kind, language=asked_in, asker=asker)
    kb = services.knowledge.current
    hits = kb.search(question, limit=SEARCH_DEPTH)
    threshold = app.thresholds.answer_confidence
    codes = frozenset(j.code for j in app.jurisdictions)
    named = named_states(question, extra_codes=codes, aliases=app.aliases)
    # Neither where the asker works, told in passing ("I'm a new clerk in Kansas, what's
    # PAUSE?"), nor the model of a comparison ("is the California-style audit something Kansas
    # does?") is the state asked about. The first stands for the asker's own when nothing
    # else says it; a state this office does not serve stays named ("I'm a director in Ohio,
    # how do we ...": no vetted answer for Ohio, whose rules the base does not hold).
    told = [code for code in introduced_states(question, extra_codes=codes, aliases=app.aliases)
            if code in codes]
    compared = states_compared(question)
    named = [code for code in named if code not in told and code not in compared]
    if told and asker.jurisdiction is None:
        asker = replace(asker, jurisdiction=told[0])
    choice = choose(question, hits, threshold=threshold, asker=asker, named=named,
                    search=lambda part: kb.search(part, limit=1))
    base = {"asker": asker, "named_state": choice.named_state,
            "preferred_state": choice.preferred_state}
    if choice.article is not None:
        language = next((h.language for h in hits if h.article.id == choice.article.id), "en")
        answer = Answer(question, choice.article, choice.confidence,
                        suggestions=list(choice.related), language=language, extras=choice.extras,
                        general_for_state=choice.general_for_state, **base)  # type: ignore[arg-type]
        mine, theirs = asker.jurisdiction, choice.article.jurisdiction
        if mine and theirs not in ("general", mine) and choice.named_state is None:
            return replace(answer, other_state_for=mine, contact=app.contact_for(mine))
        return answer
    # A report of danger not answered gets the 911 line and the report form, not loosely
    # related reading ("a voter just collapsed in line": not the rumor-control articles).
    related = [] if reports_danger(question) else list(choice.related)
    answer = Answer(question, None, choice.confidence, suggestions=related,
                    language=detect_language(question), **base)  # type: ignore[arg-type]
    asked_about = answer.named_state
    if asked_about is not None and asked_about not in app.contacts:  # no contact for that state
        return replace(answer, contact=None)
    return replace(answer, contact=app.contact_for(answer.contact_jurisdiction))
