"""Telling a report of danger from a question about one, in English and Spanish."""

from __future__ import annotations

import pytest

from handlers.incidents.catalog import quick_triage
from handlers.incidents.danger import reports_danger, signals_danger
from handlers.incidents.enums import Severity

REPORTS = [
    "man with a gun in the parking lot",
    "we got a bomb threat at a polling place right now",
    "a voter collapsed in line and isn't breathing",
    "someone left a suspicious package by the drop box",
    "there's smoke coming from the tabulator room",
    "there’s a guy yelling that he has a weapon",
    "a guy punched an observer",
    "he threatened to kill the clerk",
    "help! someone pulled a knife",
    "what do I do, there's a man with a rifle outside the library",
    "¡Hay un hombre armado afuera del centro de votación!",
    "amenaza de bomba en la casilla 4",
    "¿qué hago? un votante está amenazando con disparar",
    "un trabajador electoral está sangrando, se cayó",
    "encontramos un sobre sospechoso con polvo blanco",
    "smells like gas in the back room were getting everyone out",
    "a voter said hes going to kill me if i dont let him vote",
    "elderly lady fainted at booth 3 not responding",
    "should i call 911 a man is choking",
    "coworker just got a call that someone is coming to shoot up the office today",
    "theres a package ticking in the mailroom what do i do",
    "huele a gas en la escuela estamos evacuando",
    "alguien apuñaló a un hombre en la fila",
    "el trabajador electoral esta teniendo un infarto ayuda",
    "a caller said they will get her after the count",
    "man following voters to their cars screaming, one lady says he grabbed her arm",
    "un señor la agarró del brazo a una votante en la fila",
]
QUESTIONS = [
    "what's the policy on guns at polling places?",
    "what should we do if someone threatens to shoot a poll worker",
    "how should staff respond to a bomb threat call",
    "is there a checklist for suspicious packages in the mailroom",
    "¿cuál es el protocolo en caso de amenaza de bomba?",
    "¿qué debemos hacer si alguien llega armado a votar?",
    "what's the evacuation plan if there's a fire at the counting center",
    "do we have training on bomb threat response for poll workers",
    "what's the protocol for a medical emergency at a polling place",
    "si hubiera una fuga de gas, como reubicamos a los votantes?",
    "que debemos hacer si recibimos una amenaza de bomba",
    "planning tabletop drill for nov, bomb threat scenario, any guidance on running one",
    "how do I report a threat against an election official?",
    "what do we do w threats to election officials",
]
HARMLESS = [
    "how do I fire a poll worker who keeps showing up late",
    "flu shot clinic for staff",
    "our smoke test of the results site failed",
    "UOCAVA ballots for the armed forces",
    "¿cómo votan las fuerzas armadas en el extranjero?",
    "how do we fight misinformation",
    "what is the PAUSE method",
    "that's the heart of the matter",
    "a phishing attack hit three counties last year, what should we train on",
    "explosive growth in voter registration in the north precinct this year",
    "we're shooting for 5pm to finish the canvass",
    "we took a shot at redesigning the ballot layout, can you review",
    "that training video was the bomb lol",
    "se disparó el número de solicitudes de boleta por correo",
    "el sitio web se cayó por un ataque DDoS",
    "im nervous we'll get backlash if my office joins the alliance, do they help with that",
    "we will get results tonight",
    "the de-escalation course borrowed techniques from hostage negotiation",
]


@pytest.mark.parametrize("text", REPORTS)
def test_a_report_of_danger_is_a_report(text: str) -> None:
    assert signals_danger(text) and reports_danger(text)
    assert quick_triage(text) is Severity.SEV1


@pytest.mark.parametrize("text", QUESTIONS)
def test_a_question_about_a_danger_mentions_it_but_reports_nothing(text: str) -> None:
    assert signals_danger(text) and not reports_danger(text)


@pytest.mark.parametrize("text", HARMLESS)
def test_a_word_with_a_harmless_sense_is_no_danger(text: str) -> None:
    assert not signals_danger(text) and not reports_danger(text)
