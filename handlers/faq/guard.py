"""Refuse partisan requests, personal-data requests and instruction overrides before retrieval.

The patterns look for the *act* being asked for (advise a vote, rank parties, predict, endorse,
look up a person), not for topic words: "how do we handle observer disputes between party
representatives" mentions parties and must still reach the knowledge base.
"""

from __future__ import annotations

import re
from typing import Literal

Refusal = Literal["partisan", "personal_data", "instructions"]

_PARTY = (r"(part(y|ies)|candidates?|democrats?|republicans?|dems?|gop|liberals?|"
          r"conservatives?|left|right|politicians?|incumbents?|challengers?)")
_PARTISAN = [
    r"\b(who|which|what)\b.{0,50}\b(should|do|would|must)\b.{0,25}\b(i|we|you|people|voters|"
    r"everyone|folks)\b.{0,15}\bvote\b",
    r"\bshould\b.{0,30}\b(i|we|people|voters|they)\b.{0,10}\bvote\b.{0,15}\b(for|against|yes|no)\b",
    r"\bhow should (i|we|people|voters) vote\b",
    r"\b(vote|voting) (yes|no) on\b",
    rf"\b(better|worse|best|worst|smarter|dumber|more (honest|corrupt|trustworthy|competent)|"
    rf"corrupt|evil|crooked)\b.{{0,60}}\b{_PARTY}\b",
    rf"\b{_PARTY}\b.{{0,60}}\b(is|are) (better|worse|the best|the worst|corrupt|evil|crooked|"
    rf"lying|liars)\b",
    rf"\b{_PARTY}\b.{{0,30}}\b(more|less|most|least) (honest|corrupt|trustworthy|competent|"
    rf"qualified|patriotic)\b",
    r"\b(who|which (party|candidate|side|measure))\b.{0,30}\b(will|going to|gonna|likely to)\b"
    r".{0,20}\b(win|lose|carry|flip)\b",
    r"\bpredict(ion|ions)?\b.{0,40}\b(win|winner|results?|outcome|race|election)\b",
    r"\bendors(e|es|ed|ing|ement|ements)\b",
    r"\b(campaign|fundrais\w*) for\b.{0,30}\b(candidate|measure|bond|proposition|party)\b",
    r"^\W*(was|is|were|are)\b.{0,60}\b(rigged|stolen)\b",
    r"\b(rigged|stolen)\b.{0,20}\b(yes or no|true or false)\b",
    r"\bwhat do you think (of|about)\b.{0,40}\b(candidate|party|president|governor|senator|"
    r"mayor|democrats?|republicans?|measure|bond)\b",
    r"\b(your|you) (personal )?(opinion|view|stance|position) on\b",
    r"\bpor qui[eé]n (debo|deber[ií]a|debemos|votar)\b",
    r"\bqu[eé] partido es (mejor|peor)\b",
]
_PERSON = (r"(the (guy|man|woman|person|poster|user|account|voter|clerk|registrar|worker)|"
           r"him|her|them|this (guy|person|voter)|that (guy|person|voter)|my neighbou?r|"
           r"a voter|voters?|someone|somebody|staff(er)?|employees?|poll workers?)")
_PERSONAL = [
    r"\b(home|house|street|residential|mailing) address(es)?\b",
    r"\bwhere (does|do|did) .{1,40} live\b",
    rf"\b(phone|cell|mobile) (number|#)\b.{{0,15}}\b(of|for)\b\s+{_PERSON}",
    rf"\b(email|address|phone|birth ?date|date of birth|dob|ssn|social security)\b.{{0,30}}"
    rf"\b(of|for)\b\s+{_PERSON}",
    r"\b(ssn|social security numbers?|dates? of birth|birth ?dates?|dob)\b",
    r"\b(help( me)?|can you|could you|let'?s|want to|going to|gonna|how (do|can|to))\b.{0,15}"
    r"\bdox+\b",
    r"\b(is|was|are)\b.{1,60}\bregistered\b.{0,40}\b(party|vote|voter|and|where|as)\b",
    r"\bwhat party is (he|she|they|this|that)\b",
    r"\b(party affiliation|voting history|voter record|registration status|how .{1,30} voted|"
    r"who .{1,30} voted for)\b.{0,40}\b(of|for|is|was|did)\b",
    r"\b\d{1,6}\s+\w+(\s\w+)?\s+(st|street|ave|avenue|rd|road|ln|lane|dr|drive|blvd|way|ct|"
    r"court|pl|place)\b",
    r"\bfind (out )?(who|where|the identity)\b.{0,60}\b(lives?|is|posted|behind|runs)\b",
    r"\bd[oó]nde vive\b",
]
_INSTRUCTIONS = [
    r"\b(ignore|disregard|forget|override)\b.{0,30}\b(instructions|rules|prompts?|guidelines|"
    r"programming|policy|policies)\b",
    r"\b(system|hidden) prompt\b",
    r"\b(developer|god|dan|jailbreak) mode\b|\bjailbreak\b",
    r"\bpretend (you are|to be|you're)\b",
    r"\byou are now\b",
    r"\bact as\b.{0,30}\b(unfiltered|unrestricted|without (any )?(rules|restrictions))\b",
    r"\bignora (tus|las) instrucciones\b",
]
_COMPILED: list[tuple[Refusal, re.Pattern[str]]] = [
    *(("instructions", re.compile(p, re.I)) for p in _INSTRUCTIONS),
    *(("personal_data", re.compile(p, re.I)) for p in _PERSONAL),
    *(("partisan", re.compile(p, re.I)) for p in _PARTISAN),
]


def check(question: str) -> Refusal | None:
    """The reason to refuse this question, or None when it may go to the knowledge base."""
    text = " ".join(question.split())
    for kind, pattern in _COMPILED:
        if pattern.search(text):
            return kind
    return None
