"""The web chat in a real headless Chromium: open the page, ask, click a button, see the reply."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from bot.config.settings import Settings
from tests.bot.adapters.webchat.axe import assert_accessible
from tests.support import in_ci, running_bot

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")


@contextmanager
def chromium(*, language: str = "en-US") -> Iterator[Any]:
    """A headless Chromium with a fresh profile whose browser language is ``language``."""
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
                 "--window-size=1280,900", f"--lang={language}",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield browser
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def driver() -> Iterator[object]:
    with chromium() as browser:
        yield browser


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
    assert_accessible(browser, "demo: after an answer")
    helpful = [b for b in browser.find_elements(By.CSS_SELECTOR, "[data-role=reply] button")
               if "yes" in b.text.lower()][0]
    assert answer is not None
    helpful.click()
    wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "[data-role=reply]")) >= 2)
    second = browser.find_elements(By.CSS_SELECTOR, "[data-role=reply]")[1].text
    assert_accessible(browser, "demo: after a button click reply")
    box.send_keys("<b>bold</b> <img src=x>")
    browser.find_element(By.ID, "send").click()
    wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "[data-role=reply]")) >= 3)
    mine = browser.find_elements(By.CSS_SELECTOR, ".msg.me")[-1].text
    assert not browser.find_elements(By.CSS_SELECTOR, "#log b, #log img")
    assert_accessible(browser, "demo: typed markup shown as text")
    return first, second, mine


async def test_ask_and_click_in_a_real_browser(settings: Settings, driver) -> None:
    async with running_bot(settings) as bot:
        first, second, mine = await asyncio.to_thread(_chat, driver, bot.url + "/")
    assert "VoteSure@sos.ca.gov" in first
    assert "Source:" in first
    assert second.startswith("Thanks")
    assert mine == "<b>bold</b> <img src=x>"  # shown as text, never as markup


def _open_as(browser, url: str, user: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url)
    wait = WebDriverWait(browser, 15)
    name = wait.until(ec.element_to_be_clickable((By.ID, "user")))
    # Wait until the page has read its inbox (what waited is shown) before renaming.
    wait.until(lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-inbox"))
    name.clear()
    name.send_keys(user)
    browser.execute_script("arguments[0].dispatchEvent(new Event('change'))", name)


def _acknowledge(browser) -> tuple[list[str], str]:
    """Click Received on the alert that arrives; return the alert bubbles' text afterwards."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    # The page swaps an edited message in while we read it: a stale element means "look again".
    wait = WebDriverWait(browser, 20, ignored_exceptions=(StaleElementReferenceException,))

    def alerts(b) -> list:
        return [e for e in b.find_elements(By.CSS_SELECTOR, "[data-role=reply]")
                if "Polling hours" in e.text]
    wait.until(lambda b: alerts(b))
    assert_accessible(browser, "demo: an alert with buttons arrived in the inbox")
    [button] = [b for b in alerts(browser)[0].find_elements(By.TAG_NAME, "button")
                if b.text == "Received"]
    button.click()
    wait.until(lambda b: any("Thank you, recorded: Received" in e.text
                             for e in b.find_elements(By.CSS_SELECTOR, "[data-role=reply]")))
    wait.until(lambda b: "Acknowledged: Received" in alerts(b)[0].text)
    last = browser.find_elements(By.CSS_SELECTOR, "[data-role=reply]")[-1].text
    assert_accessible(browser, "demo: the alert marked in place")
    return [e.text for e in alerts(browser)], last


async def test_an_answered_alert_is_marked_in_place(tmp_path, driver) -> None:
    import aiohttp

    from tests.handlers.alerts.conftest import Chat, alert_settings, compose_values

    async with running_bot(alert_settings(tmp_path), background=True) as bot, \
            aiohttp.ClientSession() as session:
        await asyncio.to_thread(_open_as, driver, bot.url + "/", "clerk-ks")
        chat = Chat(session, bot.url)
        opened = await chat.say("bc1", "alert")
        preview = await chat.submit("bc1", opened["form"]["form_id"], compose_values())
        await chat.click("bc1", "alert:send", preview["buttons"][0]["value"])
        shown, last = await asyncio.to_thread(_acknowledge, driver)
    assert len(shown) == 1  # the edit took the original's place instead of repeating it
    assert "Acknowledged: Received" in shown[0] and "Need help" in shown[0]
    assert "Actioned" not in shown[0]
    assert "Thank you, recorded: Received" in last  # the answer is still where it was


