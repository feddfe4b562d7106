"""Choosing among ranked articles: parts of a question are searched only when there are parts."""

from __future__ import annotations

from pathlib import Path

from app.services import build_services
from handlers.faq.scope import Asker, choose
from knowledge.search import Hit
from tests.support import make_settings


def test_only_a_question_of_several_parts_is_searched_again_part_by_part(
        tmp_path: Path) -> None:
    kb = build_services(make_settings(tmp_path)).knowledge.current
    weak = [Hit(next(iter(kb.articles.values())), 1.0, 0.1)]  # below the threshold
    searched: list[str] = []

    def search(part: str) -> list[Hit]:
        searched.append(part)
        return []

    one = choose("when do the polls open", weak, threshold=0.5, asker=Asker(), named=(),
                 search=search)
    assert one.article is None and one.confidence == 0.1 and searched == []
    two = choose("when do the polls open and where do I park my car", weak, threshold=0.5,
                 asker=Asker(), named=(), search=search)
    assert two.article is None
    assert searched == ["when do the polls open", "where do I park my car"]
