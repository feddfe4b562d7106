"""The words of the status view (``/alert status``, the live status message, the CLI).

One line per tier, per channel (Slack, Teams, web chat, e-mail) and per jurisdiction; the
organisations as compact lines (one member: its state in a word), those needing attention first
and at most :data:`ORG_LINES` of them, so a broadcast to thousands reads in one screen.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.messages import Button, Fact, Reply, Section, Tone, literal
from bot.when import moment
from handlers.alerts.models import Alert
from handlers.alerts.replies import ACK_KINDS, OFFICE_UNKNOWN, _title, exclusion_words

#: The status view's answer columns, in order: the four answers, then nobody has answered.
NOT_YET = "not_yet"
ANSWER_LABELS = {**ACK_KINDS, NOT_YET: "Not yet"}
#: Which answer a member's row shows when several of its people answered differently.
ANSWER_RANK = ("need_help", "actioned", "not_applicable", "received")
LISTED = 50  # names listed under "Need help" and "Not acknowledged yet", at most
ORG_LINES = 25  # organisation lines shown, at most (the rest are counted)
#: How each channel kind is called (by the destination's platform).
CHANNEL_WORDS = {"slack": "Slack", "teams": "Teams", "web": "web chat", "webchat": "web chat",
                 "email": "e-mail"}
#: A member's state in the organisation lines, besides the four answers (in this order).
WAITING, SENDING, DELIVERED, FAILED = "waiting", "sending", "delivered", "failed"
STATE_WORDS = {"need_help": "NEED HELP", FAILED: "failed", WAITING: "waiting",
               SENDING: "not delivered yet", DELIVERED: "delivered",
               "actioned": "actioned", "not_applicable": "not applicable",
               "received": "received"}
#: Attention first: the lower the rank, the sooner an organisation is listed.
ATTENTION = {"need_help": 0, FAILED: 1, "excluded": 2, WAITING: 3, SENDING: 4}


def channel_word(destination: str) -> str:
    """"Slack", "Teams", "web chat" or "e-mail" for a destination."""
    return CHANNEL_WORDS.get(destination.partition(":")[0], "other")


@dataclass
class Tally:
    """Counts for one row of the status view: deliveries, and one count per answer column.

    Members the TLP rules kept out (``excluded``) count as recipients but in no answer column.
    """

    recipients: int = 0
    delivered: int = 0
    failed: int = 0
    excluded: int = 0
    answers: Counter[str] = field(default_factory=Counter)

    def line(self, label: str) -> str:
        """One line of the status view: delivery, then every answer column (zeros included)."""
        columns = ", ".join(f"{text.lower()} {self.answers[kind]}"
                            for kind, text in ANSWER_LABELS.items())
        kept_out = f", {self.excluded} not sent" if self.excluded else ""
        return (f"{label}: {self.delivered}/{self.recipients} delivered, {self.failed} failed"
                f"{kept_out}; {columns}")


class OrgTally:
    """One organisation: its members per channel kind and per state (answer, waiting, ...).

    Plain dicts and a rank kept as members are added: a status view of thousands of
    organisations is recomputed every few seconds during a broadcast.
    """

    __slots__ = ("channels", "kept_out", "rank", "states")

    def __init__(self) -> None:
        """No members yet."""
        self.channels: dict[str, int] = {}
        self.states: dict[str, int] = {}
        self.kept_out: dict[str, int] = {}  # exclusion reason -> members
        #: How urgently it needs attention (:data:`ATTENTION`; 99: every member answered).
        self.rank = 99

    def add(self, channel: str, state: str, excluded: str = "") -> None:
        """Count one member reached by ``channel`` (:func:`channel_word`).

        ``excluded``: why the TLP rules kept it out, if they did.
        """
        self.channels[channel] = self.channels.get(channel, 0) + 1
        if excluded:
            self.kept_out[excluded] = self.kept_out.get(excluded, 0) + 1
            self.rank = min(self.rank, ATTENTION["excluded"])
        else:
            self.states[state] = self.states.get(state, 0) + 1
            self.rank = min(self.rank, ATTENTION.get(state, 99))

    def line(self, name: str, tlp: str) -> str:
        """``Grace Church (e-mail): waiting`` or ``Hartford (Slack 2, e-mail 1): received 2, ...``."""
        members = sum(self.channels.values())
        kinds = ", ".join(f"{kind} {n}" if members > 1 else kind
                          for kind, n in sorted(self.channels.items()))
        order = list(STATE_WORDS)
        parts = [STATE_WORDS[s] if members == 1 else f"{STATE_WORDS[s]} {n}"
                 for s, n in sorted(self.states.items(), key=lambda i: order.index(i[0]))]
        parts += [f"not sent, {exclusion_words(r, tlp)}" if members == 1
                  else f"not sent {n} ({exclusion_words(r, tlp)})"
                  for r, n in sorted(self.kept_out.items())]
        return f"{literal(name)} ({kinds}): {', '.join(parts)}"


def build_organisations(orgs: dict[str, OrgTally], tlp: str) -> Section:
    """Organisations needing attention first, then the rest; at most :data:`ORG_LINES`."""
    shown = heapq.nsmallest(ORG_LINES, orgs.items(),
                            key=lambda item: (item[1].rank, item[0].casefold()))
    attention = sum(t.rank < 99 for t in orgs.values())
    lines = [t.line(name, tlp) for name, t in shown]
    if len(orgs) > len(shown):
        rest = len(orgs) - len(shown)
        waiting = attention - sum(t.rank < 99 for _, t in shown)
        lines.append(f"and {rest} more: {waiting} needing attention, "
                     f"{rest - waiting} with every member answered")
    head = (f"By organisation ({len(orgs)}; {attention} needing attention)" if orgs
            else "By organisation: none")
    return Section("\n".join([head, *lines]))


def _listed(names: Sequence[str]) -> str:
    more = f" and {len(names) - LISTED} more" if len(names) > LISTED else ""
    return ", ".join(names[:LISTED]) + more


def build_status(alert: Alert, tiers: dict[str, Tally], orgs: dict[str, OrgTally],
                 places: dict[str, Tally], *, need_help: Sequence[str],
                 not_yet: Sequence[str], channels: dict[str, Tally] | None = None,
                 zone: ZoneInfo = OFFICE_UNKNOWN, now: datetime | None = None) -> Reply:
    """Who answered what per tier, channel, organisation and jurisdiction; whom to call.

    ``need_help`` and ``not_yet`` are CommonMark lines (their names already :func:`literal`).

    "Need help" is an answer but not an acknowledgement: it has its own column, its own
    highlighted section naming who to call, and makes the whole view a warning. Members the
    TLP rules kept out of e-mail are "not sent", with why, and are nobody's to nudge.

    When it went out and when it expires read in ``zone`` (the reader's); with ``now`` also
    how long ago (a status asked for now; never the live message kept in the channel).
    """
    def block(title: str, rows: dict[str, Tally]) -> Section:
        return Section(f"{title}\n" + "\n".join(t.line(literal(k))
                                                  for k, t in sorted(rows.items())))
    totals: Counter[str] = Counter()
    kept_out = 0
    for tally in tiers.values():
        totals.update(tally.answers)
        kept_out += tally.excluded
    sections = []
    if need_help:
        sections.append(Section(f"**Need help: call them** ({len(need_help)}): "
                                f"{_listed(need_help)}"))
    if not_yet:
        waiting = f"Not acknowledged yet ({len(not_yet)}): {_listed(not_yet)}"
    elif need_help:
        waiting = "Not acknowledged yet: only those who need help (above); everyone else has."
    else:
        waiting = "Not acknowledged yet: none, everyone has acknowledged."
    times = [f"{word} {moment(at, zone, now)}" for word, at in
             (("Sent", alert.sent_at), ("expires", alert.expires_at)) if at is not None]
    sections += [block("By tier", tiers), block("By channel", channels or {}),
                 build_organisations(orgs, alert.tlp), block("By jurisdiction", places),
                 Section(waiting, context=" · ".join(times))]
    fields = [Fact(text, str(totals[kind])) for kind, text in ANSWER_LABELS.items()]
    if kept_out:
        fields.append(Fact("Not sent (TLP)", str(kept_out)))
    return Reply(
        text=f"Status of alert {alert.public_id} ({alert.status}): {_title(alert)}",
        title=f"Status of alert {alert.public_id} ({alert.status})",
        tone=Tone.WARNING if need_help else Tone.INFO,
        fields=tuple(fields), sections=tuple(sections),
        buttons=(Button("Refresh", "alert:status", alert.public_id),), ephemeral=True)
