"""The guard's classifier: words, word classes, the rules' verdicts; multinomial logistic regression.

Weights live in ``guard_model.json`` next to this file, written by ``benchmarks/fit_guard.py``
(fitted on every train and calibration batch of the guard set, its features and regularisation
chosen by leave-one-batch-out cross-validation, its refusal threshold set on the out-of-fold
scores and on the knowledge base's own phrasings). Scoring is plain Python over a sparse feature
dict: no numpy at run time, a fraction of a millisecond per question.

Two fits ship: ``guard_model.json`` reads the words alone (the lexical-only path, the default);
``guard_model_semantic.json`` reads the same features plus the question's sentence embedding
(:mod:`knowledge.semantic`, the vector retrieval computes anyway, from the shared cache), and is
used only while the semantic channel runs (see :func:`handlers.faq.guard.use_semantic`).

Besides n-grams the classifier sees which rules (:mod:`handlers.faq.guard_rules`) match and which
of their exemptions apply (``r:`` / ``ru:`` features) and the question's frames (relayed, handling,
protective): the rules' hand-written knowledge of an act becomes evidence the fit weighs, so a
rule's near miss ("personal phone numbers for the board of canvassers") still counts.
"""

from __future__ import annotations

import json
import math
import re
from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from pathlib import Path

from handlers.faq.guard_rules import normalise, scan

MODEL_PATH = Path(__file__).with_name("guard_model.json")
SEMANTIC_MODEL_PATH = Path(__file__).with_name("guard_model_semantic.json")
ALLOW = "allow"
#: In-word character n-gram sizes. None: on a batch written later (``guard_train_extra``) a
#: words-only model, fitted without it, generalised better than char 3-5-grams (more refusals
#: caught, at a lower calibrated threshold), because char n-grams let short, unusual allowed
#: phrasings of the base ("votesure email address") score high.
CHAR_NGRAMS: tuple[int, ...] = ()
#: Word classes at most this many tokens apart also count as a pair (``kw:``): an evaluative or
#: ranking word next to a party, office or measure ("rank the three school board hopefuls"),
#: which the whole-question class pairs (``k2:``) dilute in a long question.
WINDOW = 3
#: The feature set :func:`features` computes by default. A model file names the set it was
#: fitted on (``feature_version``; files without it were fitted on set 1: no Spanish stop words,
#: stems, window pairs or the ``NEW_CLASSES``; set 2 lacks ``MORE_WORDS`` and the policy and
#: training frames), and is scored with that set.
FEATURE_VERSION = 3
#: Word classes added with feature set 2.
NEW_CLASSES = frozenset({"RANK", "CONTENT", "WRITE", "CANDID"})


