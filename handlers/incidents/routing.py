"""Where a quick report goes: the jurisdiction its text names, else its reporter's, else ask.

A quick report (``/incident TEXT``) has no jurisdiction field. The text is read first (state
names, postal codes, the names and codes of the jurisdictions in app.yaml), then who reports it
(the jurisdictions they manage incidents for or supervise certifications in, or declared). When
the two disagree, or nothing is found and the office works with several jurisdictions, the
reporter is asked: until they answer, the report is held (filed, jurisdiction not set, only
on-call paged for a SEV1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.config.settings import AppConfig
from handlers.certifications.config import CertificationConfig
from handlers.faq.places import named_states
from handlers.incidents.config import IncidentSettings

#: The most jurisdictions offered as buttons (the full form lists every one).
MAX_CHOICES = 8


@dataclass(frozen=True)
class Routing:
    """The jurisdiction to file under, or (``jurisdiction`` None) the ones to ask about."""

    jurisdiction: str | None
    choices: tuple[str, ...] = ()


def named_jurisdictions(text: str, app: AppConfig) -> list[str]:
    """Jurisdiction codes the text names, restricted to the configured ones when there are any."""
    configured = [j.code for j in app.jurisdictions]
    # A jurisdiction's own name is one more of its names, beside its aliases ("SOTS").
    names = {**{place.name: place.code for place in app.jurisdictions}, **app.aliases}
    found = named_states(text, extra_codes=frozenset(configured), aliases=names)
    for place in app.jurisdictions:
        if len(place.code) > 2 and re.search(
                rf"(?<![A-Za-z0-9]){re.escape(place.code)}(?![A-Za-z0-9])", text):
            found.append(place.code)
    return [code for code in dict.fromkeys(found) if not configured or code in configured]


def reporter_jurisdictions(app: AppConfig, identity: str, declared: str | None) -> list[str]:
    """The jurisdictions a reporter declared, manages incidents for, or supervises."""
    managed = [code for code, people in app.section(IncidentSettings).managers.items()
               if identity in people]
    supervised = [code for code, people in app.section(CertificationConfig).supervisors.items()
                  if identity in people]
    return list(dict.fromkeys([*([declared] if declared else []), *managed, *supervised]))


def route_quick_report(text: str, app: AppConfig, *, identity: str,
                       declared: str | None = None) -> Routing:
    """The text's one jurisdiction, else the reporter's one, else ask (or the office's only)."""
    named = named_jurisdictions(text, app)
    own = reporter_jurisdictions(app, identity, declared)
    if len(named) == 1 and (not own or named[0] in own):
        return Routing(named[0])
    if not named and len(own) == 1:
        return Routing(own[0])
    choices = list(dict.fromkeys([*named, *own])) or [j.code for j in app.jurisdictions]
    if len(choices) <= 1:
        return Routing(choices[0] if choices else app.office.state)
    return Routing(None, tuple(choices[:MAX_CHOICES]))


def may_route_to(app: AppConfig, code: str) -> bool:
    """Whether a chosen code is one the office works with (its own state when none listed)."""
    configured = [j.code for j in app.jurisdictions] or [app.office.state]
    return code in configured


def jurisdiction_name(app: AppConfig, code: str) -> str:
    """The configured name of a jurisdiction, else its code."""
    return next((j.name for j in app.jurisdictions if j.code == code), code)
