"""Whether a message says someone may be in danger, and whether it reports it or asks about it.

Free text reaches the bot as a question or as a report. ``man with a gun in the parking lot``
and ``¡hay un hombre armado afuera!`` are reports: the incident handler answers them with "call
911 now" and the report form. ``what's the policy on guns at polling places?`` is a question:
the FAQ answers it, and leads with the same 911 line (:func:`signals_danger`). A message is read
clause by clause: one clause that states a danger without asking about it ("my supervisor was
assaulted, how do I report it") makes it a report.

Words that also have a harmless sense ("fire" a vendor, a flu "shot", a "smoke" test, the
"armed" forces, a "cyber attack", "explosive growth", "brick and mortar") count only in a phrase
that means danger; figures of speech ("this deadline will kill me") are removed first. English
and Spanish, with or without accents. Words miss phrasings nobody wrote down (about a third of
fresh reports: ``handlers/incidents/eval``), which is why every FAQ abstention also ends with
the 911 line.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.messages import Button
from knowledge.text import fold

CALL_911 = "CALL 911 NOW if anyone is in immediate danger."
CALL_911_ES = "LLAME AL 911 AHORA si alguien está en peligro inmediato."
#: Characters read (what every adapter accepts), before and after folding (NFKD can lengthen
#: a text many times): a few milliseconds of matching at most.
MAX_TEXT = 4000
#: The button that opens the report form (``handlers.incidents.interactions``).
REPORT_BUTTON = "incident:report"


def call_911(language: str = "en") -> str:
    """The 911 line in the reader's language."""
    return CALL_911_ES if language == "es" else CALL_911


def report_button(language: str = "en") -> Button:
    """A danger-toned button opening the report form.

    It carries nothing of the message it answers: a button's value is kept in the platform's
    copy of the bot's message, and what someone typed (a refused question, a name) must not be.
    """
    spanish = language == "es"
    return Button("Reportar un incidente" if spanish else "Report an incident", REPORT_BUTTON,
                  "es:report" if spanish else "report", style="danger")


def _words(*parts: str) -> str:
    return "|".join(parts)


