"""Every word of the home and the first-conversation welcome, for election staff to review."""

from __future__ import annotations

from bot.config.settings import AppConfig
from bot.home import ASK_ACTION
from bot.messages import Button, Fact, Reply, Section, Tone, literal
from bot.when import day, moment, plural
from handlers.alerts.models import Alert
from handlers.alerts.replies import ack_buttons
from handlers.certifications.replies import LABELS, requirement_words, when
from handlers.help import command_lines
from handlers.home.service import HomeData
from handlers.incidents.models import Incident

#: The four questions a newcomer is offered (the web chat's landing offers the same four).
SUGGESTED = ("What is the PAUSE method?", "How do I report phishing?",
             "How does a Kansas county clerk get certified?",
             "What should I do if someone threatens me?")
INTRO = ("Ask me about running elections: I answer from vetted articles and name their "
         "source, and I help you report an incident or follow your certification. I am "
         "nonpartisan and never share your personal data.")


def _ask(label: str, command: str) -> Button:
    """A button that does what typing ``command`` does."""
    return Button(label, ASK_ACTION, command)


def _incident_line(incident: Incident, identity: str) -> str:
    roles = [word for word, who in (("you reported it", incident.reporter),
                                    ("assigned to you", incident.assignee)) if who == identity]
    why = f" ({', '.join(roles)})" if roles else ""
    where = literal(incident.jurisdiction) + (f", {literal(incident.site)}" if incident.site
                                              else "")
    return (f"**{incident.human_id}** · {incident.severity} · "
            f"{incident.category.replace('_', ' ')} · {where} · "
            f"{incident.status.replace('_', ' ')}{why}")


def _incidents(data: HomeData, app: AppConfig) -> Section:
    button = (_ask("Report an incident", app.commands.incident),)
    if not data.incidents:
        return Section("**Your open incidents**: none.", buttons=button)
    return Section(f"**Your open incidents** ({len(data.incidents)})",
                   items=tuple(_incident_line(i, data.identity) for i in data.incidents),
                   buttons=(*button, _ask("List them", f"{app.commands.incident} list mine")))


def _certification(data: HomeData, app: AppConfig) -> Section:
    button = (_ask("My certification", app.commands.cert),)
    if not data.on_roster:
        return Section("**Certification**: you are not on the certification roster.",
                       context="Your state election office adds officials to the roster.")
    if not data.standings or data.today is None:
        return Section("**Certification**: no program assigned to you yet.", buttons=button)
    lines = []
    for standing in data.standings:
        line = f"**{standing.program}**: {LABELS[standing.status]}"
        if standing.deadline:
            line += f", next deadline {when(standing.deadline, data.today)}"
            what = requirement_words(standing)
            line += f" ({what})" if what else ""
        lines.append(line)
    return Section("**Certification**", items=tuple(lines), buttons=button,
                   context=f"Days counted in your time zone; today is {day(data.today)}.")


def _sent(alert: Alert, data: HomeData) -> str:
    """' · sent Wed 25 Nov 2026 20:00 CST (1 hour ago)', in the reader's zone."""
    return f" · sent {moment(alert.sent_at, data.zone, data.now)}" if alert.sent_at else ""


def _alerts(data: HomeData) -> list[Section]:
    if not data.alerts:
        return [Section("**Alerts awaiting your answer**: none.")]
    head = Section(f"**Alerts awaiting your answer** ({len(data.alerts)})")
    return [head, *(Section(literal(alert.headline),
                            context=f"Alert {alert.public_id} · {alert.severity} · "
                                    f"TLP:{alert.tlp}{_sent(alert, data)}",
                            buttons=ack_buttons(alert)) for alert in data.alerts)]


def _state(data: HomeData) -> Section | None:
    counts = data.state
    if counts is None:
        return None
    helped = sum(n for _, n in counts.alerts_need_help)
    fields = (Fact("Open SEV1 incidents", str(counts.sev1)),
              Fact("Open SEV2 incidents", str(counts.sev2)),
              Fact("Officials overdue on certification", str(counts.late_officials)),
              Fact("Alerts with people needing help",
                   f"{len(counts.alerts_need_help)} ({plural(helped, 'person', 'people')})"),
              Fact("Alert recipients not yet answered", str(counts.not_answered)))
    items = tuple(f"Alert {alert.public_id}: {n} need help · {literal(alert.headline)}"
                  for alert, n in counts.alerts_need_help[:5])
    return Section("**Needs attention statewide**", fields=fields, items=items,
                   buttons=(Button("Open SEV1 incidents", ASK_ACTION, "incident list sev1"),))


def build_home(data: HomeData, app: AppConfig) -> Reply:
    """The home: my incidents, my certification, alerts awaiting my answer, state counts."""
    sections: list[Section] = []
    state = _state(data)
    if state is not None:
        sections.append(state)
    sections += [_incidents(data, app), _certification(data, app), *_alerts(data)]
    if data.supervised and data.state is None:
        sections.append(Section(
            f"**Officials you supervise** ({', '.join(data.supervised)}): "
            f"{data.supervised_late} overdue on certification.",
            buttons=tuple(_ask(f"Certification in {code}", f"{app.commands.cert} jurisdiction "
                               f"{code}") for code in data.supervised[:3])))
    sections.append(Section("", context=f"As of {moment(data.now, data.zone)}."
                                        " Type `help` for everything I can do."))
    waiting = len(data.alerts) + sum(i.severity == "SEV1" for i in data.incidents)
    tone = Tone.WARNING if waiting else Tone.INFO
    name = literal(data.name) if data.name else "you"
    return Reply(text=f"Home for {name}", title=f"Home for {name}", tone=tone,
                 sections=tuple(sections), ephemeral=True)


def build_welcome(app: AppConfig, identity: str) -> Reply:
    """The first conversation: what I do, four questions to try, the commands this person may use."""
    return Reply(
        text=f"Welcome to the {app.office.name} assistant", tone=Tone.INFO,
        title=f"Welcome to the {app.office.name} assistant",
        sections=(Section(INTRO),
                  Section("**Try asking**", buttons=tuple(_ask(q, q) for q in SUGGESTED)),
                  Section("**What you can do here**", items=tuple(command_lines(app, identity)),
                          context="Type `home` any time to see what needs you now.")),
        ephemeral=True)


def suggested_prompts(reply: Reply) -> list[str]:
    """The questions a welcome offers (for platforms with their own suggestion chips)."""
    return [b.value for s in reply.sections for b in s.buttons if b.action_id == ASK_ACTION]
