"""The incident report form and its validation (nothing is stored until this passes)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from bot.config.settings import AppConfig
from bot.messages import Form, FormField
from bot.ops.privacy import sensitive_patterns
from handlers.incidents.catalog import CATEGORIES, severity_from_answers
from handlers.incidents.models import IncidentCreate
from handlers.incidents.routing import reporter_jurisdictions
from handlers.incidents.spanish import localize, tagged

FORM_PREFIX = "incident:report:"
DETAILS_PREFIX = "incident:details:"
YES_NO = (("no", "No"), ("yes", "Yes"))
MAX_TEXT = 3000
#: The first line of every incident form, on every platform (a danger-toned banner).
BANNER = ("If anyone is in immediate danger or there is a threat of violence, CALL 911 NOW, "
          "then file this report.")
INTRO = ("Incident records may be public records: do not type Social Security numbers or "
         "dates of birth.")
URL = re.compile(r"^https?://\S{3,}$")
TITLE = "Report an incident"

# Fields only one category asks: (in the first, short form; in "Add details").
_MIS_SHORT = (
    FormField("mis_platform", "Where it was seen (platform, site or phone)", required=False,
              max_length=100),
    FormField("mis_url", "Link to the post", required=False, max_length=500),
    FormField("mis_reach", "Reach (views, shares)", required=False, max_length=100),
)
_MIS_DETAILS = (
    FormField("mis_account", "Account handle", required=False, max_length=100),
    FormField("mis_first_seen", "First seen", "date", required=False),
    FormField("mis_claim", "Neutral summary of the claim", "textarea", required=False,
              max_length=1000),
    FormField("mis_why_false", "Why it is false (with a source)", "textarea", required=False,
              max_length=1000),
)
_ASSETS = (FormField("asset_numbers", "Seal, asset or batch numbers", required=False,
                     max_length=300),)
CATEGORY_FIELDS: dict[str, tuple[tuple[FormField, ...], tuple[FormField, ...]]] = {
    "misinformation": (_MIS_SHORT, _MIS_DETAILS),
    "equipment_systems": ((), _ASSETS),
    "ballot_custody": ((), _ASSETS),
}
#: Every category's own fields, by name: a value for one outside its category is refused.
OWNED = {f.name: cat for cat, parts in CATEGORY_FIELDS.items() for part in parts for f in part}
#: The detail fields every category has (the "Add details" form).
COMMON_DETAILS = (
    FormField("details", "Actions taken, impact, others notified", "textarea", required=False,
              max_length=MAX_TEXT),
    FormField("le_agency", "Law enforcement notified: agency (required for SEV1/SEV2 "
              "before close)", required=False, max_length=200),
    FormField("le_case", "Law enforcement case number", required=False, max_length=100),
)
DETAIL_KEYS = ("details", "asset_numbers", *(f.name for f in _MIS_SHORT + _MIS_DETAILS))


#: The category select: choosing one redraws the form for it.
CATEGORY = FormField("category", "What kind of incident", "select", refresh=True,
                     options=tuple((k, v[0]) for k, v in CATEGORIES.items()))


def type_field(category: str) -> tuple[FormField, ...]:
    """The chosen category's types only (none for a category without types)."""
    subs = CATEGORIES.get(category, ("", ()))[1]
    if not subs:
        return ()
    return (FormField("subcategory", "Type", "select", required=False,
                      options=tuple((f"{category}/{sub}", sub[:1].upper() + sub[1:])
                                    for sub in subs)),)


