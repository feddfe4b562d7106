"""The home, by meaning: what a clerk, a supervisor and state staff see, with hand-checked values."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.home import ASK_ACTION, HOME_ACTION, home_request, welcome_request
from bot.messages import Action, IncomingMessage, Reply, Section
from bot.router import Router
from bot.services import Services
from handlers.help import command_lines
from handlers.home.replies import SUGGESTED, suggested_prompts
from tests.handlers.home.conftest import file_report, person, sent_alert


def section(reply: Reply, heading: str) -> Section:
    [found] = [s for s in reply.sections if heading in s.text]
    return found


async def home(router: Router, who: str) -> Reply:
    return await router.dispatch(home_request(person(who), f"webchat:{who}"))


async def test_a_clerk_sees_her_incident_deadline_in_her_zone_and_alert_to_answer(
        router: Router, services: Services) -> None:
    filed = await file_report(router, "pat", jurisdiction="KS", site="Topeka library")
    incident_id = filed.text.split("INC-")[1][:11]
    await sent_alert(services, "AL1", ["pat", "lee"])
    reply = await home(router, "pat")
    assert reply.title == "Home for Pat Johnson" and reply.ephemeral
    [line] = section(reply, "Your open incidents").items
    assert line.startswith(f"**INC-{incident_id}** · SEV2 · equipment systems · KS, Topeka")
    assert line.endswith("(you reported it)")
    cert = section(reply, "Certification")
    # 31 Dec 2026 from 25 Nov (Kansas, UTC-6 at 03:00 UTC on the 26th): 36 days, not 35.
    assert cert.items == ("**KS-CLERK**: in progress, next deadline due in 36 days, "
                          "on Thu 31 Dec 2026 (Year One courses)",)
    assert "today is Wed 25 Nov 2026" in cert.context
    alerts = section(reply, "Alerts awaiting your answer")
    assert alerts.text.endswith("(1)")
    [alert] = [s for s in reply.sections if s.text == "Polling place moved in Topeka"]
    assert [(b.label, b.action_id, b.value) for b in alert.buttons] == [
        ("Received", "alert:ack:received", "AL1"), ("Actioned", "alert:ack:actioned", "AL1"),
        ("Not applicable", "alert:ack:not_applicable", "AL1"),
        ("Need help", "alert:ack:need_help", "AL1")]
    assert not [s for s in reply.sections if "statewide" in s.text]
    # Pressing the home's own button acknowledges through the alert feature; the alert leaves.
    pressed = alert.buttons[0]
    await router.dispatch(IncomingMessage(sender=person("pat"), channel="webchat:pat",
                                          action=Action(pressed.action_id, pressed.value)))
    assert section(await home(router, "pat"), "Alerts awaiting").text.endswith(": none.")


async def test_lee_in_denver_has_the_same_36_days_and_no_incidents(router: Router) -> None:
    reply = await home(router, "lee")
    assert section(reply, "Your open incidents").text == "**Your open incidents**: none."
    assert "due in 36 days" in section(reply, "Certification").items[0]


async def test_a_supervisor_sees_overdue_officials_and_their_jurisdictions_incidents(
        router: Router, services: Services) -> None:
    await file_report(router, "pat", jurisdiction="KS")
    await file_report(router, "pat", jurisdiction="CT")
    services.clock.now = datetime(2027, 1, 5, 15, tzinfo=UTC)  # type: ignore[attr-defined]
    supervisor = await home(router, "ks-super")
    assert section(supervisor, "Officials you supervise").text == (
        "**Officials you supervise** (KS): 3 overdue on certification.")
    assert "not on the certification roster" in section(supervisor, "Certification").text
    manager = await home(router, "ks-mgr")  # manages Kansas incidents: sees only Kansas's
    [line] = section(manager, "Your open incidents").items
    assert " · KS" in line and "(you" not in line


async def test_state_staff_see_statewide_counts(router: Router, services: Services) -> None:
    await file_report(router, "pat", jurisdiction="KS", danger="yes")  # SEV1
    await file_report(router, "lee", jurisdiction="KS")  # SEV2 (voting stopped)
    await file_report(router, "lee", jurisdiction="KS", stopped="no", degraded="yes")  # SEV3
    await sent_alert(services, "AL1", ["pat", "lee", "kim"])
    await router.dispatch(IncomingMessage(sender=person("pat"), channel="webchat:pat",
                                          action=Action("alert:ack:need_help", "AL1")))
    reply = await home(router, "boss")
    state = reply.sections[0]
    assert state.text == "**Needs attention statewide**"
    facts = {f.label: f.value for f in state.fields}
    assert facts == {"Open SEV1 incidents": "1", "Open SEV2 incidents": "1",
                     "Officials overdue on certification": "0",
                     "Alerts with people needing help": "1 (1 person)",
                     "Alert recipients not yet answered": "2"}  # lee and kim
    assert state.items == ("Alert AL1: 1 need help · Polling place moved in Topeka",)
    # In January the Kansas clerks are overdue; AL1 is older than alerts are chased for, and
    # a new alert waits on Lee.
    services.clock.now = datetime(2027, 1, 5, 15, tzinfo=UTC)  # type: ignore[attr-defined]
    await sent_alert(services, "AL2", ["lee"], headline="Storm closes two sites")
    facts = {f.label: f.value for f in (await home(router, "boss")).sections[0].fields}
    assert facts["Officials overdue on certification"] == "3"
    assert facts["Alerts with people needing help"] == "0 (0 people)"
    assert facts["Alert recipients not yet answered"] == "1"
    # Someone who is not state staff sees no statewide counts.
    assert not [s for s in (await home(router, "lee")).sections if "statewide" in s.text]


async def test_welcome_offers_four_questions_and_this_persons_commands(router: Router,
                                                                       services: Services) -> None:
    app = services.settings.app
    clerk = await router.dispatch(welcome_request(person("pat")))
    boss = await router.dispatch(welcome_request(person("boss")))
    assert suggested_prompts(clerk) == list(SUGGESTED)
    assert section(clerk, "What you can do here").items == tuple(
        command_lines(app, "webchat:local:pat"))
    assert section(boss, "What you can do here").items == tuple(
        command_lines(app, "webchat:local:boss"))
    assert len(section(boss, "What you can do here").items) > len(
        section(clerk, "What you can do here").items)
    # A suggested question pressed is answered like the typed question.
    asked = await router.dispatch(IncomingMessage(sender=person("pat"), channel="webchat:pat",
                                                  action=Action(ASK_ACTION, SUGGESTED[0])))
    typed = await router.dispatch(IncomingMessage(sender=person("pat"), channel="webchat:pat",
                                                  text=SUGGESTED[0]))
    assert (asked.title, asked.text) == (typed.title, typed.text)  # only feedback ids differ
    assert "PAUSE" in asked.text + asked.title


async def test_typed_home_and_welcome_words_but_not_questions(router: Router) -> None:
    typed = await router.dispatch(IncomingMessage(sender=person("pat"), text="Home"))
    assert typed.title == "Home for Pat Johnson"
    question = await router.dispatch(IncomingMessage(sender=person("pat"),
                                                     text="home address of the county clerk?"))
    assert not question.title.startswith("Home for")
    assert HOME_ACTION.startswith("home:")


async def test_home_times_are_in_the_readers_zone_with_year_and_how_long_ago(
        router: Router, services: Services) -> None:
    """Pat (Kansas, America/Chicago): NOW is 03:00 UTC on Thu 26 Nov 2026 = 21:00 CST on Wed
    25 Nov; the alert went out an hour earlier, 02:00 UTC = 20:00 CST."""
    await sent_alert(services, "AL1", ["pat"])
    reply = await home(router, "pat")
    [alert] = [s for s in reply.sections if s.text == "Polling place moved in Topeka"]
    assert alert.context == ("Alert AL1 · moderate · TLP:GREEN · "
                             "sent Wed 25 Nov 2026 20:00 CST (1 hour ago)")
    assert "UTC" not in alert.context
    assert reply.sections[-1].context.startswith("As of Wed 25 Nov 2026 21:00 CST.")
    assert "today is Wed 25 Nov 2026." in section(reply, "Certification").context
