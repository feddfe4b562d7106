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

from bot.messages import Button
from knowledge.text import fold

CALL_911 = "CALL 911 NOW if anyone is in immediate danger."
CALL_911_ES = "LLAME AL 911 AHORA si alguien está en peligro inmediato."
#: Characters read (what every adapter accepts): ~5 ms of matching at most.
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
    return Button("Reportar un incidente" if language == "es" else "Report an incident",
                  REPORT_BUTTON, style="danger")

#: Words and phrases meaning someone may be in danger (on folded text: lower case, no accents).
_DANGER = re.compile(
    r"\b(?:"
    # weapons, violence, threats to people
    r"guns?(?![ -]shy)|gunman|gunmen|gunfire|gunshots?|firearms?|rifles?|pistols?|handguns?|"
    r"shotguns?|bullets?(?! points?| list)|ammo|ammunition|active shooter|"
    r"open carry|weapons?|knife|knives|machete|bombs?(?<!the bomb)|bomb threats?|"
    r"explosives|explosive (?:device|material)s?|explosions?|detonat\w*|loud bang|ticking|"
    r"shooter|shooting(?! for)(?![^.?!]{0,40}\b(?:video|film|footage|photos?|pictures?|scenes?)\b)|"
    r"shoot up|shots? fired|(?:got|been|was|were|being|is) shot|"
    r"shot (?:him|her|me|us|them|someone|somebody|a voter|the (?:clerk|voter|officer|guard))|"
    r"stabb?(?:ed|ing)|hostages?|pepper spray|mace(?:d)?|"
    r"armed(?! forces| services| service)|"
    r"assault(?:ed|ing)?|attacked|attacking (?:me|us|him|her|them|someone|staff|voters?|poll)|"
    r"physical(?:ly)? (?:attack|assault)|punch(?:ed|ing)|shov(?:ed|ing)|"
    r"fist ?fight|fight (?:broke out|in|at|outside)|violen(?:t|ce)|"
    r"threat(?:s)? (?:against|to) (?:me|us|him|her|them|our|the|an? |election|poll|staff|workers?|"
    r"officials?|clerks?|voters?|my)|threaten\w*|death threats?|"
    r"(?:going to|gonna|will|'ll|’ll|wants to|want to|threatened to|coming to) (?:kill|shoot|stab|hurt|"
    r"harm|beat|bomb|attack|blow up|burn|hang|lynch|get)|kill (?:me|us|him|her|them|you|everyone|"
    r"everybody)|hang for|lynch\w*|burn (?:\w+ ){0,2}down|burn (?:the|your|our) (?:office|building|place)|"
    r"(?:we|i|they) know where (?:u|you|ur|i|we|your \w+) li?ve?s?|intimidat\w*|"
    r"(?:will|'ll|ll|gonna|going to) be dead|be dead (?:before|by|soon|if)|"
    r"(?:someone|somebody|man|woman|voter|person|he|she|guy) (?:is|was) dead|threats|stalk\w*|"
    r"tactical (?:vests?|gear)|"
    r"follow(?:ed|ing) (?:me|us|him|her|them|our|my|volunteers|staff)|tailing|ar-?15|an ar\b|"
    r"bulletproof|brick|glass everywhere|(?:is|got|was) cut|blocking (?:the )?(?:entrance|door)|"
    r"suicid\w*|self-?harm|kill (?:himself|herself|myself|themselves)|mental health crisis|"
    # medical
    r"bleeding|unconscious|not (?:breathing|responding|responsive)|cant breathe|can'?t breathe|"
    r"collaps\w*|faint(?:ed|ing)|passed out|chok(?:ing|ed)|overdos(?:e|ed|ing)|"
    r"heart attack|stroke|seizure|medical emergenc(?:y|ies)|ambulance|cpr|aed|defibrillators?|"
    r"diabet\w*|blood sugar|insulin|allerg\w*|anaphyla\w*|epi ?pen|swelling|throat (?:is )?closing|"
    r"chest pains?|heat (?:illness|stroke|exhaustion)|coughing|fuming|fire extinguishers?|"
    r"fell (?:off|down|and|from)|hit (?:his|her|their|my) head|cant move|"
    r"can'?t move|broke (?:his|her|my|their) (?:arm|leg|hip|wrist|ankle)|dizzy|vomit\w*|"
    r"fentanyl|narcan|naloxone|injur(?:ed|y|ies)|"
    r"first aid|(?:is|are|got|was|were|been|badly|seriously|people|shes|hes) hurt|"
    # hazards
    r"white powder|powder|suspicious (?:packages?|envelopes?|substances?|devices?|letters?|mail|"
    r"bags?|backpacks?|boxes|box|items?|objects?)|unattended (?:bag|backpack|package|box)|"
    r"(?:caught|catching|set (?:on )?) fire|(?:building|room|office|car|truck|house|trash|bin|booth|"
    r"printer|machine|kitchen|roof|van|tabulator|outlet|panel|it|something|box|dropbox) (?:is|was|are|were) "
    r"on fire|on fire (?:in|at|near|outside|down)|"
    r"(?:a|the|small|big|house|building|electrical) fire|"
    r"fire (?:in|at|inside|outside|alarm|broke out|started|spread)|"
    r"smoke(?! test| detector| alarm test)|gas (?:leak|smell)|smells? (?:like|of) gas|smell(?:s|ing)? gas|"
    r"on fire|drove (?:up )?(?:onto|into|through)|jump(?:ed)? out of the way|"
    r"evacuat\w*|drove into|crashed into|severe weather|chemicals?|fumes|toxic|tornado\w*|hurricane|flood\w*|"
    r"earthquake|(?:roof|ceiling|wall|building) (?:is |has )?(?:collaps\w*|caved|cracked|fell|"
    r"leaking)|tree fell|power lines? down|"
    # Spanish
    r"armas?(?! de (?:doble filo))|armad[oa]s?(?<!fuerzas armadas)|pistolas?|escopetas?|"
    r"cuchillos?|navajas?|bombas?(?<!es una bomba)(?<!fue una bomba)|amenazas? de bomba|balas?|"
    r"artefactos? explosivos?|explosivos|"
    r"explosion(?:es)?|estallido|tirador|tiroteo|disparos|disparando|dispararon|"
    r"(?:un|el|los) disparos?|le disparo|balazos?|balacera|gas pimienta|"
    r"apunal\w*|acuchill\w*|rehen(?:es)?|agredi\w*|agresion|golpe(?:aron|o a|ando)|empujo|"
    r"una pelea|peleando|violen(?:cia|to|tos|ta|tas)|"
    r"amenaz\w*|matar(?:me|nos|te|lo|la|los|las)?|mataron|lastimar\w*|herir\w*|"
    r"quemar (?:la|el|los|las|nos)|sabemos donde (?:vives|vive|viven)|intimid\w*|"
    r"(?:me|nos|le|les) (?:siguio|siguieron|sigue|siguen)|quitar(?:se)? la vida|suicid\w*|"
    r"duele el pecho|no (?:puede|puedo) respirar|inundando|cables en el agua|"
    r"sangr(?:ando|a mucho)|inconsciente|no respira|no responde|se desmayo|desmay\w*|"
    r"diabetic\w*|azucar|insulina|alergi\w*|garganta|se le (?:esta )?cerrando|mare\w*|"
    r"no (?:se )?puede mover|se fractur\w*|dolor de pecho|vomit\w*|quimic\w*|toxic\w*|"
    r"tormenta|tornado|huracan|inundaci\w*|terremoto|techo|se cayo (?:el|la|parte)|"
    r"se (?:cayo al suelo|desplomo)|asfixi\w*|atragant\w*|sobredosis|infarto|"
    r"ataque (?:al corazon|cardiaco)|derrame cerebral|convulsi\w*|emergencias? medicas?|"
    r"ambulancia|primeros auxilios|rcp|desfibrilador\w*|herid[oa]s?|lesionad[oa]s?|"
    r"polvo blanco|(?:paquete|sobre|objeto|sustancia|mochila|bolsa|caja)s? sospechos[oa]s?|"
    r"(?:paquete|mochila|bolsa|caja)s? abandonad[oa]s?|incendio|hay fuego|humo|"
    r"fuga de gas|huele a gas|olor a gas|evacu\w*"
    r")\b")

