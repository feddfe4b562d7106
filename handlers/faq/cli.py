"""Command-line views of an answer (the ``electionbot ask`` JSON contract)."""

from __future__ import annotations

from typing import Any

from bot.config.settings import Contact
from handlers.faq.answer import Answer
from handlers.faq.replies import abstain_text, answer_plain_text, build_answer_reply, source_line


def answer_text(answer: Answer, contact: Contact | None) -> str:
    """The answer, refusal or abstention as plain text (``contact`` unless a state was named)."""
    if answer.refused is not None:
        return answer.refused
    if answer.article is None:
        return abstain_text(answer.contact or contact, answer.language,
                            state=answer.named_state, staff=answer.asker.state_staff)
    return answer_plain_text(build_answer_reply(
        answer.article, language=answer.language, extras=answer.extras,
        preferred_state=answer.preferred_state,
        general_for_state=answer.named_state if answer.general_for_state else None,
                other_state_for=(answer.other_state_for, answer.contact)
                if answer.other_state_for else None))


def answer_to_json(answer: Answer, contact: Contact | None) -> dict[str, Any]:
    """question, answered, article_id, title, answer, confidence, sources (+ refused, draft)."""
    art = answer.article
    return {
        "question": answer.question,
        "answered": answer.answered,
        "article_id": art.id if art else None,
        "title": art.localized(answer.language)[0] if art else None,
        "answer": answer_text(answer, contact),
        "confidence": round(answer.confidence, 4),
        "sources": [s.model_dump(exclude_none=True) for s in art.sources] if art else [],
        "jurisdiction": art.jurisdiction if art else None,
        "draft": art.is_draft if art else False,
        "refused": answer.refused,
        "suggestions": [s.id for s in answer.suggestions],
        "also": [e.article.id for e in answer.extras],
        "named_state": answer.named_state,
    }


def answer_to_text(answer: Answer, contact: Contact | None) -> str:
    """A readable answer for a terminal."""
    art = answer.article
    if art is None:
        return answer_text(answer, contact)
    return (f"{answer_text(answer, contact)}\n\n{source_line(art, answer.language)} · "
            f"confidence {answer.confidence:.2f}")
