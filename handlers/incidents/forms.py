"""The incident report form and its validation (nothing is stored until this passes)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from bot.config.settings import AppConfig
from bot.messages import Form, FormField
from bot.ops.privacy import sensitive_patterns
from handlers.incidents.catalog import CATEGORIES, severity_from_answers, subcategory_options
from handlers.incidents.models import IncidentCreate

FORM_PREFIX = "incident:report:"
YES_NO = (("no", "No"), ("yes", "Yes"))
MAX_TEXT = 3000
INTRO = ("If anyone is in immediate danger, CALL 911 NOW, then file this report. "
         "Incident records may be public records: do not type Social Security numbers or "
         "dates of birth.")
URL = re.compile(r"^https?://\S{3,}$")


def report_fields(app: AppConfig) -> tuple[FormField, ...]:
    """Fast-path fields first, then the optional details and misinformation section."""
    jurisdictions = tuple((j.code, j.name) for j in app.jurisdictions)
    return (
        FormField("danger", "Is anyone in immediate danger?", "select", options=YES_NO),
        FormField("category", "What happened (category)", "select",
                  options=tuple((k, v[0]) for k, v in CATEGORIES.items())),
        FormField("subcategory", "Type (optional)", "select", required=False,
                  options=(("", "-"), *subcategory_options())),
        FormField("jurisdiction", "Jurisdiction", "select", options=jurisdictions),
        FormField("site", "Where (polling place, office, precinct)", max_length=200),
        FormField("when_date", "Date it happened", "date"),
        FormField("when_time", "Time (HH:MM, local; optional)", required=False, max_length=5),
        FormField("stopped", "Has voting, ballot processing or a critical system stopped, or is "
                  "there a confirmed compromise or a credible threat to a person?", "select",
                  options=YES_NO),
        FormField("degraded", "Are operations degraded, or is misinformation spreading locally?",
                  "select", options=YES_NO),
        FormField("description", "Short description", "textarea", max_length=MAX_TEXT,
                  hint="Describe people by role only (poll worker, voter, observer)."),
        FormField("details", "More details (optional): actions taken, impact, others notified",
                  "textarea", required=False, max_length=MAX_TEXT),
        FormField("le_agency", "Law enforcement notified: agency (required for SEV1/SEV2 "
                  "before close)", required=False, max_length=200),
        FormField("le_case", "Law enforcement case number", required=False, max_length=100),
        FormField("mis_url", "Misinformation: link to the post", required=False, max_length=500),
        FormField("mis_platform", "Misinformation: platform", required=False, max_length=100),
        FormField("mis_account", "Misinformation: account handle", required=False,
                  max_length=100),
        FormField("mis_first_seen", "Misinformation: first seen", "date", required=False),
        FormField("mis_reach", "Misinformation: reach (views, shares)", required=False,
                  max_length=100),
        FormField("mis_claim", "Misinformation: neutral summary of the claim", "textarea",
                  required=False, max_length=1000),
        FormField("mis_why_false", "Misinformation: why it is false (with a source)", "textarea",
                  required=False, max_length=1000),
        FormField("source_link", "Link to the original chat message (optional)",
                  required=False, max_length=500),
    )


def build_report_form(app: AppConfig, *, nonce: str, values: dict[str, str] | None = None,
                      errors: dict[str, str] | None = None) -> Form:
    """The form, pre-filled with what the reporter typed (never lost on an error)."""
    values = values or {}
    fields = tuple(
        FormField(f.name, f.label, f.kind, f.required, f.options, f.max_length,
                  values.get(f.name, f.value), f.hint) for f in report_fields(app))
    return Form(f"{FORM_PREFIX}{nonce}", "Report an incident", fields, "File report",
                errors=dict(errors or {}), intro=INTRO)


def _parse_when(values: dict[str, str], zone: ZoneInfo, now: datetime,
                errors: dict[str, str]) -> datetime | None:
    try:
        day = date.fromisoformat(values.get("when_date", "").strip())
    except ValueError:
        errors["when_date"] = "Use a date like 2026-11-03."
        return None
    clock = values.get("when_time", "").strip()
    at = time(0, 0)
    if clock:
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", clock)
        if not match:
            errors["when_time"] = "Use 24-hour time like 14:05."
            return None
        at = time(int(match.group(1)), int(match.group(2)))
    when = datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
    if day > now.astimezone(zone).date():
        errors["when_date"] = "That date is in the future."
        return None
    if when > now:
        errors["when_time"] = "That time is in the future."
        return None
    return when


def validate_report(values: dict[str, str], app: AppConfig, now: datetime) -> tuple[
        IncidentCreate | None, dict[str, str]]:
    """Check required fields, allowed values, lengths, dates and personal data patterns."""
    errors: dict[str, str] = {}
    fields = {f.name: f for f in report_fields(app)}
    for name, spec in fields.items():
        value = values.get(name, "").strip()
        if spec.required and not value:
            errors[name] = "Required."
        elif len(value) > spec.max_length:
            errors[name] = f"At most {spec.max_length} characters (you typed {len(value)})."
        elif spec.kind == "select" and value and value not in dict(spec.options):
            errors[name] = "Choose one of the listed options."
        elif spec.kind in ("text", "textarea") and value and sensitive_patterns(value):
            found = " and ".join(sensitive_patterns(value))
            errors[name] = (f"This looks like {found}. Incident records may be public records: "
                            "please remove it.")
    if values.get("mis_url", "").strip() and not URL.match(values["mis_url"].strip()):
        errors.setdefault("mis_url", "Use a full link starting with https://")
    jurisdiction = values.get("jurisdiction", "")
    when = _parse_when(values, ZoneInfo(app.time_zone_for(jurisdiction)), now, errors)
    if values.get("mis_first_seen", "").strip():
        try:
            date.fromisoformat(values["mis_first_seen"].strip())
        except ValueError:
            errors.setdefault("mis_first_seen", "Use a date like 2026-11-03.")
    sub = values.get("subcategory", "")
    if sub and not errors.get("subcategory") and sub.split("/")[0] != values.get("category"):
        errors["subcategory"] = "This type belongs to another category."
    if errors or when is None:
        return None, errors
    return _clean(values, when), {}


def _clean(values: dict[str, str], when: datetime) -> IncidentCreate:
    get = lambda name: values.get(name, "").strip()  # noqa: E731
    details = {k: get(k) for k in ("details", "mis_url", "mis_platform", "mis_account",
                                   "mis_first_seen", "mis_reach", "mis_claim", "mis_why_false")
               if get(k)}
    danger, stopped, degraded = (get(name) == "yes" for name in ("danger", "stopped", "degraded"))
    return IncidentCreate(
        category=get("category"), subcategory=get("subcategory").partition("/")[2],
        jurisdiction=get("jurisdiction"), site=get("site"), occurred_at=when,
        severity=severity_from_answers(danger=danger, stopped=stopped, degraded=degraded),
        danger=danger, stopped=stopped, degraded=degraded, description=get("description"),
        details=details, law_enforcement_agency=get("le_agency"),
        law_enforcement_case=get("le_case"), source_link=get("source_link"))