#: Words dropped before counting n-grams. Request wrappers ("give me", "can you") were dropped
#: too while the training data had few imperative hard negatives; with the fourth batch's,
#: cross-validation favours keeping them (they tell a request from a question about requests).
STOP_WORDS = frozenset("the a an".split())
#: Spanish articles and the commonest function words, dropped the same way (they were learnt as
#: evidence of whatever the few Spanish examples of a class happened to share).
SPANISH_STOP_WORDS = frozenset("el la los las un una unos unas de del al y o lo se en es".split())
#: Rules and frames as features (see the module docstring).
PROTECTIVE = re.compile(
    r"\b(protect\w*|prevent\w*|safeguard\w*|shield\w*|redact\w*|confidential\w*|privacy|"
    r"harass\w*|threat\w*|doxx?ed|leak\w*|(was|were|got|been|being|is|are) (posted|published|"
    r"shared|exposed|leaked)|proteg\w*|amenaza\w*|publicaron|filtrad\w*|my name is|me llamo|"
    r"(call|reach|contact|email|text) me|my (own )?(phone|number|cell|e-?mail))\b")

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
             r"disgrace\w*|screw\w*|wreck\w*|ruin\w*|good|bad|lousy|poor|great|qualified|"
             r"competent|fit|mistake|failure|letdown|losers?|partisans?|weaponiz\w*|manipul\w*|"
             r"cover\w*|coasting|sloppy|sloppier|careless|gullible|damage|inutil|malo|mala|"
             r"buen[oa]|honest\w*|horrible|joke|trust\w*|confiable|disaster\w*|rubber",
    "COMPARE": r"better|worse|best|worst|stronger|weaker|smarter|more|less|most|least|mejor|"
               r"biggest|greatest|bigger|greater|"
               r"peor|favou?rite|lesser|obvious|right|wrong|safe",
    "ADVISE": r"should|shall|ought|recommend\w*|suggest\w*|pick|choose|back|endors\w*|"
              r"deserves?|worth|support\w*|oppose|reject|approve|convince|persuade|urge\w*|"
              r"deberia|debo|debemos|recomiend\w*|votarias|apoyar|avoid|steer|keep\w*|"
              r"retain\w*|retention|replace\w*|resign\w*|oust\w*|defeat\w*|evitar|"
              r"renunci\w*|reelec\w*|re-elect\w*|convenc\w*|tick",
    "PREDICT": r"win|wins|winning|won|lose|loses|losing|flip\w*|odds|chances?|forecast\w*|"
               r"pass|passes|fails?|"
               r"predict\w*|expect|likely|ganar\w*|gana|ahead|upset|margin|squeak\w*|survive\w*|"
               r"hold|sweep|landslide|carry|perder\w*|pierde|will|going",
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
           r"system|filters?|restrictions?|instrucciones|reglas|policy|neutral\w*|safety|mode|"
           r"block\w*|refus\w*|hidden|ocult\w*|config|conversation|users?|messaged|chat|logs?|"
           r"restricciones|filtros",
    "OVERRIDE": r"ignore|disregard|forget|override|bypass|skip|drop|disable|unfiltered|"
                r"unrestricted|jailbreak\w*|pretend|roleplay|simulate|verbatim|ignora|olvida|"
                r"finge|comply|lifted|cancel\w*|exceptions|unlock\w*|developer|admin|evil|"
                r"hypothetical\w*|imagine|role|act|channel|become|desactiva\w*|actua|anymore",
    "PROTECT": r"protect\w*|prevent\w*|threat\w*|harass\w*|safety|secur\w*|redact\w*|"
               r"confidential\w*|privacy|policy|public|proteg\w*|train\w*",
    "OWN": r"own|my|mine|myself|propio|propia|mi",
    "VOTEACT": r"ballots?|cast|voted|registered|registration|affiliat\w*|boletas?|registrad[oa]s?|"
               r"voto|votaron|votaste|enrolled",
    "SENSITIVE": r"religio\w*|health|medical|medications?|disabilit\w*|disabled|pregnan\w*|"
                 r"orientation|gay|immigra\w*|inmigra\w*|undocumented|citizenship|naturaliz\w*|"
                 r"criminal|arrest\w*|married|divorc\w*|salary|earn\w*|kids|children|hijos|"
                 r"salud|condition|diagnos\w*|ethnic\w*|race|surnames?|apellidos?|whistleblower",
    "HOME": r"live|lives|living|reside\w*|home|house|apartment|vive|viven|casa|domicilio|"
            r"particular\w*|private|personal|privad[oa]s?|car|plate|park|drive|drives",
    "RANK": r"rank\w*|rate|rating|grade|score|pros|cons|versus|vs|compar\w*|ordena|califica\w*|"
            r"lesser|pick|favou?red|standout|top",
    "CONTENT": r"flyers?|posts?|tweets?|speech\w*|slogans?|scripts?|op-?ed|letters?|memes?|"
               r"hashtags?|zingers?|talking|points|arguments?|argumentos?|case|bullet\w*|"
               r"jokes?|guide|discurso|volante|frases|mensajes?|publicar|attack\w*|atacar|"
               r"messages?|text|fundraising",
    "WRITE": r"write|draft|craft|compose|make|create|help|redacta|escribe\w*|hazme|ayudame|"
             r"give|dame|lay|summarize|explain",
    "CANDID": r"honest\w*|frankly|real|truth|secretly|hypothetical\w*|between|friend|amigo|"
              r"primo|cousin|aunt|mom|dad|grandma|just|sincer\w*|bet|guess|reckon",
    "PROCESS": r"how|deadline|process|procedure|rules?|form|forms|file|filing|certif\w*|"
               r"count\w*|recount|canvass|como|cuando|plazo",
}.items()}
#: Feature set 3: more words for some classes (Spanish judgments and offices, verdict and
#: prediction verbs, made-up personas), matched as well as the class's own pattern.
MORE_WORDS: dict[str, re.Pattern[str]] = {name: re.compile(rf"(?:{pattern})\Z") for name, pattern in {
    "JUDGE": r"incompetente\w*|inept\w*|peligro\w*|fiar|corrupt[oa]s?|ladron\w*|traidor\w*|"
             r"betray\w*|naive|sore|spoilers?|stunt|lesser|soft|dirty|shady|"
             r"radicales|extremist\w*|verguenza|fracas\w*|desastre|tonto\w*|estupid\w*|"
             r"confiables?|honrad[oa]s?|deniers?|scam\w*",
    "OFFICE": r"comisionad[oa]s?|registrador[ae]?s?|tesorer[oa]s?|alcaldesa|concejal\w*|"
              r"gobernacion|auditor\w*|delegates?|slates?",
    "PREDICT": r"crush\w*|sail\w*|tank\w*|momentum|ganador\w*|perdera|ganaria|seats?",
    "ADVISE": r"sacar\w*|votaria\w*|conviene|merece\w*|vale|throw\w*|thrown|wasted?|lean\w*",
    "BOT": r"\w+bot|ahora|modo|sandbox|chatbot|filter|guard",
    "OVERRIDE": r"invent\w*|fabricat\w*|plausible|authori[sz]\w*|switch\w*|novel|story|game|"
                r"decode|juego",
    "HOME": r"street|block|cuadra|calle|building|estaciona\w*|carro",
    "CONTACT": r"non|nonwork|signature|firma|profiles?",
}.items()}
#: Feature set 3: the question asks what is allowed or required (a rule of conduct, not a
#: verdict) or is training material for staff (scripts, role play, quizzes for hotline staff).
POLICY = re.compile(
    r"\b(allowed|permitted|legal|illegal|prohibited|required|requirements?|deadline|rules? (for|on|"
    r"about)|policy|polic(y|ies) on|is it ok|can (a|an|the|our|staff|poll|candidates?|campaigns?|"
    r"observers?|parties|voters?)\b|may (a|an|the)|how (many|far|long|close)|process|"
    r"procedure|puede[n]?|permitid[oa]|plazo|fecha limite)\b")