#: Figures of speech built on danger words: removed before looking for danger.
_FIGURATIVE = re.compile(
    r"\b(?:smoke and mirrors|explosi(?:on|ve|vo|va) (?:of|in|growth|de|crecimiento)|"
    r"crecimiento explosivo|choking on|(?:deadline|schedule|week|job|report|quiz|exam|work|this|"
    r"that|it)\b[^.?!]{0,25}(?:going to|gonna|will) kill me|bomb (?:the|my|that|this) "
    r"(?:quiz|test|exam|interview|presentation)|(?:was|is|'s) the bomb|on fire today|"
    r"shot in the dark|crash course|killer (?:deadline|app|feature|week)|dead on arrival|"
    r"(?:intern|she|he|team|you|they|i|we|hotline|phones?|chat|inbox)(?:'s|'re|'m| is| are| was| were| am)? "
    r"on fire|"
    r"dispar(?:o|e|amos|ar|ale) (?:un|el|los) (?:mensaje|correo|email|recordatorio)|"
    r"echando humo|ataque de (?:risa|nervios|panico)|me (?:muero|mata|matan)\b)")

#: A question about preparing for, or the rules on, a danger (not one happening now).
_ASKS_ABOUT = re.compile(
    r"\b(?:polic(?:y|ies)|procedures?|protocols?|plans?|planning|training|train|trainings|"
    r"prepare|preparing|preparedness|drills?|exercises?|tabletop|guidance|guidelines?|guide|"
    r"rules?|laws?|legal|illegal|crime|allowed|permitted|prohibited|banned|ban|checklist|"
    r"best practices|tips|supplies|certification|coordinates?|need to know|lessons?|"
    r"last (?:cycle|year|election)|past (?:cycles?|elections?)|insurance|grants?|"
    r"should (?:every|each|all|we|there|i|our)|do we need|kits?|"
    r"what (?:should|do|can|must) (?:we|i|you|staff|poll workers|clerks|election workers|officials) "
    r"(?:do|say|tell)|how (?:do|should|can|would) (?:we|i|staff|you|poll workers|offices|"
    r"clerks|election workers) (?:handle|respond|prepare|deal|report|react|train|protect|"
    r"request|relocate|get)|who (?:do|should) (?:i|we) (?:contact|call|notify)|"
    r"do we have|is there (?:a|an|any)|are there (?:any)?|where (?:are|is|can i find)|"
    r"can (?:a|an|we|i|poll)|in case(?: of)?|what happens|what if|hypothetical\w*|suppose\w*|"
    r"how did|how (?:do|should|can) (?:i|we) report|"
    r"pol[ií]tica|procedimientos?|protocolos?|capacitacion|entrenamiento|preparar(?:se|nos)?|"
    r"simulacros?|reglas?|leyes?|ley|delito|legal|permit\w*|prohibid[oa]s?|guia|"
    r"necesita\w* saber|lecciones?|aprendimos|pasadas?|en el pasado|debe haber|deberia\w*|"
    r"pueden portar|puede portar|capacitaci\w*|seguro|"
    r"se (?:permite|permiten|puede|pueden)|hay (?:algun|alguna|algunos|algunas) (?:guia|"
    r"protocolo|plan|capacitacion|regla)|tienen (?:un|una|algun)|donde (?:estan|esta|encuentro)|"
    r"a quien (?:llamo|contacto|aviso)|como se (?:reporta|reportan|maneja)|"
    r"que (?:debemos|debo|deben|hacemos|hago|hacer) (?:hacer )?(?:si|cuando|en caso)|"
    r"como (?:manejar|responder|prepararnos|prepararse|reportar|actuar|reubicamos)|"
    r"en caso de|que pasa (?:si|con)|process|how does|who approves|occupancy|fire code|forms?|"
    r"how many|statistics|stats|formulario|botiquin|cuant[oa]s?|pedir"
    r")\b|^\W*(?:what|whats|how|who|whos|where|which|should|can|could|is|are|do|does|did|"
    r"when|quien|donde|cual|como|tenemos|hay|pueden|puede)\b")

