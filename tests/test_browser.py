"""The web chat in a real headless Chromium: open the page, ask, click a button, see the reply."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator

import pytest

from bot.config import Settings
from tests.support import in_ci, running_bot

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture
def driver() -> Iterator[object]:
    if not (CHROMIUM and CHROMEDRIVER):
        reason = "Debian's chromium and chromium-driver are not installed"
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="eb-chromium-")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield browser
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _chat(browser, url: str) -> tuple[str, str, str]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 15)
    browser.get(url)
    box = wait.until(ec.element_to_be_clickable((By.ID, "text")))
    box.send_keys("what is the pause method")
    browser.find_element(By.ID, "send").click()
    answer = wait.until(ec.presence_of_element_located(
        (By.CSS_SELECTOR, "[data-role=reply] button")))
    first = browser.find_elements(By.CSS_SELECTOR, "[data-role=reply]")[0].text
    helpful = [b for b in browser.find_elements(By.CSS_SELECTOR, "[data-role=reply] button")
               if "yes" in b.text.lower()][0]
    assert answer is not None
    helpful.click()
    wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "[data-role=reply]")) >= 2)
    second = browser.find_elements(By.CSS_SELECTOR, "[data-role=reply]")[1].text
    box.send_keys("<b>bold</b> <img src=x>")
    browser.find_element(By.ID, "send").click()
    wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "[data-role=reply]")) >= 3)
    mine = browser.find_elements(By.CSS_SELECTOR, ".msg.me")[-1].text
    assert not browser.find_elements(By.CSS_SELECTOR, "#log b, #log img")
    return first, second, mine


async def test_ask_and_click_in_a_real_browser(settings: Settings, driver) -> None:
    async with running_bot(settings) as bot:
        first, second, mine = await asyncio.to_thread(_chat, driver, bot.url + "/")
    assert "VoteSure@sos.ca.gov" in first
    assert "Source:" in first
    assert second.startswith("Thanks")
    assert mine == "<b>bold</b> <img src=x>"  # shown as text, never as markup
