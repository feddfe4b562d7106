"""Who may receive an alert by e-mail: the TLP rules for ``email:`` destinations.

Chat destinations are inside tools the office (or its partners) administer; an e-mail leaves
for a mailbox anywhere. So, by the label (FIRST TLP 2.0):

* TLP:RED never goes to e-mail;
* TLP:AMBER and TLP:AMBER+STRICT only to addresses in the domains the office lists
  (``alerts.email.amber_domains``: ``sos.example.gov`` is that domain exactly,
  ``*.example.gov`` every domain below ``example.gov`` but not ``example.gov`` itself);
* TLP:CLEAR and TLP:GREEN to any address.

A recipient the rules keep out still gets a recipient row, with the reason (:class:`Exclusion`),
so the status view says who was not sent the alert and why. The tier ceilings
(``alerts.tiers``) apply first and to every channel alike.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, TypeVar

from bot.config.settings import AppConfig
from bot.errors import UserError
from handlers.alerts.config import AlertsConfig
from handlers.alerts.enums import Tlp
from handlers.alerts.network import Entry
from handlers.alerts.replies import build_nobody_left


class Exclusion(StrEnum):
    """Why a recipient was not sent an alert (stored on its recipient row)."""

    RED_BY_EMAIL = "tlp_red_email"
    AMBER_OUTSIDE_DOMAINS = "tlp_amber_domain"


def domain_listed(domain: str, rules: Iterable[str]) -> bool:
    """Whether ``domain`` (lower case) is one of ``rules`` (``a.b`` exactly, ``*.b`` below b)."""
    for rule in rules:
        if rule.startswith("*."):
            if domain.endswith(rule[1:]):
                return True
        elif domain == rule:
            return True
    return False


def exclusion(tlp: str, destination: str, config: AlertsConfig) -> Exclusion | None:
    """Why ``destination`` may not receive an alert labelled ``tlp`` (None: it may)."""
    if not destination.startswith("email:"):
        return None
    label = Tlp(tlp)
    if label is Tlp.RED:
        return Exclusion.RED_BY_EMAIL
    if label in (Tlp.AMBER, Tlp.AMBER_STRICT):
        # Stored destinations are in normal form already: no need to validate them again
        # (thousands of members), only to read the domain.
        domain = destination.rpartition("@")[2].lower()
        if not domain_listed(domain, config.email.amber_domains):
            return Exclusion.AMBER_OUTSIDE_DOMAINS
    return None


class Addressed(Protocol):
    """Anything with a destination (a network entry, a recipient row)."""

    @property
    def destination(self) -> str:
        """Where it goes."""
        ...


T = TypeVar("T", bound=Addressed)


def split(items: Iterable[T], *, tlp: str,
          config: AlertsConfig) -> tuple[list[T], list[tuple[T, Exclusion]]]:
    """``items`` as (may receive, kept out with the reason), in their order."""
    allowed: list[T] = []
    kept_out: list[tuple[T, Exclusion]] = []
    for item in items:
        reason = exclusion(tlp, item.destination, config)
        if reason is None:
            allowed.append(item)
        else:
            kept_out.append((item, reason))
    return allowed, kept_out


def check_tlp(app: AppConfig, tlp: str, tiers: set[str]) -> None:
    """Refuse a label above any receiving tier's ceiling (T3: CLEAR only), whatever channel."""
    too_high = sorted(t for t in tiers if not app.section(AlertsConfig).tlp_allowed(t, tlp))
    if too_high:
        raise UserError(f"TLP:{tlp} may not go to {', '.join(too_high)} "
                        f"(T3 community partners only receive TLP:CLEAR). Nothing was sent.")


@dataclass(frozen=True)
class Reach:
    """An alert's recipients: those it is sent to, and those the e-mail rules keep out."""

    sent: list[Entry]
    kept_out: list[tuple[Entry, Exclusion]]

    @property
    def excluded(self) -> dict[str, int]:
        """How many were kept out, per reason."""
        return dict(Counter(str(reason) for _entry, reason in self.kept_out))

    @property
    def per_tier(self) -> Counter[str]:
        """Those it is sent to, per tier."""
        return Counter(e.tier for e in self.sent)


def plan(entries: list[Entry], *, app: AppConfig, tlp: str) -> Reach:
    """Split an alert's recipients by the rules above, tier ceilings checked first.

    UserError when the label is above a receiving tier's ceiling, or when there were
    recipients and the rules keep out every one of them (nothing is stored or sent).
    """
    check_tlp(app, tlp, {e.tier for e in entries})
    sent, kept_out = split(entries, tlp=tlp, config=app.section(AlertsConfig))
    found = Reach(sent, kept_out)
    if kept_out and not sent:
        raise UserError(build_nobody_left(found.excluded, tlp))
    return found