def _reload_and_read(browser, url: str) -> list[str]:
    """Open the page afresh; once it has read its inbox, the text of every reply shown."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url)
    WebDriverWait(browser, 15).until(
        lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-inbox"))
    assert_accessible(browser, "demo: messages that waited in the inbox")
    return [e.text for e in browser.find_elements(By.CSS_SELECTOR, "[data-role=reply]")]


async def test_messages_waiting_before_the_page_loads_are_shown_once(settings: Settings,
                                                                      driver) -> None:
    from bot.adapters.webchat.endpoint import WebChatTransport
    from bot.messages import Destination, Reply

    guest = Destination("webchat", "local", user_id="guest")  # the page's default name
    async with running_bot(settings) as bot:
        inbox = WebChatTransport(bot.services.db)
        await inbox.send(guest, Reply(text="SEV1 incident INC-7 at Topeka", tone="danger"),
                         key="sev1")
        await inbox.send(guest, Reply(text="Please verify your account"), key="verify")
        first = await asyncio.to_thread(_reload_and_read, driver, bot.url + "/")
        again = await asyncio.to_thread(_reload_and_read, driver, bot.url + "/")
        await inbox.send(guest, Reply(text="Reminder: training due"), key="remind")
        third = await asyncio.to_thread(_reload_and_read, driver, bot.url + "/")
    assert len(first) == 2
    assert "SEV1 incident INC-7 at Topeka" in first[0]
    assert "Please verify your account" in first[1]
    assert again == []  # already shown: a reload does not repeat them
    assert len(third) == 1 and "Reminder: training due" in third[0]


HOSTILE = ("**Bold** _it_ `code` [guide](https://vote.example/a) "
           "[trap](javascript:alert(1)) <img src=x onerror=alert(1)> "
           "<a href='https://evil.example'>html</a> see https://ok.example/b. {@0}")


def _read_rendered(browser) -> dict[str, object]:
    """The bubble of the reply that arrives in the inbox, as the DOM shows it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 20).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, "[data-role=reply].tone-danger"))
    [bubble] = browser.find_elements(By.CSS_SELECTOR, "[data-role=reply].tone-danger")
    links = bubble.find_elements(By.TAG_NAME, "a")
    assert_accessible(browser, "demo: markdown with links, facts and mentions")
    return {
        "text": bubble.text,
        "strong": [e.text for e in bubble.find_elements(By.TAG_NAME, "strong")],
        "em": [e.text for e in bubble.find_elements(By.TAG_NAME, "em")],
        "code": [e.text for e in bubble.find_elements(By.TAG_NAME, "code")],
        "links": [(a.text, a.get_attribute("href"), a.get_attribute("rel")) for a in links],
        "title": [e.text for e in bubble.find_elements(By.CSS_SELECTOR, ".title")],
        "facts": [e.text for e in bubble.find_elements(By.CSS_SELECTOR, "dt, dd")],
        "items": [e.text for e in bubble.find_elements(By.TAG_NAME, "li")],
        "images": len(browser.find_elements(By.CSS_SELECTOR, "#log img")),
    }


async def test_markdown_is_rendered_safely_with_tone_title_and_facts(settings: Settings,
                                                                     driver) -> None:
    from bot.adapters.webchat.endpoint import WebChatTransport
    from bot.messages import Destination, Fact, Mention, Reply, Tone

    reply = Reply(text=HOSTILE, title="New incident", tone=Tone.DANGER,
                  fields=(Fact("Assignee", "{@0}"),), items=("one **item**",),
                  mentions=(Mention("webchat:local:pat", "pat"),))
    async with running_bot(settings) as bot:
        await asyncio.to_thread(_open_as, driver, bot.url + "/", "guest")
        await WebChatTransport(bot.services.db).send(
            Destination("webchat", "local", user_id="guest"), reply, key="md-test")
        shown = await asyncio.to_thread(_read_rendered, driver)
    assert shown["title"] == ["New incident"]  # once
    assert str(shown["text"]).count("New incident") == 1
    assert shown["strong"] == ["Bold", "item"] and shown["em"] == ["it"]
    assert shown["code"] == ["code"]
    # Bare URLs link to themselves (as Slack does); a link's label is never typed HTML.
    assert shown["links"] == [("guide", "https://vote.example/a", "noopener noreferrer"),
                              ("https://evil.example", "https://evil.example/",
                               "noopener noreferrer"),
                              ("https://ok.example/b", "https://ok.example/b",
                               "noopener noreferrer")]
    assert "[trap](javascript:alert(1))" in str(shown["text"])  # other schemes stay text
    assert "<img src=x onerror=alert(1)>" in str(shown["text"]) and shown["images"] == 0
    assert "<a href='https://evil.example'>html</a>" in str(shown["text"])
    assert shown["facts"] == ["Assignee", "@pat"] and shown["items"] == ["one item"]
    assert "ok.example/b. @pat\n" in str(shown["text"])


def _use_landing(browser, url: str) -> dict[str, object]:
    """Open the page; read the landing, ask its phishing suggestion by keyboard, read again."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 15)
    browser.get(url)
    landing = wait.until(ec.visibility_of_element_located((By.ID, "landing")))
    wait.until(lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-inbox"))
    buttons = landing.find_elements(By.CSS_SELECTOR, "#suggestions button")
    assert_accessible(browser, "demo: the landing")
    before = {"welcome": landing.text, "asks": [b.text for b in buttons],
              "shown": [b.is_displayed() for b in buttons],
              "heights": [b.size["height"] for b in buttons]}
    [phishing] = [b for b in buttons if "phishing" in b.text]
    phishing.send_keys(Keys.ENTER)  # a real button: the keyboard asks it too
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-role=reply]")))
    assert_accessible(browser, "demo: a suggested question answered")
    return {**before, "mine": [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".msg.me")],
            "answer": browser.find_element(By.CSS_SELECTOR, "[data-role=reply]").text,
            "landing_after": browser.find_element(By.ID, "landing").is_displayed(),
            "focus": browser.switch_to.active_element.get_attribute("id")}


async def test_the_landing_suggests_questions_and_leaves_once_one_is_asked(tmp_path,
                                                                          driver) -> None:
    from tests.support import REAL_KB, make_settings

    async with running_bot(make_settings(tmp_path, knowledge_path=str(REAL_KB))) as bot:
        seen = await asyncio.to_thread(_use_landing, driver, bot.url + "/")
    assert "nonpartisan" in str(seen["welcome"]) and "personal data" in str(seen["welcome"])
    assert "help" in str(seen["welcome"]) and "incident" in str(seen["welcome"])
    assert len(seen["asks"]) == 4 and all(seen["shown"])  # type: ignore[arg-type]
    assert min(seen["heights"]) >= 44  # type: ignore[type-var]
    assert seen["mine"] == ["How do I report phishing?"]
    assert "phishing" in str(seen["answer"]).lower()
    assert "vetted answer" not in str(seen["answer"])
    assert seen["landing_after"] is False
    assert seen["focus"] == "text"
