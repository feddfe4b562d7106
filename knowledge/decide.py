"""Fusion of the lexical and semantic channels, and the fitted answer / abstain decision.

1. Candidates: the lexical ranking (BM25F, ``knowledge.search``) and, when the semantic channel
   runs, the articles most similar to the question (``knowledge.semantic``), merged by reciprocal
   rank fusion (RRF); the best ``DEPTH`` go on.
2. Every candidate gets a feature vector (:func:`features`): lexical confidence, coverage and
   relative score, semantic similarity and its lead, agreement of the two channels, the fused
   rank, sibling-article families (articles whose titles differ only by a number, step or year),
   numerals vs words ("3" vs "three" / "third"), and answer containment (does the article hold the
   kind of fact asked for, and the names and numbers the question mentions). Names and places
   are told from common words by the base's own casing (a word the base writes in lower case
   somewhere is not a name). Missing the asked kind of fact is a rule, not a weight: such a
   candidate never answers (:func:`contains_asked`).
3. A logistic model (weights in ``knowledge/decision.json``, fitted by
   ``benchmarks/fit_decision.py`` on labelled questions, threshold chosen on a calibration split)
   gives each candidate the probability that it answers the question. Candidates are re-ranked by
   it, and the reported confidence is shifted so that 0.5 is the fitted threshold: the
   ``answer_confidence: 0.5`` of ``app.yaml`` then means "answer when the model says so".
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from knowledge.article import Article
from knowledge.language import detect_language
from knowledge.search import Analysis, Hit, SearchIndex
from knowledge.text import fold, words

MODEL_FILE = Path(__file__).with_name("decision.json")
RRF_K = 10
DEPTH = 5
SEMANTIC_DEPTH = 10

# ---- what a question asks for, and what an article can supply --------------------------------

#: kind -> (the question asks for it, the article text contains one)
FACT_KINDS: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "percentage": (re.compile(r"\bwhat (percent|percentage|share|portion|fraction)\b|\bpercent of\b|"
                              r"\bhow (big|large) a (share|percentage)\b|\bqu[eé] porcentaje\b|"
                              # "what % of ...", not the figure a question names ("the 1% audit")
                              r"(?<![\d\s])\s*%"),
                   re.compile(r"\d\s*%|\bpercent\b|\bpor ciento\b")),
    "amount": (re.compile(r"\bhow much (money|funding|grant|budget|federal|state)\b|"
                          r"\b(what|how (big|large|much))\b[^.?!]{0,25}\bbudget\b(?! (for|to|is) "
                          r"(tiny|small|tight|limited))|\bbudget (figure|number|amount|total)\b|"
                          r"(^|[.?!;]\s*)budget\b|\bad spend\b|"
                          # a dollar figure asked for, not money mentioned ("could outside
                          # dollars get us in trouble")
                          r"\bdollar (amount|figure|value|total)s?\b|\bhow many (actual )?dollars\b|"
                          r"\b\d[\d,.]* dollars\b|\bgrant amount\b|"
                          # "how much of the ballots get audited": a share, not money
                          r"\bhow much (?!of\b).*\b(get|receive|award(ed)?|"
                          r"spend|spent|paid)\b|\bcu[aá]nto dinero\b|\b(cu[aá]l|cu[aá]nto|qu[eé]) (es |fue )?"
                          r"(el |de )?presupuesto\b|\bprize money\b|"
                          r"\bhow much (?!of\b).*\b(pay|paid|charge|charges|charged|cost|costs)\b|"
                          r"\bcharges? per\b|\bcu[aá]nto (se )?(les |nos |me )?(paga|pagan|cobra|cuesta)"),
               re.compile(r"\$\s?\d|\b\d[\d,.]*\s*(million|thousand|dollars|d[oó]lares)\b")),
    "cost": (re.compile(r"\bcost\b|\bcuesta\b|\bfees?\b|\bcharge\b|\bhow much (does|do|is|are)\b|"
                        r"\bpay for\b|\bgratis\b"),
             re.compile(r"\$\s?\d|\b\d[\d,.]*\s*(million|thousand|dollars)\b|\bfree\b|"
                        r"\bno cost\b|\bfunding\b|\bgratis\b|\bcharges?\b|\bcosts?\b")),
    "count": (re.compile(r"\bhow many\b|\b(what('s| is| was)|total|exact|give me|tell me|know) "
                         r"(the )?((max|maximum|min|minimum|total|exact) )?"
                         r"number of\b|(?<!\bunos )(?<!\bunas )\bcu[aá]nt[oa]s\b|\bwhat (score|sample size|"
                         r"size)\b|\bqu[eé] (puntuaci[oó]n|tama[nñ]o)\b|\bout of 100\b"),
              re.compile(r"\b\d+\b|\b(one|two|three|four|five|six|seven|eight|nine|ten|dozen|"
                         r"hundred|thousand)\b")),
    "date": (re.compile(r"\bwhat (date|day|year|month)\b|\bdeadline\b|\bby what (date|day)\b|"
                        r"\bwhat time of year\b|\bfecha\b|\bplazo\b|\ben qu[eé] (a[nñ]o|mes)\b|"
                        r"\bwhen (was|were|is|will) .*\b(created|launched|founded|formed|started|"
                        r"set up|established)\b|\bwhen (is|will be) the 20\d\d\b|"
                        r"\bexact (date|session|meeting)\b|\bqu[eé] d[ií]a\b"),
             re.compile(r"\b(19|20)\d{2}\b|\b(january|february|march|april|may|june|july|august|"
                        r"september|october|november|december|enero|febrero|marzo|abril|mayo|"
                        r"junio|julio|agosto|septiembre|octubre|noviembre|diciembre|spring|summer|"
                        r"fall|autumn|winter|primavera|verano|oto[nñ]o|invierno)\b|\bdeadline\b|"
                        r"\b(annual|annually|every year|each year|monthly|weekly|cada a[nñ]o)\b|"
                        # a deadline counted from an event: "45 days before the election"
                        r"\b\d+[\s-]*(days?|weeks?|months?) (before|after|prior to|ahead of)\b|"
                        r"\b\d+ (d[ií]as|semanas|meses) (antes|despu[eé]s)\b")),
    # the next occurrence of something ("when is the next tabletop exercise"): an article about a
    # past course or exercise does not say; one that gives upcoming dates, or says where the
    # current ones are, does
    "schedule": (re.compile(r"(?:^|[.?!¿,;:]\s*)when(?:'s| is| will| does| do)? (?:the )?next\b|"
                            r"\bwhat(?:'s| is| are) the (?:\w+ )?dates? (?:of|for) the next\b|"
                            r"\b(?:what|which) are the upcoming\b|"
                            r"\bnext (?:date|session|meeting|class|course|training|exercise|cohort|"
                            r"ceremony)(?:'s| is)? (?:date|scheduled|starting|start)\b|"
                            r"\bcu[aá]ndo (?:es|ser[aá]|empieza|comienza|inicia|abre) (?:el |la )?"
                            r"pr[oó]xim[oa]\b|\bfecha (?:exacta )?del? (?:la )?pr[oó]xim[oa]\b"),
                 re.compile(r"\bcurrent (?:\w+ )?dates\b|\bupcoming\b|\bnext (?:session|class|course|"
                            r"training|exercise|cohort|meeting|round) (?:is|will|starts|begins)\b|"
                            r"\bwill be (?:held|offered|announced|posted)\b|\b(?:does not|doesn't|"
                            r"do not) (?:list|give|include|set) (?:a |any )?(?:schedule|dates?)\b|"
                            r"\bno (?:published |set )?(?:schedule|dates)\b|\bfechas vigentes\b|"
                            r"\bno incluye (?:un )?calendario\b|\bpr[oó]xim[oa]s? (?:sesiones|fechas|"
                            r"clases|cursos)\b")),
    # how often something happens ("how often does the task force meet"): an article that says
    # monthly, every year, before each election ... answers it; one without any does not
    "frequency": (re.compile(r"\bhow (often|frequently)\b(?! it (shows up|happens|comes up))|"
                             r"\bcon qu[eé] frecuencia\b|\bcada cu[aá]nto\b"),
                  re.compile(r"\b(daily|weekly|monthly|quarterly|annual\w*|yearly|biannual\w*|"
                             r"semiannual\w*|every (day|week|month|year|quarter|spring|fall|summer|"
                             r"winter|cycle|election|\w+ (days|weeks|months|years))|each (day|week|"
                             r"month|year|spring|fall|cycle|election)|once a|twice a|\d+ times|"
                             r"times (a|per|each) (year|month|week)|per (day|week|month|year)|"
                             r"regular(ly)?|periodic\w*|ongoing|often|mensual\w*|anual\w*|cada "
                             r"(a[nñ]o|mes|semana|elecci[oó]n)|dos veces|una vez al|regularmente|"
                             r"frecuen\w*)\b", re.I)),
    "duration": (re.compile(r"\bhow long\b|\bcu[aá]nto tiempo\b|\bhow many (days|weeks|months|"
                            r"years|hours|minutes)\b|\bcu[aá]nt[oa]s (d[ií]as|semanas|meses|a[nñ]os|"
                            r"horas)\b"),
                 re.compile(r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|a|an|dos|tres|"
                            r"un|una)[\s-]*(days?|weeks?|months?|years?|yrs?|hours?|minutes?|d[ií]as?|"
                            r"semanas?|mes(es)?|a[nñ]os?|horas?)\b|\b(days|weeks|months|years|hours|"
                            r"d[ií]as|semanas|meses|a[nñ]os|horas)\b|\bsince\b|\bdesde\b")),
    "person": (re.compile(r"\bwho (is|was|are|were|leads|heads|runs|signs|wrote|writes|sits|speaks|"
                          r"teaches|taught|trains|approves|judges)\b|"
                          r"\bname of the (\w+ )?(person|woman|man|lady|guy|official|director|chair|"
                          r"secretary|clerk|instructor|trainer|speaker|contact|staffer|lead|head)\b|"
                          # as in English, "who is / leads / wrote": not "who pays for a recount"
                          r"\bqui[eé]n(es)? (es|era|fue|son|eran|fueron|dirige|dirigi[oó]|encabeza|"
                          r"firma|firm[oó]|escribe|escribi[oó]|ense[nñ]a|imparte|revisa|aprueba|"
                          r"juzga|habla|preside|presidi[oó]|coordina|lidera)\b|\bwhose\b|"
                          r"\bwho (chairs|presides|coordinates|oversees|manages)\b"),
               re.compile(r"\b[A-Z][a-z]+ [A-Z][a-z]+\b|\b(secretary|director|chief|manager|"
                          r"officer|clerk|registrar|staff)\b")),
    "organisation": (re.compile(r"\b(which|what) (agency|organi[sz]ation|office|department|group|"
                                r"partner|company|vendor)\b|\bwho (provides|offers|funds|"
                                r"runs|hosts)\b|\bqu[eé] (agencia|organizaci[oó]n)\b"),
                     re.compile(r"\b[A-Z]{2,}\b|\b(office|department|agency|commission|center|"
                                r"alliance|association|council|partner)")),
    "phone": (re.compile(r"\b(phone|telephone|tel[eé]fono|fax)\s*(number|#|no\b|n[uú]mero)|"
                         r"\bnumber to (call|text)\b|\bhotline number\b|\bcall\b.*\bnumber\b|"
                         r"\b(direct|tip|cell|desk|hot) ?(line )?number\b|"
                         r"\bn[uú]mero de (la )?l[ií]nea\b|\bn[uú]mero de tel[eé]fono\b"),
              re.compile(r"\b\d{3}[-. )]+\d{3}[-. ]+[0-9A-Za-z]{4}\b")),
    "email": (re.compile(r"\be-?mail (address|addr|adress)\b|"
                         r"\b(what|which)(?:'s| is| are)? (?:the |their |his |her |your |an? )?"
                         r"(?:[\w'’]+ )?e-?mails?\b(?! (?:scam|phish))|\b(?<!an )(?<!a )e-?mail "
                         r"(to|for|of)\b(?! (?:me|us|them|you)\b)|\b(do|should|can) (i|we) e-?mail\b|"
                         r"\be-?mail\?|(?<!\bun )\bcorreo (electr[oó]nico )?(de|del|para)\b"
                         r"(?! (phishing|spam|estafa|suplantaci[oó]n|fraude))|\bcu[aá]l es el correo\b|"
                         r"\ba qu[eé] correo\b|\bdirecci[oó]n de correo\b"),
              re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")),
    # "what's the weather forecast for election day": a forecast no vetted article holds
    "forecast": (re.compile(r"\bwhat(?:'s| is| will be| does)? the (?:\w+ )?forecast\b|"
                            r"\b(?:weather|temperature)s? (?:be|look|going to be|gonna be)\b|"
                            r"\bwill it (?:rain|snow|storm|be (?:hot|cold|sunny))\b|"
                            r"\bqu[eé] (?:tiempo|clima) (?:har[aá]|va a hacer)\b|"
                            r"\bpron[oó]stico del (?:tiempo|clima)\b"),
                 re.compile(r"\bforecasts? (?:for|of|calls?|shows?|says?)\b|"
                            r"\b\d+ ?(?:°|degrees|percent chance)\b|\bpron[oó]stico (?:para|de)\b")),
    "time_of_day": (re.compile(r"\bwhat time (does|do|is|will)\b|\b(a )?qu[eé] hora\b|"
                               # opening hours: "what hours is the hotline staffed"
                               r"\bwhat (are the |are its |are their )?hours\b|"
                               r"\bhours of operation\b|\bhorarios? de (atenci[oó]n|oficina)\b|"
                               r"\bqu[eé] horario\b"),
                    re.compile(r"\b\d{1,2}(:\d{2})?\s*(a\.?m\.?|p\.?m\.?)|\bo'clock\b|\bnoon\b|"
                               r"\b24/7\b|\baround the clock\b|\blas 24 horas\b")),
    # a form, statute section or case number: "what's the form # for the custody log"
    "identifier": (re.compile(r"\b(what|which)\b[^.?!]{0,30}\b(form|section|statute|bill|chapter|"
                              r"regulation|docket|ticket|case|policy) ?(#|number\b|no\b)|"
                              r"\b(form|section|statute|chapter|bill|regulation) ?(#|number|no)"
                              r"(?= (for|of|on)\b|\s*\?|\s*$)|"
                              # "what Elections Code section requires it", "the statute citation"
                              r"\b(what|which) (\w+ ){0,3}code sections?\b|\b(statute|statutory|"
                              r"legal|usc|u\.s\.c\.|code) (citation|cite|section)\b|"
                              r"\bqu[eé] n[uú]mero de (formulario|secci[oó]n|ley|estatuto|"
                              r"art[ií]culo|caso)\b|\bn[uú]mero de (formulario|secci[oó]n|estatuto)\b"),
                   re.compile(r"\b(form|section|sec\.|statute|chapter|bill|public act|regulation|"
                              r"docket|ticket|case|policy|formulario|secci[oó]n|estatuto|"
                              r"art[ií]culo)\s*(#|no\.?|number|n[uú]mero)?\s*[A-Z]{0,4}-?\d|"
                              r"§\s*\d", re.I)),
    "address": (re.compile(r"\b(mailing|street|office|physical|postal) address\b|"
                           r"\bdirecci[oó]n (postal|f[ií]sica|de (la|su) oficina)\b|"
                           r"\bwhere is\b.*\blocated\b"),
                re.compile(r"\b\d+\s+\w+(\s\w+)?\s(street|st|avenue|ave|boulevard|blvd|road|rd|"
                           r"drive|dr|way|lane|ln)\b|\bp\.?\s?o\.? box\b")),
    "full_date": (re.compile(r"\b(exact|specific|precise) (date|day)\b|\bon what (date|day)\b|"
                             r"\bwhat day (is|was|will|does|did)\b|\bfecha exacta\b|"
                             r"\bqu[eé] d[ií]a exacto\b"),
                  re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? \d{1,2}\b|"
                             r"\b\d{1,2}/\d{1,2}\b|\b\d{1,2} de (enero|febrero|marzo|abril|mayo|junio|"
                             r"julio|agosto|septiembre|octubre|noviembre|diciembre)\b", re.I)),
    "credential": (re.compile(r"(?<!\bmy )(?<!\bour )(?<!\byour )(?<!\bmi )(?<!\bsu )(?<!\bnuestra )"
                              r"(?<!\bnuestro )\b(password|passcode|login|log-in|username|"
                              r"api key|pin\b|access code|contrase[nñ]a)|"
                              # a login, not the certification a clerk holds ("a state credential")
                              r"\b(sign-?in|account|portal|system|vpn|admin|user|access|network|"
                              r"wi-?fi) credentials?\b|\bcredentials? (for|to) (log|sign|access|get "
                              r"into|enter|the (\w+ )?(portal|system|account|site|platform|database|"
                              r"network|vpn))\b"),
                   re.compile(r"\b(password|passcode|username)\s*[:=]")),
    "url": (re.compile(r"(?<!\bclicked )(?<!\bclicked on )(?<!\bopened )(?<!\bclick )(?<!\bsuspicious )"
                       r"(?<!\bclicked the )(?<!\bclicked on the )(?<!\bopened the )(?<!\bclick the )"
                       r"(?<!\bclicked that )(?<!\bclic en el )(?<!\bun )(?<!\bese )"
                       r"(?<!\bphishing )(?<!\bweird )(?<!\bfake )(?<!\bbad )(?<!\ba )(?<!\ban )"
                       r"\b(link|url|enlace)\b|\bweb ?(address|page address)\b|"
                       r"\bwhat('s| is) the (web ?site|site)\b|\bcu[aá]l es el sitio\b"),
            re.compile(r"https?://|www\.|\b\w+\.(gov|org|com|us)\b")),
    "list": (re.compile(r"\blist (of|all|every)\b|\bwhat are (all|the)\b.*\b(steps|items|"
                        r"requirements|topics)\b|\bname (all|every|each|the)\b|\bwhich ones\b|"
                        r"\blist (them|the names|their names)\b|\bone by one\b|\ball of them\b|"
                        r"\bwhich (vendors|counties|platforms|agencies|churches|brands|members|"
                        r"organi[sz]ations|companies|towns|cities)\b"),
             re.compile(r"(^|\n)\s*([-*]|\d+[.)])\s+\S.*\n\s*([-*]|\d+[.)])\s+\S", re.M)),
}

#: Kinds whose answer is a proper name, recognised by casing against the whole base (a word
#: written in lower case somewhere in the base is a common word, not a name): kind -> question.
NAME_KINDS: dict[str, re.Pattern[str]] = {
    "name": re.compile(r"\bnames? (please|pls|plz)\b|"
                       # "their name just isn't on the list": a name said, not asked for
                       r"\b(his|her|their) names?\b(?! (is|are|was|were|isn'?t|aren'?t|wasn'?t|"
                       r"just|not|missing|on|off|appears?|shows?)\b)|\bname (him|her|them)\b|"
                       r"\bnames? of (the )?(person|people|staff|officials?|directors?|attorneys?|"
                       r"lawyers?|volunteers?|members?|contacts?|chairs?|heads?|leads?|managers?|"
                       r"officers?|clerks?|voters?|trainers?|instructors?|speakers?|vendors?)\b|"
                       r"\bwhich (attorneys|lawyers|people|persons|staffers|officials|employees|"
                       r"volunteers|individuals|politicians|members|trainers|instructors|"
                       r"speakers)\b|"
                       # not who a program is for ("who exactly is it aimed at")
                       r"\bwho (exactly|specifically)\b(?!.{0,50}\b(aimed|meant|intended|designed|"
                       r"targeted|geared|for\W*$))|\bnombres? de\b|"
                       r"\bc[oó]mo se llama\b|\bqui[eé]n(es)? exactamente\b|"
                       r"\b(instructor|teacher|trainer|speaker|person|official|director|chair|judge|"
                       r"liaison|contact|staffer|author|lead)'?s? names?\b|\bneed (the |their |his |"
                       r"her )?names?\b|\bwho (teaches|taught|chairs|approves|signs) |"
                       r"\b(which|what) (lab|laboratory|brand|vendor|company|firm|manufacturer|"
                       r"contractor)s?\b"),
    "place": re.compile(r"\b(which|what) (city|town|building|venue|location|room|hotel)\b|"
                        r"\bwhere (is|are|was|were|do|does|did|will)\b.*\b(held|located|hosted|"
                        r"housed|take place|took place|meet|happen)\b|"
                        r"\ben qu[eé] (ciudad|lugar|edificio)\b|\bd[oó]nde (se )?(realiz|celebr|"
                        r"llev|re[uú]n)"),
}
_TITLES = frozenset("secretary director deputy commissioner chair dr mr mrs ms senator "
                    "governor mayor clerk registrar".split())
_CAPITALISED_RUN = re.compile(r"(?<![.!?:]\s)(?<!^)\b([A-Z][a-z'’-]+(?:[ \t]+(?:[A-Z]\.[ \t]+)?"
                              r"[A-Z][a-z'’-]+)+)", re.M)
_PLACE_NOUNS = frozenset("center centre building hall room capitol office headquarters "
                         "hotel library campus courthouse".split())


def lower_case_words(texts: Sequence[str]) -> frozenset[str]:
    """Words the base writes in lower case somewhere: common words, not names."""
    return frozenset(w for text in texts for w in re.findall(r"\b[a-záéíóúñü]+\b", text))


def name_kinds(raw: str, common: frozenset[str]) -> frozenset[str]:
    """``name`` when a text names a person, ``place`` when it names a place (by casing)."""
    out = set()
    for m in _CAPITALISED_RUN.finditer(raw):
        parts = [p for p in words(m.group(1)) if len(p) > 1 and p not in _STATE_WORDS]
        proper = [p not in common for p in parts]
        if any(proper[i + 1] and (proper[i] or parts[i] in _TITLES)
               for i in range(len(parts) - 1)):
            out.add("name")
        if parts and (parts[-1] in _PLACE_NOUNS or all(proper)):
            out.add("place")
    return frozenset(out)


NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5,
    "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "uno": 1, "una": 1,
    "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8,
    "nueve": 9, "diez": 10, "primero": 1, "primer": 1, "primera": 1, "segundo": 2,
    "segunda": 2, "tercero": 3, "tercer": 3, "tercera": 3, "cuarto": 4, "quinto": 5,
}
STATES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA",
    "colorado": "CO", "connecticut": "CT", "delaware": "DE", "florida": "FL", "georgia": "GA",
    "hawaii": "HI", "idaho": "ID", "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS",
    "kentucky": "KY", "louisiana": "LA", "maine": "ME", "maryland": "MD", "massachusetts": "MA",
    "michigan": "MI", "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT",
    "nebraska": "NE", "nevada": "NV", "new hampshire": "NH", "new jersey": "NJ",
    "new mexico": "NM", "new york": "NY", "north carolina": "NC", "north dakota": "ND",
    "ohio": "OH", "oklahoma": "OK", "oregon": "OR", "pennsylvania": "PA", "rhode island": "RI",
    "south carolina": "SC", "south dakota": "SD", "tennessee": "TN", "texas": "TX", "utah": "UT",
    "vermont": "VT", "virginia": "VA", "washington": "WA", "west virginia": "WV",
    "wisconsin": "WI", "wyoming": "WY",
}
_STATE_NAME = re.compile(r"\b(" + "|".join(sorted(STATES, key=len, reverse=True)) + r")\b")
_STATE_CODE = re.compile(r"\b(" + "|".join(sorted(set(STATES.values()))) + r")\b(?!-)")
_ORDINAL = re.compile(r"^(\d+)(st|nd|rd|th|o|a)?$")
_NUMBERED = re.compile(r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|first|second|"
                       r"third|fourth|fifth|sixth|seventh|eighth|ninth|tenth)\b")
_ENTITY = re.compile(r"(?<!^)(?<![.?!]\s)\b([A-Z][A-Za-z0-9&-]+|[A-Z]{2,}|\d[\d,./-]*)\b")


def numbers_in(text: str) -> frozenset[int]:
    """Small numbers a text names, as digits, words or ordinals ("3", "three", "third", "3rd")."""
    out: set[int] = set()
    for w in words(text):
        if w in NUMBER_WORDS:
            out.add(NUMBER_WORDS[w])
        else:
            m = _ORDINAL.match(w)
            if m and len(m.group(1)) <= 2:
                out.add(int(m.group(1)))
    return frozenset(out)


#: "PAUSE step U: ...": one letter of an acronym per article (the letter's siblings).
_LETTER_STEP = re.compile(r"^\s*([A-Z]{2,})\s+(?:step|paso|letter|letra)\s+([A-Z])\b")
#: A letter named on its own in a question ("what's the U in PAUSE"), not "I" or a sentence's
#: "A" (English article, Spanish preposition: "¿A qué correo ...").
_LETTER_ASKED = re.compile(r"(?<![\w'’.-])([B-HJ-Z]|(?<!^)(?<![.?!¿¡]\s)(?<![¿¡])A)(?![\w'’-]|\.\w)")


def step_letter(title: str) -> tuple[str, int, str] | None:
    """(letter, its position, the acronym) for a title naming one step of an acronym."""
    m = _LETTER_STEP.match(title)
    if m is None or m.group(2) not in m.group(1):
        return None
    return m.group(2), m.group(1).index(m.group(2)) + 1, m.group(1)


def letters_asked(question: str) -> frozenset[str]:
    """Single capital letters a question names on their own ("the S step", "what does U mean")."""
    return frozenset(m.group(1) for m in _LETTER_ASKED.finditer(question.strip()))


def family_key(article: Article) -> str:
    """Title with its numbers and years removed: siblings ("Step 2 ...", "... 2024") share it.

    The steps of an acronym ("PAUSE step U: ...") share the acronym's family.
    """
    step = step_letter(article.title)
    if step is not None:
        return f"{step[2].lower()} step"
    title = fold(article.title)
    title = re.sub(r"\b(19|20)\d{2}\b", " ", title)
    title = _NUMBERED.sub(" ", title)
    title = re.sub(r"\b(step|part|phase|module|session|round|year|paso|parte)\b", " ", title)
    return " ".join(words(title))


@dataclass(frozen=True)
class ArticleFacts:
    """What an article can supply, computed once per base."""

    kinds: frozenset[str]
    text: str
    numbers: frozenset[int]
    family: str
    letter: str = ""


def answer_text(article: Article) -> str:
    """Title, summary and body of an article, in English and Spanish."""
    return "\n".join([article.title, article.summary, article.body,
                      *(([article.es.title, article.es.summary, article.es.body]) if article.es
                        else [])])


#: Bit order of :func:`kinds_masks`: every fact kind, then the name kinds.
KIND_BITS: tuple[str, ...] = (*FACT_KINDS, *NAME_KINDS)


def supplied_kinds(raw: str, common: frozenset[str]) -> frozenset[str]:
    """Kinds of fact an answer text holds (a phone number, a date, a name ...)."""
    kinds = frozenset(k for k, (_ask, has) in FACT_KINDS.items() if has.search(raw))
    return kinds | name_kinds(raw, common)


def kinds_masks(articles: Sequence[Article]) -> array:
    """Each article's :func:`supplied_kinds` as a bitmask (:data:`KIND_BITS` order).

    The costly part of an article's facts (~0.6 ms an article: a regular expression per kind over
    its whole text), done for the whole base when its index is built and kept in the index cache
    (``knowledge.index_cache``): a question then never pays it for an article it meets first.
    """
    common = lower_case_words([answer_text(a) for a in articles])
    return array("I", (sum(1 << bit for bit, kind in enumerate(KIND_BITS) if kind in kinds)
                       for kinds in (supplied_kinds(answer_text(a), common) for a in articles)))


def mask_kinds(mask: int) -> frozenset[str]:
    """The kinds a :func:`kinds_masks` bitmask holds."""
    return frozenset(kind for bit, kind in enumerate(KIND_BITS) if mask >> bit & 1)


def article_facts(article: Article, common: frozenset[str] = frozenset(),
                  kinds: frozenset[str] | None = None) -> ArticleFacts:
    """Fact kinds, folded answer text, title numbers and family of one article.

    ``common``: the base's lower-case words (:func:`lower_case_words`), to tell names apart;
    ``kinds``: the article's :func:`supplied_kinds` when already known (from the index cache).
    """
    raw = answer_text(article)
    if kinds is None:
        kinds = supplied_kinds(raw, common)
    step = step_letter(article.title)
    numbers = numbers_in(article.title) | ({step[1]} if step else set())
    return ArticleFacts(kinds, " ".join(words(raw)), numbers, family_key(article),
                        step[0] if step else "")


def asked_kinds(question: str) -> frozenset[str]:
    """Kinds of fact a question explicitly asks for."""
    low = question.lower()
    found = {k for k, (ask, _has) in FACT_KINDS.items() if ask.search(low)}
    return frozenset(found | {k for k, ask in NAME_KINDS.items() if ask.search(low)})


def states_named(question: str) -> frozenset[str]:
    """Two-letter codes of the US states a question names ("Kansas", "KS", "CA's")."""
    found = {STATES[m.group(1)] for m in _STATE_NAME.finditer(fold(question))}
    found |= {m.group(1) for m in _STATE_CODE.finditer(question)}
    return frozenset(found)


#: A comparison: the state named after it is the model, not the state asked about
#: ("does Kansas have a rumor site like California's", "CT's version of CA's hotline").
_COMPARED = re.compile(r"\b(like|unlike|similar to|the way|same as|compared (?:to|with)|versus|vs\.?|"
                       r"equivalent (?:of|to)|version of|counterpart (?:of|to)|igual que|"
                       # "como" typed without its accent also asks how ("como funciona ... en
                       # California"): a comparison only before an article ("como el de ...")
                       r"como(?=\s+(?:el|la|los|las|lo|en|un|una|su|sus)\b)|"
                       r"parecid[oa]s? a)\s+([^,;?!]*)", re.I)


#: The same, the state before its mark: "the California-style audit", "al estilo de California".
_STYLED = re.compile(r"\b([A-Za-z]+(?: [A-Za-z]+)?)(?:-(?:style|type|like|model)|\s+style)\b|"
                     r"\bal estilo de ([A-Za-z]+(?: [A-Za-z]+)?)", re.I)


def states_compared(question: str) -> frozenset[str]:
    """States a question names only as the model of a comparison, not as the one asked about."""
    spans = [m.group(2) for m in _COMPARED.finditer(question)]
    spans += [m.group(1) or m.group(2) for m in _STYLED.finditer(question)]
    if not spans:
        return frozenset()
    compared = frozenset().union(*(states_named(span) for span in spans))
    rest = _STYLED.sub(" ", _COMPARED.sub(" ", question))
    return compared - states_named(rest)


_STATE_WORDS = frozenset(w for name in STATES for w in name.split()) | frozenset(
    code.lower() for code in STATES.values())


def entities(question: str) -> list[str]:
    """Names, acronyms and numbers a question mentions (folded), beyond its first word.

    State names and codes are left out: the state features weigh them, and an article of the
    named state need not spell its own state ("KS" in the question, "Kansas" or nothing in it).
    """
    out = []
    for m in _ENTITY.finditer(question.strip()):
        tok = " ".join(words(m.group(1)))
        if tok in _STATE_WORDS:
            continue
        if tok and tok not in out and len(tok) > 1:
            out.append(tok)
    return out


# ---- features and the model --------------------------------------------------------------

FEATURES = (
    "lex_conf", "coverage", "phrase_coverage", "lex_rel", "lex_top", "lex_present",
    "sem_sim", "sem_lead", "sem_top", "agree", "fused_rr", "fits", "kind_asked",
    "kind_missing", "entity_share", "entity_missing", "number_match", "number_mismatch",
    "siblings", "query_terms", "unknown_share", "spanish", "state_named", "state_match",
    "state_mismatch", "draft", "general_named", "draft_named", "lex_rr", "sem_rr",
    "letter_match", "letter_mismatch", "sibling_match", "state_compared",
    "known_coverage",
)


@dataclass(frozen=True)
class Candidate:
    """One article considered for a question, with its features."""

    doc: int
    features: dict[str, float]


def contains_asked(feats: dict[str, float]) -> bool:
    """Whether a candidate holds every kind of fact the question explicitly asks for.

    A rule, not a weight: an article without a phone number cannot give one, however well its
    words match (on the train and calibration splits no right article fails it).
    """
    return not feats.get("kind_missing")


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


#: The fused model fitted with the question memory's features (``knowledge.memory``).
MEMORY_MODEL = "lexical+semantic+memory"


@dataclass(frozen=True)
class DecisionModel:
    """Logistic weights over :data:`FEATURES` plus the fitted threshold (probability)."""

    weights: dict[str, float]
    bias: float
    threshold: float
    info: dict[str, Any]
    veto: float = 0.0
    rescue: float = 1.0
    #: Weights over the question's own sentence vector (the semantic model only): one term added
    #: to every candidate of a question, so it moves whether to answer, never which article.
    #: It learns what questions the base cannot answer look like (a figure, a private contact,
    #: a credential), beyond what the candidate features say.
    query_weights: tuple[float, ...] = ()
    #: Trees stacked on the logistic logit (``knowledge.booster.Booster``), or None: then the
    #: probability is the logistic one.
    booster: Any = None

    def prior(self, query_vec: Sequence[float] | None) -> float:
        """The question's own term (:attr:`query_weights`); 0 without them or a vector."""
        if not self.query_weights or query_vec is None:
            return 0.0
        return float(sum(w * float(v) for w, v in zip(self.query_weights, query_vec, strict=True)))

    def probability(self, feats: dict[str, float], prior: float = 0.0) -> float:
        """Probability that this candidate answers the question (``prior``: :meth:`prior`).

        0 when it lacks the kind of fact the question asks for (:func:`contains_asked`).
        """
        if not contains_asked(feats):
            return 0.0
        z = self.bias + prior + sum(w * feats.get(name, 0.0) for name, w in self.weights.items())
        if self.booster is not None:
            return float(self.booster.probability(feats, z))
        return _sigmoid(z)

    def confidence(self, probability: float) -> float:
        """Probability shifted so that the fitted threshold becomes 0.5."""
        p = min(max(probability, 1e-9), 1 - 1e-9)
        t = min(max(self.threshold, 1e-9), 1 - 1e-9)
        return _sigmoid(math.log(p / (1 - p)) - math.log(t / (1 - t)))


