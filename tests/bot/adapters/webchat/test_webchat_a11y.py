"""What a clerk sees: the web chat in English and Spanish, by keyboard, on a phone, in the dark.

Every page state reached here is checked with axe-core (WCAG 2.0/2.1 A and AA: 0 violations).
Screenshots go to ``EB_SCREENSHOT_DIR`` when it is set (else the test's temp dir).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.webchat.accounts import add_account
from tests.bot.adapters.webchat.axe import assert_accessible
from tests.bot.adapters.webchat.test_browser import chromium, driver  # noqa: F401  (the fixture)
from tests.bot.adapters.webchat.test_webchat_auth import PASSWORD
from tests.support import REAL_KB, ROOT, make_settings, running_bot

pytestmark = pytest.mark.browser

CHAT_JS = ROOT / "bot" / "adapters" / "webchat" / "static" / "chat.js"
PHONE = {"width": 375, "height": 812, "deviceScaleFactor": 2, "mobile": True}
REPLY = "[data-role=reply]"


def strings() -> dict[str, dict[str, str]]:
    """The page's table of its own words (chat.js keeps it as strict JSON)."""
    found = re.search(r"^const STRINGS = (\{.*?^\});", CHAT_JS.read_text(encoding="utf-8"),
                      re.S | re.M)
    assert found, "chat.js has no STRINGS table"
    return json.loads(found.group(1))


def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("EB_SCREENSHOT_DIR", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _wait(browser, seconds: int = 20) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, seconds)


