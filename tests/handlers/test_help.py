"""Help and discovery through the real router: help alone, role-aware, each command's usage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.services import build_services
from bot.messages import IncomingMessage, Reply, Sender
from bot.router import Router
from handlers import build_handlers
from tests.support import make_settings, migrated

ROLES = {"state_staff": ["webchat:local:boss"], "broadcaster": ["webchat:local:caster"]}
CERT = {"supervisors": {"KS": ["webchat:local:ks-super"]}}
COMMANDS = {"ask": "/ask-ct", "incident": "/inc", "alert": "/alert-ct", "cert": "/cert-ct"}


@pytest.fixture
async def router(tmp_path: Path) -> AsyncIterator[Router]:
    settings = make_settings(tmp_path, roles=ROLES, certification=CERT, commands=COMMANDS)
    migrated(settings.env.DATABASE_URL)
    services = build_services(settings)
    yield Router(build_handlers(), services)
    await services.db.close()


async def ask(router: Router, user: str, text: str = "", command: str | None = None) -> Reply:
    message = IncomingMessage(sender=Sender("webchat", "local", user), text=text,
                              command=command)
    return await router.dispatch(message)


def shown(reply: Reply) -> str:
    return "\n".join([reply.text, *(s.text for s in reply.sections)])


@pytest.mark.parametrize(("text", "command"), [
    ("help", None), ("Help", None), ("/help", None), ("HELP:", None), ("", "/help"),
    ("", "/HELP"),
])
async def test_help_in_any_spelling_is_the_help_text_alone(router: Router, text: str,
                                                          command: str | None) -> None:
    reply = await ask(router, "ann", text, command)
    assert reply.text == "I'm the Test Office assistant."
    assert "don't know" not in shown(reply)


async def test_an_unknown_command_is_still_named(router: Router) -> None:
    reply = await ask(router, "ann", "", "/nosuchthing")
    assert reply.text.startswith("I don't know the command /nosuchthing. ")


@pytest.mark.parametrize(("user", "present", "absent"), [
    ("ann", ["`/ask-ct ", "`/inc`", "`/cert-ct`", "`/cert-ct done COURSE`"],
     ["/alert-ct", "jurisdiction CODE"]),
    ("ks-super", ["`/cert-ct`", "`/cert-ct jurisdiction CODE`", "`/cert-ct @user`"],
     ["/alert-ct"]),
    ("caster", ["`/alert-ct`", "`/alert-ct help`", "`/cert-ct`"], ["jurisdiction CODE"]),
    ("boss", ["`/alert-ct status ID`", "`/cert-ct jurisdiction CODE`"], ["`/alert-ct`"]),
])
async def test_help_lists_the_commands_this_person_may_use(router: Router, user: str,
                                                           present: list[str],
                                                           absent: list[str]) -> None:
    text = shown(await ask(router, user, "help"))
    for name in present:
        assert name in text, (user, name)
    for name in absent:
        assert name not in text, (user, name)
    assert "/ask`" not in text and "/cert`" not in text  # configured names, not defaults


async def test_cert_help_shows_usage_not_an_official_named_help(router: Router) -> None:
    ann = await ask(router, "ann", "help", "/cert-ct")
    assert ann.title == "Certification commands"
    assert "`/cert-ct done COURSE [date] [hours]`" in shown(ann)
    assert "YYYY-MM-DD, today or yesterday" in shown(ann)
    assert "jurisdiction" not in shown(ann) and "roster" not in shown(ann)
    boss = shown(await ask(router, "boss", "HELP", "/cert-ct"))
    assert "`/cert-ct jurisdiction CODE`" in boss and "`/cert-ct unreachable`" in boss
    supervisor = shown(await ask(router, "ks-super", "help", "/cert-ct"))
    assert "`/cert-ct @user`" in supervisor  # and unreachable, for their own jurisdictions:
    assert "`/cert-ct unreachable`" in supervisor and "jurisdictions you supervise" in supervisor


async def test_incident_and_alert_help_show_their_usage(router: Router) -> None:
    incident = await ask(router, "ann", "help", "/inc")
    assert incident.title == "Incident commands"
    assert "`/inc status ID STATUS [note]`" in shown(incident)
    alert = await ask(router, "caster", "help", "/alert-ct")
    assert "/alert-ct status ID" in alert.text and "/alert-ct cancel ID" in alert.text


@pytest.mark.parametrize("text", ["what can you do", "What can you do for me?", "how does this work",
                                  "hi", "Hey!"])
async def test_asking_what_the_bot_does_gets_the_help(router: Router, text: str) -> None:
    assert (await ask(router, "ann", text)).text == "I'm the Test Office assistant."


@pytest.mark.parametrize(("text", "answer"), [
    ("thanks!", "You're welcome."), ("Thank you so much", "You're welcome."),
    ("ok thanks", "You're welcome."), ("muchas gracias", "De nada."),
])
async def test_thanks_get_a_short_courteous_answer(router: Router, text: str, answer: str) -> None:
    reply = await ask(router, "ann", text)
    assert reply.text.startswith(answer) and reply.ephemeral


@pytest.mark.parametrize("text", [
    "thank you notes for poll workers: is there a template?",
    "what can you do about a bomb threat at a polling place",
    "hi, quick q: what is the pause method?",
    "incident reports - are they public records?",
])
async def test_questions_that_start_like_small_talk_are_questions(router: Router,
                                                                  text: str) -> None:
    reply = await ask(router, "ann", text)
    assert not reply.text.startswith(("I'm the Test Office", "You're welcome"))
    assert "Filed INC-" not in shown(reply)


@pytest.mark.parametrize("text", ["ayuda", "hola", "¿qué puedes hacer?", "¡Hola!"])
async def test_help_asked_in_spanish_is_answered_in_spanish(router: Router, text: str) -> None:
    reply = await ask(router, "caster", text)
    body = shown(reply)
    assert reply.text.startswith("Soy el asistente de")
    for line in ("**Hacer una pregunta**: `/ask-ct", "**Reportar un incidente**: `/inc`",
                 "llame primero al 911", "**Alertas**: `/alert-ct`", "**help** o **ayuda**"):
        assert line in body, line
    assert "Ask a question" not in body and "call 911 first" not in body


async def test_help_in_english_stays_english(router: Router) -> None:
    for text in ("help", "hi", "what can you do?"):
        reply = await ask(router, "caster", text)
        assert reply.text.startswith("I'm the") and "Hacer una pregunta" not in shown(reply)


async def test_ayuda_before_a_question_is_the_question(router: Router) -> None:
    reply = await ask(router, "ann", "¡Ayuda! necesito saber cómo reportar desinformación electoral")
    assert not reply.text.startswith(("Soy el asistente", "I'm the"))


@pytest.mark.parametrize("text", ["¡", "¿", "¡¿", "¿?", "¡" * 5000, "¿ayuda" + "?" * 4000])
async def test_stray_spanish_marks_get_an_answer_not_an_error(router: Router, text: str) -> None:
    reply = await ask(router, "ann", text)
    assert reply.text and "went wrong" not in reply.text
