"""The core's CommonMark, inline, as HTML and as plain text for e-mail (pure functions).

What a person typed reaches the renderer backslash-escaped (:func:`bot.messages.literal`): each
escape is shielded first, so no pattern below can use an escaped character, and is shown as the
character itself at the end (HTML-escaped in HTML). Every piece of text is HTML-escaped where it
is written out, never before matching, so a typed ``<script>`` is text and a link's label cannot
close its tag. Links are made only of ``http://`` and ``https://`` addresses; anything else
(``javascript:``, ``data:``, ``mailto:``) stays the text it was.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from bot.messages import Mention, shield, unshield

INLINE = re.compile(
    r"\*\*(?P<bold>\S(?:[^*\n]*?\S)?)\*\*"
    r"|`(?P<code>[^`\n]+)`"
    r"|\[(?P<label>[^\]\n]+)\]\((?P<url>[^()\s]+)\)"
    r"|(?<![\w*])[_*](?P<em>\S(?:[^_*\n]*?\S)?)[_*](?![\w*])"
    r"|\{@(?P<mention>\d{1,3})\}"
    r"|(?P<bare>https?://[^\s<>()'\"\uE021-\uE07E]*[^\s<>()'\".,;:!?\uE021-\uE07E])"
)
LINK_STYLE = "color:#0b4f8a;text-decoration:underline"


def safe_url(url: str) -> str | None:
    """``url`` when it is a plain http(s) address with a host, else None."""
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def _text(part: str) -> str:
    return html.escape(unshield(part), quote=True)


def _anchor(label_html: str, url: str) -> str:
    return f'<a href="{html.escape(url, quote=True)}" style="{LINK_STYLE}">{label_html}</a>'


def _mention_label(mentions: tuple[Mention, ...], index: str) -> str | None:
    number = int(index)
    return "@" + mentions[number].label if number < len(mentions) else None


def to_html(text: str, mentions: tuple[Mention, ...] = ()) -> str:
    """One line or paragraph of CommonMark as escaped inline HTML."""
    return _html(shield(text), mentions)


def _html(text: str, mentions: tuple[Mention, ...]) -> str:
    out, last = [], 0
    for match in INLINE.finditer(text):
        out.append(_text(text[last:match.start()]))
        last = match.end()
        groups = match.groupdict()
        if groups["bold"] is not None:
            out.append(f"<strong>{_html(groups['bold'], mentions)}</strong>")
        elif groups["code"] is not None:
            out.append(f"<code>{_text(groups['code'])}</code>")
        elif groups["label"] is not None:
            url = safe_url(unshield(groups["url"]))
            out.append(_anchor(_html(groups["label"], mentions), url) if url
                       else _text(match.group(0)))
        elif groups["em"] is not None:
            out.append(f"<em>{_html(groups['em'], mentions)}</em>")
        elif groups["mention"] is not None:
            label = _mention_label(mentions, groups["mention"])
            out.append(f"<strong>{html.escape(label)}</strong>" if label
                       else _text(match.group(0)))
        else:
            url = safe_url(groups["bare"])
            out.append(_anchor(_text(groups["bare"]), url) if url else _text(groups["bare"]))
    out.append(_text(text[last:]))
    return "".join(out)


def to_text(text: str, mentions: tuple[Mention, ...] = ()) -> str:
    """One line or paragraph of CommonMark as plain text: markers gone, links spelled out."""
    return unshield(_plain(shield(text), mentions))


def _plain(text: str, mentions: tuple[Mention, ...]) -> str:
    def one(match: re.Match[str]) -> str:
        groups = match.groupdict()
        if groups["bold"] is not None:
            return _plain(groups["bold"], mentions)
        if groups["code"] is not None:
            return groups["code"]
        if groups["label"] is not None:
            url = safe_url(unshield(groups["url"]))
            label = _plain(groups["label"], mentions)
            if not url:
                return match.group(0)
            return url if unshield(label) == url else f"{label} ({groups['url']})"
        if groups["em"] is not None:
            return _plain(groups["em"], mentions)
        if groups["mention"] is not None:
            name = _mention_label(mentions, groups["mention"])
            # a name is shown as typed: shielded so no later step reads it as markup
            return shield(_escape_all(name)) if name else match.group(0)
        return groups["bare"]
    return INLINE.sub(one, text)


def _escape_all(text: str) -> str:
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", text)


def paragraphs(text: str) -> list[str]:
    """``text`` split at blank lines (CommonMark paragraphs), empty ones dropped."""
    return [part.strip("\n") for part in re.split(r"\n[ \t]*\n", text) if part.strip()]


def html_paragraph(text: str, mentions: tuple[Mention, ...] = ()) -> str:
    """One paragraph as inline HTML, its single line breaks kept."""
    return "<br>\n".join(to_html(line, mentions) for line in text.split("\n"))
