"""Command-line views of an answer (the ``electionbot ask`` JSON contract)."""

from __future__ import annotations

from typing import Any

from bot.config.settings import Contact
from handlers.faq.answer import Answer
from handlers.faq.replies import (
    abstain_text,
    answer_plain_text,
    declined_text,
    labels,
    related_head,
    source_line,
)
from handlers.incidents.danger import call_911, may_report, signals_danger


def answer_text(answer: Answer, contact: Contact | None) -> str:
    """The answer, refusal or abstention as plain text (``contact`` unless a state was named)."""
    if answer.refused is not None:
        return answer.refused
    declined = f"{declined_text(answer.declined, answer.language)}\n\n" if answer.declined else ""
    if answer.article is None:
        return declined + abstain_text(
            answer.contact if answer.named_state else answer.contact or contact, answer.language,
            state=answer.named_state, staff=answer.asker.state_staff)
    return declined + answer_plain_text(answer.answer_reply())


def answer_to_json(answer: Answer, contact: Contact | None, *,
                   asked: str | None = None) -> dict[str, Any]:
    """The ``ask --json`` object: question, answered, article_id, title, answer, confidence...

    Also sources, refused, declined, draft and call_911.

    ``declined``: the guard's category for the part of the message left out (``question`` is
    then the opening that was answered), or None. ``asked``: the whole message as typed (default
    ``question``), which ``call_911`` reads: a danger may be in the part left out.
    """
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
        "declined": answer.declined,
        "suggestions": [s.id for s in answer.suggestions],
        "also": [e.article.id for e in answer.extras],
        "named_state": answer.named_state,
        # the text view leads with "CALL 911 NOW": a script reading the JSON must see it too
        "call_911": signals_danger(asked or answer.question),
    }


def answer_to_text(answer: Answer, contact: Contact | None, *, asked: str | None = None,
                   report_command: str = "/incident") -> str:
    """A readable answer for a terminal: what the chat shows, as plain text.

    A message that mentions a danger (``asked``, the whole message, default the answer's
    question) is led by the 911 line and ends with where to report it (the chat's "Report an
    incident" button: ``report_command``); an abstention ends with the related reading, and
    with what to do if it may report something happening now.
    """
    lang, art, message = answer.language, answer.article, asked or answer.question
    words, danger = labels(lang), signals_danger(message)
    if art is not None:
        text = (f"{answer_text(answer, contact)}\n\n{source_line(art, lang)} · "
                f"{words.confidence} {answer.confidence:.2f}")
    else:
        text = answer_text(answer, contact)
        if answer.refused is None:
            related = [f"- {a.localized(lang)[0]}" for a in answer.suggestions[:3]]
            head = related_head(answer.suggestions[:3], answer.named_state, lang)
            text = "\n\n".join([text, *([head + "\n" + "\n".join(related)] if related else []),
                                 *([words.happening] if may_report(message)
                                   and not danger else [])])  # 911 leads: not twice
    if not danger:
        return text
    return f"{call_911(lang)}\n\n{text}\n\n{words.report_it.format(command=report_command)}"
