"""Normalising, tokenising, stop words and light stemming shared by indexing and querying.

Indexing and querying must see text through exactly the same lens, so everything that turns a
string into search terms lives here: accent folding, apostrophes, light English / Spanish
stemming and the stop-word lists (English, Spanish and chat filler).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9]+")
#: An apostrophe inside a word, and a possessive ``'s`` (after a letter, ending the word). Each
#: starts with the apostrophe, so the regex engine skips to the apostrophes (a lookbehind first
#: would be tried at every character).
_APOSTROPHE = re.compile(r"['\u2019](?<=[a-z]['\u2019])(?=[a-z])")
_POSSESSIVE = re.compile(r"['\u2019](?<=[a-z]['\u2019])s\b")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")

ENGLISH_STOP = frozenset("""
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had
has have having he her here hers herself him himself his how i if in into is it its itself just
me more most my myself no nor not of off on once only or other our ours ourselves out over own
same she should so some such than that the their theirs them themselves then there these they
this those through to too under until up very was we were what when where which while who whom
why will with would you your yours yourself yourselves s t whats wheres whos hows thats theres
im ive id youre dont doesnt isnt arent didnt cant wont shouldnt r u ur pls plz please thanks
thank hi hey hello ok okay
""".split())

#: Chat filler: words that say nothing about the topic of a question.
FILLER_STOP = frozenset("""
like thing things stuff kind sort actually really basically just also maybe anything something
someone anyone everyone everything tell know want wanted need needs needed get gets getting got
go going use using used let lets us also still ever even much many lot lots way ways exactly
supposed able wondering wonder quick curious guess think sure etc thru via cover covers
covered include includes included involve involves contain contains mean means meaning
define definition explain wat wut wht whts abt bout wanna gonna gotta oops oop hmm um uh btw fyi
lol exist exists done happen happens happening happened put puts take takes
gist rundown nutshell overview give gimme show brief briefly whole tldr eli5
w else folk folks weird totally pretty supposedly somewhere anywhere nobody theyre ish whoever
""".split())

SPANISH_STOP = frozenset("""
a al algo algun alguna algunas alguno algunos ante antes como con contra cual cuales cuando
cuanto cuanta cuantos cuantas de del desde donde el ella ellas ellos en entre era es esa
esas ese eso esos esta estas este esto estos fue ha hay la las le les lo los mas me mi mis muy
nos nuestra nuestro o os para pero por porque que quien quienes se segun ser si sin sobre son
su sus tambien te tengo tiene tu tus un una unas uno unos usted ustedes y ya yo debo debe
deben puedo puede pueden quiero quisiera saber favor hola gracias ofrece ofrecen existe
queremos tenemos necesito necesitamos necesita podemos debemos soy estoy
estamos pues oye porfa
""".split())

#: Spanish chat shorthand ("q" for que, "pq" for por qué, "pa" for para): stop words too.
_SPANISH_SHORTHAND = frozenset("""
q pq xq porq pa tmb
""".split())

STOP_WORDS = ENGLISH_STOP | FILLER_STOP | SPANISH_STOP | _SPANISH_SHORTHAND

_KEEP_S = ("ss", "us", "is", "os")
_NO_UNDOUBLE = frozenset("lsz")


def _strip_marks(run: re.Match[str]) -> str:
    return "".join(ch for ch in run.group() if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Lower-case and strip accents (``Cuál`` -> ``cual``).

    Only runs of non-ASCII characters are looked at one by one (ASCII has no combining marks
    and is its own NFKD form): the same result, without a Python step per character.
    """
    decomposed = unicodedata.normalize("NFKD", text.lower())
    if decomposed.isascii():
        return decomposed
    return _NON_ASCII.sub(_strip_marks, decomposed)


#: Bytes -> themselves for a-z and 0-9, a space for every other byte.
_ASCII_WORD_BYTES = bytes(c if chr(c) in "abcdefghijklmnopqrstuvwxyz0123456789" else 32
                          for c in range(256))


def _unapostrophe(folded: str) -> str:
    """Apostrophes join (``don't`` -> ``dont``), ``'s`` goes."""
    if "'" in folded or "\u2019" in folded:
        return _APOSTROPHE.sub("", _POSSESSIVE.sub("", folded))
    return folded


def words(text: str) -> list[str]:
    """Folded alphanumeric words; apostrophes join (``don't`` -> ``dont``), ``'s`` goes."""
    folded = _unapostrophe(fold(text))
    if folded.isascii():  # the runs of a-z0-9, as _WORD finds them, in C at memory speed
        return folded.encode("ascii").translate(_ASCII_WORD_BYTES).decode("ascii").split()
    return _WORD.findall(folded)


