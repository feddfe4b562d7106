"""Whether a message says someone may be in danger, and whether it reports it or asks about it.

Free text reaches the bot as a question or as a report. ``man with a gun in the parking lot``
and ``¡hay un hombre armado afuera!`` are reports: the incident handler answers them with "call
911 now" and the report form. ``what's the policy on guns at polling places?`` is a question:
the FAQ answers it, and leads with the same 911 line (:func:`signals_danger`). When in doubt, a
message is a report: a report form shown to someone asking costs a click, an answer shown to
someone in danger costs time.

Words that also have a harmless sense ("fire" a vendor, a flu "shot", a "smoke" test, the
"armed" forces, a "cyber attack", to "fight" misinformation) count only in a phrase that means
danger; the others count alone. English and Spanish, with or without accents.
"""

from __future__ import annotations

import re

from knowledge.text import fold

#: Words and phrases meaning someone may be in danger (on folded text: lower case, no accents).
_DANGER = re.compile(
    r"\b(?:"
    # weapons and violence
    r"guns?|gunman|gunmen|gunfire|gunshots?|firearms?|rifles?|pistols?|handguns?|shotguns?|"
    r"weapons?|knife|knives|machete|bombs?|explosives?|shooter|shooting|shots? fired|"
    r"(?:got|been|was|were|being) shot|shot at|stabbed|stabbing|hostages?|"
    r"armed(?! forces| services| service)|"
    r"(?:assault(?:ed|ing)?|attack(?:ed|ing)) (?:me|us|him|her|them|someone|somebody|a |an |"
    r"the |our |my |staff|voters?|poll|workers?|election)|physical(?:ly)? (?:attack|assault)|"
    r"punched|fist ?fight|fight (?:broke out|in|at|outside)|"
    r"threat(?:en(?:ed|ing|s)?)? (?:to|of) (?:kill|shoot|stab|hurt|harm|bomb|attack|beat)|"
    r"death threats?|bomb threats?|"
    # medical
    r"bleeding|unconscious|not breathing|collapsed|overdos(?:e|ed|ing)|heart attack|seizure|"
    r"injured|(?:is|are|got|was|were|been|badly|seriously) hurt|"
    # hazards
    r"white powder|suspicious (?:packages?|envelopes?|substances?|devices?|powder|letters?|mail)|"
    r"on fire|(?:a|the|small|big|house|building) fire|fire (?:in|at|inside|outside|alarm|"
    r"broke out|started)|smoke(?! test| detector| alarm test)|gas leak|evacuat(?:e|ed|ing|ion)|"
    # Spanish
    r"armas?|armad[oa]s?(?<!fuerzas armadas)|pistolas?|escopetas?|cuchillos?|navajas?|bombas?|"
    r"explosivos?|tirador|tiroteo|disparos?|disparando|balazos?|balacera|apunalad[oa]|"
    r"rehen(?:es)?|agredid[oa]s?|agredio|agredieron|golpearon|golpeo|una pelea|peleando|"
    r"amenaz(?:a|o|aron|ando|ando con) (?:de muerte|con matar|con disparar|de bomba|con una bomba|"
    r"con lastimar|con herir)|amenazas? de (?:muerte|bomba)|"
    r"sangrando|inconsciente|no respira|desmay(?:o|ado|ada)|sobredosis|"
    r"ataque (?:al corazon|cardiaco)|herid[oa]s?|lesionad[oa]s?|"
    r"polvo blanco|(?:paquete|sobre|objeto|sustancia)s? sospechos[oa]s?|incendio|hay fuego|humo|"
    r"fuga de gas|evacuar|evacuacion"
    r")\b")

#: A question about preparing for, or the rules on, a danger (not one happening now).
_ASKS_ABOUT = re.compile(
    r"\b(?:polic(?:y|ies)|procedures?|protocols?|plans?|planning|training|train|trainings|"
    r"prepare|preparing|preparedness|drills?|exercises?|tabletop|guidance|guidelines?|rules?|"
    r"laws?|legal|illegal|allowed|permitted|prohibited|banned|checklist|best practices|tips|"
    r"what (?:should|do|can|must) (?:we|i|you|staff|poll workers|clerks|election workers|officials) "
    r"(?:do|say) (?:if|when|about)|how (?:do|should|can|would) (?:we|i|staff|you|poll workers|offices|"
    r"clerks|election workers) (?:handle|respond|prepare|deal|report|react|train|protect)|"
    r"in case of|what happens (?:if|when)|what if|"
    r"pol[ií]tica|procedimientos?|protocolos?|capacitacion|entrenamiento|preparar(?:se|nos)?|"
    r"simulacros?|reglas?|leyes?|ley|permitid[oa]s?|prohibid[oa]s?|"
    r"que (?:debemos|debo|deben|hacemos|hago) (?:hacer )?(?:si|cuando)|"
    r"como (?:manejar|responder|prepararnos|prepararse|reportar|actuar)|en caso de|que pasa si"
    r")\b")

#: Something happening now, or to the writer: a report even when worded as a question.
_HAPPENING = re.compile(
    r"\b(?:right now|now|currently|at the moment|just (?:now|happened|saw|got|received|heard)|"
    r"there(?:'s|’s| is| are) (?:a|an|someone|somebody|people|men|two|three|smoke|fire|shots)|"
    r"(?:someone|somebody|a (?:man|woman|guy|person|voter|lady)) (?:is|has|just|pulled|with)|"
    r"(?:we|i) (?:have|got|just|received|see|saw|hear|heard|smell)|help me|"
    r"(?:outside|in) (?:the|our|my) (?:parking lot|building|lobby|line|office|polling place)|"
    r"ahora|ahora mismo|en este momento|hay (?:un|una|unos|unas|alguien|humo|fuego|disparos)|"
    r"acaba(?:mos)? de|alguien (?:esta|tiene)|un (?:hombre|senor|tipo|votante) (?:esta|tiene|con)|"
    r"recibimos|tenemos|veo|vi|ayuda)\b|!")


def signals_danger(text: str) -> bool:
    """Whether ``text`` mentions something that may put someone in danger."""
    return bool(_DANGER.search(fold(text)))


def reports_danger(text: str) -> bool:
    """Whether ``text`` reports a danger (happening, or told as such), not asks about one.

    A question about plans, rules or training ("what should we do if ...") is not a report
    unless it also says something is happening now ("right now", "there's a ...", "we have").
    """
    folded = fold(text)
    if not _DANGER.search(folded):
        return False
    return bool(_HAPPENING.search(folded) or not _ASKS_ABOUT.search(folded))
