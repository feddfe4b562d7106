"""The e-mail's HTML part in a real headless Chromium: no WCAG 2.1 AA violation (axe-core).

``EB_SCREENSHOT_DIR=DIR`` keeps a screenshot of each (as docs/screenshots/email_alert.png was made).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.adapters.email.message import compose
from tests.bot.adapters.email.test_render import MAILER, NOW, alert_reply, parse, parts
from tests.bot.adapters.webchat.axe import assert_accessible
from tests.bot.adapters.webchat.test_browser import chromium

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("marking", ["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT"])
def test_email_html_is_accessible(tmp_path: Path, marking: str) -> None:
    reply = alert_reply(marking=marking,
                        title=f"EXERCISE - EXERCISE - EXERCISE | {marking} | SEVERE | "
                              "WARNING: Bomb threat at Ward 3")
    page = parts(parse(compose(reply, to="jane@example.org", key="k", mailer=MAILER,
                               now=NOW)))[1]
    path = tmp_path / "mail.html"
    path.write_text(page, encoding="utf-8")
    with chromium() as browser:
        browser.get(path.as_uri())
        assert browser.title.startswith(f"[{marking}]")
        assert_accessible(browser, f"e-mail {marking}")
        keep = os.environ.get("EB_SCREENSHOT_DIR")
        if keep:
            browser.set_window_size(760, 1100)
            browser.save_screenshot(str(Path(keep) / f"email_{marking[4:].lower()}.png"))
