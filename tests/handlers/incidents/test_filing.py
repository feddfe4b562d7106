"""Filing: validation loses nothing, SEV1 says call 911 first, duplicates give one incident."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.messages import Action, FormSubmission, IncomingMessage, Sender, Tone
from bot.router import answer
from bot.services import Services
from handlers.incidents.catalog import CATEGORIES
from handlers.incidents.handler import IncidentHandler
from tests.handlers.incidents.conftest import make_services, report_values


def msg(user: str = "ann", text: str = "", **kw: object) -> IncomingMessage:
    return IncomingMessage(sender=Sender("webchat", "local", user), text=text, **kw)  # type: ignore[arg-type]


def submit(values: dict[str, str], form_id: str = "incident:report:n1", user: str = "ann"):
    return msg(user, form=FormSubmission(form_id, values))


async def count(services: Services, table: str = "incident") -> int:
    async with services.db.engine.connect() as conn:
        return int((await conn.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar_one())


async def test_opening_the_form_warns_first(services: Services) -> None:
    reply = await answer(IncidentHandler(), msg(command="/incident"), services)
    assert reply.form is not None
    assert reply.form.banner.startswith("If anyone is in immediate danger or there is a threat "
                                        "of violence, CALL 911 NOW")
    assert "public records" in reply.form.intro
    assert reply.form.fields[0].name == "danger"


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"category": ""}, "category", "Required"),
    ({"category": "aliens"}, "category", "Choose one"),
    ({"site": "x" * 201}, "site", "At most 200"),
    ({"description": "y" * 3001}, "description", "At most 3000"),
    ({"when_date": "2026-12-25"}, "when_date", "future"),
    ({"when_date": "03/11/2026"}, "when_date", "Use a date"),
    ({"when_time": "25:00"}, "when_time", "24-hour"),
    ({"description": "voter SSN 123-45-6789 was shown"}, "description", "Social Security"),
    ({"details": "DOB: 01/02/1960"}, "details", "date of birth"),
    ({"subcategory": "cyber/phishing clicked"}, "subcategory", "another category"),
    ({"jurisdiction": "ZZ"}, "jurisdiction", "Choose one"),
    ({"category": "misinformation", "subcategory": "", "mis_url": "not a link"}, "mis_url",
     "https://"),
])
async def test_invalid_input_is_refused_per_field_and_kept(services: Services, change: dict,
                                                           field: str, message: str) -> None:
    values = report_values(**change)
    reply = await answer(IncidentHandler(), submit(values), services)
    assert reply.form is not None, reply.text
    assert message in reply.form.errors[field]
    kept = {f.name: f.value for f in reply.form.fields}
    selects = {f.name for f in reply.form.fields if f.kind == "select"}
    # Everything typed is kept, except a choice the redrawn select does not offer.
    assert all(kept[k] == v for k, v in values.items() if k in kept and not (
        k == field and k in selects))
    assert await count(services) == 0


async def test_sev1_puts_call_911_first_and_notifies_on_call(services: Services) -> None:
    reply = await answer(IncidentHandler(), submit(report_values(
        danger="yes", category="physical_safety", subcategory="physical_safety/weapon")), services)
    assert reply.text.startswith("CALL 911 NOW")
    assert reply.tone == Tone.DANGER
    assert reply.sections[0].text == "The on-call team has been notified."
    assert "CALL 911" not in str(reply.sections)  # said once, in the main line
    assert "INC-2026-000001" in reply.text
    async with services.db.engine.connect() as conn:
        dests = sorted(r[0] for r in (await conn.execute(sa.text(
            "SELECT destination FROM outbox_message"))).all())
    assert dests == ["webchat:local:@boss", "webchat:local:@ct-mgr", "webchat:local:@oncall"]


@pytest.mark.parametrize("category", sorted(CATEGORIES))
async def test_every_category_can_be_filed(services: Services, category: str) -> None:
    reply = await answer(IncidentHandler(), submit(report_values(
        category=category, subcategory="", danger="no", stopped="no", degraded="no")), services)
    assert "Filed INC-2026-" in reply.text
    assert await count(services) == 1


async def test_double_submit_gives_one_incident(services: Services) -> None:
    handler = IncidentHandler()
    replies = await asyncio.gather(*(answer(handler, submit(report_values()), services)
                                     for _ in range(6)))
    assert await count(services) == 1
    assert sum("Already filed" in r.text for r in replies) == 5
    assert len({r.text.split()[-1] for r in replies}) == 1


@pytest.mark.postgres
async def test_concurrent_duplicates_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    services = await make_services(tmp_path, postgres_url)
    try:
        handler = IncidentHandler()
        forms = [submit(report_values(), form_id=f"incident:report:n{i % 3}") for i in range(12)]
        await asyncio.gather(*(answer(handler, f, services) for f in forms))
        assert await count(services) == 3
        async with services.db.engine.connect() as conn:
            ids = sorted(r[0] for r in (await conn.execute(sa.text(
                "SELECT human_id FROM incident"))).all())
        assert ids == ["INC-2026-000001", "INC-2026-000002", "INC-2026-000003"]
    finally:
        await services.db.close()


async def test_quick_report_is_triaged_cautiously_and_asks_to_complete(services) -> None:
    handler = IncidentHandler()
    reply = await answer(handler, msg(text="man with a gun in the parking lot",
                                     command="/incident"), services)
    assert reply.text.startswith("CALL 911 NOW")
    [complete] = [b for b in reply.buttons if b.action_id == "incident:complete"]
    human_id = complete.value
    form_reply = await answer(handler, msg(action=Action("incident:complete", human_id)), services)
    assert form_reply.form is not None
    assert form_reply.form.fields[[f.name for f in form_reply.form.fields].index(
        "description")].value == "man with a gun in the parking lot"
    done = await answer(handler, msg(form=FormSubmission(
        form_reply.form.form_id, report_values(danger="no", stopped="no", degraded="yes"))),
        services)
    assert "SEV3" in done.sections[-1].text or "SEV3" in done.sections[0].text


async def test_quick_report_refuses_ssn(services: Services) -> None:
    reply = await answer(IncidentHandler(), msg(text="voter 123-45-6789 turned away",
                                               command="/incident"), services)
    assert "Social Security" in reply.text
    assert await count(services) == 0


async def test_free_text_about_danger_offers_the_form_not_an_faq(services: Services) -> None:
    reply = await answer(IncidentHandler(), msg(text="someone has a knife at the door"), services)
    assert reply.text.startswith("CALL 911 NOW")
    assert reply.form is not None


async def test_misinformation_report_links_rumor_control_article(services: Services) -> None:
    values = report_values(category="misinformation", subcategory="", stopped="no",
                           degraded="yes", description="viral post about the PAUSE method",
                           mis_url="https://example.com/post/1", mis_claim="what is the pause method")
    reply = await answer(IncidentHandler(), submit(values), services)
    assert any("Rumor control" in s.text for s in reply.sections)


@pytest.mark.parametrize("message", [
    msg(action=Action("incident:complete", "es:")),
    msg(action=Action("incident:complete", "es:es:INC-2026-000001")),
    msg(action=Action("incident:complete", "es:INC-2026-000001" + "9" * 4000)),
    msg(action=Action("incident:details", "es:")),
    msg(action=Action("incident:details", "es:es:INC-2026-000001")),
    msg(action=Action("incident:route", "es:")),
    msg(action=Action("incident:route", "es:es:INC-2026-000001:ks")),
    msg(action=Action("incident:take", "es:\x00INC-2026-000001")),
    msg(action=Action("incident:resolve", "es:")),
    msg(action=Action("incident:nonsense", "es:INC-2026-000001")),
    msg(form=FormSubmission("incident:details:es:", {"details": "x"})),
    msg(form=FormSubmission("incident:details:es:es:INC-2026-000001", {"details": "x"})),
    msg(form=FormSubmission("incident:completeform:es:", report_values())),
    msg(form=FormSubmission("incident:completeform:es:es:INC-2026-000001", report_values())),
    msg(form=FormSubmission("incident:close:es:INC-2026-000001", {})),
], ids=lambda m: (m.action.action_id + "=" + m.action.value[:30]) if m.action else
    m.form.form_id[:45])
async def test_malformed_language_tags_get_a_clear_answer_and_change_nothing(
        services: Services, message: IncomingMessage) -> None:
    """A button value or form id with a broken language tag ("es:" alone, "es:" twice, an id too
    long or with a NUL) is refused in words, never the generic failure, and the filed report
    stays as it was."""
    handler = IncidentHandler()
    filed = await answer(handler, submit(report_values()), services)
    assert "INC-2026-000001" in filed.text
    before = await count(services, "incident_event")
    reply = await answer(handler, message, services)
    assert reply.text and "something went wrong" not in reply.text
    assert await count(services) == 1
    assert await count(services, "incident_event") == before