#: A condition ("if there's a fire ...", "si hay humo ..."): what follows is not happening.
_CONDITION = re.compile(r"\b(?:if|when|in case|hypothetically|si|cuando|en caso de)\b[^.?!;]*")

#: Something happening now, or to the writer: a report even when worded as a question.
_HAPPENING = re.compile(
    r"\b(?:right now|now|currently|at the moment|today|tonight|just (?:now|happened|saw|got|"
    r"received|heard)|there(?:'s|’s| is| are|s) (?:a|an|someone|somebody|people|men|two|three|"
    r"smoke|fire|shots)|(?:someone|somebody|a (?:man|woman|guy|person|voter|lady)) "
    r"(?:is|has|just|pulled|with)|(?:we|i) (?:got|just|received|see|saw|hear|heard|smell)|"
    r"help me|ayuda|(?:outside|in) (?:the|our|my) (?:parking lot|building|lobby|line|office|"
    r"polling place)|ahora|ahora mismo|en este momento|hoy|hay (?!(?:un|una|algun\w*) (?:plan|protocolo|"
    r"guia|regla|ley|capacitacion|procedimiento|manual|lista|curso|programa|formulario))(?:un|una|unos|unas|alguien|"
    r"humo|fuego|disparos)|acaba(?:mos)? de|alguien (?:esta|tiene)|un (?:hombre|senor|tipo|"
    r"votante) (?:esta|tiene|con)|recibimos|recibi|nos llego|llego una|me llamaron|veo|vi|"
    r"nos estan|(?:got|received) (?:a|an) (?:call|voicemail|letter|email|message|text|threat)|"
    r"hay gente)\b|!")