TRAINING = re.compile(
    r"\b(train\w*|role[- ]?play\w*|practice|quiz\w*|scenario|drill|script for (poll|staff|"
    r"hotline)|hotline staff|new staff|capacit\w*|simulacro|ejercicio de practica|"
    r"how (should|do|can) (staff|poll workers?|we|hotline) (respond|reply|answer|handle|say)|"
    r"what do (we|staff|poll workers) (say|tell|do)|approved (reply|response|answer)|"
    r"de-?escalat\w*|como (debe )?respond\w*)\b")
#: Spanish words (folded) glossed in English: a Spanish question also counts the English words'
#: 1-2-grams, so what the fit learnt from the (mostly English) examples carries over to Spanish
#: ("¿dónde vive el secretario?" shares "where", "lives" with "where does the secretary live").
#: Articles gloss to nothing, as "the" and "a" are dropped from English questions.
GLOSS: dict[str, str] = dict(pair.split("=") for pair in (
    "quien=who quienes=who cual=which cuales=which que=what donde=where cuando=when como=how "
    "por=for debo=should deberia=should debemos=should deberiamos=should votar=vote "
    "votaste=voted voto=voted votaron=voted votas=vote votarias=vote apoyar=support apoyas=support "
    "apoyo=support recomiendas=recommend recomiendame=recommend recomendacion=recommendation "
    "opinas=think crees=think piensas=think opinion=opinion ganar=win gana=wins ganara=win "
    "perder=lose pasar=pass mejor=better mejores=best peor=worse peores=worst mas=more "
    "menos=less corrupto=corrupt corrupta=corrupt corruptos=corrupt mentiroso=liar "
    "mentirosa=liar mentirosos=liars miente=lies mienten=lie trampa=cheat robaron=stole "
    "robada=stolen fraude=fraud peligroso=dangerous peligrosos=dangerous honesto=honest "
    "honrado=honest culpa=blame merece=deserves partido=party partidos=parties "
    "candidato=candidate candidata=candidate candidatos=candidates alcalde=mayor "
    "alcaldesa=mayor gobernador=governor gobernadora=governor secretario=secretary "
    "secretaria=secretary registrador=registrar registradora=registrar comisionado=commissioner "
    "medida=measure propuesta=proposition bono=bond impuesto=tax boleta=ballot eleccion=election "
    "elecciones=elections vive=lives viven=live trabaja=works direccion=address "
    "direcciones=addresses domicilio=address telefono=phone telefonos=phones celular=cell "
    "celulares=cells correo=email correos=emails personal=personal personales=personal "
    "nombre=name nombres=names fecha=date nacimiento=birth lista=list votante=voter "
    "votantes=voters vecino=neighbor vecina=neighbor vecinos=neighbors esposo=husband "
    "esposa=wife hijos=kids jefe=boss jefa=boss trabajador=worker trabajadores=workers "
    "empleados=employees voluntarios=volunteers registrado=registered registrada=registered "
    "historial=history dame=give dime=tell muestrame=show busca=find encuentra=find "
    "averigua=find necesito=need quiero=want amenaza=threat amenazo=threatened publico=posted "
    "ignora=ignore olvida=forget instrucciones=instructions reglas=rules finge=pretend "
    "actua=act eres=you sin=without filtros=filters restricciones=restrictions sistema=system "
    "responde=answer inventa=invent neutral=neutral hacemos=do protegemos=protect "
    "proteger=protect respondemos=respond decimos=say puede=can pueden=can puedo=can "
    "plazo=deadline firmas=signatures recuento=recount observadores=observers "
    "escrutinio=canvass reportar=report reportamos=report publica=public publicaron=posted "
    "pasos=steps oficina=office numero=number casilla=polling de=of del=of al=to "
    "el= la= los= las= un= una=").split())