def load_models(path: Path = MODEL_FILE) -> dict[str, DecisionModel]:
    """The fitted models by engine ("lexical", "lexical+semantic"); empty when absent."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out = {}
    for name, m in data.get("models", {}).items():
        booster = None
        if "booster" in m:
            # its threshold, veto and rescue were chosen on the booster's probabilities: a model
            # whose trees cannot be read (or without numpy) is not used at all
            try:
                from knowledge.booster import Booster

                booster = Booster.from_json(m["booster"])
            except (ImportError, ValueError, KeyError, TypeError):
                continue
        out[name] = DecisionModel({k: float(v) for k, v in m["weights"].items()},
                                  float(m["bias"]), float(m["threshold"]),
                                  {"engine": m.get("engine"), "fitted_on": data.get("fitted_on")},
                                  float(m.get("veto", 0.0)), float(m.get("rescue", 1.1)),
                                  tuple(float(w) for w in m.get("query_weights", ())), booster)
    return out


class BaseFacts:
    """:func:`article_facts` of each article, worked out the first time a question ranks it.

    About 1 ms per article, nearly all of it the fact kinds (:func:`supplied_kinds`): given
    ``kinds`` (:func:`kinds_masks`, kept in the index cache, so paid once per base and not by
    the first questions to meet each article) the rest is cheap. Without them they are found
    on first use: done for the whole base at every start, a 10,000-article base took 10 s.
    """

    def __init__(self, articles: Sequence[Article], kinds: Sequence[int] | None = None) -> None:
        """The base's lower-case words now; each article's facts on first use."""
        self._articles = articles
        self._kinds = kinds if kinds is not None and len(kinds) == len(articles) else None
        self._common = lower_case_words([answer_text(a) for a in articles])
        self._facts: dict[int, ArticleFacts] = {}
        self._families: dict[str, list[int]] | None = None

    def family_members(self, family: str) -> list[int]:
        """Articles of one sibling family (titles only: cheap for the whole base, built once)."""
        if self._families is None:
            self._families = {}
            for n, art in enumerate(self._articles):
                self._families.setdefault(family_key(art), []).append(n)
        return self._families.get(family, []) if family else []

    def __getitem__(self, doc: int) -> ArticleFacts:
        """The facts of article number ``doc``."""
        found = self._facts.get(doc)
        if found is None:
            kinds = None if self._kinds is None else mask_kinds(self._kinds[doc])
            found = self._facts[doc] = article_facts(self._articles[doc], self._common, kinds)
        return found


class Retriever:
    """Lexical + optional semantic retrieval, fused, re-ranked and scored by the decision model."""

    def __init__(self, index: SearchIndex, semantic: Any = None,
                 models: dict[str, DecisionModel] | None = None, memory: Any = None) -> None:
        """Hold the channels and the models (``load_models()`` when None).

        ``semantic`` is a ``knowledge.semantic.SemanticIndex`` or None (lexical only); ``memory``
        a ``knowledge.memory.QuestionMemory`` of this base (used with the semantic channel only).
        """
        self.index = index
        self.semantic = semantic
        self.memory = memory if semantic is not None else None
        self.models = load_models() if models is None else models
        self.facts = BaseFacts(index.articles, index.kinds)

    @property
    def engine(self) -> str:
        """``lexical+semantic`` or ``lexical``."""
        return "lexical+semantic" if self.semantic is not None else "lexical"

    @cached_property
    def model(self) -> DecisionModel | None:
        """The model fitted for this engine (and, for semantic, this embedder).

        With a question memory, the model fitted with its features (:data:`MEMORY_MODEL`) when
        there is one; else the memory is not consulted.
        """
        if self.uses_memory:
            return self.models[MEMORY_MODEL]
        model = self.models.get(self.engine)
        if model is not None and self.semantic is not None:
            if model.info.get("engine") != self.semantic.embedder.name:
                return None
        return model

    def candidates(self, query: str, *, language: str | None = None, query_vec: Any = None,
                   memory_exclude: Any = None, memory_unknown: Any = ()
                   ) -> tuple[Analysis, list[Candidate]]:
        """Fused candidates with their features (best fused rank first).

        ``memory_exclude``: leave these groups of the question memory out (a group's name, or
        several): the fit leaves a question's own writing batch out; ``memory_unknown``: articles
        (by index) the memory is to treat as new, without labelled questions.
        """
        an, cands, _vec = self._candidates(query, language, query_vec, memory_exclude,
                                           memory_unknown)
        return an, cands

    @property
    def uses_memory(self) -> bool:
        """Whether the decision consults the question memory.

        True when a model fitted with it, with this embedder, is there.
        """
        fitted = self.models.get(MEMORY_MODEL)
        return self.memory is not None and fitted is not None \
            and fitted.info.get("engine") == self.semantic.embedder.name

    def _candidates(self, query: str, language: str | None, query_vec: Any,
                    memory_exclude: Any = None, memory_unknown: Any = ()
                    ) -> tuple[Analysis, list[Candidate], Any]:
        """:meth:`candidates`, and the question's vector (None without the semantic channel)."""
        an = self.index.analyse(query, language)
        lex_rank = {doc: r for r, (doc, _s) in enumerate(an.ranked)}
        lex_score = dict(an.ranked)
        top_lex = an.ranked[0][1] if an.ranked else 0.0
        sims: Any = None
        sem_rank: dict[int, int] = {}
        vec = self.question_vector(an.query) if query_vec is None else query_vec
        if vec is not None and self.semantic is not None:
            sims = self.semantic.similarities(vec)
            order = sims.argsort()[::-1][:SEMANTIC_DEPTH]
            sem_rank = {int(d): r for r, d in enumerate(order)}
        fused: dict[int, float] = {}
        for ranks in (lex_rank, sem_rank):
            for doc, r in ranks.items():
                fused[doc] = fused.get(doc, 0.0) + 1.0 / (RRF_K + r + 1)
        order_docs = sorted(fused, key=lambda d: (-fused[d], d))[:DEPTH]
        if not order_docs:
            return an, [], vec
        if an.ranked and an.ranked[0][0] not in order_docs:
            # The lexical top is what answers unless the model vetoes it: always scored.
            order_docs.append(an.ranked[0][0])
        kinds = asked_kinds(an.query)
        ents = entities(an.query)
        q_numbers = numbers_in(an.query)
        q_letters = letters_asked(an.query)
        if q_numbers or q_letters:
            # The sibling the question names ("step 4", "the S step", "year three") is a
            # candidate even when the ranking left it below the depth.
            for doc in list(order_docs):
                for sib in self.facts.family_members(self.facts[doc].family):
                    if sib not in order_docs and (q_numbers & self.facts[sib].numbers
                                                  or self.facts[sib].letter in q_letters):
                        order_docs.append(sib)
        n_terms = len(an.terms)
        unknown = sum(1 for t in an.terms if t.term is None)
        known = [t for t in an.terms if t.term is not None]
        named = states_named(an.query)
        compared = states_compared(an.query)
        sem_vals = {d: float(sims[d]) for d in order_docs} if sims is not None else {}
        remembered = self.memory.features(vec, order_docs, exclude=memory_exclude,
                                          unknown=memory_unknown) \
            if self.memory is not None and vec is not None else {}
        out = []
        for pos, doc in enumerate(order_docs):
            facts = self.facts[doc]
            art = self.index.articles[doc]
            ev = self.index.evidence(doc, an.terms, an.ranked, an.ask) if an.ranked else None
            others = [v for d, v in sem_vals.items() if d != doc]
            sim = sem_vals.get(doc, 0.0)
            present = [e for e in ents if e in facts.text]
            missing_kind = bool(kinds - facts.kinds)
            # one of a family of numbered or lettered articles ("Year One / Two / Three courses"),
            # in the base: the question naming its number picks it even when its siblings were
            # not ranked ("whats in the year three courses")
            sibling = len(self.facts.family_members(facts.family)) > 1
            num_match = bool(q_numbers & facts.numbers)
            feats = {
                "lex_conf": self.index.candidate_confidence(an, doc, ev) if doc in lex_rank else 0.0,
                "coverage": ev.coverage if ev else 0.0,
                "phrase_coverage": ev.phrase_coverage if ev else 0.0,
                # Every term known (the usual case): the same evidence as ``ev``, not worked
                # out twice on the answer path.
                "known_coverage": 0.0 if not (ev and known) else ev.coverage
                if len(known) == n_terms else
                self.index.evidence(doc, known, an.ranked, an.ask).coverage,
                "lex_rel": lex_score.get(doc, 0.0) / top_lex if top_lex else 0.0,
                "lex_top": float(lex_rank.get(doc) == 0),
                "lex_present": float(doc in lex_rank),
                "sem_sim": sim,
                "sem_lead": sim - max(others) if others else 0.0,
                "sem_top": float(sem_rank.get(doc) == 0),
                "agree": float(lex_rank.get(doc) == 0 and sem_rank.get(doc) == 0),
                "fused_rr": 1.0 / (pos + 1),
                "lex_rr": 1.0 / (lex_rank[doc] + 1) if doc in lex_rank else 0.0,
                "sem_rr": 1.0 / (sem_rank[doc] + 1) if doc in sem_rank else 0.0,
                "fits": float(self.index.fits(doc, an.ask)),
                "kind_asked": float(bool(kinds)),
                "kind_missing": float(missing_kind),
                "entity_share": len(present) / len(ents) if ents else 1.0,
                "entity_missing": float(len(ents) - len(present)),
                "number_match": float(num_match),
                "number_mismatch": float(bool(q_numbers) and bool(facts.numbers) and sibling
                                         and not num_match),
                "siblings": float(sibling),
                "letter_match": float(bool(facts.letter) and facts.letter in q_letters),
                "sibling_match": float(sibling and (num_match or facts.letter in q_letters)),
                "letter_mismatch": float(bool(facts.letter) and bool(q_letters)
                                         and facts.letter not in q_letters),
                "query_terms": min(n_terms, 20) / 10.0,
                "unknown_share": unknown / n_terms if n_terms else 1.0,
                "spanish": float(an.language == "es"),
                "state_named": float(bool(named)),
                "state_match": float(art.jurisdiction in named),
                "state_mismatch": float(bool(named) and art.jurisdiction not in named
                                        and art.jurisdiction != "general"),
                "state_compared": float(art.jurisdiction in compared),
                "draft": float(art.is_draft),
                "general_named": float(bool(named) and art.jurisdiction == "general"
                                       and not art.is_draft),
                "draft_named": float(bool(named) and art.is_draft),
            }
            feats.update(remembered.get(doc, {}))
            out.append(Candidate(doc, feats))
        return an, out, vec

    def question_vector(self, analysed: str) -> Any:
        """The semantic vector of an analysed question (``Analysis.query``; cached), or None."""
        if self.semantic is None or not analysed.strip():
            return None
        return self.semantic.embed(analysed)

    def retrieve(self, query: str, *, limit: int = 3) -> list[tuple[Article, str]]:
        """The fused ranking before the decision model: (article, answer language)."""
        an, cands = self.candidates(query)
        out = []
        for c in cands[:max(limit, 0)]:
            art = self.index.articles[c.doc]
            out.append((art, "es" if an.language == "es" and art.es is not None else "en"))
        return out

    def scored(self, query: str, *, language: str | None = None,
               query_vec: Any = None) -> tuple[list[Hit], dict[int, float], dict[int, float]]:
        """Lexical hits, the model's probability per fused candidate, lexical score per article.

        The hits' ranking and confidences are those of the lexical channel alone.
        """
        model = self.model
        assert model is not None
        an, cands, vec = self._candidates(query, language, query_vec)
        hits = self.index.hits(an, query, limit=HIT_DEPTH)  # the same analysis, not a second
        prior = model.prior(vec)  # the vector the candidates used: embedded once
        probs = {c.doc: model.probability(c.features, prior) for c in cands}
        return hits, probs, dict(an.ranked)

    def search(self, query: str, *, limit: int = 3, language: str | None = None,
               query_vec: Any = None) -> list[Hit]:
        """Best articles first; the decision model vetoes or rescues the answer (0.5 = answer).

        The ranking and confidences are the lexical ones (what ``handlers.faq.scope`` weighs
        secondary articles by) except where the model overrules the top: an answering top whose
        probability is under the model's ``veto`` threshold is pushed under 0.5 (with every other
        article the model rejects or did not consider); when the top does not answer (or was
        vetoed), the model's best candidate answers if its probability reaches ``rescue``.
        """
        model = self.model
        if model is None:
            return self.index.search(query, limit=limit, language=language)
        hits, probs, lex = self.scored(query, language=language, query_vec=query_vec)
        return apply_decision(model, hits, probs, lex, self.index.articles, language_of(query,
                              language), limit, doc_of=self.doc_of)

    @cached_property
    def doc_of(self) -> dict[int, int]:
        """Article (by object identity) -> its index, built once per base, not per question."""
        return {id(a): n for n, a in enumerate(self.index.articles)}


