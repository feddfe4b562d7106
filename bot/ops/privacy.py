"""Find and scrub personal data in free text (questions kept for curators, incident text)."""

from __future__ import annotations

import re

EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(\.[\w-]+)+\b")
PHONE = re.compile(r"(?<!\w)(\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}(?!\w)")
SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b|\b(ssn|social security( number)?)\W{0,3}\d{9}\b", re.I)
DATE = re.compile(r"\b\d{1,2}[/-]\d{1,2}[/-]\d{2,4}\b|\b(19|20)\d{2}-\d{2}-\d{2}\b")
DOB = re.compile(r"\b(dob|date of birth|birth ?date|born( on)?)\W{0,3}\S+", re.I)
ADDRESS = re.compile(
    r"\b\d{1,6}\s+(\w+\s){0,3}(st|street|ave|avenue|rd|road|ln|lane|dr|drive|blvd|boulevard|"
    r"way|ct|court|pl|place|hwy|highway)\b\.?", re.I)
TITLED_NAME = re.compile(r"\b(?i:mr|mrs|ms|miss|dr)\.?\s+[A-Z][a-z'-]+(\s+[A-Z][a-z'-]+)?")
CAPITALISED_PAIR = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z'-]+\s+[A-Z][a-z'-]+\b")
INTRODUCED_NAME = re.compile(r"\b(named|called|name is|is named)\s+[A-Za-z'-]+(\s+[A-Z][a-z'-]+)?",
                             re.I)
# Capitalised pairs that are organisations or places people ask about, not people.
KNOWN_PHRASES = frozenset(
    w.lower() for w in (
        "Secretary State", "Election Center", "Elections Division", "Fusion Center",
        "Intelligence Center", "Task Force", "New York", "Los Angeles", "El Dorado",
        "San Francisco", "Election Day", "Homeland Security", "Election Excellence",
        "Clearinghouse Award", "General Election", "Presidential General",
    )
)


def scrub(text: str) -> str:
    """Replace emails, phone numbers, SSNs, dates, street addresses and likely names."""
    out = EMAIL.sub("[email]", text)
    out = SSN.sub("[ssn]", out)
    out = DOB.sub("[dob]", out)
    out = PHONE.sub("[phone]", out)
    out = DATE.sub("[date]", out)
    out = ADDRESS.sub("[address]", out)
    out = TITLED_NAME.sub("[name]", out)
    out = INTRODUCED_NAME.sub(lambda m: f"{m.group(1)} [name]", out)
    return CAPITALISED_PAIR.sub(_name_or_known, out)


def _name_or_known(match: re.Match[str]) -> str:
    phrase = match.group(0)
    words = phrase.lower().split()
    if " ".join(words) in KNOWN_PHRASES or any(w in _PLACE_WORDS for w in words):
        return phrase
    return "[name]"


_PLACE_WORDS = frozenset({"county", "city", "town", "state", "office", "department", "center",
                          "commission", "agency", "division", "election", "elections", "general",
                          "court", "university", "college", "church", "association", "board"})


def sensitive_patterns(text: str) -> list[str]:
    """Which kinds of obviously sensitive data appear (SSN, date of birth) - for warnings."""
    found = []
    if SSN.search(text):
        found.append("a Social Security number")
    if DOB.search(text):
        found.append("a date of birth")
    return found