def _open(browser, url: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(url)
    _wait(browser).until(lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-inbox"))


def _ask(browser, text: str) -> Any:
    """Type ``text`` and press Enter; the reply bubble that answers it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    before = len(browser.find_elements(By.CSS_SELECTOR, REPLY))
    browser.find_element(By.ID, "text").send_keys(text + Keys.ENTER)
    _wait(browser).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, REPLY)) > before)
    return browser.find_elements(By.CSS_SELECTOR, REPLY)[-1]


def _labels(browser) -> dict[str, Any]:
    """The page's own words and languages as the browser shows them now."""
    from selenium.webdriver.common.by import By

    text = browser.find_element(By.ID, "text")
    return {"html": browser.find_element(By.TAG_NAME, "html").get_attribute("lang"),
            "placeholder": text.get_attribute("placeholder"),
            "box": text.get_attribute("aria-label"),
            "send": browser.find_element(By.ID, "send").get_attribute("textContent"),
            "log": browser.find_element(By.ID, "log").get_attribute("aria-label"),
            "you_are": browser.find_element(By.CSS_SELECTOR, "#picker span")
            .get_attribute("textContent"),
            "heading": browser.find_element(By.ID, "suggestions-title").get_attribute("textContent"),
            "asks": [b.get_attribute("textContent")
                     for b in browser.find_elements(By.CSS_SELECTOR, "#suggestions button")]}


def _fits(browser) -> dict[str, Any]:
    """No sideways scrolling, and the message box inside the viewport."""
    return browser.execute_script("""
        const box = document.getElementById("text").getBoundingClientRect();
        return {wide: document.documentElement.scrollWidth - window.innerWidth,
                box_inside: box.top >= 0 && box.bottom <= window.innerHeight
                            && box.left >= 0 && box.right <= window.innerWidth,
                width: window.innerWidth};""")


def _english_then_spanish(browser, url: str, folder: Path) -> dict[str, Any]:
    _open(browser, url)
    seen: dict[str, Any] = {"start": _labels(browser)}
    browser.save_screenshot(str(folder / "landing-en-desktop.png"))
    english = _ask(browser, "what is the pause method")
    seen["en_reply"] = english.get_attribute("lang")
    seen["en_items"] = [li.text for li in english.find_elements("css selector", "ul > li")]
    assert_accessible(browser, "an English answer")
    browser.save_screenshot(str(folder / "answer-en-desktop.png"))
    spanish = _ask(browser, "¿Qué es el método PAUSE?")
    seen["es_reply"], seen["es_text"] = spanish.get_attribute("lang"), spanish.text
    seen["es_inner"] = [(e.get_attribute("lang"), e.text[:40])
                        for e in spanish.find_elements("css selector", "[lang]")]
    seen["es_mine"] = browser.find_elements("css selector", ".msg.me")[-1].get_attribute("lang")
    seen["after_es"] = _labels(browser)
    seen["title"] = browser.title
    assert_accessible(browser, "an English and then a Spanish answer")
    browser.save_screenshot(str(folder / "answer-es-desktop.png"))
    _open(browser, url)  # the language the person wrote in last is remembered
    seen["reload"] = _labels(browser)
    assert_accessible(browser, "the landing in Spanish")
    browser.save_screenshot(str(folder / "landing-es-desktop.png"))
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    seen["phone_landing"] = _fits(browser)
    assert_accessible(browser, "the landing in Spanish on a phone")
    browser.save_screenshot(str(folder / "landing-es-phone.png"))
    _ask(browser, "¿Qué es el método PAUSE?")
    seen["phone_answer"] = _fits(browser)
    assert_accessible(browser, "a Spanish answer on a phone")
    browser.save_screenshot(str(folder / "answer-es-phone.png"))
    english = _ask(browser, "what is the pause method")
    seen["back"] = (english.get_attribute("lang"), _labels(browser))
    assert_accessible(browser, "an English answer after a Spanish one")
    return seen


async def test_the_page_speaks_spanish_once_the_person_writes_spanish(
        tmp_path: Path, driver) -> None:  # noqa: F811
    table = strings()
    async with running_bot(make_settings(tmp_path, knowledge_path=str(REAL_KB))) as bot:
        seen = await asyncio.to_thread(_english_then_spanish, driver, bot.url + "/",
                                       shots(tmp_path))
    en, es = table["en"], table["es"]
    assert seen["start"] == {"html": "en", "placeholder": en["placeholder"], "box": en["message"],
                             "send": en["send"], "log": en["conversation"],
                             "you_are": en["you_are"], "heading": en["try_asking"],
                             "asks": [en[k] for k in ("ask_pause", "ask_phishing", "ask_kansas",
                                                      "ask_threat")]}
    assert seen["en_reply"] == "en"
    # the article's five PAUSE steps are a real list, not lines starting with "- "
    assert [item[:3] for item in seen["en_items"]] == ["P, ", "A, ", "U, ", "S, ", "E, "]
    assert not any(item.startswith("-") for item in seen["en_items"])
    assert seen["es_reply"] == "es" and seen["es_mine"] == "es"
    assert "PAUSE" in seen["es_text"] and "VoteSure@sos.ca.gov" in seen["es_text"]
    # The details are in Spanish too: no block inside the reply speaks another language
    # (an article without Spanish details marks its English block: test_answers.py).
    assert [lang for lang, _ in seen["es_inner"]] == [], seen["es_inner"]
    assert "Pay attention (prestar atención)" in seen["es_text"]  # the Spanish details
    es_labels = {"html": "es", "placeholder": es["placeholder"], "box": es["message"],
                 "send": "Enviar", "log": "Conversación", "you_are": "Usted es (demo)",
                 "heading": es["try_asking"],
                 "asks": [es[k] for k in ("ask_pause", "ask_phishing", "ask_kansas", "ask_threat")]}
    assert seen["after_es"] == es_labels
    assert seen["title"] == es["title"]
    assert seen["reload"] == es_labels
    for state in ("phone_landing", "phone_answer"):
        assert seen[state] == {"wide": 0, "box_inside": True, "width": 375}, state
    lang, labels = seen["back"]
    assert lang == "en" and labels["html"] == "en" and labels["send"] == "Send"


def _spanish_browser(browser, url: str, folder: Path) -> dict[str, Any]:
    from selenium.webdriver.common.by import By

    _open(browser, url)
    seen: dict[str, Any] = {"navigator": browser.execute_script("return navigator.language"),
                            "labels": _labels(browser)}
    assert_accessible(browser, "the landing for a Spanish browser")
    [ask] = [b for b in browser.find_elements(By.CSS_SELECTOR, "#suggestions button")
             if "PAUSE" in b.text]
    ask.click()
    _wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, REPLY))
    reply = browser.find_element(By.CSS_SELECTOR, REPLY)
    seen["reply"] = (reply.get_attribute("lang"), reply.text)
    seen["mine"] = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".msg.me")]
    assert_accessible(browser, "a suggested question answered in Spanish")
    return seen


