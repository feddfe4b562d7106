"""The web chat's landing shows the person's home above the suggested questions."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from bot.config.settings import Settings
from handlers.home.replies import SUGGESTED
from tests.bot.adapters.webchat.test_browser import driver  # noqa: F401 (fixture)
from tests.bot.adapters.webchat.test_landing import _Suggestions
from tests.support import ROOT, make_settings, running_bot


async def test_home_endpoint_is_the_persons_home(settings: Settings) -> None:
    async with running_bot(settings) as bot, aiohttp.ClientSession() as http:
        async with http.get(f"{bot.url}/webchat/home?user=boss") as resp:
            assert resp.status == 200
            reply = (await resp.json())["reply"]
        assert reply["title"] == "Home for boss"
        assert reply["sections"][0]["text"] == "**Needs attention statewide**"
        async with http.get(f"{bot.url}/webchat/home?user=guest") as resp:
            guest = (await resp.json())["reply"]
        assert not [s for s in guest["sections"] if "statewide" in s["text"]]
        for bad in ("", "a%20b", "x" * 41):
            async with http.get(f"{bot.url}/webchat/home?user={bad}") as resp:
                assert resp.status == 400
                assert "user must be" in (await resp.json())["error"]


async def test_home_needs_a_signed_in_person_outside_demo_mode(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, demo=False, roles={"state_staff": ["web:local:boss"]},
                             webchat={"local_accounts": True})
    async with running_bot(settings) as bot, aiohttp.ClientSession() as http:
        async with http.get(f"{bot.url}/webchat/home?user=boss") as resp:
            assert resp.status == 401


def test_the_welcome_offers_the_landings_four_questions() -> None:
    page = _Suggestions()
    page.feed((ROOT / "bot/adapters/webchat/static/page.html").read_text(encoding="utf-8"))
    assert tuple(page.found) == SUGGESTED


def _landing(browser, url: str, shot: Path) -> tuple[str, list[str]]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.set_window_size(900, 1100)
    browser.get(url)
    browser.execute_script("localStorage.setItem('electionbot.user', 'boss')")
    browser.get(url)
    wait = WebDriverWait(browser, 15)
    panel = wait.until(lambda b: b.find_element(By.CSS_SELECTOR, "#landing #home-panel[data-loaded=yes]"))
    order = [e.get_attribute("id") for e in
             browser.find_elements(By.CSS_SELECTOR, "#landing > *") if e.get_attribute("id")]
    browser.save_screenshot(str(shot))
    return panel.text, order


async def test_landing_shows_the_home_panel_in_a_real_browser(tmp_path: Path,
                                                               driver) -> None:  # noqa: F811
    settings = make_settings(tmp_path)
    shot = tmp_path / "webchat_home.png"
    async with running_bot(settings) as bot:
        text, order = await asyncio.to_thread(_landing, driver, bot.url + "/", shot)
    assert "Home for boss" in text and "Needs attention statewide" in text
    assert order.index("home-panel") < order.index("suggestions-title")
    assert shot.stat().st_size > 10_000
