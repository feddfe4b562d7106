"""The answer page of an e-mailed link in a real browser: keyboard only, on a phone, in the dark.

Every state is checked with axe-core (WCAG 2.0/2.1 A and AA: 0 violations). The button is
reached with Tab and pressed with Enter; the browser's own POST (its Origin and Sec-Fetch-Site
headers) records the answer. Screenshots go to ``EB_SCREENSHOT_DIR`` when set.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from tests.bot.adapters.webchat.axe import assert_accessible
from tests.bot.adapters.webchat.test_browser import chromium, driver  # noqa: F401  (the fixture)
from tests.handlers.alerts.test_ack_links import _acks, _client, _links, _send, _settings

pytestmark = pytest.mark.browser
PHONE = {"width": 375, "height": 812, "deviceScaleFactor": 2, "mobile": True}


def _shot(browser: Any, tmp_path: Path, name: str) -> None:
    folder = Path(os.environ.get("EB_SCREENSHOT_DIR", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(folder / name))


async def test_answer_page_by_keyboard_on_a_phone(tmp_path: Path, driver: Any) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    async with _client(_settings(tmp_path)) as (bot, _session):
        alert = await _send(bot)
        url = bot.url + (await _links(bot, alert))["Received"]
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
        await asyncio.to_thread(driver.get, url)
        assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
        assert driver.find_element(By.TAG_NAME, "h1").text == "Confirm your answer: Received"
        assert "Polls <b>open</b>" in driver.find_element(By.TAG_NAME, "main").text
        assert not driver.find_elements(By.TAG_NAME, "script")
        await asyncio.to_thread(assert_accessible, driver, "ack page: confirm (phone)")
        _shot(driver, tmp_path, "ack-page-confirm-phone.png")
        button = driver.find_element(By.TAG_NAME, "button")
        assert button.size["height"] >= 44 and button.size["width"] >= 300  # a large target
        assert await _acks(bot) == []  # the browser's GET recorded nothing

        body = driver.find_element(By.TAG_NAME, "body")
        body.send_keys(Keys.TAB)
        focused = driver.switch_to.active_element
        assert focused.text == "Confirm: Received"
        await asyncio.to_thread(focused.send_keys, Keys.ENTER)
        for _ in range(200):
            if "recorded" in driver.find_element(By.TAG_NAME, "h1").text:
                break
            await asyncio.sleep(0.05)
        assert driver.find_element(By.TAG_NAME, "h1").text == "Thank you, recorded: Received"
        assert await _acks(bot) == [("email:relay:jane.doe@example.org", "received")]
        await asyncio.to_thread(assert_accessible, driver, "ack page: recorded (phone)")
        _shot(driver, tmp_path, "ack-page-recorded-phone.png")

        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
            "features": [{"name": "prefers-color-scheme", "value": "dark"}]})
        await asyncio.to_thread(driver.get, url)
        assert "Already recorded: Received at" in driver.find_element(By.TAG_NAME, "h1").text
        await asyncio.to_thread(assert_accessible, driver, "ack page: already (dark)")
        _shot(driver, tmp_path, "ack-page-already-dark.png")