async def test_a_spanish_browser_gets_spanish_labels_and_questions(tmp_path: Path) -> None:
    es = strings()["es"]
    with chromium(language="es-ES") as browser:
        async with running_bot(make_settings(tmp_path, knowledge_path=str(REAL_KB))) as bot:
            seen = await asyncio.to_thread(_spanish_browser, browser, bot.url + "/",
                                           shots(tmp_path))
    assert seen["navigator"].startswith("es")
    assert seen["labels"]["html"] == "es" and seen["labels"]["send"] == es["send"]
    assert seen["labels"]["heading"] == es["try_asking"]
    assert es["ask_pause"] in seen["labels"]["asks"]
    assert seen["mine"] == [es["ask_pause"]]
    lang, text = seen["reply"]
    assert lang == "es" and "método PAUSE" in text and "No tengo una respuesta" not in text


def _spanish_sign_in(browser, url: str, folder: Path) -> dict[str, Any]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    browser.get(url)
    user = _wait(browser).until(ec.element_to_be_clickable((By.ID, "signin-user")))
    seen: dict[str, Any] = {"heading": browser.find_element(By.ID, "signin-title").text,
                            "labels": [e.text for e in browser.find_elements(
                                By.CSS_SELECTOR, "#signin-form label:not([hidden])")],
                            "button": browser.find_element(By.ID, "signin-submit").text}
    assert_accessible(browser, "the sign-in page in Spanish")
    browser.save_screenshot(str(folder / "signin-es-desktop.png"))
    user.send_keys("ann")
    browser.find_element(By.ID, "signin-password").send_keys(PASSWORD)
    browser.find_element(By.ID, "signin-submit").click()
    _wait(browser).until(ec.element_to_be_clickable((By.ID, "text")))
    seen["who"] = browser.find_element(By.ID, "who").text
    seen["signout"] = browser.find_element(By.ID, "signout").text
    assert_accessible(browser, "signed in, in Spanish")
    return seen


async def test_the_sign_in_page_speaks_the_browsers_spanish(tmp_path: Path) -> None:
    es = strings()["es"]
    with chromium(language="es") as browser:
        async with running_bot(make_settings(tmp_path, demo=False)) as bot:
            await add_account(bot.services.db, name="ann", password=PASSWORD, totp=False)
            seen = await asyncio.to_thread(_spanish_sign_in, browser, bot.url + "/",
                                           shots(tmp_path))
    assert seen["heading"] == es["sign_in"] and seen["button"] == es["sign_in"]
    assert seen["labels"] == [es["name"], es["password"]]
    assert seen["who"] == "Sesión iniciada como ann" and seen["signout"] == es["sign_out"]


def _keyboard_form_and_error(browser, url: str, folder: Path) -> dict[str, Any]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _open(browser, url)
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    skip = browser.switch_to.active_element
    seen: dict[str, Any] = {"first_tab": (skip.get_attribute("class"), skip.text,
                                          skip.rect["y"] >= 0)}
    skip.send_keys(Keys.ENTER)
    seen["skipped_to"] = browser.switch_to.active_element.get_attribute("id")
    reply = _ask(browser, "/incident")
    form = reply.find_element(By.TAG_NAME, "form")
    focused = browser.switch_to.active_element
    seen["form"] = {"name": form.get_attribute("aria-label"),
                    "focus_in_form": focused.find_elements(By.XPATH, "ancestor::form") != []
                    and form.get_attribute("data-form-id") == focused.find_element(
                        By.XPATH, "ancestor::form").get_attribute("data-form-id"),
                    "required": len(form.find_elements(By.CSS_SELECTOR, "[aria-required=true]"))}
    assert_accessible(browser, "the incident form open")
    browser.save_screenshot(str(folder / "form-en-desktop.png"))
    submit = form.find_element(By.CSS_SELECTOR, "button[type=submit]")
    before = len(browser.find_elements(By.CSS_SELECTOR, REPLY))
    submit.send_keys(Keys.ENTER)
    _wait(browser).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, REPLY)) > before)
    after = browser.find_elements(By.CSS_SELECTOR, REPLY)[-1]
    seen["next_form_focused"] = bool(after.find_elements(By.TAG_NAME, "form")) and \
        after.find_elements(By.CSS_SELECTOR, "form *:focus") != []
    errors = after.find_elements(By.CSS_SELECTOR, ".field-error")
    seen["errors_marked"] = (len(errors), len(after.find_elements(By.CSS_SELECTOR,
                                                                  "[aria-invalid=true]")))
    assert_accessible(browser, "the incident form sent back")
    name = browser.find_element(By.ID, "user")
    name.clear()
    name.send_keys("not a name!")
    browser.find_element(By.ID, "text").send_keys("hello" + Keys.ENTER)
    _wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#log .msg.bot .error"))
    seen["error"] = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#log .msg.bot .error")]
    seen["focus_after_error"] = browser.switch_to.active_element.get_attribute("id")
    assert_accessible(browser, "an error shown")
    return seen