#: English danger phrases, by kind (on normalised text: lower case, no accents, ' apostrophes).
_EN = _words(
    # weapons and shooting
    r"guns?(?![ -]shy)|gunman|gunmen|gunfire|gunshots?|firearms?|rifles?|pistols?|handguns?",
    r"shotguns?|bullets?(?! points?| list)|ammo|ammunition|active shooter|open carry",
    r"weapons?|knife|knives|machete|shooter|shoot up|shots|shot (?:at|him|her|me|us|them)",
    r"(?:got|been|was|were|being|is|get) shot|shooting(?! for)(?![^.?!\n]{0,40}\b(?:video|film|"
    r"footage|photos?|pictures?|scenes?)\b)|fired (?:a )?(?:shots?|a gun|at)",
    # explosives
    r"bombs?|bomb threats?|explosives?|explosions?|detonat\w*|loud bang|ticking",
    # violence and threats
    r"stabb?(?:ed|ing)|hostages?|pepper spray|maced|armed(?! forces| services| service)",
    r"assault(?:ed|ing)?|attacked|attack (?:at|in) (?:the|our|a|precinct|poll|vote)",
    r"attacking (?:me|us|him|her|them|someone|staff|voters?|poll)|physical(?:ly)? (?:attack|assault)",
    r"punch(?:ed|ing)|shov(?:ed|ing)|fist ?fight|fight (?:broke out|in|at|outside)|violen(?:t|ce)",
    r"(?:is|are) fighting|threw (?:a )?bricks?|bricks? (?:through|thrown)|breaking in|broke in",
    r"intimidat\w* (?:(?:a|the|our|some) )?(?:me|us|him|her|them|voters?|staff|poll|workers?|"
    r"people)|voter intimidation",
    r"intimidation (?:at|of|in|outside|near) (?:the |a |our )?(?:polls?|polling|voters?|precinct|"
    r"vote center|drop box)",
    r"threat(?:s)? (?:against|to) (?:(?:an?|the|our|my) )?(?:me|us|him|her|them|our|the|"
    r"election|poll|staff|workers?|officials?|clerks?|registrars?|voters?|my)|threaten\w*|"
    r"death threats?|threats",
    r"(?:going to|gonna|will|'ll|wants to|want to|threatened to|coming to) (?:kill|shoot|stab|"
    r"hurt|harm|beat|bomb|attack|blow up|burn|hang|lynch|get (?:you|u|ya|him|her|them|us|me|"
    r"y'all|all of (?:you|us)|everyone|every one of))|kill (?:me|us|him|her|them|you|"
    r"everyone|everybody)|hang for|lynch\w*|burn (?:\w+ ){0,2}down",
    r"burn (?:the|your|our) (?:office|building|place)|(?:we|i|they) know where (?:u|you|ur|i|we|"
    r"your \w+) li?ve?s?|(?:will|'ll|ll|gonna|going to) be dead|be dead (?:before|by|soon|if)",
    r"(?:someone|somebody|man|woman|voter|person|he|she|guy) (?:is|was) dead",
    r"stalk\w*|tactical (?:vests?|gear)|tailing|bulletproof|ar-?15|an ar\b",
    r"follow(?:ed|ing) (?:me|us|him|her|them|our|my|volunteers|staff|voters|people|workers|"
    r"poll workers)",
    r"grabb?(?:ed|ing|s)? (?:me|us|him|her|them|a voter|the voter|a worker|(?:my|his|her|their|"
    r"a|the) (?:arm|wrist|neck|hair|throat|shirt|collar|clipboard|ballot))",
    r"blocking (?:the )?(?:entrance|door)|glass everywhere|(?:is|got|was) cut",
    r"suicid\w*|self-?harm|kill (?:himself|herself|myself|themselves)|mental health crisis",
    # medical
    r"bleeding|unconscious|not (?:breathing|responding|responsive)|can'?t breathe",
    r"collaps(?:ed|ing|es)|faint(?:ed|ing)|passed out|chok(?:ing|ed)|overdos(?:e|ed|ing)",
    r"heart attack|(?:a|having a|had a) stroke|seizure|medical emergenc(?:y|ies)|ambulance",
    r"cpr|aed|defibrillators?|first aid|(?:is|are|got|was|were|been|badly|seriously|people|"
    r"she's|he's|shes|hes) hurt|injur(?:ed|y|ies)",
    r"diabet\w*|blood sugar|insulin|allergic|allerg(?:y|ies) attack|anaphyla\w*|epi ?pen",
    r"swelling|throat (?:is )?closing|chest pains?|heat (?:illness|stroke|exhaustion)",
    r"coughing|fell (?:off|down|and|from)|hit (?:his|her|their|my) head|can'?t move",
    r"broke (?:his|her|my|their) (?:arm|leg|hip|wrist|ankle)|dizzy|vomit\w*|asthma attack",
    r"fentanyl|narcan|naloxone",
    # hazards
    r"white powder|powder|suspicious (?:packages?|envelopes?|substances?|devices?|letters?|mail|"
    r"bags?|backpacks?|boxes|box|items?|objects?)|unattended (?:bag|backpack|package|box)",
    r"on fire|(?:caught|catching|set(?: on)?) fire|(?:a|the|small|big|house|building|"
    r"electrical) fire|fire (?:in|at|inside|outside|alarm|broke out|started|spread)|fires?!",
    r"smoke(?! test| detector| alarm test| and mirrors)|gas (?:leak|smell)|smell(?:s|ing)? "
    r"(?:like |of )?gas|fumes|fuming|toxic (?:fumes|smell|gas|chemicals?)|chemicals? (?:smell|"
    r"spill|leak)|sparks",
    r"evacuat\w*|drove (?:up )?(?:onto|into|through)|crashed into|jump(?:ed)? out of the way",
    r"tornado\w*|hurricane|flood(?:ing|ed| ?water)|water (?:coming|pouring|rushing) in|"
    r"earthquake|severe weather|tree fell|power lines? down",
    r"(?:roof|ceiling|wall|building) (?:is |has )?(?:collaps\w*|caved|cracked|fell|leaking)",
)