#: Asking what to do, or whether to call, now (checked with the conditions left in).
_ASKS_FOR_HELP = re.compile(
    r"\b(?:what (?:do|should) (?:i|we) do|(?:should|do|can) (?:i|we) call|is it ok (?:if|to) (?:i )?call|"
    r"que (?:hago|hacemos)|(?:llamo|llamamos) al 911)\b(?! if| when| in case| about| with| in general|"
    r" si| cuando| en caso| con| en general)")


def signals_danger(text: str) -> bool:
    """Whether ``text`` mentions something that may put someone in danger."""
    return bool(_DANGER.search(_FIGURATIVE.sub(" ", fold(text[:MAX_TEXT]))))


def reports_danger(text: str) -> bool:
    """Whether ``text`` reports a danger (happening, or told as such), not asks about one.

    A question about plans, rules or training, or a danger only under a condition ("what's the
    plan if there's a fire"), is not a report unless it also says something is happening now
    ("right now", "there's a ...", "we just got").
    """
    folded = _FIGURATIVE.sub(" ", fold(text[:MAX_TEXT]))
    if not _DANGER.search(folded):
        return False
    stated = _CONDITION.sub(" ", folded)  # "... if there's a fire" states no fire
    if _DANGER.search(stated) and not _ASKS_ABOUT.search(folded):
        return True
    return bool(_HAPPENING.search(stated) or _ASKS_FOR_HELP.search(folded))
