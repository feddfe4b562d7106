"""Every word of e-mail acknowledgement: the e-mail's footer and the answer page's states.

Like ``replies.py``, small ``build_*`` functions staff can review. Pages are plain text (the
renderer escapes it), so names and headlines go in as typed, never through ``literal``.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.config.settings import Contact
from bot.messages import Fact, Tone
from bot.pages import Confirm, Page
from bot.when import moment
from handlers.alerts.replies import ACK_KINDS

CONFIRM_FIELD = "confirm"


def describe(contact: Contact | None, office: str) -> str:
    """Whom to contact, as one line: the configured contact with its ways, else the office."""
    if contact is None:
        return office
    ways = [w for w in (contact.email, contact.phone, contact.url) if w]
    return contact.name + (f" ({', '.join(ways)})" if ways else "")


def build_email_footer(*, who: str, group: str, tier: str, organisation: str, office: str,
                       contact: str) -> str:
    """Why this address receives the alert and whom to ask (plain text, shown as it is)."""
    return (f"You receive this because {who} is listed in the \"{group}\" group ({tier}) of "
            f"the {office} alert network, for {organisation}. These are operational messages "
            f"about elections. If they should go to someone else, or for any question, "
            f"contact {contact}.")


def build_links_intro() -> str:
    """The line above the answer links of an e-mailed alert."""
    return ("Please answer with one of the links below. No sign-in is needed; you confirm "
            "your answer on the page it opens.")


def _facts(headline: str, organisation: str, kind: str) -> tuple[Fact, ...]:
    return (Fact("Alert", headline), Fact("Your answer", ACK_KINDS[kind]),
            Fact("Answering for", organisation))


def build_confirm_page(*, headline: str, organisation: str, kind: str, expires: datetime,
                       zone: ZoneInfo, byline: str, kept: str = "") -> Page:
    """The page a link opens: what would be recorded, and one button to record it.

    Opening the page records nothing (mail security scanners open links); only the button
    does. ``kept``: an answer already recorded, when the link asks for help after it.
    """
    label = ACK_KINDS[kind]
    text = [f"Press the button to record your answer \"{label}\" to this alert. Nothing is "
            "recorded until you do."]
    if kept:
        text = [f"Your answer \"{ACK_KINDS.get(kept, kept)}\" stays recorded. Press the button "
                "to tell state staff that you need help with this alert; they will contact you."]
    return Page(status=200, title=f"Confirm your answer: {label}", paragraphs=(
        *text, f"This link works until {moment(expires, zone)}."),
        facts=_facts(headline, organisation, kind), byline=byline,
        confirm=Confirm(f"Confirm: {label}", ((CONFIRM_FIELD, kind),)))


def build_recorded_page(*, headline: str, organisation: str, kind: str, byline: str,
                        kept: str = "") -> Page:
    """After the button: recorded (and, for "Need help", state staff told).

    ``kept``: the answer recorded earlier, when this was "Need help" after it (it stays).
    """
    if kept:
        return Page(status=200, title="State staff have been told you need help",
                    tone=Tone.SUCCESS, facts=_facts(headline, organisation, kind),
                    byline=byline, paragraphs=(
                        "They will contact you.",
                        f"Your answer stays \"{ACK_KINDS.get(kept, kept)}\". You can close "
                        "this page."))
    lines = ("State staff have been told and will contact you.",) if kind == "need_help" else ()
    return Page(status=200, title=f"Thank you, recorded: {ACK_KINDS[kind]}", tone=Tone.SUCCESS,
                paragraphs=(*lines, "You can close this page."),
                facts=_facts(headline, organisation, kind), byline=byline)


def build_already_page(*, headline: str, first: str, at: datetime, zone: ZoneInfo,
                       byline: str, help_known: bool = False) -> Page:
    """A link used again, or another answer after the first: the first answer stands."""
    label = ACK_KINDS.get(first, first)
    text = [f"This alert was already answered \"{label}\" from this address; the first "
            "answer is kept and nothing more was recorded."]
    if help_known:
        text.append("State staff already know you need help with this alert and will "
                    "contact you.")
    return Page(status=200, title=f"Already recorded: {label} at {moment(at, zone)}",
                paragraphs=tuple(text), facts=(Fact("Alert", headline),), byline=byline)


def build_bad_link_page(contact: str, byline: str) -> Page:
    """A token we did not sign, cut short or changed (400)."""
    return Page(status=400, title="This link is not valid", tone=Tone.WARNING, paragraphs=(
        "Nothing was recorded. The link may have been cut or changed on the way: open it "
        "exactly as it is in the e-mail (some mail programs split long links).",
        f"To answer another way, contact {contact}."), byline=byline)


def build_expired_page(contact: str, byline: str) -> Page:
    """A genuine link past its alert's expiry (410)."""
    return Page(status=410, title="This link has expired", tone=Tone.WARNING, paragraphs=(
        "Nothing was recorded: the alert it answers has expired, so its links no longer "
        "record answers.", f"If you still need to tell us something about it, contact "
        f"{contact}."), byline=byline)


def build_refused_page(contact: str, byline: str) -> Page:
    """A signed link that does not match its alert's recipients (403; audited)."""
    return Page(status=403, title="This link cannot be used", tone=Tone.DENIED, paragraphs=(
        "Nothing was recorded: this link does not belong to a recipient of the alert it "
        "names. The attempt was recorded.", f"Contact {contact} if you received it from us."),
        byline=byline)


def build_cross_site_page(byline: str) -> Page:
    """A confirmation sent from another web site's page (403)."""
    return Page(status=403, title="Answer from the link itself", tone=Tone.DENIED, paragraphs=(
        "Nothing was recorded: the answer was sent from another web site. Open the link from "
        "the e-mail and press the button on that page.",), byline=byline)


def build_use_button_page(byline: str) -> Page:
    """A POST that is not this page's own button (400)."""
    return Page(status=400, title="Use the button on the page", tone=Tone.WARNING, paragraphs=(
        "Nothing was recorded. Open the link from the e-mail and press the button on the "
        "page it shows.",), byline=byline)


def build_busy_page(contact: str, byline: str) -> Page:
    """Too many pages for one network address this hour (429)."""
    return Page(status=429, title="Too many requests", tone=Tone.WARNING, paragraphs=(
        "Nothing was recorded: too many answer pages were opened from your network this "
        "hour. Please try again later.", f"If it is urgent, contact {contact}."),
        byline=byline, retry_after=600)


def build_unavailable_page(contact: str, byline: str) -> Page:
    """Links cannot be checked here (no key configured) (503)."""
    return Page(status=503, title="Answers by link are not available", tone=Tone.WARNING,
                paragraphs=("Nothing was recorded: this server is not set up to check answer "
                            "links.", f"Please contact {contact}."), byline=byline)
