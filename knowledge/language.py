"""Which language a question is written in: English or Spanish.

A small, deterministic detector tuned for chat questions: Spanish punctuation (``¿``, ``¡``),
accented letters and ``ñ``, and counts of common Spanish versus English function words (with
chat shorthand: "q", "pq").
"""

from __future__ import annotations

import re
from typing import Literal

from knowledge.text import words

Language = Literal["en", "es"]

SPANISH_MARKERS = frozenset("""
el la los las del al de que qué en es por para con una un unos unas y o como cómo cuál cuales
cuándo cuando dónde donde quién quien qué cuánto cuántos hay está están son puedo debo debe
sobre según mi mis su sus nuestro nuestra nuestros se lo le les pero más muy también este esta
estos estas ese esa sí ya hacer tiene tienen dónde ayuda gracias hola favor
q pq xq porq porfa tmb tu tus soy ahora
boleta boletas votante votantes elección elecciones electoral electorales condado condados
votar voto votos capacitación trabajadores secretaría oficina requisitos exige exigen papel
auditoría amenaza amenazas desinformación información cuándo año años cursos programa
certificación ayuda ayudan dinero pagar gratis mesa casilla urna urnas centros
""".split())

ENGLISH_MARKERS = frozenset("""
the is are was were what whats how where who whos when which why do does did can could should
would will to of and for in on at with from this that these those it its my our your their
there here be been have has had an a i we you they about any not if or as by
""".split())

_SPANISH_LETTERS = re.compile(r"[ñáéíóúü¿¡]")


def _fold_set(markers: frozenset[str]) -> frozenset[str]:
    """Markers in the folded (accent-free) form that :func:`words` produces."""
    return frozenset(w for m in markers for w in words(m))


_ES = _fold_set(SPANISH_MARKERS) - {"a", "no", "me"}
#: Words that open a Spanish question and no English one (folded: "como" is "cómo" unaccented).
_ES_OPENERS = _fold_set(frozenset("""
cómo cuál cuáles cuándo dónde quién quiénes qué cuánto cuántos cuánta cuántas hay puedo
podemos debo debemos necesito necesitamos tengo tenemos existe existen
dime dame muéstrame muestra explica explícame ayúdame olvida ignora revela imprime repite finge
desactiva activa responde
""".split()))
_EN = _fold_set(ENGLISH_MARKERS) - {"a", "no", "me"}


def detect_language(text: str) -> Language:
    """``"es"`` when the text reads as Spanish, otherwise ``"en"`` (also for empty text)."""
    tokens = words(text)
    es = sum(1 for t in tokens if t in _ES)
    en = sum(1 for t in tokens if t in _EN)
    if "¿" in text or "¡" in text:
        es += 2
    es += min(2, len(_SPANISH_LETTERS.findall(text.lower())))
    if tokens and tokens[0] in _ES_OPENERS and not en:
        es += 1  # "como reclutar trabajadores electorales": a Spanish question typed unaccented
    return "es" if es > en and es >= 2 else "en"