#: Markers between the texts :func:`marked_words` analyses in one go (never in a word).
MARKERS = ("\x00", "\x01")
#: :data:`_ASCII_WORD_BYTES`, but the markers stay themselves.
_MARKED_WORD_BYTES = bytes(c if chr(c) in "abcdefghijklmnopqrstuvwxyz0123456789\x00\x01" else 32
                           for c in range(256))


def marked_words(text: str) -> list[str]:
    """:func:`words` of many texts at once: ``text`` is texts joined by markers.

    Each marker (:data:`MARKERS`) must stand alone, between spaces, and the texts must not
    contain one. The result is each text's words, in order, with the markers between them as
    words of their own: fold, apostrophes and the split see a marker and its spaces exactly as
    they see the end of a text (neither is a letter, a word character or a combining mark), so
    every text's words are :func:`words` of that text.
    """
    folded = fold(text)
    if "'" in folded or "\u2019" in folded:  # only the texts that have one
        folded = "\x00".join(map(_unapostrophe, folded.split("\x00")))
    if not folded.isascii():  # what fold left outside ASCII is no word character
        folded = _NON_ASCII.sub(" ", folded)
    return folded.encode("ascii").translate(_MARKED_WORD_BYTES).decode("ascii").split()


def _undouble(stem: str) -> str:
    """``gett`` -> ``get`` after removing a suffix (but keep ``yell``, ``pass``)."""
    if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in _NO_UNDOUBLE:
        return stem[:-1]
    return stem


def _stem_spanish(word: str) -> str:
    """Plural endings only: ``elecciones`` -> ``eleccion``, ``cursos`` -> ``curso``."""
    if len(word) > 6 and word.endswith("iones"):
        return word[:-2]
    if len(word) > 5 and word.endswith(("ores", "ades", "ales")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@lru_cache(maxsize=65536)
def stem(word: str, language: str = "en") -> str:
    """Light stemming: plurals, ``-ing``, ``-ed``; numbers and short words are left alone."""
    if len(word) <= 3 or word.isdigit() or word in STOP_WORDS:
        return word
    if language == "es":
        return _stem_spanish(word)
    if word.endswith(("ies", "ied")) and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "ches", "shes", "xes")) and len(word) > 4:
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(_KEEP_S):
        word = word[:-1]
    if word.endswith("ing") and len(word) > 5:
        return _undouble(word[:-3])
    if word.endswith("ed") and len(word) > 4 and not word.endswith("eed"):
        return _undouble(word[:-2])
    return word


class _StemCache(dict[str, str]):
    """word -> :func:`stem` for one language, filled on first use (a dict lookup, no call)."""

    def __init__(self, language: str) -> None:
        super().__init__()
        self.language = language

    def __missing__(self, word: str) -> str:
        if len(self) >= STEM_CACHE_SIZE:  # bounded: questions bring endless new words
            self.clear()
        # The function itself: this dict is the cache (an lru_cache entry is two more lists
        # for the garbage collector to walk, for as long as the process runs).
        found = self[word] = stem.__wrapped__(word, self.language)
        return found


#: How many stems each language keeps (the lru_cache of :func:`stem` keeps as many).
STEM_CACHE_SIZE = 65536
_STEMS = {"en": _StemCache("en"), "es": _StemCache("es")}


def stems(text: str, language: str = "en") -> list[str]:
    """Words of ``text``, stemmed, stop words still in place (phrases need them)."""
    # stem() treats every language but Spanish as English.
    return list(map(_STEMS["es" if language == "es" else "en"].__getitem__, words(text)))


def stem_words(found: Iterable[str], language: str = "en") -> list[str]:
    """:func:`stem` of each word (through the same per-language cache as :func:`stems`)."""
    return list(map(_STEMS["es" if language == "es" else "en"].__getitem__, found))


def is_stop(term: str) -> bool:
    """Tell whether a term is a stop word or chat filler."""
    return term in STOP_WORDS


