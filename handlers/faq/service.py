"""The record curators learn from: questions asked, feedback, gaps.

Answering itself (guard, retrieve, decide) is :mod:`handlers.faq.answer`; whose state an asker
is in, :mod:`handlers.faq.askers`.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.db.engine import Database, utcnow
from bot.db.idempotency import claim as claim_in
from bot.ops.metrics import count_question
from bot.ops.privacy import scrub
from handlers.faq.answer import Answer
from handlers.faq.models import AskedQuestion, Feedback


async def record_question(*, db: Database, answer: Answer, platform: str,
                          jurisdiction: str | None, claim: str = "") -> int:
    """Keep the question for curators, scrubbed; a refused question keeps no text.

    The row goes through the table's group-commit writer: one short transaction for all the
    questions asked meanwhile, plain inserts, drained on a clean shutdown. ``claim`` (the
    request's dedupe key) is claimed in that transaction; a replay raises
    :class:`bot.errors.Replayed` and records nothing.
    """
    question_id = int(await db.writer(_QUESTIONS).add({
        "asked_at": utcnow(),
        "platform": platform,
        "jurisdiction": jurisdiction,
        "question": "" if answer.refused else scrub(answer.question)[:1000],
        "language": answer.language,
        "outcome": answer.outcome,
        "article_id": answer.article.id if answer.article else None,
        "confidence": answer.confidence,
    }, claim_in(claim) if claim else None))
    count_question(answer.outcome)
    return question_id


_QUESTIONS = AskedQuestion.__table__  # type: ignore[attr-defined]


async def record_feedback(*, db: Database, question_id: int, helpful: bool,
                          identity: str) -> str:
    """Store a Helpful? click: ``stored``, ``duplicate`` (one per person) or ``unknown``."""
    voter = hashlib.sha256(identity.encode()).hexdigest()
    async with db.session() as session:
        asked = await session.get(AskedQuestion, question_id)
        if asked is None or asked.article_id is None:
            return "unknown"
        session.add(Feedback(question_id=question_id, article_id=asked.article_id,
                             helpful=helpful, voter=voter))
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            return "duplicate"
    return "stored"


@dataclass
class Gap:
    """A group of questions the base did not serve well."""

    example: str
    count: int = 0
    not_helpful: int = 0
    last_asked: datetime | None = None
    articles: set[str] = field(default_factory=set)


_WORD = re.compile(r"[a-z0-9áéíóúñü\[\]]+")


def _group_key(question: str) -> str:
    words = sorted(set(_WORD.findall(question.lower())) - _STOP)
    return " ".join(words)


_STOP = frozenset("a an the is are do does i we you what whats how where when who which can of "
                  "to for in on at and or my our me it be there this that".split())


async def list_gaps(*, db: Database, limit: int = 50) -> list[Gap]:
    """Abstained and not-helpful questions, grouped by their words, most frequent first."""
    async with db.session() as session:
        abstained = (await session.exec(
            select(AskedQuestion).where(AskedQuestion.outcome == "abstained"))).all()
        unhelpful = (await session.exec(
            select(AskedQuestion).join(Feedback, sa.and_(
                col(Feedback.question_id) == col(AskedQuestion.id),
                col(Feedback.helpful).is_(False))))).all()
    groups: dict[str, Gap] = defaultdict(lambda: Gap(example=""))
    for row, is_unhelpful in [*((r, False) for r in abstained), *((r, True) for r in unhelpful)]:
        gap = groups[_group_key(row.question)]
        gap.example = gap.example or row.question
        gap.count += 1
        gap.not_helpful += int(is_unhelpful)
        if row.article_id:
            gap.articles.add(row.article_id)
        if gap.last_asked is None or row.asked_at > gap.last_asked:
            gap.last_asked = row.asked_at
    ranked = sorted(groups.values(), key=lambda g: (-g.count, -(g.last_asked or datetime.min)
                                                    .timestamp() if g.last_asked else 0))
    return ranked[:limit]
