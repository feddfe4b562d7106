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
from handlers.faq.guard_rules import Refusal, match, normalise

__all__ = ["Refusal", "Verdict", "check", "engine", "explain", "use_semantic"]

#: None: follow the knowledge base (semantic when an embedder is loaded in this process);
#: True / False: forced by :func:`use_semantic`.
_SEMANTIC: bool | None = None

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
    if kind is None or yields(kind, question):
        return Verdict(None, "none", score)
    return Verdict(cast(Refusal, kind), "model", score)


def check(question: str) -> Refusal | None:
    """The reason to refuse this question, or None when it may go to the knowledge base."""
    return explain(question).kind