#: What a question asks for, and how to recognise that an article text can supply it.
_ANSWER_TYPES: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "phone": (
        re.compile(r"\b(phone|telephone|tel[eé]fono|fax)\s*(number|#|no\b|n[uú]mero)|"
                   r"\bnumber to (call|text)\b|\b(tip|hot)\s*line\s*(number|#)|"
                   r"\b(cu[aá]l|qu[eé]) es el (n[uú]mero de )?tel[eé]fono|"
                   r"\bn[uú]mero de tel[eé]fono"),
        re.compile(r"\b\d{3}[-. )]+\d{3}[-. ]+[0-9a-z]{4}\b"),
    ),
    "email": (
        re.compile(r"\be-?mail (address|addy|for|to reach|of)\b|\b(what|which)( is the)? e-?mail\b"
                   r"|\bcorreo electr[oó]nico\b|\bdirecci[oó]n de correo\b"),
        re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"),
    ),
    "time_of_day": (
        re.compile(r"\bwhat time\b|\b(a )?qu[eé] hora\b|\b(opening|closing|office) hours\b"
                   r"|\bhours of operation\b"),
        re.compile(r"\b\d{1,2}(:\d{2})?\s*(a\.?m\.?|p\.?m\.?)|\bo'clock\b|\bnoon\b|\bmidnight\b"),
    ),
    "street_address": (
        re.compile(r"\b(mailing|street|office|physical|postal|home) address\b"
                   r"|\bdirecci[oó]n postal\b"
                   r"|\bwhere is the .*\boffice located\b"),
        re.compile(r"\b\d+\s+\w+(\s\w+)?\s(street|st|avenue|ave|boulevard|blvd|road|rd|drive|dr|"
                   r"way|lane|ln)\b|\bp\.?\s?o\.? box\b"),
    ),
    "price": (
        re.compile(r"\b(stock|share) price\b|\bhow much (does|do|is|are) .* cost\b"),
        re.compile(r"\$\s?\d|\bfree\b|\bno cost\b|\bfunding\b"),
    ),
}
_PLACE = re.compile(r"\b([a-z]+)\s+(?:county|counties|parish|borough)\b"
                    r"|\b(?:town|city) of ([a-z]+)")
_HOW_MANY = re.compile(r"\b(?:how many|number of|cu[aá]nt[oa]s)\s+(.*)")
NUMBER_WORDS = frozenset("""
one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty fifty
hundred thousand dozen dozens half uno una dos tres cuatro cinco seis siete ocho nueve diez cien
mil
""".split())
#: A counted noun follows its number closely ("80 fusion centers"), within one clause.
COUNT_WINDOW = 3
_CLAUSE = re.compile(r"[.;:,()\n]|\s[-\u2013\u2014]\s")


#: A conversational opener before the question proper: a greeting ("hi,", "hola!", "good
#: morning —") and / or an announcement of the question ("quick q:", "una pregunta rápida:", "I have
#: a question,"), each closed by punctuation, and / or who the asker is (:data:`_INTRO`). Its
#: words match no article and only thin the question's coverage, so the search reads what follows.
_CLOSE = r"(?:\s*[,!.:;]+|\s+[-\u2013\u2014]+)\s*"  # a dash only after a space: not "hi-res"
_GREETING = (r"(?:hi|hey|hello|hiya|howdy|greetings|good\s+(?:morning|afternoon|evening)|hola|"
             r"buen[oa]s(?:\s+(?:d[ií]as|tardes|noches))?|saludos)"
             r"(?:\s+(?:there|all|team|everyone|folks|todos|equipo))?")
_ONE = r"(?:(?:a|one|another|una|otra)\s+)?"
_ANNOUNCE = (r"(?:" + _ONE + r"(?:quick|small|short|r[aá]pida)\s*(?:q|question|pregunta)|"
             + _ONE + r"(?:question|pregunta)|q(?=\s*:))"
             r"(?:\s+(?:r[aá]pida|for you|para (?:ti|usted|ustedes)))?|"
             r"i\s+have\s+a\s+(?:quick\s+)?question|tengo\s+una\s+(?:pregunta|duda)(?:\s+r[aá]pida)?")
#: Who the asker is, told before the question ("so I'm brand new as county clerk out here in
#: Kansas and ...", "soy secretaria del condado en kansas, ..."), closed by punctuation or "and".
_INTRO = (r"(?:(?:so|well|ok|okay|oye|bueno|pues)\s+)?(?:i'?m|i\s+am|we'?re|we\s+are|soy|somos)\s+"
          r"[^.?!;,]{0,80}?\b(?:clerks?|registrars?|officials?|staffers?|deputy|director|supervisor|"
          r"administrator|volunteers?|liaison|secretari[oa]s?|secretar[ií]a|registrador[ae]?s?|"
          r"funcionari[oa]s?|voluntari[oa]s?|enlace)\b[^.?!;,]{0,60}?"
          r"(?:\s*[,!.;]+\s*|\s+(?:and|y)\s+)")