async def test_keyboard_reaches_the_conversation_forms_and_errors(tmp_path: Path, driver) -> None:  # noqa: F811
    async with running_bot(make_settings(tmp_path)) as bot:
        seen = await asyncio.to_thread(_keyboard_form_and_error, driver, bot.url + "/",
                                       shots(tmp_path))
    assert seen["first_tab"] == ("skip", "Skip to the conversation", True)
    assert seen["skipped_to"] == "main"
    assert seen["form"]["name"] and seen["form"]["focus_in_form"] is True
    assert seen["form"]["required"] >= 1
    assert seen["next_form_focused"] is True
    count, marked = seen["errors_marked"]
    assert count == marked  # every field with an error says so to a screen reader
    assert seen["error"] and "user must be" in seen["error"][0]
    assert seen["focus_after_error"] == "text"  # ready to try again


def _phone_and_dark(browser, url: str, folder: Path) -> dict[str, Any]:
    from selenium.webdriver.common.by import By

    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    _open(browser, url)
    seen: dict[str, Any] = {"landing": _fits(browser), "targets": [
        (b.size["width"], b.size["height"]) for b in browser.find_elements(
            By.CSS_SELECTOR, "#suggestions button, #send")]}
    assert_accessible(browser, "the landing on a phone")
    browser.save_screenshot(str(folder / "landing-en-phone.png"))
    _ask(browser, "what is the pause method")
    seen["answer"] = _fits(browser)
    assert_accessible(browser, "an English answer on a phone")
    browser.save_screenshot(str(folder / "answer-en-phone.png"))
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [
        {"name": "prefers-color-scheme", "value": "dark"},
        {"name": "prefers-reduced-motion", "value": "reduce"}]})
    seen["dark"] = browser.execute_script(
        "return getComputedStyle(document.body).backgroundColor")
    assert_accessible(browser, "an answer in the dark scheme")
    browser.save_screenshot(str(folder / "answer-en-dark.png"))
    _open(browser, url)
    assert_accessible(browser, "the landing in the dark scheme")
    browser.save_screenshot(str(folder / "landing-en-dark.png"))
    return seen


async def test_a_phone_and_the_dark_scheme(tmp_path: Path, driver) -> None:  # noqa: F811
    async with running_bot(make_settings(tmp_path, knowledge_path=str(REAL_KB))) as bot:
        seen = await asyncio.to_thread(_phone_and_dark, driver, bot.url + "/", shots(tmp_path))
    for state in ("landing", "answer"):
        assert seen[state] == {"wide": 0, "box_inside": True, "width": 375}, state
    assert all(w >= 44 and h >= 44 and w <= 375 for w, h in seen["targets"])
    assert seen["dark"] == "rgb(20, 24, 31)"


def test_every_label_has_both_languages_and_page_html_matches_english() -> None:
    from html.parser import HTMLParser

    table = strings()
    assert set(table) == {"en", "es"} and set(table["en"]) == set(table["es"])
    assert all(v.strip() for words in table.values() for v in words.values())

    class Keys(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.text: dict[str, str] = {}
            self.open: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            named = dict(attrs)
            for attr in ("data-i18n-placeholder", "data-i18n-aria-label"):
                if named.get(attr):
                    target = "placeholder" if attr.endswith("placeholder") else "aria-label"
                    self.text.setdefault(str(named[attr]), str(named.get(target)))
            if named.get("data-i18n"):
                self.open.append(str(named["data-i18n"]))
                self.text[self.open[-1]] = ""

        def handle_endtag(self, tag: str) -> None:
            if self.open and tag in ("span", "button", "h2", "h3", "p", "a"):
                self.open.pop()

        def handle_data(self, data: str) -> None:
            if self.open:
                self.text[self.open[-1]] += data

    parser = Keys()
    parser.feed((CHAT_JS.parent / "page.html").read_text(encoding="utf-8"))
    shown = {k: " ".join(v.split()) for k, v in parser.text.items()}
    assert len(shown) >= 20
    assert {k: table["en"][k] for k in shown} == shown  # no English drifted from the table
