"""The domains' pages (:mod:`bot.pages`) over aiohttp: bounded input in, escaped HTML out.

Each page is one small self-contained document: ``lang``, a viewport for phones, one ``h1``
that labels the main region, black on white, large type and a large focusable button, and no
script (the only style is inline and pinned by hash in the Content-Security-Policy). Every
string a handler gives is escaped here. Responses are never cached or indexed and send no
referrer beyond this site (page addresses may carry capabilities, such as a link token).

What reaches a handler is bounded: a POST body of at most :data:`MAX_BODY` bytes of
``application/x-www-form-urlencoded`` UTF-8 with at most :data:`MAX_FIELDS` fields; anything
else is answered here (400, 413, 415) without calling it.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Sequence
from urllib.parse import parse_qsl, urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.messages import Tone
from bot.ops.limits import client_address
from bot.pages import Page, PageRequest, PageRoute
from bot.services import Services

MAX_BODY = 4096
MAX_FIELDS = 20
FORM = "application/x-www-form-urlencoded"
STYLE = (
    "*{box-sizing:border-box}"
    "body{margin:0;background:#fff;color:#111;font:1.125rem/1.5 system-ui,-apple-system,"
    "'Segoe UI',Roboto,Arial,sans-serif}"
    "main{max-width:36rem;margin:0 auto;padding:1.5rem 1rem;border-top:.5rem solid #1a3d7c}"
    "main.warning{border-color:#8a4b00}main.danger,main.denied{border-color:#a4000f}"
    "main.success{border-color:#0b6b2b}"
    "h1{font-size:1.5rem;line-height:1.3;margin:0 0 1rem}"
    "dl{margin:1rem 0}dt{font-weight:700}dd{margin:0 0 .5rem}"
    "button{font:inherit;font-weight:700;min-height:3rem;width:100%;padding:.75rem 1rem;"
    "color:#fff;background:#1a3d7c;border:2px solid #1a3d7c;border-radius:.375rem;cursor:pointer}"
    "button:hover{background:#0f2752}"
    "button:focus-visible{outline:3px solid #111;outline-offset:3px}"
    ".byline{margin-top:2rem;font-size:1rem;color:#333}"
    "@media (prefers-color-scheme:dark){body{background:#111;color:#f2f2f2}"
    ".byline{color:#ccc}button:focus-visible{outline-color:#fff}}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
CSP = (f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
}
TONES = {Tone.INFO: "info", Tone.SUCCESS: "success", Tone.WARNING: "warning",
         Tone.DANGER: "danger", Tone.DENIED: "denied"}


def render(page: Page) -> str:
    """The page as one HTML document; every string given by the handler is escaped."""
    esc = html.escape
    parts = [f"<h1 id=\"title\">{esc(page.title)}</h1>"]
    parts += [f"<p>{esc(text)}</p>" for text in page.paragraphs if text]
    if page.facts:
        rows = "".join(f"<dt>{esc(f.label)}</dt><dd>{esc(f.value)}</dd>" for f in page.facts)
        parts.append(f"<dl>{rows}</dl>")
    if page.confirm is not None:
        hidden = "".join(f"<input type=\"hidden\" name=\"{esc(name)}\" value=\"{esc(value)}\">"
                         for name, value in page.confirm.fields)
        parts.append(f"<form method=\"post\" aria-labelledby=\"title\">{hidden}"
                     f"<button type=\"submit\">{esc(page.confirm.label)}</button></form>")
    if page.byline:
        parts.append(f"<p class=\"byline\">{esc(page.byline)}</p>")
    return ("<!doctype html>\n"
            f"<html lang=\"{esc(page.lang)}\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<meta name=\"robots\" content=\"noindex, nofollow\">"
            f"<title>{esc(page.title)}</title><style>{STYLE}</style></head>"
            f"<body><main class=\"{TONES.get(page.tone, 'info')}\" aria-labelledby=\"title\">"
            f"{''.join(parts)}</main></body></html>\n")


def respond(page: Page) -> web.Response:
    """The HTTP response for ``page`` (a HEAD gets the same headers, aiohttp drops the body)."""
    headers = dict(HEADERS)
    if page.retry_after is not None:
        headers["Retry-After"] = str(page.retry_after)
    return web.Response(text=render(page), status=page.status, content_type="text/html",
                        charset="utf-8", headers=headers)


def _plain(status: int, title: str, text: str) -> web.Response:
    return respond(Page(status=status, title=title, paragraphs=(text,), tone=Tone.WARNING))


def cross_site(request: web.Request, public_url: str | None) -> bool:
    """Whether the browser says the request came from a page of another site.

    ``Sec-Fetch-Site: cross-site``, or an ``Origin`` other than this server's (``public_url``
    when set, else the address the request was sent to). ``Origin: null`` (privacy settings,
    a page opened from a file) and no header at all are not taken as another site.
    """
    if request.headers.get("Sec-Fetch-Site", "").strip().lower() == "cross-site":
        return True
    origin = request.headers.get("Origin", "").strip()
    if not origin or origin == "null":
        return False
    own = public_url or f"{request.scheme}://{request.host}"
    parts = urlsplit(origin)
    return f"{parts.scheme}://{parts.netloc}".lower() != own.lower()


async def read_form(request: web.Request) -> dict[str, str] | web.Response:
    """A POST's form fields, or the 4xx response that refuses the body."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        return _plain(413, "Request too large", "This page only accepts its own small form.")
    if request.can_read_body and request.content_type != FORM:
        return _plain(415, "Form not accepted", "Send the page's own form.")
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        return _plain(413, "Request too large", "This page only accepts its own small form.")
    try:
        fields = parse_qsl(raw.decode("utf-8"), keep_blank_values=True,
                           max_num_fields=MAX_FIELDS, errors="strict")
    except (UnicodeDecodeError, ValueError):
        return _plain(400, "Form not readable", "Send the page's own form.")
    if any("\x00" in name or "\x00" in value for name, value in fields):
        return _plain(400, "Form not readable", "Send the page's own form.")
    return dict(fields)


def setup(app: web.Application, services: Services, routes: Sequence[PageRoute]) -> None:
    """Mount every route (GET and HEAD; POST too where the route takes a form)."""
    webchat = services.settings.app.webchat

    def view(route: PageRoute) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            form: dict[str, str] = {}
            if request.method == "POST":
                read = await read_form(request)
                if isinstance(read, web.Response):
                    return read
                form = read
            page_request = PageRequest(
                method=request.method if request.method in ("HEAD", "POST") else "GET",  # type: ignore[arg-type]
                params=dict(request.match_info), form=form,
                address=client_address(request.remote, request.headers.get("X-Forwarded-For", ""),
                                       webchat.trusted_proxies),
                cross_site=cross_site(request, webchat.public_url))
            return respond(await route.handler(page_request, services))
        return handle

    for route in routes:
        handler = view(route)
        app.router.add_get(route.path, handler)  # HEAD too (aiohttp's allow_head)
        if route.post:
            app.router.add_post(route.path, handler)