HIT_DEPTH = 5


def language_of(query: str, language: str | None) -> str:
    """The question's language (as the lexical channel detects it)."""
    return language or detect_language(query)


def apply_decision(model: DecisionModel, hits: list[Hit], probs: dict[int, float],
                   lex: dict[int, float], articles: Sequence[Article], language: str,
                   limit: int, *, doc_of: dict[int, int]) -> list[Hit]:
    """Veto or rescue the lexical top with the model's probabilities (see ``Retriever.search``)."""
    top = hits[0] if hits else None
    if top is not None and top.confidence >= ANSWER_POINT:
        p = probs.get(doc_of[id(top.article)])
        if p is None or p >= model.veto:
            return hits[:max(limit, 0)]
        hits = [h if probs.get(doc_of[id(h.article)], 0.0) >= model.veto  # 0: not a candidate
                else Hit(h.article, h.score, round(min(h.confidence, shifted(
                    probs.get(doc_of[id(h.article)], 0.0), model.veto)), 6), h.language)
                for h in hits]
        top = hits[0]
    if not probs:
        return hits[:max(limit, 0)]
    best = min(probs, key=lambda d: (-probs[d], d))
    if probs[best] < model.rescue:
        return hits[:max(limit, 0)]
    art = articles[best]
    score = lex.get(best, top.score if top is not None else 0.0)
    lang = "es" if language == "es" and art.es is not None else "en"
    first = Hit(art, score, round(max(shifted(probs[best], model.rescue),
                                      top.confidence if top is not None and top.article is art
                                      else 0.0), 6), lang)
    return [first, *[h for h in hits if h.article is not art]][:max(limit, 0)]


