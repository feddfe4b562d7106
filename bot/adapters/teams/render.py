"""Neutral :class:`Reply` -> a Bot Framework activity with an Adaptive Card (pure, no I/O).

Inbound activities are read by ``translate.py``.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

from bot.adapters.teams.cards import (
    CARD_CONTENT_TYPE,
    build_card,
    teams_markdown,
)
from bot.messages import (
    REPEAT_LINE,
    Reply,
    Section,
    Tone,
    lead,
)

#: Teams rejects activities over about 28 KB; leave room for the envelope the SDK adds
#: (from, recipient, conversation, serviceUrl, replyToId).
MAX_ACTIVITY_BYTES = 26 * 1024
MAX_TEXT = 4000  # characters of the plain-text fallback
SHORTENED = "(This reply was shortened to fit in a Teams message.)"


def _escape(text: str) -> str:
    # The activity's text is rendered as markdown/HTML by Teams; what users typed and we echo
    # must not become markup. Adaptive Card TextBlocks render no HTML, so they are left alone.
    return html.escape(text, quote=False)


def _size(activity: Mapping[str, Any]) -> int:
    return len(json.dumps(activity, ensure_ascii=False).encode("utf-8"))


#: Tones a plain line cannot show: such replies become a card in the tone's colour.
_STRONG = frozenset({Tone.WARNING, Tone.DANGER, Tone.DENIED})


def _styled(reply: Reply) -> bool:
    """Whether the reply leads with a heading or a colour (then the card holds it all)."""
    return bool(reply.title) or reply.tone != Tone.INFO


def _has_card(reply: Reply, sections: tuple[Section, ...]) -> bool:
    """Whether the reply needs more than a line of markdown text."""
    return bool(sections or reply.buttons or reply.form is not None or reply.title
                or reply.fields or reply.items or reply.links or reply.tone in _STRONG)


def _build(reply: Reply, sections: tuple[Section, ...]) -> dict[str, Any]:
    activity: dict[str, Any] = {"type": "message", "textFormat": "markdown"}
    if not _has_card(reply, sections):
        activity["text"] = _escape(teams_markdown(reply.text, reply.mentions))
        return _marked(reply, activity)
    main = lead(reply, sections)
    if main and not _styled(reply):
        # A plain main line reads above the card; a titled or coloured one is on the card.
        activity["text"] = _escape(teams_markdown(main, reply.mentions))
        main = ""
    # The card's fallback text may be read as markdown: typed text stays inert there too.
    fallback = teams_markdown("\n\n".join(
        t for t in (reply.title, reply.text, *(s.text for s in sections)) if t),
        reply.mentions)[:MAX_TEXT]
    card = build_card(reply, sections, main, fallback)
    activity["attachments"] = [{"contentType": CARD_CONTENT_TYPE, "content": card}]
    # The summary is what notifications and the chat list show for a card.
    summary = reply.text if not reply.title or reply.title in reply.text \
        else f"{reply.title}: {reply.text}"
    activity["summary"] = teams_markdown(summary, reply.mentions)[:200]
    return _marked(reply, activity)


def _marked(reply: Reply, activity: dict[str, Any]) -> dict[str, Any]:
    """A possible repeat says so on its first line (the text above any card) and summary."""
    if reply.repeat:
        activity["text"] = "\n\n".join(
            t for t in (f"**{_escape(REPEAT_LINE)}**", activity.get("text")) if t)
        if "summary" in activity:
            activity["summary"] = f"{REPEAT_LINE}: {activity['summary']}"[:200]
    return activity


def _may_fit(sections: Sequence[Section]) -> bool:
    """False when the sections' texts alone are over the budget (no need to build it all)."""
    room = MAX_ACTIVITY_BYTES
    for section in sections:
        room -= len(section.text)
        if room < 0:
            return False
    return True


def _shortened(reply: Reply) -> dict[str, Any] | None:
    """The reply with as many leading sections as fit, then :data:`SHORTENED`; None: none fit.

    The first sections carry the answer, later ones detail, so trailing ones go. The size grows
    with the sections kept, so the count is found by bisection, and never above the count whose
    texts alone would fill the budget: a digest of thousands of sections costs a dozen small
    builds, not one build per section dropped.
    """
    sections = reply.sections
    if not sections:
        return None
    fits = -1  # the most sections known to fit (-1: not even none)
    high = 0  # the most that may still fit
    room = MAX_ACTIVITY_BYTES
    while high < len(sections) - 1 and room > 0:  # all but the last, as a cut reply drops one
        room -= len(sections[high].text.encode("utf-8"))
        high += 1
    best: dict[str, Any] | None = None
    while fits + 1 <= high:
        middle = (fits + 1 + high) // 2
        activity = _build(reply, (*sections[:middle], Section(SHORTENED)))
        if _size(activity) <= MAX_ACTIVITY_BYTES:
            fits, best = middle, activity
            if middle == high:
                break
        else:
            high = middle - 1
    return best


def to_activity(reply: Reply) -> dict[str, Any]:
    """Render a neutral reply as a message activity: markdown text, plus a card when it has more.

    A reply with only a main line is markdown text. Anything more (facts, sections, a form,
    buttons, a title, a warning tone) goes on one Adaptive Card that says each thing once: a
    plain main line stays above the card, a titled or toned one opens the card in the tone's
    colour. The card's fallback text and the activity's summary carry the main line for clients
    and notifications without cards. ``reply.ephemeral`` changes where a reply goes, not how it
    looks (``delivery.py``).
    """
    if _may_fit(reply.sections):
        activity = _build(reply, reply.sections)
        if _size(activity) <= MAX_ACTIVITY_BYTES:
            return activity
    shortened = _shortened(reply)
    if shortened is not None:
        return shortened
    # Still too big (a huge form or text): send the text alone, cut to fit.
    budget = MAX_ACTIVITY_BYTES // 6  # worst case 5 bytes a character: '&' -> '&amp;'
    return _marked(reply, {"type": "message", "textFormat": "markdown",
                           "text": _escape(teams_markdown(reply.text[:budget], reply.mentions))
                           + "\n\n" + SHORTENED})