#: Tokens after these are not names, whatever their case ("Is", "I", "Can").
_NAME = re.compile(r"(?<![.?!]\s)(?<!^)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+")
#: Capitalised words that make a run an institution or a title, not a person's name
#: ("Election Security Task Force", "Secretary Of State Office").
_INSTITUTION = frozenset(
    "election elections security task force office offices county state secretary department "
    "division board commission center centre program programme act day voter voters voting "
    "innovation new tools services court federal assistance national association registration "
    "general team committee council university of the for and information public affairs "
    "city town clerk clerks registrar registrars vote center centers data system systems "
    "network institute alliance project coalition foundation act initiative".split())


def _name(found: re.Match[str]) -> str:
    """A run of capitalised words: ``zzname`` when it reads as a person's name."""
    words = found.group(0).split()
    return found.group(0) if any(w.lower() in _INSTITUTION for w in words) else " zzname "


#: One character that is neither alphanumeric (``str.isalnum``) nor an apostrophe: ``\w`` is
#: exactly ``isalnum`` plus the underscore.
_NOT_WORD = re.compile(r"[^\w']|_")


def _tokens(text: str, version: int = FEATURE_VERSION) -> list[str]:
    """Words and numbers of folded text, without ``STOP_WORDS`` (and Spanish ones, set 2)."""
    stop = STOP_WORDS | SPANISH_STOP_WORDS if version >= 2 else STOP_WORDS
    return [t for t in _NOT_WORD.sub(" ", text).split() if t not in stop]


