"""The alert composer (Slack modal, Teams card, web chat form) and its validation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config.settings import AppConfig
from bot.messages import Form, FormField
from handlers.alerts.config import AlertsConfig
from handlers.alerts.enums import AlertSeverity, Tier, Tlp
from handlers.alerts.network import Audience

FORM_PREFIX = "alert:compose:"
TYPES = ("rumor_control", "polling_place_change", "hours_or_procedure_change",
         "emergency_weather_hazard", "facility_evacuation", "cyber_threat_advisory",
         "physical_threat_advisory", "system_outage", "deadline_reminder", "exercise", "test")
CHILD_TYPES = ("update", "all_clear", "cancel")
YES_NO = (("yes", "Yes"), ("no", "No"))
#: Refusals of a choice that was not offered (an old form, a hand-made submission).
UNKNOWN = {"groups": "Unknown group: {}. Choose one of the network's groups.",
           "template": "Unknown template: {}. Choose one of the templates in app.yaml "
                       "(alerts.templates)."}
TIER_NAMES = {"T0": "T0 state staff and on-call", "T1": "T1 local election officials",
              "T2": "T2 government partners", "T3": "T3 community partners"}
INTRO = ("Rumor control: state the facts and the official source; do not repeat the false "
         "claim in the headline. Exercise and test alerts are marked as such everywhere.")


@dataclass(frozen=True)
class CleanAlert:
    """A validated composer submission."""

    alert_type: str
    severity: AlertSeverity
    headline: str
    body: str
    instructions: str
    public_text: str
    public_text_translated: str
    tlp: str
    audience: Audience
    ack_required: bool
    ack_window_minutes: int
    expires_at: datetime | None
    exercise: bool


def composer_fields(child: bool, *, groups: Sequence[str] = (),
                    templates: Sequence[str] = (),
                    jurisdictions: Sequence[tuple[str, str]] = ()) -> tuple[FormField, ...]:
    """The composer's inputs; a child alert (update, all-clear, cancel) has no audience.

    ``templates`` (app.yaml ``alerts.templates``), ``groups`` (the network's group names),
    the tiers and ``jurisdictions`` (app.yaml, code and name) are offered as choices, never
    typed.
    """
    types = CHILD_TYPES if child else TYPES
    fields = [
        FormField("alert_type", "Type", "select", options=tuple((t, _words(t)) for t in types)),
        FormField("severity", "Severity", "select", options=tuple((s, s) for s in AlertSeverity)),
        FormField("headline", "Headline (at most 80 characters)", max_length=80),
        FormField("body", "Confirmed facts and official source", "textarea", max_length=3000),
        FormField("instructions", "What to do (and what not to do)", "textarea",
                  required=False, max_length=2000),
        FormField("public_text", "Approved public text", "textarea", required=False,
                  max_length=2000),
        FormField("public_text_translated", "Public text, translated", "textarea",
                  required=False, max_length=2000),
        FormField("tlp", "TLP label", "select", options=tuple((t, f"TLP:{t}") for t in Tlp)),
        FormField("ack_required", "Acknowledgement required", "select", options=YES_NO),
        FormField("ack_window", "Acknowledgement window in minutes (blank: 15 severe, 120 "
                  "otherwise)", required=False, max_length=4),
        FormField("expires_hours", "Expires after (hours)", required=False, max_length=4,
                  value="24"),
        FormField("exercise", "Exercise / test?", "select", options=(("no", "No"),
                                                                     ("yes", "Yes"))),
    ]
    if not child:
        fields[7:7] = [
            FormField("groups", "Groups (or choose tiers below)", "multiselect",
                      required=False, options=tuple((g, g) for g in groups), max_length=2000),
            FormField("tiers", "Tiers", "multiselect", required=False, max_length=20,
                      options=tuple((t, TIER_NAMES.get(t, t)) for t in Tier)),
            FormField("jurisdictions", "Jurisdictions (none chosen: statewide)", "multiselect",
                      required=False, options=tuple(jurisdictions), max_length=2000),
        ]
    if templates:
        fields.insert(0, FormField(
            "template", "Start from a template", "select", required=False,
            options=(("", "-"), *((t, _words(t)) for t in templates)),
            hint="Fills a blank headline, facts and instructions with the template's text."))
    return tuple(fields)


def _words(name: str) -> str:
    return name.replace("_", " ")


def build_composer(app: AppConfig, *, nonce: str, parent: str = "",
                   values: dict[str, str] | None = None,
                   errors: dict[str, str] | None = None, groups: Sequence[str] = ()) -> Form:
    """The composer, pre-filled (from a template, a parent or what was typed).

    ``groups`` are the network's group names (app.yaml and CLI additions) offered to choose.
    """
    config = app.section(AlertsConfig)
    values = _with_template(dict(values or {}), config)
    fields = tuple(FormField(f.name, f.label, f.kind, f.required, f.options, f.max_length,
                             values.get(f.name, f.value), f.hint)
                   for f in composer_fields(bool(parent), groups=groups,
                                            templates=tuple(config.templates),
                                            jurisdictions=_places(app)))
    form_id = f"{FORM_PREFIX}{nonce}" + (f":{parent}" if parent else "")
    title = "Update an alert" if parent else "Compose an alert"
    return Form(form_id, title, fields, "Preview", errors=dict(errors or {}), intro=INTRO)


def _with_template(values: dict[str, str], config: AlertsConfig) -> dict[str, str]:
    """Blank headline, facts and instructions filled from the chosen template (or the type's).

    A template named like an alert type also sets a blank type.
    """
    name = values.get("template", "").strip() or values.get("alert_type", "").strip()
    template = config.templates.get(name)
    if template is None:
        return values
    for field_name in ("headline", "body", "instructions"):
        if not values.get(field_name, "").strip():
            values[field_name] = getattr(template, field_name)
    if name in TYPES and not values.get("alert_type", "").strip():
        values["alert_type"] = name
    return values


def _places(app: AppConfig) -> tuple[tuple[str, str], ...]:
    """The jurisdictions an alert may name (app.yaml), as (code, name) choices."""
    return tuple((j.code, f"{j.name} ({j.code})") for j in app.jurisdictions)


def _list(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p.strip() for p in value.split(",") if p.strip()))


def validate(values: dict[str, str], app: AppConfig, now: datetime, *, child: bool,
             known_groups: set[str]) -> tuple[CleanAlert | None, dict[str, str]]:
    """Required fields, options, lengths, audience names and numbers; errors per field.

    A chosen template fills blank text first; a group or template not offered is refused.
    """
    config = app.section(AlertsConfig)
    values = _with_template(dict(values), config)
    errors: dict[str, str] = {}
    fields = composer_fields(child, groups=sorted(known_groups),
                             templates=tuple(config.templates), jurisdictions=_places(app))
    for spec in fields:
        value = values.get(spec.name, "").strip()
        chosen = _list(value) if spec.kind == "multiselect" else (value,)
        bad = [v for v in chosen if v and v not in dict(spec.options)]
        if spec.required and not value:
            errors[spec.name] = "Required."
        elif len(value) > spec.max_length:
            errors[spec.name] = f"At most {spec.max_length} characters (you typed {len(value)})."
        elif spec.kind in ("select", "multiselect") and bad:
            errors[spec.name] = UNKNOWN.get(spec.name, "{} is not an option here; choose one "
                                            "of the listed options.").format(", ".join(bad))
    audience = Audience()
    if not child:
        audience = _audience(values, app, errors)
    window = _number(values, "ack_window", errors, 1, 2880)
    hours = _number(values, "expires_hours", errors, 1, 720)
    if errors:
        return None, errors
    severity = AlertSeverity(values["severity"].strip())
    windows = config.windows
    if window is None:
        window = windows.severe_minutes if severity.is_severe else windows.default_minutes
    get = lambda n: values.get(n, "").strip()  # noqa: E731
    kind = get("alert_type")
    return CleanAlert(
        alert_type=kind, severity=severity, headline=get("headline"), body=get("body"),
        instructions=get("instructions"), public_text=get("public_text"),
        public_text_translated=get("public_text_translated"), tlp=get("tlp"), audience=audience,
        ack_required=get("ack_required") == "yes", ack_window_minutes=window,
        expires_at=now + timedelta(hours=hours) if hours else None,
        exercise=get("exercise") == "yes" or kind in ("exercise", "test")), {}


def _audience(values: dict[str, str], app: AppConfig, errors: dict[str, str]) -> Audience:
    """Group (already checked against the offered groups), tiers and jurisdictions."""
    groups = _list(values.get("groups", ""))
    tiers = tuple(t.upper() for t in _list(values.get("tiers", "")))
    places = tuple(j.upper() for j in _list(values.get("jurisdictions", "")))
    if bad := [t for t in tiers if t not in set(Tier)]:
        errors["tiers"] = f"Unknown tier(s): {', '.join(bad)}; use T0, T1, T2 or T3."
    codes = {j.code for j in app.jurisdictions}
    if bad := [j for j in places if j not in codes]:
        errors["jurisdictions"] = f"Unknown jurisdiction(s): {', '.join(bad)}."
    if not groups and not tiers:
        errors.setdefault("groups", "Choose at least one group or tier.")
    return Audience(groups, tiers, places)


def _number(values: dict[str, str], name: str, errors: dict[str, str], low: int,
            high: int) -> int | None:
    text = values.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        errors[name] = f"A whole number from {low} to {high}."
        return None
    return int(text)
