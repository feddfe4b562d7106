"""The incident form in a real headless Chromium: the 911 line first, the category redraws it."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from tests.bot.adapters.webchat.axe import assert_accessible
from tests.bot.adapters.webchat.test_browser import _open_as, driver  # noqa: F401 (fixture)
from tests.handlers.incidents.conftest import INCIDENTS, ROLES
from tests.support import make_settings, running_bot

pytestmark = pytest.mark.browser


def _form_for(browser, shots: Path) -> dict[str, object]:
    """Open the form, choose two categories in turn; what the page showed at each step."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    wait = WebDriverWait(browser, 20)
    browser.set_window_size(900, 2400)  # the whole form on screen for the screenshots
    box = wait.until(ec.element_to_be_clickable((By.ID, "text")))
    box.send_keys("incident")
    browser.find_element(By.ID, "send").click()
    form = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "form[data-form-id]")))
    first = browser.execute_script(
        "const f = document.querySelector('form[data-form-id]').firstElementChild;"
        "return [f.className, f.getAttribute('role'), f.textContent];")
    # The banner's look is the style sheet's (its danger colours), none of it inline.
    look = browser.execute_script(
        "const f = document.querySelector('form[data-form-id] .form-banner');"
        "const s = getComputedStyle(f), root = getComputedStyle(document.documentElement);"
        "const probe = document.createElement('i'); document.body.appendChild(probe);"
        "probe.style.color = root.getPropertyValue('--danger');"
        "const danger = getComputedStyle(probe).color; probe.remove();"
        "return [f.getAttribute('style'), s.color, danger, s.borderLeftStyle,"
        " document.querySelector('form[data-form-id] select[name=category] option').textContent];")
    assert_accessible(browser, "the incident form's first step")
    step_fields = [e.get_attribute("name") for e in form.find_elements(
        By.CSS_SELECTOR, "input, select, textarea")]
    form.find_element(By.NAME, "description").send_keys("A man is shouting at the door.")

    def choose(category: str) -> dict[str, object]:
        Select(browser.find_element(By.NAME, "category")).select_by_value(category)

        def redrawn(b: object) -> bool:  # read in one script: the page may redraw meanwhile
            values = browser.execute_script(
                "return [...document.querySelectorAll("
                "'form[data-form-id] select[name=subcategory] option')].map(o => o.value);")
            return bool(values) and all(v.startswith(f"{category}/") for v in values if v)

        wait.until(redrawn)
        shown = browser.find_element(By.CSS_SELECTOR, "form[data-form-id]")
        shown.screenshot(str(shots / f"incident_form_{category}.png"))
        assert_accessible(browser, f"the incident form for {category}")
        return {
            "fields": [e.get_attribute("name") for e in shown.find_elements(
                By.CSS_SELECTOR, "input, select, textarea")],
            "first": shown.find_element(By.XPATH, "./*[1]").text,
            "description": shown.find_element(By.NAME, "description").get_attribute("value"),
            "jurisdiction": Select(shown.find_element(By.NAME, "jurisdiction"))
            .first_selected_option.get_attribute("value"),
            "when_date": shown.find_element(By.NAME, "when_date").get_attribute("value"),
            "focused": browser.switch_to.active_element.get_attribute("name"),
        }

    physical = choose("physical_safety")
    misinformation = choose("misinformation")
    # In Spanish the page's own words on a form are Spanish (the form's words are the server's):
    # the page's own form builder, as the conversation turns Spanish.
    spanish = browser.execute_script(
        "setLanguage('es');"
        "return formInput({kind: 'select', name: 'x', label: 'x', options: [['a', 'A']],"
        " value: ''}).options[0].textContent;")
    return {"first": first, "step": step_fields, "physical": physical, "mis": misinformation,
            "look": look, "spanish": spanish}


async def test_the_incident_form_starts_with_911_and_fits_the_category(tmp_path, driver) -> None:  # noqa: F811
    shots = Path(os.environ.get("ELECTIONBOT_SHOTS") or tmp_path)
    settings = make_settings(tmp_path, incidents=INCIDENTS, roles=ROLES)
    async with running_bot(settings) as bot:
        await asyncio.to_thread(_open_as, driver, bot.url + "/", "ct-mgr")
        seen = await asyncio.to_thread(_form_for, driver, shots)
    cls, role, text = seen["first"]
    assert "form-banner" in cls and role == "alert"
    assert text.startswith("If anyone is in immediate danger or there is a threat of violence")
    inline, color, danger, border, placeholder = seen["look"]
    assert inline is None and color == danger and border == "solid"  # chat.css's --danger
    assert placeholder == "Choose…" and seen["spanish"] == "Elija…"
    assert seen["step"] == ["danger", "category", "description"]
    physical, mis = seen["physical"], seen["mis"]
    assert physical["first"] == mis["first"] == text  # the 911 line stays first
    assert "subcategory" in physical["fields"] and "site" in physical["fields"]
    assert not {"mis_url", "mis_platform", "mis_reach"} & set(physical["fields"])
    assert {"mis_url", "mis_platform", "mis_reach"} <= set(mis["fields"])
    assert physical["description"] == mis["description"] == "A man is shouting at the door."
    assert physical["jurisdiction"] == "CT"  # ct-mgr manages CT incidents
    assert physical["when_date"]  # now, in the jurisdiction's zone
    assert physical["focused"] == "category"
    assert (shots / "incident_form_misinformation.png").stat().st_size > 1000