def _stem(token: str) -> str:
    """A crude English stem: plural, -ing and -ed endings off (longer words only)."""
    token = token.removesuffix("'s").strip("'")
    if len(token) <= 4:
        return token
    for suffix, repl in (("ies", "y"), ("sses", "ss"), ("shes", "sh"), ("ches", "ch"),
                         ("xes", "x"), ("ing", ""), ("ed", ""), ("s", "")):
        if token.endswith(suffix) and not token.endswith("ss"):
            return token[:-len(suffix)] + repl
    return token


@lru_cache(maxsize=8192)
def _classes(token: str, version: int = FEATURE_VERSION) -> tuple[str, ...]:
    """The word classes of one token (cached: a vocabulary repeats)."""
    bare = token.removesuffix("'s").strip("'")
    return tuple(name for name, pattern in WORD_CLASSES.items()
                 if (version >= 2 or name not in NEW_CLASSES) and (
                     pattern.match(bare) or (version >= 3 and name in MORE_WORDS
                                             and MORE_WORDS[name].match(bare) is not None)))


def features(question: str, version: int = FEATURE_VERSION) -> dict[str, float]:
    """Binary word 1-2-grams without ``STOP_WORDS``, word-class 1-2-grams, rules, L2-normalised.

    Every token is also seen as its word classes (``WORD_CLASSES``); a capitalised name of two
    or more words (not at the start) becomes ``NAME``. Class bigrams pair each position's
    word-or-classes with the next one's, and class pairs anywhere in the question (``k2:``)
    describe the act (an opinion asked about a party, a contact of a relative). The first word
    and first two words (``s1:``, ``s2:``) tell a request from a question about one; ``r:`` /
    ``ru:`` name the rules that match / whose exemption applies, ``f:`` the frames.
    ``st:`` / ``sb:`` are 1-2-grams of crude stems (plurals and -ing / -ed off, so "hopefuls" and
    "ranking" meet "hopeful" and "rank"), ``kw:`` class pairs within ``WINDOW`` tokens.
    In-word character n-grams of ``CHAR_NGRAMS`` are added when it names any sizes.
    ``version`` 1: the feature set before the stems, window pairs, Spanish stop words and
    ``NEW_CLASSES`` (for a model file fitted on it).
    """
    folded = normalise(question)
    text = normalise(_NAME.sub(_name, question))
    tokens = _tokens(text, version)
    feats: set[str] = {f"w:{t}" for t in tokens}
    feats |= {f"b:{a}_{b}" for a, b in zip(tokens, tokens[1:], strict=False)}
    glossed = [g for g in (GLOSS.get(t, t) for t in tokens) if g]
    if glossed != tokens:
        feats |= {f"w:{t}" for t in glossed}
        feats |= {f"b:{a}_{b}" for a, b in zip(glossed, glossed[1:], strict=False)}
    views = [[t, *(["NAME"] if t == "zzname" else _classes(t, version))] for t in tokens]
    present = sorted({v for view in views for v in view[1:]})
    feats |= {f"k:{v}" for v in present}
    for left, right in zip(views, views[1:], strict=False):
        feats |= {f"kb:{a}_{b}" for a in left for b in right
                  if a.isupper() or b.isupper()}
    feats |= {f"k2:{a}_{b}" for i, a in enumerate(present) for b in present[i + 1:]}
    if version >= 2:
        stems = [_stem(t) for t in glossed]
        feats |= {f"st:{s}" for s in stems}
        feats |= {f"sb:{a}_{b}" for a, b in zip(stems, stems[1:], strict=False)}
        for i, left in enumerate(views):
            for right in views[i + 1:i + 1 + WINDOW]:
                feats |= {f"kw:{min(a, b)}_{max(a, b)}" for a in left[1:] for b in right[1:]
                          if a != b}
    words = _NOT_WORD.sub(" ", folded).split()[:2]
    if words:
        feats.add(f"s1:{words[0]}")
        feats.add(f"s2:{'_'.join(words)}")
    scanned = scan(folded)
    feats |= {f"r:{name}" for name in scanned.matched}
    feats |= {f"ru:{name}" for name in scanned.excused}
    feats |= {name for name, on in (("f:relayed", scanned.relayed),
                                    ("f:handling", scanned.handling),
                                    ("f:protective", bool(PROTECTIVE.search(folded)))) if on}
    if version >= 3:
        feats |= {name for name, on in (("f:policy", bool(POLICY.search(folded))),
                                        ("f:training", bool(TRAINING.search(folded)))) if on}
    for token in tokens:
        padded = f"<{token}>"
        for n in CHAR_NGRAMS:
            feats |= {f"c:{padded[i:i + n]}" for i in range(max(len(padded) - n + 1, 0))}
    if not feats:
        return {}
    value = 1.0 / math.sqrt(len(feats))
    return dict.fromkeys(feats, value)