def report_fields(app: AppConfig, category: str = "") -> tuple[FormField, ...]:
    """The short form: what triage needs, for ``category``.

    Without a category it is the first step: danger, category and what happened.
    """
    jurisdictions = tuple((j.code, j.name) for j in app.jurisdictions) or (
        (app.office.state, app.office.state),)
    danger = FormField("danger", "Is anyone in immediate danger?", "select", options=YES_NO)
    what = FormField("description", "What happened", "textarea", max_length=MAX_TEXT,
                     hint="Describe people by role only (poll worker, voter, observer).")
    if category not in CATEGORIES:
        return (danger, CATEGORY, what)
    return (
        danger, CATEGORY, *type_field(category), what,
        FormField("jurisdiction", "Jurisdiction", "select", options=jurisdictions),
        FormField("site", "Where (polling place, office, precinct)", max_length=200),
        FormField("when_date", "Date it happened", "date"),
        FormField("when_time", "Time (HH:MM, local)", required=False, max_length=5),
        FormField("stopped", "Has voting, ballot processing or a critical system stopped, or is "
                  "there a confirmed compromise or a credible threat to a person?", "select",
                  options=YES_NO),
        FormField("degraded", "Are operations degraded, or is misinformation spreading locally?",
                  "select", options=YES_NO),
        *CATEGORY_FIELDS.get(category, ((), ()))[0],
    )


def details_fields(category: str) -> tuple[FormField, ...]:
    """The longer form after filing: the details every report has, then the category's own."""
    return (*COMMON_DETAILS, *CATEGORY_FIELDS.get(category, ((), ()))[1])


def allowed_fields(app: AppConfig, category: str) -> dict[str, FormField]:
    """Everything a report of ``category`` may carry (short form, its details, the link)."""
    every = (*report_fields(app, category), *details_fields(category),
             *CATEGORY_FIELDS.get(category, ((), ()))[0],
             FormField("source_link", "Link to the original chat message", required=False,
                       max_length=500))
    return {f.name: f for f in every}


def defaults(app: AppConfig, reporter: str | None, now: datetime | None,
             declared: str | None = None) -> dict[str, str]:
    """What the reporter's identity makes obvious: their jurisdiction, now in its zone, "no"."""
    values = {"stopped": "no", "degraded": "no"}
    own = reporter_jurisdictions(app, reporter, declared) if reporter else []
    configured = [j.code for j in app.jurisdictions] or [app.office.state]
    mine = [code for code in own if code in configured]
    if len(mine) == 1 or len(configured) == 1:
        values["jurisdiction"] = mine[0] if len(mine) == 1 else configured[0]
    if now is not None:
        local = now.astimezone(ZoneInfo(app.time_zone_for(values.get("jurisdiction"))))
        values.update(when_date=local.date().isoformat(), when_time=f"{local:%H:%M}")
    return values


def build_report_form(app: AppConfig, *, nonce: str, values: dict[str, str] | None = None,
                      errors: dict[str, str] | None = None, reporter: str | None = None,
                      now: datetime | None = None, declared: str | None = None,
                      language: str = "en") -> Form:
    """The form for what is known so far, pre-filled (never losing what was typed).

    Without a category it asks only that (and whether anyone is in danger); with one, only
    that category's types and fields. ``reporter`` and ``now`` fill the obvious defaults.
    In Spanish (``language`` "es") its words are Spanish and its id says so, so that every
    later step, check and confirmation stays Spanish.
    """
    given = {k: v for k, v in (values or {}).items() if v}
    values = {**defaults(app, reporter, now, declared), **given}
    category = values.get("category", "")
    shown = list(report_fields(app, category))
    if values.get("source_link"):  # "Report as incident" on a message: keep where it came from
        shown.append(allowed_fields(app, category)["source_link"])
    fields = tuple(replace(f, value=_offered(f, values.get(f.name, f.value))) for f in shown)
    step = category not in CATEGORIES
    form = Form(f"{FORM_PREFIX}{tagged(nonce, language)}", TITLE, fields,
                "Next" if step else "File report", errors=dict(errors or {}), intro=INTRO,
                banner=BANNER)
    return localize(form, language)


def _offered(field: FormField, value: str) -> str:
    """A select keeps only a value it offers (another category's type is dropped)."""
    return value if field.kind != "select" or value in dict(field.options) else ""


def is_step(values: dict[str, str]) -> bool:
    """A submission of the first step (a category, not yet where or when): ask the rest."""
    return values.get("category", "") in CATEGORIES and not any(
        values.get(name, "").strip() for name in ("site", "when_date"))


