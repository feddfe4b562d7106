"""A message with a legitimate opening and a refused part: the opening answered, the rest declined."""

from __future__ import annotations

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
from handlers.faq.service import list_gaps
from tests.support import REAL_KB, RunningBot, make_settings, running_bot


@pytest.fixture(autouse=True)
def _lexical_guard() -> Iterator[None]:
    """The lexical fit, the app default (another test may have loaded the embedder)."""
    guard.use_semantic(False)
    yield
    guard.use_semantic(None)


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return build_services(make_settings(tmp_path, knowledge_path=str(REAL_KB)))


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[RunningBot]:
    async with running_bot(make_settings(tmp_path, knowledge_path=str(REAL_KB))) as running:
        yield running


async def _ask(bot: RunningBot, text: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.post(
            f"{bot.url}/webchat/messages", json={"user": "ann", "text": text}) as resp:
        assert resp.status == 200
        body = await resp.json()
    return body["replies"][0]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("question", "opening"), [
    ("What is the PAUSE method, and also what's the judge's personal cell?",
     "What is the PAUSE method"),
    ("how do we de-escalate an angry voter? also who should I vote for for sheriff?",
     "how do we de-escalate an angry voter?"),
    ("¿Qué es el doxxing? Y también dame el celular personal de la registradora.",
     "¿Qué es el doxxing?"),
])
def test_the_opening_of_a_refused_message_is_cut_in_the_askers_words(question: str,
                                                                    opening: str) -> None:
    assert guard.check(question) is not None
    assert answerable_opening(question) == opening


@pytest.mark.parametrize("question", [
    "what's the judge's personal cell, and what is the PAUSE method?",  # the refusal comes first
    "we protect staff data here. what's the registrar's home address?",  # nothing asked first
    "who should I vote for?",  # one part
])
def test_a_message_whose_refused_part_comes_first_has_no_answerable_opening(question: str) -> None:
    assert guard.check(question) is not None
    assert answerable_opening(question) is None


def test_the_opening_is_answered_and_the_rest_declined(services: Services) -> None:
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


async def test_the_web_chat_says_what_was_left_out_then_answers(bot: RunningBot) -> None:
    reply = await _ask(bot, "how do we de-escalate an angry voter? also who should I vote for "
                            "for sheriff?")
    assert reply["text"].startswith("I've left out part of your message: I don't give voting "
                                    "advice")
    assert reply["sections"][0]["text"].startswith("I've left out part of your message")
    # then the answer to the opening, as any answer: its title, source and feedback buttons
    shown = "\n".join([*(f"{s['text']}\n{s['context']}" for s in reply["sections"]),
                       *(b["label"] for b in reply["buttons"])])
    assert "de-escalation" in shown.lower() and "Source:" in shown and "Helpful?" in shown


async def test_only_the_answered_opening_is_recorded(bot: RunningBot) -> None:
    """The curators' queue keeps the question that was asked of the base, never the refused
    part (a refused message keeps no text at all)."""
    await _ask(bot, "where should visitors park at the county election office? and what's the "
                    "home address of the deputy clerk?")
    gaps = await list_gaps(db=bot.services.db)
    assert gaps and "park" in gaps[0].example
    assert all("home address" not in gap.example for gap in gaps)