#: Spanish danger phrases (the same kinds).
_ES = _words(
    r"armas?(?! de doble filo)|(?:hombre|hombres|persona|personas|tipo|senor|individuo|sujeto|"
    r"alguien|gente|votante) armad[oa]s?|armad[oa]s? con|(?:esta|estan|llega|llegan|llego|llegaron|"
    r"viene|vienen) armad[oa]s?",
    r"pistolas?|escopetas?|cuchillos?|navajas?|bombas?|amenazas? de bomba|balas?|balazos?",
    r"balacera|artefactos? explosivos?|explosivos?|explosion(?:es)?|estallido|tirador|tiroteo",
    r"disparos|disparando|dispararon|(?:un|el|los) disparos?|le disparo|gas pimienta",
    r"apunal\w*|acuchill\w*|rehen(?:es)?|agredi\w*|agresion|golpe(?:aron|o a|ando)|empujo",
    r"una pelea|peleando|violen(?:cia|to|tos|ta|tas)|amenaz\w*",
    r"matar(?:me|nos|te|lo|la|los|las)?|mataron|me matan|lastimar\w*|herir\w*",
    r"quemar (?:la|el|los|las|nos)|sabemos donde (?:vives|vive|viven)|"
    # Spanish forms only: English "intimidation" is not a Spanish danger word
    r"intimid(?:a|an|aron|o|ando|acion|ad[oa]s?|ar|aba|aban)",
    r"(?:me|nos|le|les) (?:siguio|siguieron|sigue|siguen)|quitar(?:se)? la vida|suicid\w*",
    r"(?:me|nos|la|lo|las|los|le) (?:agarro|agarraron|jalo|jalaron|jaloneo)",
    r"sangr(?:ando|a mucho)|inconsciente|no respira|no responde|se desmayo|desmay\w*",
    r"duele el pecho|dolor de pecho|no (?:puede|puedo) respirar|se (?:cayo al suelo|desplomo)",
    r"asfixi\w*|atragant\w*|sobredosis|infarto|ataque (?:al corazon|cardiaco)|derrame cerebral",
    r"convulsi\w*|emergencias? medicas?|ambulancia|primeros auxilios|rcp|desfibrilador\w*",
    r"herid[oa]s?|lesionad[oa]s?|diabetic\w*|azucar|insulina|alergi\w*|garganta",
    r"se le (?:esta )?cerrando|mare(?:ad[oa]s?|o)|no (?:se )?puede mover|se fractur\w*|vomit\w*",
    r"polvo blanco|(?:paquete|sobre|objeto|sustancia|mochila|bolsa|caja)s? sospechos[oa]s?",
    r"(?:paquete|mochila|bolsa|caja)s? abandonad[oa]s?|incendio|hay fuego|fuego!|humo",
    r"fuga de gas|huele (?:\w+ )?a gas|olor a gas|quimic\w*|toxic[oa]s?|evacu\w*|chispas",
    r"tormenta|tornado|huracan|inundaci\w*|inundando|inundo|terremoto|cables en el agua",
    r"(?:se cayo|colapso|cayo) (?:el|parte del) techo|techo (?:se|colaps)",
)

_DANGER_EN = re.compile(rf"\b(?:{_EN})(?!\w)")
_DANGER_ES = re.compile(rf"\b(?:{_ES})(?!\w)")

#: Figures of speech built on danger words: removed before looking for danger.
_FIGURATIVE = re.compile(
    r"\b(?:smoke and mirrors|explosi(?:on|ve|vo|va) (?:of|in|growth|de|crecimiento)|"
    r"crecimiento explosivo|choking on|(?:deadline|schedule|week|job|report|quiz|exam|work|this|"
    r"that|it|boss|jefa?)\b[^.?!\n]{0,25}(?:going to|gonna|will|'ll|va a) (?:kill|matar)(?: me)?|"
    r"bomb (?:the|my|that|this) (?:\w+ ){0,3}(?:quiz|test|exam|interview|presentation)|"
    r"(?:took|take|taking|give it|have) a shot|"
    r"(?:was|is|'s) (?:the|da) bomb\b(?! threats?)|es una bomba|fue una bomba|"
    r"(?:intern|team|hotline|phones?|chat|inbox|numbers?|recruiting|sales) (?:is|are|was|were) "
    r"on fire|on fire (?:today|lately|this (?:week|year|month))|shot in the dark|crash course|"
    r"killer (?:deadline|app|feature|week)|dead on arrival|flood of|brick and mortar|"
    r"(?:flu|booster|covid|head|camera) shots?|cyber ?threats?|insider threats?|"
    r"stroke of|armado de|techo de|hostage negotiat\w*|negociaci\w* de rehenes|"
    r"dispar(?:o|e|amos|ar|ale) (?:un|el|los) (?:mensaje|correo|email|"
    r"recordatorio)|echando humo|ataque de (?:risa|nervios|panico)|me (?:muero|mata)\b)")

