"""The domains' page renderer: everything escaped, no script, style pinned by hash; the
cross-site test; form bodies bounded before any handler runs."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.adapters import pages
from bot.messages import Fact, Tone
from bot.pages import Confirm, Page, PageRequest, PageRoute
from bot.services import Services
from tests.support import make_settings, migrated

EVIL = '<script>alert(1)</script>" onmouseover="x'


def test_every_string_is_escaped_and_nothing_runs() -> None:
    page = Page(status=200, title=EVIL, paragraphs=(EVIL, ""), tone=Tone.DANGER,
                facts=(Fact(EVIL, EVIL),), confirm=Confirm(EVIL, ((EVIL, EVIL),)), byline=EVIL,
                lang='en"><script>')
    html = pages.render(page)
    assert "<script" not in html and 'onmouseover="' not in html
    # title (twice), paragraph, fact label and value, hidden name and value, button, byline
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 9
    assert '<main class="danger" aria-labelledby="title">' in html
    assert "<p></p>" not in html  # empty paragraphs are left out


def test_the_inline_style_is_the_one_the_policy_allows() -> None:
    html = pages.render(Page(status=200, title="t"))
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)  # type: ignore[union-attr]
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in pages.CSP and "script-src" not in pages.CSP
    assert "default-src 'none'" in pages.CSP and "form-action 'self'" in pages.CSP


async def _serve(tmp_path: Path, seen: list[PageRequest], **webchat: str):
    settings = make_settings(tmp_path, webchat=webchat)
    migrated(settings.env.DATABASE_URL)
    from app.services import build_services

    services: Services = build_services(settings)

    async def handler(request: PageRequest, _services: Services) -> Page:
        seen.append(request)
        return Page(status=200, title="ok", paragraphs=(request.params.get("x", ""),))

    app = web.Application()
    pages.setup(app, services, [PageRoute("/p/{x}", handler, post=True),
                                PageRoute("/get-only", handler)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, services, f"http://127.0.0.1:{port}"


async def test_requests_reach_the_handler_bounded_and_labelled(tmp_path: Path) -> None:
    seen: list[PageRequest] = []
    runner, services, url = await _serve(tmp_path, seen, public_url="https://bot.example.gov")
    try:
        async with aiohttp.ClientSession() as http:
            async def call(method: str, path: str, **kw) -> int:
                async with http.request(method, url + path, **kw) as resp:
                    return resp.status
            assert await call("GET", "/p/a%3Cb") == 200
            assert await call("HEAD", "/p/z") == 200
            assert await call("POST", "/p/y", data={"confirm": "received", "k": ""}) == 200
            assert await call("POST", "/p/y", data={"a": "b"},
                              headers={"Origin": "https://evil.example"}) == 200
            assert await call("POST", "/p/y", data={"a": "b"},
                              headers={"Origin": "https://bot.example.gov"}) == 200
            assert await call("POST", "/get-only") == 405
            before = len(seen)
            assert await call("POST", "/p/y", data="x=" + "y" * 5000,
                              headers={"Content-Type": pages.FORM}) == 413
            assert await call("POST", "/p/y", json={"a": 1}) == 415
            assert await call("POST", "/p/y", data=b"a=%ff",
                              headers={"Content-Type": pages.FORM}) == 400
            assert await call("POST", "/p/y", data=b"a=%00",
                              headers={"Content-Type": pages.FORM}) == 400
            assert await call("POST", "/p/y", data="&".join(["a=b"] * 30),
                              headers={"Content-Type": pages.FORM}) == 400
            assert len(seen) == before  # refused before the handler
    finally:
        await runner.cleanup()
        await services.db.close()
    get, head, post, evil, own = seen[:5]
    assert (get.method, get.params, get.form, get.changes) == ("GET", {"x": "a<b"}, {}, False)
    assert head.method == "HEAD" and not head.changes
    assert post.changes and post.form == {"confirm": "received", "k": ""}
    assert post.address == "127.0.0.1" and not post.cross_site
    assert evil.cross_site and not own.cross_site
