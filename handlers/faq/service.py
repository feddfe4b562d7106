"""Answering a question: guard, retrieve, decide. Shared by chat and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.services import Services
from knowledge import Article


@dataclass(frozen=True)
class Answer:
    """The decision for one question."""

    question: str
    article: Article | None
    confidence: float
    refused: str | None = None
    suggestions: list[Article] = field(default_factory=list)
    language: str = "en"

    @property
    def answered(self) -> bool:
        """True only when a vetted article is given."""
        return self.article is not None


def answer_question(*, question: str, services: Services) -> Answer:
    """Pick the vetted article for a question, or abstain with close suggestions."""
    kb = services.knowledge.current
    hits = kb.search(question, limit=4)
    threshold = services.settings.app.thresholds.answer_confidence
    if hits and hits[0].confidence >= threshold:
        return Answer(question, hits[0].article, hits[0].confidence,
                      suggestions=[h.article for h in hits[1:4]])
    best = hits[0].confidence if hits else 0.0
    return Answer(question, None, best, suggestions=[h.article for h in hits[:3]])