#: A question about preparing for, or the rules on, a danger (not one happening now).
_ASKS_ABOUT = re.compile(
    r"\b(?:polic(?:y|ies)|procedures?|protocols?|plans?|planning|training|trainings|"
    r"prepare|preparing|preparedness|drills?|exercises?|tabletop|guidance|guidelines?|guide|"
    r"scenarios?|role-?plays?|simulations?|mock|escenarios?|simulaci\w*|planea\w*|"
    r"rules?|laws?|statutes?|legal|illegal|crime|allowed|permitted|prohibited|banned|ban|"
    r"checklist|best practices|tips|supplies|certification|coordinates?|need to know|lessons?|"
    r"last (?:cycle|year|election)|past (?:cycles?|elections?)|insurance|grants?|"
    r"should (?:every|each|all|we|there|our)|do we need|kits?|"
    r"what (?:should|do|can|must) (?:we|i|you|staff|poll workers|clerks|election workers|officials) "
    r"(?:do|say|tell)|how (?:do|should|can|would) (?:we|staff|you|poll workers|offices|"
    r"clerks|election workers) (?:handle|respond|prepare|deal|react|train|protect|"
    r"request|relocate|get)|how (?:do|should|can) i (?:handle|respond|prepare|deal|react|train|protect)|"
    r"do we have|is there (?:a|an|any)|are there (?:any)?|where (?:are|is|can i find)|"
    r"can (?:a|an|we|i|poll)|in case(?: of)?|what happens|what if|hypothetical\w*|suppose\w*|"
    r"how did|how does|who approves|occupancy|fire code|how many|statistics|stats|"
    r"procedimientos?|protocolos?|capacitaci\w*|entrenamiento|preparar(?:se|nos)?|"
    r"simulacros?|reglas?|leyes?|ley|delito|legal|permit\w*|prohibid[oa]s?|guia|"
    r"necesita\w* saber|lecciones?|aprendimos|pasadas?|en el pasado|debe haber|deberia\w*|"
    r"pueden portar|puede portar|seguro|formulario|botiquin|cuant[oa]s?|"
    r"se (?:permite|permiten|puede|pueden)|hay (?:algun|alguna|algunos|algunas) (?:guia|"
    r"protocolo|plan|capacitacion|regla)|tienen (?:un|una|algun)|donde (?:estan|esta|encuentro)|"
    r"a quien (?:llamo|contacto|aviso|se reporta)|como se (?:reporta|reportan|maneja)|"
    r"que (?:debemos|debo|deben|hacemos|hago|hacer) (?:hacer )?(?:si|cuando|en caso)|"
    r"como (?:manejar|responder|prepararnos|prepararse|actuar|reubicamos)|"
    r"en caso de|que pasa (?:si|con)"
    r")\b|^\W*(?:what|whats|how|who|whos|where|which|should|can|could|is|are|do|does|did|"
    r"when|quien|donde|cual|cuales|como|que|cuando|cuanto|cuantos|cuantas|tenemos|pueden|"
    r"puede)\b")

#: Where one clause ends: a report and a question often share a message ("X happened, who do
#: I call").
_CLAUSES = re.compile(r"[,;:.?!\n\u2014\u2013]+|\s-\s|\b(?:but|pero)\b")
#: A condition ("if there's a fire", "si hay humo"): the rest of its clause is not happening.
_CONDITION = re.compile(r"\b(?:if|when|in case|hypothetically|suppose|supposing|si|cuando|en caso de|"
                        r"supongamos|suponiendo|imaginemos|hipoteticamente)\b.*")

