"""Every word the alert feature says, as small build_* functions staff can review."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.messages import Button, Mention, Reply, Section, Tone, literal
from bot.when import moment
from handlers.alerts.models import Alert

EXERCISE = "EXERCISE - EXERCISE - EXERCISE"
ACK_KINDS = {"received": "Received", "actioned": "Actioned", "not_applicable": "Not applicable",
             "need_help": "Need help"}
PARENT_WORDS = {"update": "UPDATE to", "all_clear": "ALL CLEAR for", "cancel": "CANCELS"}
TONES = {"extreme": Tone.DANGER, "severe": Tone.DANGER, "moderate": Tone.WARNING}
OFFICE_UNKNOWN = ZoneInfo("UTC")  # only where no settings are at hand (callers pass the office's)
#: Why a recipient was not sent an alert (``reach.Exclusion`` values; ``{tlp}`` is the label).
EXCLUSION_WORDS = {"tlp_red_email": "TLP:RED never goes by e-mail",
                   "tlp_amber_domain": "TLP:{tlp} outside listed domains"}


def marking(alert: Alert) -> str:
    """The handling label every alert message carries first (e-mail: subject and first line)."""
    return f"TLP:{alert.tlp}"


def exclusion_words(reason: str, tlp: str) -> str:
    """One reason a recipient was kept out, for the status view and the preview."""
    return EXCLUSION_WORDS.get(reason, reason).format(tlp=tlp)


def build_exclusions(excluded: dict[str, int], tlp: str) -> str:
    """"" or: how many were kept out of an alert and why (the preview, the confirmation)."""
    if not sum(excluded.values()):
        return ""
    why = "; ".join(f"{n} because {exclusion_words(reason, tlp)}"
                    for reason, n in sorted(excluded.items()) if n)
    return (f"Not sent to {sum(excluded.values())} e-mail recipient(s): {why} "
            "(alerts.email.amber_domains in app.yaml lists the domains).")


def build_nobody_left(excluded: dict[str, int], tlp: str) -> str:
    """The refusal when the TLP rules keep out every recipient of an alert."""
    return (f"Nobody can receive this alert: all {sum(excluded.values())} recipient(s) are "
            f"e-mail addresses it may not go to ({build_exclusions(excluded, tlp)}) Choose a "
            "lower TLP label or an audience with chat members. Nothing was sent.")


def _title(alert: Alert) -> str:
    kind = alert.alert_type.replace("_", " ").upper()
    mark = f"{EXERCISE} | " if alert.exercise else ""
    return f"{mark}TLP:{alert.tlp} | {alert.severity.upper()} | {kind}: {literal(alert.headline)}"


def build_alert_message(alert: Alert, *, parent: str = "", reminder: str = "",
                        acknowledged: str = "", personal: bool = False,
                        zone: ZoneInfo = OFFICE_UNKNOWN) -> Reply:
    """The alert as recipients see it, with acknowledgement buttons carrying only its id.

    Times are in ``zone`` (the office's: one message reaches readers of many zones), with
    date, year and zone name; never "in 2 hours", which a kept message would outlive.

    ``acknowledged`` (from :func:`build_acknowledged_line`) marks a delivered copy once its
    recipient has answered; a personal copy then keeps only "Need help".
    """
    sections = [Section(literal(alert.body))]
    if alert.instructions:
        sections.append(Section(f"What to do: {literal(alert.instructions)}"))
    if alert.public_text:
        sections.append(Section(f"Approved public text: {literal(alert.public_text)}"))
    if alert.public_text_translated:
        sections.append(Section(f"Translation: {literal(alert.public_text_translated)}"))
    facts = [f"Alert {alert.public_id}"]
    if parent:
        facts.append(f"{PARENT_WORDS.get(alert.alert_type, 'About')} alert {parent}")
    if alert.expires_at:
        facts.append(f"expires {moment(alert.expires_at, zone)}")
    if alert.ack_required:
        minutes = alert.ack_window_minutes
        facts.append(f"please acknowledge within {minutes} minute{'' if minutes == 1 else 's'}")
    if alert.exercise:
        facts.append("this is an EXERCISE: take no real-world action")
    if acknowledged:
        sections.append(Section(acknowledged))
    sections.append(Section("", context=" · ".join(facts)))
    kinds = ACK_KINDS if not (acknowledged and personal) else {"need_help": ACK_KINDS["need_help"]}
    buttons = ack_buttons(alert, kinds) if alert.ack_required else ()
    text = f"{reminder}{_title(alert)}"
    return Reply(text=text, title=text, tone=TONES.get(alert.severity, Tone.INFO),
                 sections=tuple(sections), buttons=buttons, marking=marking(alert))


def ack_buttons(alert: Alert, kinds: dict[str, str] = ACK_KINDS) -> tuple[Button, ...]:
    """The acknowledgement buttons of an alert (each carries only the alert's id)."""
    return tuple(Button(label, f"alert:ack:{kind}", alert.public_id,
                        "danger" if kind == "need_help" else "default")
                 for kind, label in kinds.items())


def build_approval_step(needed: bool, reasons: Sequence[str], *, child: bool = False) -> str:
    """Whether the draft needs a second broadcaster, and why (from the approval rules)."""
    if needed:
        why = "; and ".join(reasons) or "the approval rules require it"
        return f"Approval needed: it needs a second broadcaster's approval because {why}."
    if child:
        return ("No approval needed: you can send it at once, because it is not severe or "
                "extreme and the alert it follows needed no approval.")
    return ("No approval needed: you can send it at once, because it is not severe or "
            "extreme, not statewide, and reaches no tier whose policy requires approval.")


def build_preview(alert: Alert, message: Reply, per_tier: dict[str, int], *,
                  parent: str = "", reasons: Sequence[str] = (),
                  excluded: dict[str, int] | None = None) -> Reply:
    """What the sender checks: the message, recipients per tier, approval (and why).

    ``excluded`` (reason -> count): the e-mail recipients the TLP rules keep out.
    """
    counts = ", ".join(f"{tier}: {n}" for tier, n in sorted(per_tier.items())) or "nobody"
    total = sum(per_tier.values())
    step = build_approval_step(alert.needs_approval, reasons, child=bool(parent))
    label = "Request approval" if alert.needs_approval else "Send now"
    about = f" ({PARENT_WORDS.get(alert.alert_type, 'about')} {parent})" if parent else ""
    kept_out = build_exclusions(excluded or {}, alert.tlp)
    kept_out = f" {kept_out}" if kept_out else ""
    return Reply(
        text=f"Preview of alert {alert.public_id}{about}: {total} recipient(s) ({counts})."
             f"{kept_out} {step}",
        sections=(Section(message.text), *message.sections),
        buttons=(Button(label, "alert:send", alert.public_id, "primary"),
                 Button("Discard", "alert:discard", alert.public_id, "danger")),
        ephemeral=True, marking=marking(alert))


def build_approval_request(alert: Alert, per_tier: dict[str, int], requester: str, *,
                           excluded: dict[str, int] | None = None) -> Reply:
    """Sent to the other broadcasters; ``requester`` is an identity, shown by name."""
    counts = ", ".join(f"{t}: {n}" for t, n in sorted(per_tier.items()))
    kept_out = build_exclusions(excluded or {}, alert.tlp)
    return Reply(
        text=f"Approval needed: {{@0}} wants to send alert {alert.public_id} ({counts})."
             + (f" {kept_out}" if kept_out else ""),
        tone=Tone.WARNING, mentions=(Mention(requester),), marking=marking(alert),
        sections=(Section(_title(alert)), Section(literal(alert.body))),
        buttons=(Button("Approve and send", "alert:approve", alert.public_id, "primary"),
                 Button("Refuse", "alert:refuse", alert.public_id, "danger")))


def build_sent(alert: Alert, count: int, excluded: dict[str, int] | None = None) -> Reply:
    """The sender's confirmation (delivery happens in the background)."""
    kept_out = build_exclusions(excluded or {}, alert.tlp)
    return Reply(tone=Tone.SUCCESS,
                 text=f"Alert {alert.public_id} is going out to {count} destination(s). "
                      + (f"{kept_out} " if kept_out else "")
                      + f"Check progress with: /alert status {alert.public_id}",
                 buttons=(Button("Status", "alert:status", alert.public_id),), ephemeral=True)


def build_decision(alert: Alert, approved: bool, actor: str) -> Reply:
    """Told to the requester when the second broadcaster (``actor``, an identity) decides."""
    verb = "approved and sent" if approved else "refused"
    return Reply(text=f"Alert {alert.public_id} was {verb} by {{@0}}.",
                 mentions=(Mention(actor),))


def build_ack_thanks(kind: str, created: bool, previous: str = "") -> Reply:
    """The clicker's answer."""
    if not created:
        return Reply(text=f"Already recorded: {ACK_KINDS.get(previous, previous)}.",
                     ephemeral=True)
    return Reply(text=f"Thank you, recorded: {ACK_KINDS[kind]}.", ephemeral=True)


def build_help_thanks(created: bool, recorded: str, *, asked: bool) -> Reply:
    """The answer to "Need help": state staff are told once, whatever was clicked before."""
    if not asked:
        return Reply(text="State staff already know you need help with this alert and will "
                          "contact you.", ephemeral=True)
    told = "State staff have been told and will contact you."
    if created:
        return Reply(text=f"Thank you, recorded: {ACK_KINDS['need_help']}. {told}",
                     ephemeral=True)
    return Reply(text=f"{told} (Your acknowledgement stays: {ACK_KINDS.get(recorded, recorded)}.)",
                 ephemeral=True)


def build_acknowledged_line(kind: str, at: datetime, *, who: str = "",
                            organisation: str = "", zone: ZoneInfo = OFFICE_UNKNOWN) -> str:
    """What a delivered copy shows once answered: by whom (in a channel) and when."""
    when = moment(at, zone)
    if not who:
        return f"Acknowledged: {ACK_KINDS[kind]}, {when}."
    return (f"Acknowledged for {literal(organisation)}: {ACK_KINDS[kind]} by {literal(who)}, "
            f"{when}.")


def build_help_request(alert: Alert, who: str, person: str, *, headline: bool = True) -> Reply:
    """State staff hear that a recipient needs help.

    ``who`` is CommonMark (its names already literal); ``person`` the identity to contact,
    shown by name (a ping where the platform allows). Without ``headline`` (an e-mail address
    the alert's TLP label keeps out) only the alert's id is named.
    """
    about = f" ({literal(alert.headline)})" if headline else ""
    return Reply(text=f"{who} needs help with alert {alert.public_id}{about}. "
                      "Contact them: {@0}.",
                 tone=Tone.WARNING, mentions=(Mention(person),),
                 marking=marking(alert) if headline else "")


def build_reminder(alert: Alert, stage: str, who: str = "", *,
                   zone: ZoneInfo = OFFICE_UNKNOWN) -> Reply:
    """Follow-up to a non-acknowledger (reminder, direct message, backup contact)."""
    prefix = {"remind": "REMINDER, please acknowledge: ",
              "dm": "OVERDUE, your acknowledgement is needed: ",
              "backup": f"You are the backup contact for {literal(who)}, who has not acknowledged: "}
    return build_alert_message(alert, reminder=prefix[stage], zone=zone)


def build_backup_stand_down(alert: Alert, who: str) -> Reply:
    """The backup contact's follow-up, once the person they back up has answered."""
    return Reply(text=f"{literal(who)} has now acknowledged alert {alert.public_id} "
                      f"({literal(alert.headline)}). "
                      "Nothing more is needed from you as their backup contact.",
                 marking=marking(alert))


def build_usage(command: str) -> Reply:
    """How to use the alert command."""
    return Reply(text=(f"{command} opens the composer. Also: {command} status ID, "
                       f"{command} update ID, {command} allclear ID, {command} cancel ID."),
                 ephemeral=True)


LIMIT_NAMES = {"alerts_per_hour": "alerts composed by you",
               "per_address_per_hour": "reports and alerts from your network address",
               "per_workspace_per_hour": "reports and alerts from your workspace"}


def build_limit_refusal(setting: str, limit: int) -> str:
    """A draft refused for a limit: nothing was stored or sent, and when to try again."""
    what = LIMIT_NAMES.get(setting, "alerts")
    return (f"This alert was NOT drafted: the limit of {limit} {what} per hour has been "
            "reached (limits in app.yaml). Nothing was sent. Try again next hour, or ask "
            "another broadcaster to send it; this refusal was recorded.")
