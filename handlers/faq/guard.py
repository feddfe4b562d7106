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
   verdict yields to a protective frame (data that was exposed, protecting or redacting it) or to
   the asker's own details: the rules' own exemption, narrowed to words no request for someone
   else's data needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

from handlers.faq.guard_model import load_model
from handlers.faq.guard_rules import Refusal, match, normalise

__all__ = ["Refusal", "Verdict", "check", "explain"]

#: Someone's data already exposed, or kept safe ("our staff's home address was posted online"),
#: or the asker's own details offered ("my name is ..., call me at ...").
PROTECTIVE = re.compile(
    r"\b(protect\w*|prevent\w*|safeguard\w*|shield\w*|redact\w*|confidential\w*|privacy|"
    r"harass\w*|threat\w*|doxx?ed|leak\w*|(was|were|got|been|being|is|are) (posted|published|"
    r"shared|exposed|leaked)|proteg\w*|amenaza\w*|publicaron|filtrad\w*|my name is|me llamo|"
    r"(call|reach|contact|email|text) me|my (own )?(phone|number|cell|e-?mail))\b")


@dataclass(frozen=True)
class Verdict:
    """Why a question is refused (or not): the category, which layer decided and its score."""

    kind: Refusal | None
    layer: str  # "rule:<name>", "model" or "none"
    score: float = 0.0


def yields(kind: str | None, question: str) -> bool:
    """Whether the classifier's ``kind`` gives way to a protective frame in the question."""
    return kind == "personal_data" and bool(PROTECTIVE.search(normalise(question)))


def explain(question: str) -> Verdict:
    """The guard's decision with its reason (for ``kb eval`` misses and tests)."""
    ruled = match(question)
    if ruled is not None:
        return Verdict(ruled[0], f"rule:{ruled[1]}", 1.0)
    model = load_model()
    if model is None:
        return Verdict(None, "none")
    kind, score = model.refusal(question)
    if kind is None or yields(kind, question):
        return Verdict(None, "none", score)
    return Verdict(cast(Refusal, kind), "model", score)


def check(question: str) -> Refusal | None:
    """The reason to refuse this question, or None when it may go to the knowledge base."""
    return explain(question).kind