#: Something happening now, or to the writer: a report even when the clause asks.
_HAPPENING = re.compile(
    r"\b(?:right now|now|currently|at the moment|today|tonight|just (?:now|happened|saw|got|"
    r"received|heard|came in)|there(?:'s| is| are|s) (?:a|an|someone|somebody|people|men|two|three|"
    r"smoke|fire|shots)|(?:someone|somebody|a (?:man|woman|guy|person|voter|lady)) "
    r"(?:is|has|just|pulled|with)|(?:we|i) (?:got|just|received|see|saw|hear|heard|smell)|"
    r"help me|ayuda|(?:outside|in) (?:the|our|my) (?:parking lot|building|lobby|line|office|"
    r"polling place)|ahora|ahora mismo|en este momento|hoy|"
    r"hay (?!(?:un|una|algun\w*) (?:plan|protocolo|guia|regla|ley|capacitacion|procedimiento|"
    r"manual|lista|curso|programa|formulario))(?:un|una|unos|unas|alguien|humo|fuego|disparos)|"
    r"acaba(?:mos)? de|alguien (?:esta|tiene)|un (?:hombre|senor|tipo|votante) (?:esta|tiene|con)|"
    r"recibimos|recibi|nos llego|llego una|me llamaron|veo|vi|nos estan|hay gente|"
    r"(?:got|received) (?:a|an) (?:call|voicemail|letter|email|message|text|threat))\b")

#: Asking what to do, or whether to call, now (checked with the conditions left in).
_ASKS_FOR_HELP = re.compile(
    r"\b(?:what (?:do|should) (?:i|we) do|(?:should|do|can) (?:i|we) call|is it ok (?:if|to) "
    r"(?:i )?call|how do (?:i|we) report (?:it|this|that)|who do (?:i|we) (?:notify|call|tell)|"
    r"que (?:hago|hacemos)|(?:llamo|llamamos) al 911|help me|help us|please help|need help|"
    r"socorro|auxilio)(?!\w)(?! if| when| in case| about| with| w | w/| in general| si| cuando| en caso|"
    r" con| en general)|\bhelp!")


@lru_cache(maxsize=64)
def _normalised(text: str) -> str:
    """Folded (lower case, no accents), one kind of apostrophe, figures of speech removed.

    Kept for the last few texts: one message is read by the router, the incident handler's
    claim and the FAQ, each asking about the same words.
    """
    folded = fold(text[:MAX_TEXT])[:MAX_TEXT].replace("\u2019", "'").replace("\u2018", "'")
    return _FIGURATIVE.sub(" ", folded)


def _danger(text: str) -> bool:
    return bool(_DANGER_EN.search(text) or _DANGER_ES.search(text))


def signals_danger(text: str) -> bool:
    """Whether ``text`` mentions something that may put someone in danger."""
    return _danger(_normalised(text))


def reports_danger(text: str) -> bool:
    """Whether ``text`` reports a danger (happening, or told as such), not only asks about one.

    A clause about plans, rules or training, or a danger only under a condition ("what's the
    plan if there's a fire"), reports nothing unless it also says something is happening now
    ("right now", "there's a ...", "we just got"); any other clause naming a danger does.
    """
    text = _normalised(text)
    if not _danger(text):
        return False
    if _ASKS_FOR_HELP.search(text):
        return True
    for clause in _CLAUSES.split(text):
        stated = _CONDITION.sub(" ", clause)  # "if there's a fire" states no fire
        if _danger(stated) and (not _ASKS_ABOUT.search(clause) or _HAPPENING.search(stated)):
            return True
    return False


#: At most this many words, without a danger word, is a search ("uocava deadline"), not a report.
KEYWORDS = 3


def may_report(text: str) -> bool:
    """Whether a message the FAQ cannot answer may be telling of something happening now.

    Then the abstention ends with what to do (call 911, report an incident): the words of
    :func:`reports_danger` miss some reports. A message that says something is happening
    ("right now", "we just got", "a man is ...") or asks for help may be one, and so may one not
    asked as a question ("a dog bit one of our workers"); a plain question ("what's the weather
    for Tuesday?") is not, nor a few search words without a danger word ("uocava deadline"),
    and gets no 911 line.
    """
    text = _normalised(text)
    if _HAPPENING.search(text) or _ASKS_FOR_HELP.search(text):
        return True
    if len(text.split()) <= KEYWORDS and not _danger(text):
        return False
    return "?" not in text and not _ASKS_ABOUT.search(text)


def danger_language(text: str, detected: str) -> str:
    """The language to say "call 911" in: Spanish when only Spanish danger words are there.

    ``detected`` is the language detector's answer, which is unsure on a short message
    ("amenaza de bomba").
    """
    text = _normalised(text)
    if _DANGER_ES.search(text) and not _DANGER_EN.search(text):
        return "es"
    return detected
