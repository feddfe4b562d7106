"""Recent answers: reused for the same question, asker and base; no question text kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.services import build_services
from bot.messages import IncomingMessage, Sender
from handlers.faq import handler as faq_handler
from handlers.faq.answer import Answer
from handlers.faq.handler import FaqHandler
from handlers.faq.recent import RecentAnswers
from handlers.faq.scope import Asker
from tests.support import make_settings, migrated

KB, CONFIG = object(), object()


def test_an_answer_is_reused_for_the_same_question_and_asker_only() -> None:
    recent = RecentAnswers()
    ct = Asker("CT", False)
    assert recent.get("when do polls open", ct, knowledge=KB, config=CONFIG) is None
    recent.put(Answer("when do polls open", None, 0.4, asker=ct), knowledge=KB, config=CONFIG)
    again = recent.get("when do polls open", ct, knowledge=KB, config=CONFIG)
    assert again is not None and again.question == "when do polls open"
    assert again.confidence == 0.4
    assert recent.get("when do polls open", Asker("CT", True), knowledge=KB,
                      config=CONFIG) is None
    assert recent.get("when do polls close", ct, knowledge=KB, config=CONFIG) is None


def test_another_base_or_configuration_starts_afresh() -> None:
    recent = RecentAnswers()
    recent.get("q", Asker(), knowledge=KB, config=CONFIG)
    recent.put(Answer("q", None, 0.1), knowledge=KB, config=CONFIG)
    assert recent.get("q", Asker(), knowledge=object(), config=CONFIG) is None
    assert recent.get("q", Asker(), knowledge=KB, config=CONFIG) is None  # cleared meanwhile
    recent.put(Answer("q", None, 0.1), knowledge=KB, config=CONFIG)
    assert recent.get("q", Asker(), knowledge=KB, config=object()) is None


def test_no_question_text_is_kept_and_the_memory_is_bounded() -> None:
    recent = RecentAnswers(size=2)
    recent.get("x", Asker(), knowledge=KB, config=CONFIG)
    for text in ("call jane doe at 860-555-1234", "second", "third"):
        recent.put(Answer(text, None, 0.0), knowledge=KB, config=CONFIG)
    kept = list(recent._answers.values())
    assert len(kept) == 2 and all(a.question == "" for a in kept)
    assert recent.get("call jane doe at 860-555-1234", Asker(), knowledge=KB,
                      config=CONFIG) is None  # the oldest went first


async def test_the_handler_decides_a_repeated_question_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings(tmp_path)
    migrated(settings.env.DATABASE_URL)
    services = build_services(settings)
    decided: list[str] = []
    real = faq_handler.answer_question

    def counting(**kwargs: object) -> Answer:
        decided.append(str(kwargs["question"]))
        return real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(faq_handler, "answer_question", counting)
    handler = FaqHandler()
    ask = IncomingMessage(sender=Sender("webchat", "local", "ann"),
                          text="what is the pause method")
    try:
        first = await handler.handle(ask, services)
        second = await handler.handle(ask, services)
        assert decided == ["what is the pause method"]
        assert first.text == second.text and first.sections == second.sections
        assert [b.value for b in first.buttons] != [b.value for b in second.buttons]  # own ids
    finally:
        await services.db.close()
