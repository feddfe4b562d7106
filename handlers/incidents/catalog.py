"""Incident vocabulary: categories, severities, statuses and the moves between them."""

from __future__ import annotations

from handlers.incidents.danger import reports_danger
from handlers.incidents.enums import IncidentStatus, Severity

CATEGORIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "physical_safety": ("Physical safety", (
        "violence", "weapon", "bomb threat", "suspicious package or white powder", "swatting",
        "evacuation", "medical")),
    "threat_harassment": ("Threat or harassment", (
        "threat to an official", "doxxing", "harassment", "voter intimidation")),
    "disruption_polling_place": ("Disruption at a polling place", (
        "disruptive person", "electioneering", "observer dispute", "blocked access",
        "long lines", "facility problem", "staffing or supply shortage", "accessibility")),
    "equipment_systems": ("Equipment or systems", (
        "tabulator", "ballot-marking device", "poll book", "registration database",
        "results site", "seal discrepancy", "missing equipment")),
    "cyber": ("Cyber", (
        "phishing reported", "phishing clicked", "account compromise", "malware or ransomware",
        "DDoS or site outage", "defacement", "unauthorized access", "data exposure")),
    "ballot_custody": ("Ballot custody", (
        "chain-of-custody break", "missing ballots", "reconciliation discrepancy",
        "drop box damage", "mail ballot issue")),
    "misinformation": ("Misinformation", (
        "false date, place or method", "fake official account", "impersonation text or robocall",
        "manipulated media")),
    "hazard_continuity": ("Hazard or continuity", (
        "weather", "fire", "flood", "utility outage")),
    "other": ("Other", ()),
}

SEVERITY_LABELS = {
    Severity.SEV1: "SEV1 - someone in immediate danger",
    Severity.SEV2: "SEV2 - voting or a critical system stopped, confirmed compromise or "
                   "credible threat",
    Severity.SEV3: "SEV3 - operations degraded or misinformation spreading locally",
    Severity.SEV4: "SEV4 - other",
}

OPEN_STATUSES = frozenset(s for s in IncidentStatus if s.is_open)
# Any open status may move to any other open status or to resolved; resolved may reopen or close.
TRANSITIONS: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    **{s: (OPEN_STATUSES | {IncidentStatus.RESOLVED}) - {s} for s in OPEN_STATUSES},
    IncidentStatus.RESOLVED: frozenset({IncidentStatus.IN_PROGRESS, IncidentStatus.MONITORING,
                                        IncidentStatus.CLOSED}),
    IncidentStatus.CLOSED: frozenset(),
}

# Words in a quick free-text report that mean someone may be in danger right now. A quick report
# is triaged cautiously: when in doubt it is treated as SEV1 until the reporter completes it.
DANGER_WORDS = frozenset({
    "gun", "guns", "firearm", "weapon", "weapons", "knife", "shot", "shots", "shooting",
    "shooter", "bomb", "explosive", "explosives", "fire", "smoke", "injured", "injury",
    "bleeding", "unconscious", "collapsed", "assault", "assaulted", "attack", "attacked",
    "stabbed", "powder", "hostage", "threatening", "overdose", "heart",
})


def severity_from_answers(*, danger: bool, stopped: bool, degraded: bool) -> Severity:
    """The three questions local staff answer, in order; the first yes decides."""
    if danger:
        return Severity.SEV1
    if stopped:
        return Severity.SEV2
    if degraded:
        return Severity.SEV3
    return Severity.SEV4


def quick_triage(text: str) -> Severity:
    """Provisional severity for a one-line report until the full form is completed."""
    words = {w.strip(".,!?;:'\"()¡¿").lower() for w in text.split()}
    return Severity.SEV1 if words & DANGER_WORDS or reports_danger(text) else Severity.SEV3


def subcategory_options() -> list[tuple[str, str]]:
    """All sub-categories as select options: value ``category/sub``."""
    return [(f"{key}/{sub}", f"{label}: {sub}") for key, (label, subs) in CATEGORIES.items()
            for sub in subs]
