"""The guard's classifier: word and word-class 1-2-grams, multinomial logistic regression.

Weights live in ``guard_model.json`` next to this file, written by ``benchmarks/fit_guard.py``
(trained on the guard set's train split, its refusal threshold calibrated on the calibration split
and on the knowledge base's own question phrasings). Scoring is plain Python over a sparse
feature dict: no numpy at run time, a fraction of a millisecond per question.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from handlers.faq.guard_rules import normalise

MODEL_PATH = Path(__file__).with_name("guard_model.json")
ALLOW = "allow"
#: In-word character n-gram sizes. None: on a batch written later (``guard_train_extra``) a
#: words-only model, fitted without it, generalised better than char 3-5-grams (more refusals
#: caught, at a lower calibrated threshold), because char n-grams let short, unusual allowed
#: phrasings of the base ("votesure email address") score high.
CHAR_NGRAMS: tuple[int, ...] = ()


#: Request wrappers dropped before counting n-grams: "give me / show me / can you" carry no act
#: on their own, and a model fitted without the later batch learnt them as signs of a personal-
#: data request (14 of 190 fresh allowed questions refused; 3 once these words are dropped).
STOP_WORDS = frozenset(
    "give gimme me show tell send get find list pull up please can you could would i need want "
    "dame muestrame dime necesito the a an".split())

#: Word classes: a token of a class also counts as the class's name, so n-grams learnt on
#: "is the governor corrupt" carry over to "is the assessor crooked", and "Robert Chen's ballot"
#: to any other name. Matched on folded text, English and Spanish forms.
WORD_CLASSES: dict[str, re.Pattern[str]] = {name: re.compile(rf"(?:{pattern})\Z") for name, pattern in {
    "PARTY": r"part(?:y|ies|ido|idos)|democrats?|democratic|democratas?|dems?|republicans?|"
             r"republicanos?|gop|libs?|liberals?|conservatives?|progressives?|maga|leftists?|"
             r"socialists?|libertarians?|greens?|independents?|left|right|side|sides|slate",
    "OFFICE": r"candidat[eo]s?|candidatas?|nominees?|politicians?|incumbents?|challengers?|"
              r"governors?|gobernador\w*|senators?|mayors?|alcaldes?|presidents?|presidential|"
              r"congress\w*|representatives?|lawmakers?|legislators?|legislature|commissioners?|"
              r"treasurer|assessor|sheriff|sos|attorney|executive|hopefuls?|officials?|"
              r"administration|campaigns?|concejo|council",
    "MEASURE": r"measures?|medidas?|propositions?|propuestas?|props?|initiatives?|referend\w*|"
               r"bonds?|bono|amendments?|levy|levies|recalls?|tax",
    "JUDGE": r"corrupt\w*|crook\w*|evil|liars?|lying|lied|dishonest|incompetent|stupid|dumb|"
             r"idiots?|crazy|radical|extreme|extremists?|dangerous|danger|threat|fraud\w*|"
             r"cheat\w*|hacks?|puppets?|shills?|biased|disaster|pathetic|useless|terrible|"
             r"awful|scam|clowns?|unfit|unqualified|trustworthy|honest|fault|blame|deniers?|"
             r"sabotag\w*|rig\w*|steal|stole|stolen|trampa\w*|mentiros\w*|embarrass\w*|"
             r"disgrace\w*|screw\w*|wreck\w*|ruin\w*",
    "COMPARE": r"better|worse|best|worst|stronger|weaker|smarter|more|less|most|least|mejor|"
               r"biggest|greatest|bigger|greater|"
               r"peor|favou?rite|lesser|obvious|right|wrong|safe",
    "ADVISE": r"should|shall|ought|recommend\w*|suggest\w*|pick|choose|back|endors\w*|"
              r"deserves?|worth|support\w*|oppose|reject|approve|convince|persuade|urge\w*|"
              r"deberia|debo|debemos|recomiend\w*|votarias|apoyar",
    "PREDICT": r"win|wins|winning|won|lose|loses|losing|flip\w*|odds|chances?|forecast\w*|"
               r"pass|passes|fails?|"
               r"predict\w*|expect|likely|ganar\w*|gana",
    "OPINION": r"think|opinion|view|honestly|agree|admit|reckon|feel|believe|take|opinion|"
               r"opinas|piensas",
    "CONTACT": r"address(?:es)?|phones?|cells?|cellphones?|numbers?|e-?mails?|gmail|contacts?|"
               r"instagram|facebook|dossier|direccion|telefonos?|celular|correos?|domicilio",
    "RECORD": r"birth\w*|dob|ssn|birthdays?|signatures?|history|historial|age|old",
    "RELATIVE": r"neighbou?rs?|ex|husband|wife|brother\S*|sister\S*|mother\S*|father\S*|"
                r"daughter|son|landlord|tenant|coworkers?|boss|roommate|vecin\w*|suegr\w*|"
                r"jefe|esposo|esposa",
    "STAFF": r"poll|workers?|judges?|clerks?|registrar\w*|deputy|staff\w*|employees?|"
             r"volunteers?|supervisor|director|chair|courier|watchers?|trabajador\w*|"
             r"empleados?|secretari\w*",
    "BOT": r"prompt|instructions?|rules|guardrails?|guidelines|persona|configur\w*|setup|"
           r"system|filters?|restrictions|instrucciones|reglas|policy|neutrality",
    "OVERRIDE": r"ignore|disregard|forget|override|bypass|skip|drop|disable|unfiltered|"
                r"unrestricted|jailbreak\w*|pretend|roleplay|simulate|verbatim|ignora|olvida|"
                r"finge|comply",
    "PROTECT": r"protect\w*|prevent\w*|threat\w*|harass\w*|safety|secur\w*|redact\w*|"
               r"confidential\w*|privacy|policy|public|proteg\w*|train\w*",
    "OWN": r"own|my|mine|myself|propio|propia|mi",
    "PROCESS": r"how|deadline|process|procedure|rules?|form|forms|file|filing|certif\w*|"
               r"count\w*|recount|canvass|como|cuando|plazo",
}.items()}
#: Tokens after these are not names, whatever their case ("Is", "I", "Can").
_NAME = re.compile(r"(?<![.?!]\s)(?<!^)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+")


def _tokens(text: str) -> list[str]:
    """Words and numbers of folded text, without ``STOP_WORDS``."""
    return [t for t in "".join(ch if ch.isalnum() or ch == "'" else " " for ch in text).split()
            if t not in STOP_WORDS]


@lru_cache(maxsize=8192)
def _classes(token: str) -> tuple[str, ...]:
    """The word classes of one token (cached: a vocabulary repeats)."""
    bare = token.removesuffix("'s").strip("'")
    return tuple(name for name, pattern in WORD_CLASSES.items() if pattern.match(bare))


def features(question: str) -> dict[str, float]:
    """Binary word 1-2-grams without ``STOP_WORDS``, plus word-class 1-2-grams, L2-normalised.

    Every token is also seen as its word classes (``WORD_CLASSES``); a capitalised name of two
    or more words (not at the start) becomes ``NAME``. Class bigrams pair each position's
    word-or-classes with the next one's, and a few class pairs anywhere in the question
    (``cls2:``) describe the act (an opinion asked about a party, a contact of a relative).
    In-word character n-grams of ``CHAR_NGRAMS`` are added when it names any sizes.
    """
    text = normalise(_NAME.sub(" zzname ", question))
    tokens = _tokens(text)
    feats: set[str] = {f"w:{t}" for t in tokens}
    feats |= {f"b:{a}_{b}" for a, b in zip(tokens, tokens[1:], strict=False)}
    views = [[t, *(["NAME"] if t == "zzname" else _classes(t))] for t in tokens]
    present = sorted({v for view in views for v in view[1:]})
    feats |= {f"k:{v}" for v in present}
    for left, right in zip(views, views[1:], strict=False):
        feats |= {f"kb:{a}_{b}" for a in left for b in right
                  if a.isupper() or b.isupper()}
    feats |= {f"k2:{a}_{b}" for i, a in enumerate(present) for b in present[i + 1:]}
    for token in tokens:
        padded = f"<{token}>"
        for n in CHAR_NGRAMS:
            feats |= {f"c:{padded[i:i + n]}" for i in range(max(len(padded) - n + 1, 0))}
    if not feats:
        return {}
    value = 1.0 / math.sqrt(len(feats))
    return dict.fromkeys(feats, value)


@dataclass(frozen=True)
class GuardModel:
    """Classes (``allow`` first), per-feature weight rows, biases and the refusal threshold."""

    classes: tuple[str, ...]
    weights: dict[str, tuple[float, ...]]
    bias: tuple[float, ...]
    threshold: float

    def probabilities(self, question: str) -> dict[str, float]:
        """Softmax probability of each class."""
        scores = list(self.bias)
        for feat, value in features(question).items():
            row = self.weights.get(feat)
            if row is not None:
                for i, w in enumerate(row):
                    scores[i] += w * value
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return {c: e / total for c, e in zip(self.classes, exps, strict=True)}

    def refusal(self, question: str) -> tuple[str | None, float]:
        """(the refused category or None, probability the question must be refused)."""
        probs = self.probabilities(question)
        refuse = 1.0 - probs[ALLOW]
        if refuse < self.threshold:
            return None, refuse
        kind = max((c for c in self.classes if c != ALLOW), key=lambda c: probs[c])
        return kind, refuse

    def to_json(self) -> dict[str, object]:
        """JSON-ready data (weights rounded; the fit script prunes near-zero rows)."""
        return {"format": 1, "features": "word and word-class 1-2-grams, class pairs, minus "
                "request wrappers, binary, L2",
                "classes": list(self.classes), "threshold": self.threshold,
                "bias": [round(b, 5) for b in self.bias],
                "weights": {f: [round(w, 4) for w in row]
                            for f, row in sorted(self.weights.items())}}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> GuardModel:
        """Read what :meth:`to_json` wrote."""
        classes = tuple(str(c) for c in data["classes"])  # type: ignore[attr-defined]
        if not classes or classes[0] != ALLOW:
            raise ValueError("guard model: classes must start with 'allow'")
        weights = {str(f): tuple(float(w) for w in row)
                   for f, row in data["weights"].items()}  # type: ignore[attr-defined]
        return cls(classes, weights, tuple(float(b) for b in data["bias"]),  # type: ignore[attr-defined]
                   float(data["threshold"]))  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def load_model(path: Path = MODEL_PATH) -> GuardModel | None:
    """The shipped model, loaded once per process; None when no model file is present."""
    if not path.exists():
        return None
    return GuardModel.from_json(json.loads(path.read_text(encoding="utf-8")))
