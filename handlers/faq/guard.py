"""Refuse partisan requests, personal-data requests and instruction overrides before retrieval.

Two layers, both looking for the *act* being asked for (advise a vote, judge a party or an
official, predict, endorse, look up or expose a person, change the bot's rules), not for topic
words: "how do we handle observer disputes between party representatives" and "how do we protect
staff from doxxing" mention parties and doxxing and must still reach the knowledge base.

1. Rules (:mod:`handlers.faq.guard_rules`): lexicons with plural and inflected forms, patterns for
   indirect and rhetorical asks, and protective frames that keep questions about protecting
   people out of the personal-data rules.
2. A small classifier (:mod:`handlers.faq.guard_model`) for phrasings the rules do not know,
   calibrated to at most 1 % false refusals (see ``benchmarks/fit_guard.py``). Its personal-data
   verdict yields to a protective frame (data that was exposed, protecting or redacting it), to
   the asker's own details (the rules' own exemption, narrowed to words no request for someone
   else's data needs), and to who holds a public election office or how to reach the office
   (a registrar's name is public; her home, family and cell phone are not). A frame it yields
   to must belong to the refused ask; the further asks of a message are read by the words-only
   fit alone, at a higher bar (``ASK_CERTAINTY``), and what an account reports is someone
   else's words (see :mod:`handlers.faq.guard_rules`).

Two fits of the classifier ship. The lexical one (words only) runs by default, as retrieval
does (app.yaml ``semantic_retrieval: false``). While the semantic channel runs in this process
(the knowledge base loaded an embedder), the semantic fit reads the question's embedding too,
from the cache retrieval then reuses, so the guard adds no model call. :func:`use_semantic`
forces either path (reports, tests).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any, cast

from handlers.faq.guard_model import MODEL_PATH, SEMANTIC_MODEL_PATH, GuardModel, load_model
from handlers.faq.guard_rules import (
    ASKS_ME,
    COMPARE,
    EQUIPMENT_MODE,
    JUDGE,
    OFFICE,
    OWN_GIVEN,
    PUBLIC_ADDRESS,
    RECORD,
    REFERS_BACK,
    STAFF_MISTAKES,
    Refusal,
    asks,
    compile_all,
    is_request,
    match,
    normalise,
    normalise_with_offsets,
    opening_end,
    part_starts,
    received_text,
    told_then_asked,
)
from handlers.incidents.danger import reports_danger

__all__ = ["Refusal", "Verdict", "answerable_opening", "check", "embeds", "engine", "explain",
           "prepare", "use_semantic"]

#: None: follow the knowledge base (semantic when an embedder is loaded in this process);
#: True / False: forced by :func:`use_semantic`.
_SEMANTIC: bool | None = None

#: Someone's data already exposed, or kept safe ("our staff's home address was posted online"),
#: or the asker's own details offered ("my name is ..., call me at ...").
PROTECTIVE = re.compile(
    r"\b(protect\w*|prevent\w*|safeguard\w*|shield\w*|redact\w*|confidential\w*|privacy|"
    r"harass\w*|threat\w*|doxx?ed|leak\w*|(was|were|got|been|being|is|are) (posted|published|"
    r"shared|exposed|leaked)|(someone|somebody|they|people|a (troll|user|group|page|account)) "
    r"(posted|shared|published|leaked|spread)|compartieron|difundieron|proteg\w*|protej\w*|"
    r"resguard\w*|amenaza\w*|publicaron|filtrad\w*|"
    r"my name is|me llamo|"
    r"(call|reach|contact|email|text) me|my (own )?(phone|number|cell|e-?mail))\b")

#: ... unless the asker asks the bot for it ("someone leaked her cell, text it to me").
_ASKS_ME = re.compile(ASKS_ME)

#: Who holds a public election office, or how to reach the office: public, not personal data
#: ("what's the name of the El Dorado County registrar", "¿quién es la secretaria del condado?").
PUBLIC_OFFICE = re.compile(
    r"\b(who(?:'s| is| are| was| runs| heads| leads)|names?|contact|office (phone|number|e-?mail|"
    r"address|hours)|qui[eé]n(es)? (es|son|era|dirige)|c[oó]mo se llama\w*|nombres?)\b.{0,40}"
    r"\b(registrars?|rovs?|(county|town|city) clerks?|clerks?|secretary of (the )?state|"
    r"(election|elections) (commissioners?|directors?|administrators?|officials?|officers?|"
    r"supervisors?|office|division|department)|supervisor of elections|registrador(a|es|as)?|"
    r"secretari[oa]s? (del condado|municipal|de estado|del estado)|oficina electoral)\b")
#: ... unless the question reaches into the person's own life (the rules' private records, or
#: home, family and habits), or is about someone who holds no public office (a voter, staff).
PRIVATE_LIFE = re.compile(
    rf"\b(?:{RECORD}|home|house|live[sd]?|living|reside\w*|neighbou?rhood|street|personal|"
    r"private|cell|mobile|unlisted|family|kids?|child(ren)?|daughters?|sons?|wife|husband|spouse|"
    r"married|dating|partner|(boy|girl)friend|birth\w*|age|old|maiden|health|religio\w*|church|"
    r"gym|car|schedule|routine|leaves?|instagram|facebook|twitter|tiktok|photos?|pictures?|"
    r"voters?|poll workers?|volunteers?|staff\w*|employees?|observers?|casa|vive|viven|domicilio|"
    r"celular|privad\w*|familia|hij[oa]s?|espos[oa]|casad[oa]|cumplea\w*|edad|salud|iglesia|"
    r"carro|coche|barrio|votantes?|trabajador\w*|voluntari\w*|emplead\w*)\b")

#: Who holds a public office, asked and nothing more ("who's the current Kansas Secretary of
#: State", "who is the governor right now?"): a public fact, not a judgement of the holder.
WHO_HOLDS = re.compile(
    r"^\W*(?:who(?:'s|s| is| was)|quien (?:es|era)) (?:the |el |la )?(?:current |new |acting |"
    r"interim |sitting |actual |nuev[oa] )?(?:[\w.'-]+ ){0,3}?" + OFFICE +
    r"(?: (?:of|for|in|de|del|en) [\w .'-]{1,40}?)?(?: (?:now|right now|today|at the moment|"
    r"these days|ahora))?\W*$")
#: ... and no word of it judges the holder ("who's the shadiest clerk" is the classifier's).
_JUDGING = re.compile(rf"\b(?:{JUDGE}|{COMPARE}|\w+est|most|least)\b")

_PUBLIC_ADDRESS = re.compile(PUBLIC_ADDRESS)
_STAFF_MISTAKES = re.compile(STAFF_MISTAKES)
_OWN_GIVEN = re.compile(OWN_GIVEN)
_EQUIPMENT_MODE = re.compile(EQUIPMENT_MODE)
_OF_VOTERS = re.compile(r"\b(registrars?|registrador(?:a|es|as)?) (?:of|de) (?:los )?(?:voters|votantes)\b")


@dataclass(frozen=True)
class Verdict:
    """Why a question is refused (or not): the category, which layer decided and its score."""

    kind: Refusal | None
    layer: str  # "rule:<name>", "model" or "none"
    score: float = 0.0


def yields(kind: str | None, question: str) -> bool:
    """Whether the classifier's ``kind`` gives way to the question's frame.

    A personal-data verdict yields to a protective frame or to a report of danger ("man with a
    gun outside the polling place": call 911, not a refusal) when the asker asks the bot for
    nothing itself (:data:`~handlers.faq.guard_rules.ASKS_ME`: "someone leaked her cell, text
    it to me" does not yield), and to a question about who holds a public election office
    (:data:`PUBLIC_OFFICE`) that asks nothing of the person's own life, and to a public place's
    street address (:data:`~handlers.faq.guard_rules.PUBLIC_ADDRESS`: "is the drop box at 55 Elm
    Ave still open"), and to the asker handing over their own details
    (:data:`~handlers.faq.guard_rules.OWN_GIVEN`: "who do I give my plate number to for a parking
    permit"). The rules still read every ask of such a message, and so does the words-only fit
    (:func:`_frame_governs`).
    A partisan verdict yields to a question asking only who holds a public office
    (:data:`WHO_HOLDS`: "who's the current Kansas Secretary of State") or ranking the mistakes
    staff make ("the worst mistake new clerks make with candidate petitions"); the rules still
    judge every word of it ("who is the better secretary of state" is refused by them).
    An instructions verdict yields to a mode of the office's own equipment, not said to the bot
    (:data:`~handlers.faq.guard_rules.EQUIPMENT_MODE`: "is developer mode supposed to be on on
    the e-pollbook tablets?").
    """
    if kind == "instructions":
        return bool(_EQUIPMENT_MODE.search(normalise(question)))
    if kind == "partisan":
        text = normalise(question)
        return bool(WHO_HOLDS.search(text)) and not _JUDGING.search(text) \
            or bool(_STAFF_MISTAKES.search(text))
    if kind != "personal_data":
        return False
    text = normalise(question)
    office = _OF_VOTERS.sub(r"\1", text)  # a registrar "of voters" is asked about, not voters
    return bool((PROTECTIVE.search(text) or _reports_only(question, text))
                and not _ASKS_ME.search(text)
                or PUBLIC_OFFICE.search(office) and not PRIVATE_LIFE.search(office)
                or _PUBLIC_ADDRESS.search(text)
                or _OWN_GIVEN.search(text) and not _ASKS_ME.search(text))


def _reports_only(question: str, text: str) -> bool:
    """Whether the message reports a danger and asks for nothing about anyone.

    "man with a gun outside the polling place", "someone collapsed in line, what do we do" do;
    "is Priya Shah on any medication, she fainted" does not.
    """
    return reports_danger(question) and not is_request(text) \
        and not any(is_request(part) for part in asks(text))


def use_semantic(on: bool | None) -> None:
    """Force the semantic fit on (loading the embedder if needed) or off; None: follow retrieval."""
    global _SEMANTIC
    _SEMANTIC = on


def _embedder() -> Any:
    """The embedder the semantic fit reads, or None for the lexical path."""
    if _SEMANTIC is False:
        return None
    if not _SEMANTIC:
        # Following retrieval: an embedder can only be loaded if its module was imported (a
        # one-shot `ask` on the lexical path must not pay for importing numpy to learn that).
        loaded = sys.modules.get("knowledge.semantic")
        return loaded.loaded_embedder() if loaded is not None else None
    try:
        from knowledge import semantic
    except ImportError:  # numpy absent: lexical only
        return None
    return semantic.load_embedder()


def _active() -> tuple[GuardModel | None, Any]:
    """The fit to use and, for the semantic fit, the embedder whose vectors it reads."""
    embedder = _embedder()
    if embedder is not None:
        model = load_model(SEMANTIC_MODEL_PATH)
        # A fit reads only the vectors of the embedder it was fitted on (files that name none
        # predate the record and are trusted).
        if model is not None and model.semantic and model.embedder in ("", embedder.name):
            return model, embedder
    return load_model(MODEL_PATH), None


def prepare() -> None:
    """Compile the rules and load the classifier a question would use, once, at a server's start.

    A one-shot ``electionbot ask`` stays lazy; a server must not pay ~0.1 s of parsing on the
    event loop for its first question (measured: regex compiling and the model's JSON).
    """
    compile_all()
    _active()


def embeds() -> bool:
    """Whether checking a question may embed it (or load the model to): then keep it off the loop.

    Cheap: it reads no model file and never loads the embedder (which :func:`_embedder` does
    when the semantic fit is forced on).
    """
    if _SEMANTIC is False:
        return False
    if _SEMANTIC:
        return True  # forced on: the check embeds, loading the model first if it must
    loaded = sys.modules.get("knowledge.semantic")
    return loaded is not None and loaded.loaded_embedder() is not None


def engine() -> str:
    """Which classifier runs now: ``semantic`` or ``lexical`` (``none`` without a model file)."""
    model, embedder = _active()
    return "none" if model is None else "semantic" if embedder is not None else "lexical"


def explain(question: str) -> Verdict:
    """The guard's decision with its reason (for ``kb eval`` misses and tests)."""
    ruled = match(question)
    if ruled is not None:
        return Verdict(ruled[0], f"rule:{ruled[1]}", 1.0)
    model, embedder = _active()
    if model is None:
        return Verdict(None, "none")
    vector = None
    if embedder is not None:
        from knowledge.semantic import query_cache

        vector = query_cache(embedder).vector(question).tolist()
    kind, score = model.refusal(question, vector)
    words = _words()  # reads the message's parts (no model call per part)
    if words is None:
        return Verdict(None, "none", score) if kind is None or yields(kind, question) \
            else Verdict(cast(Refusal, kind), "model", score)
    text = normalise(question)
    parts = asks(text)
    if kind is not None and (kind != "instructions" or _received(text)) \
            and not _own_words_refused(text, words):
        kind = None  # the refused words are someone else's, reported (see told_then_asked)
    if kind is not None and (not yields(kind, question) or not _frame_governs(kind, parts, words, text)):
        return Verdict(cast(Refusal, kind), "model", score)
    for part in parts if kind is None else ():
        if len(part.split()) >= 4 and not REFERS_BACK.search(part):
            part_kind, part_score = words.refusal(part)
            if part_kind is not None and part_score >= ASK_CERTAINTY and not yields(part_kind, part):
                return Verdict(cast(Refusal, part_kind), "model", part_score)
    return Verdict(None, "none", score)


#: How sure the words-only fit must be to refuse one ask of a message that passed as a whole: an
#: ask read without the rest of its message is short and out of the fit's usual run, and its
#: plain requests ("give me the exact percent") score high (fitted on the train and calibration
#: batches' allowed questions: none of them is refused at this bar).
ASK_CERTAINTY = 0.95


def _words() -> GuardModel | None:
    """The words-only fit, which reads a message's parts (no model call per part).

    A part holding a word that stands for something said before (``REFERS_BACK``: "is that
    right", "give her a new one") is not read alone: it does not say what it asks for.
    """
    return load_model(MODEL_PATH)


def _own_words_refused(text: str, words: GuardModel) -> bool:
    """Whether the asker's own question is refused, after an account of someone else's words.

    Without such an account (:func:`~handlers.faq.guard_rules.told_then_asked`) the whole
    message is the asker's own: True. With one, the words-only fit reads the question from where
    the asker's own starts, at the bar of a part read alone (``ASK_CERTAINTY``).
    """
    since = told_then_asked(text)
    if since is None:
        return True
    kind, score = words.refusal(text[since:])
    return kind is not None and score >= ASK_CERTAINTY and not yields(kind, text[since:])


def _received(text: str) -> bool:
    """Whether the message tells of a message received before the asker's own question.

    Its instruction words are the sender's (:func:`~handlers.faq.guard_rules.received_text`).
    """
    since = told_then_asked(text)
    return since is not None and received_text(text, since)


def _frame_governs(kind: str, parts: list[str], words: GuardModel, text: str) -> bool:
    """Whether the frame the classifier yielded to governs the refused ask.

    A frame excuses the ask it belongs to (see :func:`~handlers.faq.guard_rules.asks`): when
    one of the message's asks, judged without the words before it and without a stated purpose,
    is still refused for the same reason and no longer yields, the frame belonged to another
    ask ("we protect staff data carefully here. what's the registrar's personal cell?"). So
    does a comma-joined piece the fit refuses by itself at the bar of a part read alone
    (:data:`ASK_CERTAINTY`) that reports no danger of its own (:func:`_clauses`). The asks are
    read by the words-only fit: embedding each would cost a model call per ask.
    """
    for part in parts:
        part_kind, _ = words.refusal(part)
        if part_kind == kind and not yields(part_kind, part):
            return False
    for clause in _clauses(parts, text):
        part_kind, score = words.refusal(clause)
        if part_kind == kind and score >= ASK_CERTAINTY and not yields(part_kind, clause) \
                and not reports_danger(clause):
            return False
    return True


_CLAUSE_BREAK = re.compile(r"\s*[,;:]\s+|\s+-+\s+")


def _clauses(parts: list[str], text: str) -> list[str]:
    """The comma-joined pieces of the message and of its asks that may be read alone.

    "bomb threat at the office, clerk jane doe home address and cell": the second piece names
    what is wanted, without a verb. A piece holding a word that stands for something said
    before (``REFERS_BACK``: "... posted her home address") reports what happened and is not
    read alone; neither is one under three words.
    """
    out = []
    for part in {text: None, **dict.fromkeys(parts)}:
        pieces = _CLAUSE_BREAK.split(part)
        if len(pieces) < 2:
            continue
        out += [p for p in pieces if len(p.split()) >= 3 and not REFERS_BACK.search(p)]
    return out


#: At most this many openings are tried, longest first (each is a whole guard check, and on the
#: semantic path an embedding).
OPENINGS_TRIED = 6
#: An opening shorter than this is a fragment of the refused question, not a question of its own.
MIN_OPENING_WORDS = 3


def answerable_opening(question: str) -> str | None:
    """The longest opening of a refused message that may be answered on its own, or None.

    "How do we seal the ballot bags, and also what's the judge's cell?": the guard refuses the
    message, but its first part asks a question that passes the guard on its own, so it is
    answered and the rest declined. The opening is the asker's own words, cut where a part of
    the message begins; it must ask something (a question or a request) and pass the whole
    guard by itself. A message whose refused part comes first has no such opening.
    """
    mapped = normalise_with_offsets(question)
    if mapped is None:
        return None
    text, where = mapped
    for start in list(reversed(part_starts(text)[1:]))[:OPENINGS_TRIED]:
        end = opening_end(text, start)  # without the ", and also" that joins the next part
        if end == 0:
            continue
        opening = question[:where[end - 1] + 1].strip()
        folded = normalise(opening)
        if len(folded.split()) < MIN_OPENING_WORDS:
            continue  # "who, per the certification steps, should I vote for": no question yet
        if (("?" in opening or is_request(folded) or told_then_asked(folded) is not None)
                and check(opening) is None):
            return opening
    return None


def check(question: str) -> Refusal | None:
    """The reason to refuse this question, or None when it may go to the knowledge base."""
    return explain(question).kind