ANSWER_POINT = 0.5


def shifted(probability: float, threshold: float) -> float:
    """Probability shifted so that ``threshold`` becomes 0.5."""
    p = min(max(probability, 1e-9), 1 - 1e-9)
    t = min(max(threshold, 1e-9), 1 - 1e-9)
    return _sigmoid(math.log(p / (1 - p)) - math.log(t / (1 - t)))


#: One article in this many counts as new (no labelled questions) for each batch's fit rows.
NEW_ARTICLE_SHARE = 4


def unknown_for(retriever: Retriever) -> Callable[[str], frozenset[int]]:
    """For a batch, the articles its fit rows treat as new (a fixed hash of article and batch)."""
    ids = [a.id for a in retriever.index.articles]
    cache: dict[str, frozenset[int]] = {}

    def unknown(batch: str) -> frozenset[int]:
        if batch not in cache:
            cache[batch] = frozenset(
                n for n, aid in enumerate(ids)
                if int(hashlib.blake2b(f"{aid}|{batch}".encode(), digest_size=4).hexdigest(), 16)
                % NEW_ARTICLE_SHARE == 0)
        return cache[batch]
    return unknown


def fit_rows(retriever: Retriever, items: Sequence[dict[str, Any]],
             right: Sequence[set[str]], also_exclude: Sequence[str] = ()
             ) -> list[tuple[int, dict[str, float], int]]:
    """(question number, features, label) for every candidate of every labelled question.

    A question's own writing batch (``_batch``) is left out of the question memory, as a new
    question's would be absent from it (``also_exclude``: and these, a fold's held-out batch).
    And for each batch, a quarter of the articles (:func:`unknown_for`) count as new, without
    labelled questions: a base gains articles nobody has labelled questions for yet, and the
    model must answer with them on their other evidence.
    """
    rows = []
    unknown = unknown_for(retriever)
    for n, (item, ok) in enumerate(zip(items, right, strict=True)):
        _an, cands = retriever.candidates(
            item["q"], memory_exclude=(item.get("_batch", ""), *also_exclude),
            memory_unknown=unknown(item.get("_batch", "")))
        for c in cands:
            rows.append((n, c.features, int(retriever.index.articles[c.doc].id in ok)))
    return rows
