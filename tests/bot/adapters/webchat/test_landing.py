"""The web chat's landing: each suggested question is one the shipped knowledge base answers."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from app.services import build_services
from handlers.faq.answer import answer_question
from tests.support import REAL_KB, ROOT, make_settings

PAGE = ROOT / "bot" / "adapters" / "webchat" / "static" / "page.html"


class _Suggestions(HTMLParser):
    """Collects the text of the page's suggestion buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "button" and ("class", "suggestion") in attrs:
            self._inside = True
            self.found.append("")

    def handle_endtag(self, tag: str) -> None:
        self._inside = self._inside and tag != "button"

    def handle_data(self, data: str) -> None:
        if self._inside:
            self.found[-1] += data


def suggestions() -> list[str]:
    """The suggested questions as page.html offers them."""
    parser = _Suggestions()
    parser.feed(PAGE.read_text(encoding="utf-8"))
    return parser.found


def test_every_suggested_question_has_an_answer_in_the_shipped_knowledge_base(
        tmp_path: Path) -> None:
    services = build_services(make_settings(tmp_path, knowledge_path=str(REAL_KB)))
    asked = suggestions()
    assert len(asked) == 4
    unanswered = [q for q in asked
                  if answer_question(question=q, services=services).article is None]
    assert unanswered == []


def test_the_spanish_suggestions_are_answered_in_spanish(tmp_path: Path) -> None:
    from tests.bot.adapters.webchat.test_webchat_a11y import strings

    services = build_services(make_settings(tmp_path, knowledge_path=str(REAL_KB)))
    spanish = [text for key, text in strings()["es"].items() if key.startswith("ask_")]
    assert len(spanish) == len(suggestions()) == 4
    answers = [answer_question(question=q, services=services) for q in spanish]
    assert [q for q, a in zip(spanish, answers, strict=True) if a.article is None] == []
    assert {a.language for a in answers} == {"es"}