class PackedRows(Mapping[str, Sequence[float]]):
    """Weight rows of equal width in one array of floats, found by feature.

    ~20,000 rows as lists would be as many objects for the cyclic garbage collector to walk
    (a model loaded after start-up is young: the first collection after a pause walked them
    all on the event loop); a dict of ``str -> int`` and an array are not tracked at all.
    """

    __slots__ = ("flat", "index", "width")

    def __init__(self, rows: Mapping[str, Sequence[float]], width: int) -> None:
        self.width = width
        self.index = dict(zip(rows, range(0, len(rows) * width, width), strict=False))
        self.flat = array("d", chain.from_iterable(rows.values()))

    @classmethod
    def from_flat(cls, features: Sequence[str], flat: Sequence[float], width: int) -> PackedRows:
        """Rows given as the model file stores them: the features, then all rows end to end."""
        if len(flat) != len(features) * width:
            raise ValueError("guard model: every weight row needs one number per class")
        self = cls.__new__(cls)
        self.width = width
        self.index = dict(zip(features, range(0, len(flat), width), strict=True))
        self.flat = array("d", flat)
        return self

    def __getitem__(self, feature: str) -> Sequence[float]:
        start = self.index[feature]
        return self.flat[start:start + self.width]

    def __iter__(self) -> Iterator[str]:
        return iter(self.index)

    def __len__(self) -> int:
        return len(self.index)


