"""Sign in to the web chat in a real headless Chromium, ask, see the answer, sign out."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from bot.adapters.webchat.accounts import add_account
from tests.bot.adapters.webchat.axe import assert_accessible
from tests.bot.adapters.webchat.test_browser import driver  # noqa: F401  (the fixture)
from tests.bot.adapters.webchat.test_webchat_auth import PASSWORD
from tests.support import make_settings, running_bot

pytestmark = pytest.mark.browser


def _sign_in_ask_sign_out(browser, url: str, shot: Path) -> dict[str, object]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 15)
    browser.get(url)
    user = wait.until(ec.element_to_be_clickable((By.ID, "signin-user")))
    assert_accessible(browser, "sign-in page")
    seen: dict[str, object] = {"picker_hidden": not browser.find_element(By.ID, "picker")
                               .is_displayed(),
                               "composer_hidden": not browser.find_element(By.ID, "composer")
                               .is_displayed()}
    user.send_keys("ann")
    browser.find_element(By.ID, "signin-password").send_keys("wrong password here")
    browser.find_element(By.ID, "signin-submit").click()
    wait.until(lambda b: b.find_element(By.ID, "signin-error").text)
    seen["error"] = browser.find_element(By.ID, "signin-error").text
    assert_accessible(browser, "sign-in page with an error shown")
    browser.save_screenshot(str(shot.with_name("webchat-signin-form.png")))
    box = browser.find_element(By.ID, "signin-password")
    box.clear()
    box.send_keys(PASSWORD)
    browser.find_element(By.ID, "signin-submit").click()
    text = wait.until(ec.element_to_be_clickable((By.ID, "text")))
    assert_accessible(browser, "signed in: the landing")
    seen["who"] = browser.find_element(By.ID, "who").text
    text.send_keys("what is the pause method")
    browser.find_element(By.ID, "send").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-role=reply]")))
    seen["answer"] = browser.find_elements(By.CSS_SELECTOR, "[data-role=reply]")[0].text
    assert_accessible(browser, "signed in: after an answer")
    browser.save_screenshot(str(shot))
    seen["cookie_http_only"] = "electionbot_session" not in browser.execute_script(
        "return document.cookie")
    browser.find_element(By.ID, "signout").click()
    wait.until(ec.element_to_be_clickable((By.ID, "signin-user")))
    seen["after_signout_log"] = browser.find_element(By.ID, "log").text
    assert_accessible(browser, "sign-in page after signing out")
    return seen


async def test_sign_in_ask_and_sign_out_in_a_real_browser(tmp_path: Path, driver) -> None:  # noqa: F811
    settings = make_settings(tmp_path, demo=False)
    shot = Path(os.environ.get("EB_SCREENSHOT_DIR", tmp_path)) / "webchat-signed-in.png"
    async with running_bot(settings) as bot:
        await add_account(bot.services.db, name="ann", password=PASSWORD, totp=False)
        seen = await asyncio.to_thread(_sign_in_ask_sign_out, driver, bot.url + "/", shot)
        async with bot.services.db.engine.connect() as conn:
            import sqlalchemy as sa

            sessions = (await conn.execute(sa.text("SELECT count(*) FROM web_session"))).scalar()
    assert seen["picker_hidden"] and seen["composer_hidden"]
    assert "Sign-in failed" in str(seen["error"])
    assert seen["who"] == "Signed in as ann"
    assert "VoteSure@sos.ca.gov" in str(seen["answer"])
    assert seen["cookie_http_only"] is True
    assert seen["after_signout_log"] == ""
    assert sessions == 0
    assert shot.stat().st_size > 1000
