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


def test_an_office_alias_names_its_jurisdiction_in_any_case_as_a_whole_word() -> None:
    from handlers.faq.places import named_states

    aliases = {"SOTS": "CT", "Secretary of the State": "CT", "VoteSure": "CA"}
    assert named_states("does the sots meet registrars monthly", aliases=aliases) == ["CT"]
    assert named_states("Ask the Secretary of the State, or VoteSure?", aliases=aliases) == [
        "CT", "CA"]
    assert named_states("the Secretary of State's hotline", aliases=aliases) == []
    assert named_states("SOTSX and votesurely", aliases=aliases) == []  # whole words only
    assert named_states("Kansas, unlike the SOTS", aliases=aliases) == ["KS", "CT"]


def test_a_question_naming_an_office_alias_gets_that_jurisdictions_contact(
        tmp_path: Path) -> None:
    from handlers.faq.answer import answer_question
    from tests.support import REAL_KB

    jurisdictions = [{"code": "CT", "name": "Connecticut", "aliases": ["SOTS"]},
                     {"code": "CA", "name": "California"}, {"code": "KS", "name": "Kansas"}]
    contacts = {"default": {"name": "your state election office", "verified_on": "2026-11-22"},
                "CT": {"name": "the Connecticut Office of the Secretary of the State",
                       "verified_on": "2026-11-22"}}
    services = build_services(make_settings(tmp_path, knowledge_path=str(REAL_KB),
                                            jurisdictions=jurisdictions, contacts=contacts))
    answer = answer_question(question="what is the direct fax number of the SOTS",
                             services=services)
    assert not answer.answered and answer.named_state == "CT"
    assert answer.contact is not None and "Connecticut" in answer.contact.name
    assert {a.jurisdiction for a in answer.suggestions} <= {"CT", "general"}


def test_the_offices_own_codes_are_read_in_lower_case_only_where_a_state_fits() -> None:
    from handlers.faq.places import named_states

    ours = frozenset({"CA", "CT", "KS"})
    for text, named in [("ks county clerk here, when are the classes", ["KS"]),
                        ("rules in ct for recounts", ["CT"]), ("ca's audit rule", ["CA"]),
                        ("what is the ca deadline", ["CA"]),
                        ("did ct recruit volunteers", ["CT"]), ("the ks cert class size", ["KS"]),
                        # a street, an e-mail domain, a scan, an abbreviation: no state
                        ("which voter lives at 40 elm ct", []), ("mail bob@ca.gov", []),
                        ("ct scan results", []), ("ca. 1990", [])]:
        assert named_states(text, extra_codes=ours) == named, text
    # another office's codes, or a code that is also a word, only in capitals
    assert named_states("rules in tx for recounts", extra_codes=ours) == []
    assert named_states("rules in co for recounts", extra_codes=ours | {"CO"}) == []


def test_the_one_sentence_that_asks_is_found_after_the_story_around_it() -> None:
    from handlers.faq.scope import asked_sentence

    assert asked_sentence(
        "hey so im the new county clerk in a small ks county, started in august, and my "
        "predecessor left zero notes lol. what do the certification courses cover in the first "
        "year?") == "what do the certification courses cover in the first year?"
    assert asked_sentence("hola, soy de la oficina del condado y tengo una duda rapida. como se "
                          "revisa que las maquinas cuenten bien?") == (
        "como se revisa que las maquinas cuenten bien?")
    # one sentence, two questions, or too little story: the message is read whole
    assert asked_sentence("what do the year one courses cover") is None
    assert asked_sentence("what is pause? and who made it?") is None
    assert asked_sentence("new here. what is the PAUSE method?") is None
    # a question that points back into the story, or a topic joined to its question by a dash
    assert asked_sentence("a voter asked me why our lobby poster says voters are the first line "
                          "of defense. whats the reasoning behind that line") is None
    assert asked_sentence("retention schedule for election office emails and chat messages - how "
                          "many years do we keep them") is None


def test_a_long_message_is_answered_on_the_sentence_that_asks(tmp_path: Path) -> None:
    from handlers.faq.scope import asked_sentence

    kb = build_services(make_settings(tmp_path)).knowledge.current
    article = next(iter(kb.articles.values()))
    hit = Hit(article, 1.0, 0.9)
    searched: list[str] = []

    def search(part: str) -> list[Hit]:
        searched.append(part)
        return [hit]

    message = ("our board meets tomorrow night and the chair wants a short summary from me. "
               f"{article.questions[0]}?")
    assert asked_sentence(message) is not None
    weak = [Hit(article, 1.0, 0.1)]
    chosen = choose(message, weak, threshold=0.5, asker=Asker(), named=(), search=search)
    assert chosen.article is article and searched[-1] == f"{article.questions[0]}?"
    # the sentence alone no better than the message: no answer
    chosen = choose(message, weak, threshold=0.5, asker=Asker(), named=(),
                    search=lambda part: weak)
    assert chosen.article is None