#: Whose question it is, relayed ("my deputy wants to know if ...", "our board chair asked me
#: whether ...", "mi jefa quiere saber si ..."), or a frame around asking ("I was wondering if",
#: "can you tell me", "does anyone know whether"): like an opener, its words are in no article.
_ASKED_BY = (r"(?:my|our|the|a|an|one of (?:my|our)|mi|mis|nuestr[oa]s?|el|la|un|una)\s+"
             r"(?:[\w-]+\s+){0,3}?(?:deputy|deputies|directora?|boss|supervisora?|board|chairs?|"
             r"manager|it|tech|clerks?|registrars?|commissioners?|colleagues?|co-?workers?|team|"
             r"staff(?:ers?)?|office|intern|assistant|rovs?|partners?|pastor|volunteers?|council|"
             r"judges?|workers?|people|folks|guy|lady|person|member|jef[ea]s?|"
             r"compa[nñ]er[oa]s?|equipo|junta|personal|asistente|colega)"
             r"(?:\s+(?:guy|person|lead|folks|people|members?|chair))?\s+")
#: A question word follows ("the registrar asked me, is year 3 online" needs the comma).
_WH = (r"(?=\s*(?:who|what|when|where|which|why|how|whether|if|qu[eé]|qui[eé]n|cu[aá]n[dt]\w*|"
       r"d[oó]nde|c[oó]mo|cu[aá]l|si)\b)")
_RELAY = (r"(?:(?:" + _ASKED_BY + r")(?:(?:just|also|now|still|really|keeps?)\s+)?"
          # a relayed question: the verb says a question follows
          r"(?:(?:wants? to know|wanted to know|needs? to know|would like to know|wonders|"
          r"(?:is|was|are|were) wondering|quiere(?:n)? saber|necesita(?:n)? saber)"
          # "asked" says so only with its object or what it asked ("the board asked to certify")
          r"|(?:(?:is|are|was|were|keeps?) asking|asked|asks|me pregunt[oó]|me preguntaron|"
          r"nos pregunt[oó]|pregunta|preguntan)(?:\s+(?:me|us))?(?:\s*[,:]|" + _WH + r"))"
          # whoever it is, a verb that says a question follows ("a new hire wants to know ...")
          r"|(?:my|our|the|a|an|mi|mis|nuestr[oa]s?|el|la|un|una)\s+(?:[\w-]+\s+){1,3}?"
          r"(?:wants?\s+to\s+know|wanted\s+to\s+know|needs?\s+to\s+know|would\s+like\s+to\s+know|"
          r"(?:is|was)\s+wondering|quiere(?:n)?\s+saber|necesita(?:n)?\s+saber)"
          r"|(?:i\s+was|i'?m|we'?re|we\s+were|just)\s+wondering"
          r"|(?:can|could|would)\s+(?:you|u)\s+(?:please\s+|pls\s+)?(?:tell|remind)\s+(?:me|us)"
          r"|(?:does\s+)?any\s?(?:one|body)\s+know"
          r"|quer[ií]a\s+(?:saber|preguntar))"
          r"(?:\s+(?:about|if|whether|si))?(?:\s*[,:;]+|\s+[-\u2013\u2014]+)?\s+")
#: Someone's claim, told to be checked ("a board member told me ...", "someone on facebook says
#: ...", "mi jefe dice que ..."): the claim is the question; who made it is in no article.
_CLAIMANT = (r"(?:" + _ASKED_BY + r"|(?:some|any)(?:one|body)\s+|alguien\s+|"
             r"(?:a|an|the|my|our|one|another|un|una|el|la|mi)\s+(?:[\w-]+\s+){0,2}?(?:voters?|"
             r"reporters?|journalists?|neighbou?rs?|guy|friend|caller|resident|colleague|coworker|"
             r"commissioner|candidate|partner|votante|periodista|vecin[oa]|amig[oa]|colega)\s+)")
_CLAIM = (r"(?:" + _CLAIMANT + r"(?:(?:on|at|in|from|de|en)\s+(?:[\w'-]+\s+){1,4}?)?"
          r"(?:(?:just|also|keeps?|still)\s+)?(?:told\s+(?:me|us)|tells\s+(?:me|us)|says|said|"
          r"claims?|claimed|insists?|insisted|mentioned\s+that|swears|thinks|believes|heard|is\s+saying|"
          r"keeps\s+saying|was\s+saying|me\s+dijo|nos\s+dijo|dice|dijo|asegura|cree)"
          r"(?:\s+(?:that|que))?(?:\s*[,:]|\s+))")
_PREAMBLE = re.compile(r"^\s*(?:" + _GREETING + _CLOSE + r")?(?:(?:" + _ANNOUNCE + r")" + _CLOSE + r")?"
                       r"(?:" + _INTRO + r")?(?:" + _RELAY + r"|(?P<claim>" + _CLAIM + r"))?", re.IGNORECASE)