def build_details_form(human_id: str, category: str, incident_values: dict[str, str], *,
                       errors: dict[str, str] | None = None, language: str = "en") -> Form:
    """"Add details" for a filed report: the longer form for its category, pre-filled."""
    fields = tuple(replace(f, value=incident_values.get(f.name, "")) for f in
                   details_fields(category))
    form = Form(f"{DETAILS_PREFIX}{tagged(human_id, language)}", f"Add details to {human_id}",
                fields, "Save details", errors=dict(errors or {}), intro=INTRO, banner=BANNER)
    return localize(form, language)


def check_value(spec: FormField, value: str) -> str | None:
    """What is wrong with one field's value ("" when nothing), by its spec."""
    if spec.required and not value:
        return "Required."
    if len(value) > spec.max_length:
        return f"At most {spec.max_length} characters (you typed {len(value)})."
    if spec.kind == "select" and value and value not in dict(spec.options):
        return "Choose one of the listed options."
    if spec.kind in ("text", "textarea") and value and sensitive_patterns(value):
        found = " and ".join(sensitive_patterns(value))
        return (f"This looks like {found}. Incident records may be public records: "
                "please remove it.")
    if spec.name == "mis_url" and value and not URL.match(value):
        return "Use a full link starting with https://"
    if spec.kind == "date" and value and not spec.required:
        try:
            date.fromisoformat(value)
        except ValueError:
            return "Use a date like 2026-11-03."
    return None


def foreign_fields(values: dict[str, str], category: str) -> dict[str, str]:
    """Values for another category's fields: refused, whatever the client showed."""
    return {name: f"This field is not part of a {CATEGORIES[category][0].lower()} report."
            for name, owner in OWNED.items()
            if owner != category and values.get(name, "").strip()}


def validate_details(values: dict[str, str], category: str) -> tuple[dict[str, str],
                                                                      dict[str, str]]:
    """The "Add details" form: (clean values, errors); other categories' fields refused."""
    errors = foreign_fields(values, category)
    clean: dict[str, str] = {}
    for spec in details_fields(category):
        value = values.get(spec.name, "").strip()
        problem = check_value(spec, value)
        if problem:
            errors[spec.name] = problem
        elif value:
            clean[spec.name] = value
    return clean, errors


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
    """Check the chosen category's fields: required, allowed values, lengths, dates, personal data.

    A type of another category, or a value for another category's fields, is refused here
    whatever the form showed (the client is never trusted).
    """
    category = values.get("category", "").strip()
    errors: dict[str, str] = {}
    if category not in CATEGORIES:
        errors["category"] = "Required." if not category else "Choose one of the listed options."
        category = ""
    fields = allowed_fields(app, category) if category else {
        f.name: f for f in report_fields(app, "other")}
    for name, spec in fields.items():
        problem = check_value(spec, values.get(name, "").strip())
        if problem:
            errors[name] = problem
    sub = values.get("subcategory", "").strip()
    if sub and category and "subcategory" not in fields:
        errors["subcategory"] = "This category has no types."
    if sub and sub.split("/")[0] != category:
        errors["subcategory"] = "This type belongs to another category."
    if category:
        errors.update(foreign_fields(values, category))
    jurisdiction = values.get("jurisdiction", "")
    when = _parse_when(values, ZoneInfo(app.time_zone_for(jurisdiction)), now, errors)
    if errors or when is None:
        return None, errors
    return _clean(values, when), {}


def _clean(values: dict[str, str], when: datetime) -> IncidentCreate:
    get = lambda name: values.get(name, "").strip()  # noqa: E731
    details = {k: get(k) for k in DETAIL_KEYS if get(k)}
    danger, stopped, degraded = (get(name) == "yes" for name in ("danger", "stopped", "degraded"))
    return IncidentCreate(
        category=get("category"), subcategory=get("subcategory").partition("/")[2],
        jurisdiction=get("jurisdiction"), site=get("site"), occurred_at=when,
        severity=severity_from_answers(danger=danger, stopped=stopped, degraded=degraded),
        danger=danger, stopped=stopped, degraded=degraded, description=get("description"),
        details=details, law_enforcement_agency=get("le_agency"),
        law_enforcement_case=get("le_case"), source_link=get("source_link"))
