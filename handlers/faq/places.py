"""Which states a question names ("in Kansas", "KS", "California's", "Nueva York", ...).

Full names are matched in any case (English and Spanish, accents folded); two-letter codes
when written in capitals, and never the codes that are also everyday words or acronyms in
election work (``IN``, ``OR``, ``ME``, ``ID`` for voter ID, ``LA`` for Los Angeles, ...). The
office's own codes are also read in lower case where only a state fits ("ks county clerk",
"rules in ct").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from knowledge.text import fold as fold_text

#: code -> names (English first; Spanish spellings after, accents dropped).
STATES: dict[str, tuple[str, ...]] = {
    "AL": ("Alabama",), "AK": ("Alaska",), "AZ": ("Arizona",), "AR": ("Arkansas",),
    "CA": ("California",), "CO": ("Colorado",), "CT": ("Connecticut",),
    "DE": ("Delaware",), "DC": ("District of Columbia", "Distrito de Columbia"),
    "FL": ("Florida",), "GA": ("Georgia",), "HI": ("Hawaii", "Hawai"), "ID": ("Idaho",),
    "IL": ("Illinois",), "IN": ("Indiana",), "IA": ("Iowa",), "KS": ("Kansas",),
    "KY": ("Kentucky",), "LA": ("Louisiana", "Luisiana"), "ME": ("Maine",),
    "MD": ("Maryland",), "MA": ("Massachusetts",), "MI": ("Michigan",),
    "MN": ("Minnesota",), "MS": ("Mississippi", "Misisipi"), "MO": ("Missouri", "Misuri"),
    "MT": ("Montana",), "NE": ("Nebraska",), "NV": ("Nevada",),
    "NH": ("New Hampshire", "Nuevo Hampshire"), "NJ": ("New Jersey", "Nueva Jersey"),
    "NM": ("New Mexico", "Nuevo Mexico"), "NY": ("New York", "Nueva York"),
    "NC": ("North Carolina", "Carolina del Norte"), "ND": ("North Dakota", "Dakota del Norte"),
    "OH": ("Ohio",), "OK": ("Oklahoma",), "OR": ("Oregon",),
    "PA": ("Pennsylvania", "Pensilvania"), "RI": ("Rhode Island",),
    "SC": ("South Carolina", "Carolina del Sur"), "SD": ("South Dakota", "Dakota del Sur"),
    "TN": ("Tennessee",), "TX": ("Texas", "Tejas"), "UT": ("Utah",), "VT": ("Vermont",),
    "VA": ("Virginia",), "WA": ("Washington State", "Estado de Washington"),
    "WV": ("West Virginia", "Virginia Occidental"), "WI": ("Wisconsin",), "WY": ("Wyoming",),
}

#: Codes that are also words or acronyms people type in capitals ("voter ID", "LA County").
AMBIGUOUS_CODES = frozenset({"AL", "CO", "DC", "DE", "HI", "ID", "IN", "LA", "MA", "MD", "ME",
                             "OH", "OK", "OR", "PA", "VA", "MS", "MI", "SC", "NE"})


def fold(text: str) -> str:
    """Lower-case, accents dropped (:func:`knowledge.text.fold`)."""
    return fold_text(text)


@lru_cache(maxsize=1)
def _name_pattern() -> re.Pattern[str]:
    names = sorted(((fold(n), code) for code, ns in STATES.items() for n in ns),
                   key=lambda nc: -len(nc[0]))
    alternatives = "|".join(re.escape(n) for n, _code in names)
    return re.compile(rf"\b({alternatives})(?:'s|ns?)?\b")


@lru_cache(maxsize=1)
def _by_name() -> dict[str, str]:
    return {fold(n): code for code, ns in STATES.items() for n in ns}


_CODE = re.compile(r"(?<![A-Za-z0-9])([A-Z]{2})(?:'s)?(?![A-Za-z0-9])")


#: A code typed in lower case, where only a state fits: after "in", "for", ... ("rules in ct")
#: or before an office word ("ks county clerk", "ca's deadline"); not after a street number
#: ("40 elm ct"). Only the office's own codes (``extra_codes``) are read this way.
_LOWER_CODE = re.compile(
    r"(?<![\w.@])(?:(?:in|for|from|of|at|to|across|does|did|do|is|are|has|have|will|can|"
    r"should|en|de|del|para) ([a-z]{2})(?!\w|\.\w)|"
    r"(?<!\d )(?<!\d\d )(?<!\d\d\d )([a-z]{2})(?='s\b|'s?\b| (?:counties|county|clerks?|"
    r"registrars?|towns?|sos|sots|secretary|state|office|elections?|voters?|law|laws|rules?|"
    r"deadlines?|cert|certs|certification|training|program|classes|class|courses?|"
    r"condado|condados|secretaria|oficina|ley)\b))")


def named_states(text: str, *, extra_codes: frozenset[str] = frozenset(),
                 aliases: Mapping[str, str] | None = None) -> list[str]:
    """State codes the text names, first mention first, without repeats.

    ``extra_codes`` are codes the office works with (app.yaml ``jurisdictions``); those are
    recognised in capitals even when they are ambiguous elsewhere. ``aliases``: other names of a
    jurisdiction or its office (app.yaml ``aliases``: "SOTS" -> CT), whole words, any case.
    """
    found: list[tuple[int, str]] = []
    folded = fold(text)
    if aliases:
        pattern, by_alias = _alias_pattern(tuple(sorted(aliases.items())))
        found += [(m.start(), by_alias[m.group(1)]) for m in pattern.finditer(folded)]
    by_name = _by_name()
    # Longest names first in the alternation: "West Virginia" wins over "Virginia".
    for match in _name_pattern().finditer(folded):
        found.append((match.start(), by_name[match.group(1)]))
    if sum(map(str.isupper, text)) <= max(6, len(text) // 3):  # not shouting in capitals
        for match in _CODE.finditer(text):
            code = match.group(1)
            if code in STATES and (code not in AMBIGUOUS_CODES or code in extra_codes):
                found.append((match.start(), code))
    for match in _LOWER_CODE.finditer(folded):
        code = (match.group(1) or match.group(2)).upper()
        if code in extra_codes and code not in AMBIGUOUS_CODES:
            found.append((match.start(), code))
    seen: dict[str, None] = {}
    for _pos, code in sorted(found):
        seen.setdefault(code, None)
    return list(seen)


#: Where the asker works, told in passing ("I'm the new county clerk out here in Kansas", "soy
#: secretaria del condado en Kansas"): who asks, not what about.
_INTRO = re.compile(
    r"\b(?:i'?m|i am|im|we'?re|we are|soy|somos|trabajo|trabajamos|i work|we work)\b"
    r"[^.?!;]{0,50}?\b(?:clerks?|registrars?|officials?|staffers?|staff|deputy|director|supervisor|"
    r"administrator|new|county|town|city|office|secretari\w*|registrador\w*|funcionari\w*|"
    r"condado|pueblo|oficina|nuev[oa])\b[^.?!;]{0,30}?\b(?:in|from|de|en)\s+"
    r"(?:the state of |el estado de )?(\w+(?: \w+)?)", re.I)


def introduced_states(text: str, *, extra_codes: frozenset[str] = frozenset(),
                      aliases: Mapping[str, str] | None = None) -> list[str]:
    """States the text names only where the asker says where they work (:data:`_INTRO`).

    "Hi! I'm brand new as county clerk out here in Kansas. What does each letter of PAUSE
    mean?" asks about PAUSE: Kansas is the asker's state, not the subject.
    """
    spans = list(_INTRO.finditer(text))
    if not spans:
        return []
    told = [code for m in spans for code in named_states(text[m.start():m.end()],
                                                          extra_codes=extra_codes,
                                                          aliases=aliases)]
    rest = text
    for m in reversed(spans):
        rest = rest[:m.start(1)] + " " + rest[m.end(1):]
    again = set(named_states(rest, extra_codes=extra_codes, aliases=aliases))
    return list(dict.fromkeys(code for code in told if code not in again))


@lru_cache(maxsize=16)
def _alias_pattern(aliases: tuple[tuple[str, str], ...]) -> tuple[re.Pattern[str], dict[str, str]]:
    by_alias = {fold(alias): code for alias, code in aliases}
    names = sorted(by_alias, key=len, reverse=True)  # the longest alias wins
    return (re.compile(r"(?<![\w])(" + "|".join(map(re.escape, names)) + r")(?![\w])"),
            by_alias)


def state_name(code: str, language: str = "en") -> str:
    """The state's name (Spanish spelling when there is one and ``language`` is ``es``)."""
    names = STATES.get(code)
    if not names:
        return code
    if language == "es" and len(names) > 1:
        return _SPANISH_ACCENTS.get(names[1], names[1])
    return names[0]


#: How a Spanish name is written in replies: accents, and "Texas" (the usual spelling; "Tejas"
#: is still read in questions).
_SPANISH_ACCENTS = {"Nuevo Mexico": "Nuevo México", "Hawai": "Hawái", "Misisipi": "Misisipi",
                    "Tejas": "Texas"}