#: The check asked of a claim, closing the question ("... is that right?", "what's the real
#: story?", "¿es cierto?"): its words are in no article.
_VERDICT_TAIL = re.compile(
    r"(?:(?<=[.?!,;:])|\s)\s*(?:(?:so|but|and|pero|y)\s+)?(?:(?:is|was|isn't)\s+(?:that|this|it)\s+"
    r"(?:really\s+|actually\s+)?(?:right|true|correct|accurate|so|legit|the\s+case|real|how\s+it\s+"
    r"works)|what'?s\s+the\s+(?:real|actual)\s+(?:story|deal|truth|answer)|(?:is\s+that|es)\s+"
    r"(?:cierto|verdad)|true|(?:any\s+)?truth\s+to\s+(?:that|this|it))\W*$", re.IGNORECASE)


def strip_preamble(question: str) -> str:
    """``question`` without its conversational opener (:data:`_PREAMBLE`), if more follows it.

    A claim told to be checked loses its closing check too (:data:`_VERDICT_TAIL`).
    """
    match = _PREAMBLE.match(question)
    rest = question[match.end():] if match else question
    if match and match.group("claim"):
        if len(rest.split()) < 3:  # "the board says what?": no claim to check
            return question
        tail = _VERDICT_TAIL.search(rest)
        rest = rest[:tail.start()] if tail and rest[:tail.start()].strip() else rest
    return rest if rest.strip() else question


@dataclass(frozen=True)
class Ask:
    """What kind of fact a question explicitly asks for (phone number, email, count of X...)."""

    types: frozenset[str] = frozenset()
    count_of: str | None = None
    places: frozenset[str] = frozenset()


def parse_ask(question: str, language: str = "en") -> Ask:
    """Find the explicit answer types of a question (``count_of``: stem after "how many")."""
    low = question.lower()
    types = frozenset(name for name, (ask, _has) in _ANSWER_TYPES.items() if ask.search(low))
    match = _HOW_MANY.search(low)
    noun = None
    if match:
        noun = next((stem(w, language) for w in words(match.group(1)) if w not in STOP_WORDS),
                    None)
    places = frozenset(stem(w, language) for m in _PLACE.finditer(fold(low)) for w in m.groups()
                       if w and w not in STOP_WORDS)
    return Ask(types, noun, places)


#: What a text must contain for each ``_ANSWER_TYPES`` fact pattern to match: a digit
#: (``\d``, any script) or one of the strings. Checked first: far cheaper than the patterns.
_NEEDS: dict[str, tuple[bool, tuple[str, ...]]] = {
    "phone": (True, ()),
    "email": (False, ("@",)),
    "time_of_day": (True, ("o'clock", "noon", "midnight")),
    "street_address": (True, ("box",)),
    "price": (False, ("$", "free", "no cost", "funding")),
}
_DIGIT = re.compile(r"\d")


def supplied_types(text: str) -> frozenset[str]:
    """Kinds of fact an article text can supply."""
    low = text.lower()
    digit = _DIGIT.search(low) is not None
    return frozenset(name for name, (_ask, has) in _ANSWER_TYPES.items()
                     if ((digit and _NEEDS[name][0]) or any(s in low for s in _NEEDS[name][1]))
                     and has.search(low))


def counted_nouns(text: str) -> frozenset[str]:
    """Stems that appear just after a number in the same clause.

    "80 fusion centers" gives fusion and center; "Region 9; the scenarios" gives nothing.
    """
    out: set[str] = set()
    english, spanish = _STEMS["en"], _STEMS["es"]
    for clause in _CLAUSE.split(text):
        tokens = words(clause)
        if NUMBER_WORDS.isdisjoint(tokens) and not any(map(str.isdigit, tokens)):
            continue  # no number in this clause (most of them): nothing to look at
        for i, tok in enumerate(tokens):
            if tok.isdigit() or tok in NUMBER_WORDS:
                for follower in tokens[i + 1:i + 1 + COUNT_WINDOW]:
                    out.add(english[follower])
                    out.add(spanish[follower])
    return frozenset(out)


def can_answer(ask: Ask, supplied: frozenset[str], counted: frozenset[str],
               terms: frozenset[str]) -> bool:
    """Tell whether an article's facts fit what the question explicitly asks for.

    A question about a named county or town needs an article that names it; a "how many X"
    question needs an article with a number next to X; "phone number", "email", "what time" and
    "mailing address" need an article that contains one.
    """
    if ask.types - supplied or not ask.places <= terms:
        return False
    return ask.count_of is None or ask.count_of in counted