@dataclass(frozen=True)
class GuardModel:
    """Classes (``allow`` first), per-feature weight rows, biases and the refusal threshold.

    ``dense`` (semantic fit only): one weight row per embedding dimension, applied to the
    question's vector times ``dense_scale``; empty for the lexical fit. ``embedder``: the name
    of the embedder whose vectors it was fitted on (:attr:`knowledge.semantic.Embedder.name`;
    empty for the lexical fit and for files written before the name was recorded).
    """

    classes: tuple[str, ...]
    weights: Mapping[str, Sequence[float]]
    bias: tuple[float, ...]
    threshold: float
    dense: tuple[tuple[float, ...], ...] = ()
    dense_scale: float = 1.0
    feature_version: int = FEATURE_VERSION
    embedder: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.weights, PackedRows):
            object.__setattr__(self, "weights", PackedRows(self.weights, len(self.classes)))

    @property
    def semantic(self) -> bool:
        """Whether this fit reads the question's embedding."""
        return bool(self.dense)

    def probabilities(self, question: str, vector: Sequence[float] | None = None
                      ) -> dict[str, float]:
        """Softmax probability of each class (``vector``: the embedding, for a semantic fit)."""
        scores = list(self.bias)
        packed: PackedRows = self.weights  # type: ignore[assignment]  # see __post_init__
        index, flat, width = packed.index, packed.flat, packed.width
        for feat, value in features(question, self.feature_version).items():
            start = index.get(feat)
            if start is not None:
                for i in range(width):
                    scores[i] += flat[start + i] * value
        if self.dense and vector is not None:
            for x, row in zip(vector, self.dense, strict=True):
                for i, w in enumerate(row):
                    scores[i] += w * float(x) * self.dense_scale
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return {c: e / total for c, e in zip(self.classes, exps, strict=True)}

    def refusal(self, question: str, vector: Sequence[float] | None = None
                ) -> tuple[str | None, float]:
        """(the refused category or None, probability the question must be refused)."""
        probs = self.probabilities(question, vector)
        refuse = 1.0 - probs[ALLOW]
        if refuse < self.threshold:
            return None, refuse
        kind = max((c for c in self.classes if c != ALLOW), key=lambda c: probs[c])
        return kind, refuse

    def to_json(self) -> dict[str, object]:
        """JSON-ready data (weights rounded; the fit script prunes near-zero rows)."""
        data: dict[str, object] = {
            "format": 2, "features": "word, stem and word-class 1-2-grams, class pairs, rules, "
            "frames, binary, L2" + (" + question embedding" if self.dense else ""),
            "feature_version": self.feature_version,
            "classes": list(self.classes), "threshold": self.threshold,
            "bias": [round(b, 5) for b in self.bias],
            # Format 2: the features in one list and their rows end to end in another (parsed
            # in about half the time of ~20,000 small lists under their names, format 1).
            "weights": {"features": sorted(self.weights),
                        "rows": [round(w, 4) for _f, row in sorted(self.weights.items())
                                 for w in row]}}
        if self.dense:
            data["dense_scale"] = self.dense_scale
            data["dense"] = [[round(w, 5) for w in row] for row in self.dense]
        if self.embedder:
            data["embedder"] = self.embedder
        return data

    @classmethod
    def from_json(cls, data: dict[str, object]) -> GuardModel:
        """Read what :meth:`to_json` wrote."""
        classes = tuple(str(c) for c in data["classes"])  # type: ignore[attr-defined]
        if not classes or classes[0] != ALLOW:
            raise ValueError("guard model: classes must start with 'allow'")
        # The rows go into one array at C speed (PackedRows): converting ~20,000 rows one
        # number at a time in Python cost more than parsing the file.
        weights = data["weights"]
        if not isinstance(weights, dict):
            raise ValueError("guard model: weights must be an object")
        if data.get("format", 1) != 1:  # features and rows end to end (see to_json)
            weights = PackedRows.from_flat(weights["features"], weights["rows"], len(classes))
        elif len({len(r) for r in weights.values()} - {len(classes)}):
            raise ValueError("guard model: every weight row needs one number per class")
        dense = tuple(tuple(float(w) for w in row)
                      for row in data.get("dense", ()))  # type: ignore[attr-defined]
        return cls(classes, weights, tuple(float(b) for b in data["bias"]),  # type: ignore[attr-defined]
                   float(data["threshold"]),  # type: ignore[arg-type]
                   dense, float(data.get("dense_scale", 1.0)),  # type: ignore[arg-type]
                   int(data.get("feature_version", 1)),  # type: ignore[call-overload]
                   str(data.get("embedder", "")))


@lru_cache(maxsize=2)
def load_model(path: Path = MODEL_PATH) -> GuardModel | None:
    """The shipped model, loaded once per process; None when no model file is present."""
    if not path.exists():
        return None
    return GuardModel.from_json(json.loads(path.read_text(encoding="utf-8")))
