"""Danger typed into the chat, through the real router: 911 first, whether reported or asked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.services import build_services
from bot.errors import Replayed
from bot.messages import Action, IncomingMessage, Reply, Sender, Tone
from bot.router import Router
from handlers import build_handlers
from handlers.incidents.danger import REPORT_BUTTON, may_report
from tests.support import REAL_KB, make_settings, migrated


@pytest.fixture
async def router(tmp_path: Path) -> AsyncIterator[Router]:
    settings = make_settings(tmp_path, knowledge_path=str(REAL_KB))
    migrated(settings.env.DATABASE_URL)
    services = build_services(settings)
    yield Router(build_handlers(), services)
    await services.db.close()


async def say(router: Router, text: str = "", action: Action | None = None) -> Reply:
    return await router.dispatch(IncomingMessage(sender=Sender("webchat", "local", "ann"),
                                                 text=text, action=action, is_direct=True))


@pytest.mark.parametrize(("text", "first"), [
    ("man with a gun in the parking lot", "CALL 911 NOW"),
    ("there's smoke coming from the tabulator room", "CALL 911 NOW"),
    ("¡Hay un hombre armado afuera del centro de votación!", "LLAME AL 911 AHORA"),
    ("encontramos un sobre sospechoso con polvo blanco", "LLAME AL 911 AHORA"),
    ("amenaza de bomba", "LLAME AL 911 AHORA"),  # too short for the language detector
    ("sí, hay un hombre armado en la fila", "LLAME AL 911 AHORA"),
    ("help! someone pulled a knife", "CALL 911 NOW"),  # not the help menu
    ("close the doors there's a man with a gun", "CALL 911 NOW"),  # not the verb "close"
    ("my supervisor was assaulted, how do I report it", "CALL 911 NOW"),
    ("bomb threat just came in, who do I notify", "CALL 911 NOW"),
    ("When I got to the polling place, a man pulled a gun on me", "CALL 911 NOW"),
    # "intimidation" is English too: the form is not switched to Spanish for it
    ("voter intimidation at the polls right now, what do we do", "CALL 911 NOW"),
    ("intimidation at polling place", "CALL 911 NOW"),
    ("están intimidando a los votantes en la fila", "LLAME AL 911 AHORA"),
])
async def test_a_report_of_danger_gets_911_and_the_report_form(router: Router, text: str,
                                                               first: str) -> None:
    reply = await say(router, text)
    assert reply.text.startswith(first)
    # The form is in the reporter's language too: banner, title and fields.
    spanish = first.startswith("LLAME")
    banner = "Si alguien está en peligro inmediato" if spanish else "If anyone is in immediate"
    assert reply.form is not None and reply.form.banner.startswith(banner)
    assert reply.form.title == ("Reportar un incidente" if spanish else "Report an incident")
    assert reply.form.fields[0].label == ("¿Hay alguien en peligro inmediato?" if spanish
                                          else "Is anyone in immediate danger?")
    described = {f.name: f.value for f in reply.form.fields}.get("description")
    assert described == text


@pytest.mark.parametrize(("text", "steps"), [
    ("got an envelope w/ white powder at the front counter what do i do",
     "Meanwhile, from the knowledge base: **Suspicious mail or packages"),
    ("recibí un sobre con polvo blanco en la oficina, qué hago",
     "Mientras tanto, según la base de conocimientos: **Correo o paquetes sospechosos"),
])
async def test_a_report_gets_the_knowledge_bases_steps_with_the_form(router: Router, text: str,
                                                                    steps: str) -> None:
    """What to do while help comes (do not open it, leave, wash hands), sourced, below 911."""
    reply = await say(router, text)
    assert reply.text.startswith(("CALL 911 NOW", "LLAME AL 911 AHORA")) and reply.form is not None
    lead, _, shown = reply.text.partition("\n\n")
    assert shown.startswith(steps)
    assert "911" in shown.split("\n")[2]  # the summary itself says to call 911
    assert shown.splitlines()[-1].startswith(("_Source:", "_Fuente:"))


async def test_an_oversized_report_still_gets_911_the_form_and_sourced_steps(
        router: Router) -> None:
    """20,000 characters: the steps come from the clipped question, the form keeps its limit."""
    text = "got an envelope with white powder at the front counter what do i do " + "x" * 20_000
    reply = await say(router, text)
    assert reply.text.startswith("CALL 911 NOW") and reply.form is not None
    assert "**Suspicious mail or packages" in reply.text
    described = {f.name: f.value for f in reply.form.fields}["description"]
    assert described == text[:3000]


async def test_a_report_the_knowledge_base_cannot_answer_gets_the_form_alone(
        router: Router) -> None:
    reply = await say(router, "man with a gun in the parking lot")
    assert reply.form is not None and "\n" not in reply.text  # no guessed article below


@pytest.mark.parametrize(("text", "first", "button"), [
    ("what's the policy on guns at polling places?", "**CALL 911 NOW", "Report an incident"),
    ("how should staff respond to a bomb threat call", "**CALL 911 NOW", "Report an incident"),
    ("¿cuál es el protocolo en caso de amenaza de bomba?", "**LLAME AL 911 AHORA",
     "Reportar un incidente"),
])
async def test_a_question_about_a_danger_is_answered_after_the_911_line(
        router: Router, text: str, first: str, button: str) -> None:
    reply = await say(router, text)
    assert reply.form is None  # asked, not reported: the FAQ's answer or abstention
    assert reply.text.startswith(first) and reply.tone is Tone.DANGER
    head, *rest = reply.sections
    assert head.text.startswith(first)
    [report] = head.buttons
    # The button carries nothing of what was typed (the platform keeps the bot's message).
    spanish = button.startswith("Reportar")
    assert (report.label, report.action_id, report.value) == (
        button, REPORT_BUTTON, "es:report" if spanish else "report")
    assert rest and not any(first.strip("*") in s.text for s in rest)  # said once
    # The button opens the report form, its danger banner first, in the reply's language.
    opened = await say(router, action=Action(report.action_id, report.value))
    assert opened.form is not None and opened.ephemeral
    assert opened.form.banner.startswith("Si alguien está en peligro inmediato" if spanish
                                         else "If anyone is in immediate danger")


@pytest.mark.parametrize("text", ["how do I fire a poll worker who keeps showing up late",
                                  "what is the PAUSE method",
                                  "¿cómo votan las fuerzas armadas en el extranjero?",
                                  "brick and mortar polling places vs vote centers",
                                  "at the stroke of midnight the polls close",
                                  "¿cuál es el techo de gastos de campaña?",
                                  "el armado de paquetes electorales empieza el lunes"])
async def test_no_danger_no_911_line(router: Router, text: str) -> None:
    reply = await say(router, text)
    assert reply.form is None and reply.tone is not Tone.DANGER
    assert "911" not in reply.text


@pytest.mark.parametrize(("text", "line", "button"), [
    ("a dog bit one of our curbside workers", "Reporting something happening now?",
     "Report an incident"),
    ("el perro de un votante mordió a una voluntaria", "¿Está reportando algo que pasa ahora?",
     "Reportar un incidente"),
])
async def test_an_abstention_says_what_to_do_if_something_is_happening(
        router: Router, text: str, line: str, button: str) -> None:
    """The words miss some reports of danger: the FAQ, with no answer, still points to 911."""
    reply = await say(router, text)
    assert reply.form is None and reply.tone is not Tone.DANGER
    assert reply.sections[0].text.startswith(("I don't have", "No tengo"))
    [safety] = [s for s in reply.sections if s.text.startswith(line)]
    assert "911" in safety.text
    value = "es:report" if button.startswith("Reportar") else "report"
    assert [(b.label, b.action_id, b.value) for b in safety.buttons] == [(button, REPORT_BUTTON,
                                                                          value)]
    opened = await say(router, action=Action(REPORT_BUTTON, value))
    assert opened.form is not None and opened.form.title == (
        "Reportar un incidente" if value.startswith("es:") else "Report an incident")


@pytest.mark.parametrize("text", ["what's the weather forecast for tuesday?",
                                  "is the cafeteria open on saturday?",
                                  "¿qué tiempo hará el martes?"])
async def test_a_plain_question_without_an_answer_gets_no_911_line(router: Router,
                                                                    text: str) -> None:
    """A question that tells of nothing happening is declined without the safety line."""
    reply = await say(router, text)
    assert reply.sections[0].text.startswith(("I don't have", "No tengo"))
    assert "911" not in reply.text and "911" not in " ".join(s.text for s in reply.sections)
    assert not any(b.action_id == REPORT_BUTTON for s in reply.sections for b in s.buttons)


@pytest.mark.parametrize(("text", "expected"), [
    ("a dog bit one of our curbside workers", True),  # told, not asked
    ("there's a guy yelling at the voters in line, what is the policy?", True),
    ("we just got a weird package in the mail room?", True),
    ("what's the weather forecast for tuesday?", False),
    ("¿cuál es el horario de la biblioteca?", False),
    ("parking rules?", False),
    ("uocava deadline", False),  # search words, not a report
    ("drop box hours", False),
    ("bomb threat", True),  # a danger word: told, even in two words
    ("que es el metodo pause", False),  # "qué" typed without its accent opens a question
    ("cuando es la proxima capacitacion", False),
    ("un perro mordio a un trabajador", True),
])
def test_may_report(text: str, expected: bool) -> None:
    assert may_report(text) is expected


@pytest.mark.parametrize("value", ["report", "", "x" * 5000, "<!channel> {@1} **INC**", "\x00\ud7ff"])
async def test_the_report_button_ignores_its_value_and_opens_a_blank_form(router: Router,
                                                                          value: str) -> None:
    """Whatever rides on the click (forged, oversized, markup), the form is blank: nothing of
    it is echoed (the reporter is recorded on submit from the sender, never from the click)."""
    reply = await router.dispatch(IncomingMessage(
        sender=Sender("webchat", "local", "mallory"), action=Action(REPORT_BUTTON, value)))
    assert reply.form is not None and reply.ephemeral
    assert {f.name: f.value for f in reply.form.fields}["description"] == ""
    if len(value) > len("report"):
        assert value[:20] not in repr(reply)


async def test_a_replayed_report_click_is_answered_once(router: Router) -> None:
    click = IncomingMessage(sender=Sender("webchat", "local", "ann"),
                            action=Action(REPORT_BUTTON, "report"), claim="webchat:click-1")
    assert (await router.dispatch(click)).form is not None
    with pytest.raises(Replayed):
        await router.dispatch(click)
