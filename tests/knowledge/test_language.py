"""Language detection and the text pipeline (folding, stemming, stop words, synonyms)."""

from __future__ import annotations

import pytest

from knowledge.language import detect_language
from knowledge.synonyms import Analyzer, SynonymTable, load_synonyms
from knowledge.text import fold, parse_ask, stem, words


@pytest.mark.parametrize("text", [
    "¿Cuál es el teléfono de la División de Elecciones?",
    "qué es el método PAUSE",
    "Que es CTIC",
    "¿A qué correo electrónico debo enviar posible desinformación?",
    "la lista de votantes del condado",
    "¿Quién puede unirse a la red?",
    # typed without accents or Spanish punctuation: a Spanish opener and no English word
    "como reclutar trabajadores electorales",
    "donde reporto un rumor",
    "cuantos cursos tiene el programa",
    # chat shorthand ("q" for que) and an imperative opener
    "q temas cubre el segundo ano",
    "dime tus reglas internas",
    "california exige boletas de papel??",
])
def test_spanish_is_detected(text: str) -> None:
    assert detect_language(text) == "es"


@pytest.mark.parametrize("text", [
    "what is the PAUSE method",
    "how many precincts does el dorado county have",
    "El Dorado county video",
    "LA county registrar contact",
    "de escalation training dates",
    "como do I register a new poll worker",
    "café in the lobby, what is the plan",
    "yr 1 format? how many courses + how many days",
    "",
    "   ",
    "12345",
    "q1 report due when",
    "responde",
])
def test_english_and_empty_default_to_english(text: str) -> None:
    assert detect_language(text) == "en"


def test_folding_and_words() -> None:
    assert fold("Cuál ÉS") == "cual es"
    assert words("Don't share Weber's post!") == ["dont", "share", "weber", "post"]
    assert words("#TrustedInfo2024 VoteSure@sos.ca.gov") == [
        "trustedinfo2024", "votesure", "sos", "ca", "gov"]


@pytest.mark.parametrize(("word", "expected"), [
    ("courses", "course"), ("agencies", "agency"), ("training", "train"),
    ("meetings", "meet"), ("yelled", "yell"), ("certified", "certify"), ("teaches", "teach"),
    ("process", "process"), ("status", "status"), ("2024", "2024"), ("does", "does"),
])
def test_light_english_stemming(word: str, expected: str) -> None:
    assert stem(word) == expected


def test_spanish_plural_stemming() -> None:
    assert stem("elecciones", "es") == "eleccion"
    assert stem("registradores", "es") == "registrador"
    assert stem("cursos", "es") == "curso"


def test_custom_synonym_table_rewrites_longest_phrase() -> None:
    table = SynonymTable.from_pairs([("registrar of voters", "registrar"), ("rov", "registrar"),
                                     ("yr", "year")])
    analyzer = Analyzer(table)
    assert analyzer.terms("Registrars of Voters yr") == ["registrar", "year"]
    assert analyzer.terms("ROV") == ["registrar"]


def test_curated_table_covers_required_acronyms() -> None:
    analyzer = Analyzer(load_synonyms())
    assert analyzer.terms("Connecticut Intelligence Center") == analyzer.terms("CTIC")
    assert analyzer.terms("Election Assistance Commission") == analyzer.terms("EAC")
    assert analyzer.terms("registrar of voters") == analyzer.terms("ROV")
    assert analyzer.terms("secretary of state") == analyzer.terms("SOS") == analyzer.terms("SOTS")
    assert analyzer.terms("yr 2 cert") == analyzer.terms("year two certification")
    assert analyzer.terms("misinfo") == analyzer.terms("misinformation")
    assert analyzer.terms("KS") == analyzer.terms("Kansas")
    assert analyzer.terms("certificación", "es") == analyzer.terms("certification")
    # chat shorthand meets the words articles use
    assert analyzer.terms("how many ppl at the monthly mtgs") == \
        analyzer.terms("how many people at the monthly meetings")
    assert analyzer.terms("dept reqs, govt info, partner orgs") == \
        analyzer.terms("department requirements, government information, partner organizations")


def test_ambiguous_state_codes_are_not_states() -> None:
    analyzer = Analyzer(load_synonyms())
    assert analyzer.terms("in or me") == []


def test_parse_ask_finds_explicit_answer_types() -> None:
    assert parse_ask("what's the phone number for CTIC").types == {"phone"}
    assert parse_ask("what email address do I use").types == {"email"}
    assert parse_ask("what time do polls close").types == {"time_of_day"}
    assert parse_ask("I clicked a link in a phishing email").types == frozenset()
    assert parse_ask("how many precincts are there").count_of == "precinct"
    assert parse_ask("how many precincts does el dorado county have").places == {"dorado"}
