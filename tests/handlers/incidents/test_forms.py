"""The incident form fits the moment: per category, defaults, the server's refusals, details."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from bot.messages import Action, FormSubmission, Tone
from bot.router import answer
from bot.services import Services
from handlers.incidents.catalog import CATEGORIES
from handlers.incidents.forms import (
    BANNER,
    build_details_form,
    build_report_form,
    validate_report,
)
from handlers.incidents.handler import IncidentHandler
from handlers.incidents.records import verify_all
from handlers.incidents.spanish import say
from tests.handlers.incidents.conftest import NOW, report_values
from tests.handlers.incidents.test_filing import msg, submit

MIS = {"mis_url", "mis_platform", "mis_reach"}


def names(form) -> list[str]:
    return [f.name for f in form.fields]


async def open_for(services: Services, category: str, user: str = "ann"):
    opened = await answer(IncidentHandler(), msg(user=user, command="/incident"), services)
    redrawn = await answer(IncidentHandler(), msg(user=user, form=FormSubmission(
        opened.form.form_id, {"category": category, "danger": "no"}, changed="category")),
        services)
    assert redrawn.form is not None and redrawn.form.form_id == opened.form.form_id
    return redrawn.form


async def test_first_step_asks_danger_category_and_what_happened(services: Services) -> None:
    reply = await answer(IncidentHandler(), msg(command="/incident"), services)
    assert reply.form.banner == BANNER and names(reply.form) == ["danger", "category",
                                                                 "description"]
    assert reply.form.submit_label == "Next"
    assert [f.name for f in reply.form.fields if f.refresh] == ["category"]


@pytest.mark.parametrize("category", sorted(CATEGORIES))
async def test_each_category_shows_only_its_types_and_fields(services: Services,
                                                             category: str) -> None:
    form = await open_for(services, category)
    fields = {f.name: f for f in form.fields}
    subs = CATEGORIES[category][1]
    if subs:
        assert [v for v, _ in fields["subcategory"].options] == [f"{category}/{s}"
                                                                  for s in subs]
    else:
        assert "subcategory" not in fields
    assert (MIS <= set(fields)) is (category == "misinformation")
    assert not MIS & set(fields) or category == "misinformation"
    assert not {"details", "le_agency", "mis_claim"} & set(fields)  # those come after filing
    assert form.banner == BANNER and form.submit_label == "File report"
    assert [f.name for f in form.fields][:3] == ["danger", "category", "subcategory"][
        :3 if subs else 2] + ([] if subs else ["description"])


async def test_defaults_come_from_who_reports(services: Services) -> None:
    form = await open_for(services, "cyber", user="ct-mgr")
    values = {f.name: f.value for f in form.fields}
    assert values["jurisdiction"] == "CT"  # the one ct-mgr manages
    assert (values["when_date"], values["when_time"]) == ("2026-11-03", "10:00")  # CT time
    assert values["stopped"] == values["degraded"] == "no"
    assert values["danger"] == "no"  # as chosen; never filled in by itself:
    assert {f.name: f.value for f in build_report_form(
        services.settings.app, nonce="n", reporter="webchat:local:ann", now=NOW).fields
        }["danger"] == ""
    anyone = {f.name: f.value for f in (await open_for(services, "cyber", user="ann")).fields}
    assert anyone["jurisdiction"] == ""  # ann manages nothing and the office has several


async def test_the_server_refuses_another_categorys_type_and_fields(services: Services) -> None:
    app = services.settings.app
    report, errors = validate_report(report_values(
        category="cyber", subcategory="physical_safety/weapon",
        mis_url="https://example.com/p", mis_reach="2,000 views", asset_numbers="SEAL-1"),
        app, NOW)
    assert report is None
    assert errors["subcategory"] == "This type belongs to another category."
    assert set(errors) == {"subcategory", "mis_url", "mis_reach", "asset_numbers"}
    assert "not part of a cyber report" in errors["mis_url"]
    report, errors = validate_report(report_values(
        category="misinformation", subcategory="misinformation/manipulated media",
        mis_url="https://example.com/p", mis_reach="2,000 views"), app, NOW)
    assert report is not None and report.details["mis_reach"] == "2,000 views", errors
    reply = await answer(IncidentHandler(), submit(report_values(
        category="cyber", mis_platform="Facebook")), services)
    assert reply.form is not None and "mis_platform" in reply.form.errors
    assert "mis_platform" not in names(reply.form)  # the form shown is the cyber one
    async with services.db.session() as session:
        assert (await session.execute(sa.text("SELECT count(*) FROM incident"))).scalar() == 0


async def test_add_details_after_filing_is_recorded_in_the_chain(services: Services) -> None:
    handler = IncidentHandler()
    filed = await answer(handler, submit(report_values(
        category="misinformation", subcategory="", stopped="no", degraded="yes",
        mis_url="https://example.com/p")), services)
    [button] = [b for b in filed.buttons if b.action_id == "incident:details"]
    assert button.label == "Add details"
    opened = await answer(handler, msg(action=Action(button.action_id, button.value)), services)
    assert opened.form.banner == BANNER and opened.form.form_id.endswith(button.value)
    assert {"details", "le_agency", "le_case", "mis_claim", "mis_why_false"} <= set(
        names(opened.form))
    refused = await answer(handler, msg(form=FormSubmission(opened.form.form_id, {
        "mis_claim": "A neutral summary", "asset_numbers": "SEAL-9"})), services)
    assert refused.form is not None and "asset_numbers" in refused.form.errors
    saved = await answer(handler, msg(form=FormSubmission(opened.form.form_id, {
        "mis_claim": "A neutral summary", "le_agency": "State Police",
        "details": "Reported to the platform."})), services)
    assert saved.tone == Tone.SUCCESS and button.value in saved.text
    async with services.db.session() as session:
        row = (await session.execute(sa.text(
            "SELECT details, law_enforcement_agency FROM incident"))).one()
        kinds = (await session.execute(sa.text(
            "SELECT kind, changes FROM incident_event ORDER BY seq"))).all()
    details = json.loads(row[0])
    assert details["mis_url"] == "https://example.com/p"  # kept: details merge
    assert details["mis_claim"] == "A neutral summary" and row[1] == "State Police"
    assert [k for k, _ in kinds] == ["created", "details"]
    assert "mis_claim" in kinds[-1][1]
    verified = await verify_all(services.db)
    assert verified.breaks == [] and verified.events == 2


async def test_only_the_reporter_or_managers_may_add_details(services: Services) -> None:
    handler = IncidentHandler()
    filed = await answer(handler, submit(report_values(stopped="no")), services)
    human_id = next(b.value for b in filed.buttons if b.action_id == "incident:details")
    form_id = f"incident:details:{human_id}"
    for how in (msg(user="eve", action=Action("incident:details", human_id)),
                msg(user="eve", form=FormSubmission(form_id, {"details": "mine now"}))):
        denied = await answer(handler, how, services)
        assert denied.tone == Tone.DENIED and denied.form is None
    kept = await answer(handler, msg(user="ct-mgr", form=FormSubmission(
        form_id, {"details": "Technician on site."})), services)
    assert kept.tone == Tone.SUCCESS  # CT's incident manager may
    async with services.db.session() as session:
        denials = (await session.execute(sa.text(
            "SELECT actor, action FROM audit_entry WHERE allowed = false"))).all()
        details = (await session.execute(sa.text("SELECT details FROM incident"))).scalar()
    assert [("webchat:local:eve", "details")] * 2 == [tuple(d) for d in denials]
    assert "mine now" not in details and "Technician on site." in details


@pytest.mark.parametrize("category", ["", *sorted(CATEGORIES)])
async def test_every_word_a_spanish_reporter_reads_is_spanish(services: Services,
                                                              category: str) -> None:
    """No label, hint, choice or check of the reporter's forms falls back to English."""
    app = services.settings.app
    values = {"category": category, "source_link": "https://example.slack.com/archives/C1/p1"}
    report = build_report_form(app, nonce="n1", values=values, language="es")
    details = build_details_form("INC-2026-000001", category or "other", {}, language="es")
    places = {name for f in report.fields if f.name == "jurisdiction" for _, name in f.options}
    for form in (report, details):
        english = build_report_form(app, nonce="n1", values=values) if form is report else \
            build_details_form("INC-2026-000001", category or "other", {})
        pairs = [(form.title, english.title), (form.banner, english.banner),
                 (form.intro, english.intro), (form.submit_label, english.submit_label),
                 (form.cancel_label, english.cancel_label)]
        for es, en in zip(form.fields, english.fields, strict=True):
            pairs += [(es.label, en.label), (es.hint, en.hint)]
            pairs += [(a, b) for (_, a), (_, b) in zip(es.options, en.options, strict=True)
                      if b not in places and b != "No"]
        untranslated = [en for es, en in pairs if en and es == en]
        assert not untranslated, untranslated
    # every check a form can fail, in Spanish too
    _, errors = validate_report(report_values(
        category="misinformation", subcategory="cyber/defacement", site="", when_time="25:00",
        mis_url="example.com", asset_numbers="1", description="SSN 123-45-6789",
        mis_reach="x" * 101), app, NOW)
    assert len(errors) == 7, errors
    for field, problem in errors.items():
        spanish = say(problem, "es")
        assert spanish != problem and not any(w in spanish for w in ("the ", "This ")), (
            field, problem, spanish)


@pytest.mark.parametrize(("locale", "title"), [("es-MX", "Reportar un incidente"),
                                               ("es", "Reportar un incidente"),
                                               ("en-US", "Report an incident"),
                                               (None, "Report an incident")])
async def test_the_platforms_locale_picks_the_forms_language(services: Services,
                                                             locale: str | None,
                                                             title: str) -> None:
    """Teams says the reader's locale: /incident alone opens the form in it."""
    reply = await answer(IncidentHandler(), msg(command="/incident", locale=locale), services)
    assert reply.form is not None and reply.form.title == title == reply.text
    assert reply.form.form_id.startswith("incident:report:es:") is title.startswith("Reportar")


def test_a_vetted_articles_title_is_named_as_it_is_in_spanish() -> None:
    """The reporter asks for the rumor-control article by its title: it is not translated."""
    line = 'Rumor control: see the vetted article "Fire and Flood" (ask me about it).'
    assert say(line, "es") == ('Control de rumores: vea el artículo verificado "Fire and Flood" '
                               "(pregúnteme por él).")
    assert say("This looks like a Social Security number and a date of birth. Incident records "
               "may be public records: please remove it.", "es").startswith(
        "Esto parece un número de Seguro Social y una fecha de nacimiento.")
