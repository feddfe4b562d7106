"""The composer's choices (templates, groups) and the preview's reason for approval."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.messages import Form
from handlers.alerts.forms import build_composer, validate
from handlers.alerts.replies import build_approval_step
from handlers.alerts.service import approval_reasons
from tests.handlers.alerts.conftest import ALERTS, alert_settings, compose_values

NOW = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)
GROUPS = {"staff", "clerks", "partners"}


def _options(form: Form, name: str) -> list[str]:
    (field,) = [f for f in form.fields if f.name == name]
    assert field.kind in ("select", "multiselect")
    return [value for value, _ in field.options]


def test_composer_offers_configured_templates_and_groups_as_choices(tmp_path: Path) -> None:
    templates = {**ALERTS["templates"], "polling_place_change": {"headline": "A place moved"}}
    app = alert_settings(tmp_path, templates=templates).app
    form = build_composer(app, nonce="n", groups=["clerks", "partners", "staff"])
    assert sorted(_options(form, "template")) == ["", "polling_place_change", "rumor_control"]
    assert _options(form, "groups") == ["clerks", "partners", "staff"]
    assert _options(form, "tiers") == ["T0", "T1", "T2", "T3"]
    assert _options(form, "jurisdictions") == [j.code for j in app.jurisdictions]
    assert {f.name: f.kind for f in form.fields if f.name in ("groups", "tiers",
                                                              "jurisdictions")} == {
        "groups": "multiselect", "tiers": "multiselect", "jurisdictions": "multiselect"}


def test_audience_choices_not_offered_are_refused(tmp_path: Path) -> None:
    app = alert_settings(tmp_path).app
    clean, errors = validate(compose_values(groups="clerks,everyone", tiers="T1,T9",
                                            jurisdictions="CT,ZZ"), app, NOW, child=False,
                             known_groups=GROUPS)
    assert clean is None
    assert errors["groups"].startswith("Unknown group: everyone.")
    assert "T9" in errors["tiers"] and "ZZ" in errors["jurisdictions"]
    clean, errors = validate(compose_values(groups="clerks,partners", tiers="", jurisdictions=""),
                             app, NOW, child=False, known_groups=GROUPS)
    assert clean is not None and clean.audience.groups == ("clerks", "partners"), errors


def test_choosing_a_template_fills_blank_text(tmp_path: Path) -> None:
    app = alert_settings(tmp_path).app
    values = compose_values(template="rumor_control", alert_type="", headline="", body="",
                            instructions="Keep this.")
    clean, errors = validate(values, app, NOW, child=False, known_groups=GROUPS)
    assert errors == {} and clean is not None
    assert (clean.alert_type, clean.headline, clean.body, clean.instructions) == (
        "rumor_control", "Polling hours are unchanged", "Polls are open 6-8. Source: SOTS.",
        "Keep this.")


def test_unknown_group_and_template_are_refused_by_name(tmp_path: Path) -> None:
    app = alert_settings(tmp_path).app
    values = compose_values(groups="everyone", template="made_up")
    clean, errors = validate(values, app, NOW, child=False, known_groups=GROUPS)
    assert clean is None
    assert errors["groups"] == "Unknown group: everyone. Choose one of the network's groups."
    assert errors["template"].startswith("Unknown template: made_up.")


def test_minor_single_state_t1_alert_says_why_it_needs_approval(tmp_path: Path) -> None:
    app = alert_settings(tmp_path).app  # the office is in CT
    clean, _ = validate(compose_values(tiers="T1", jurisdictions="CT"), app, NOW, child=False,
                        known_groups=GROUPS)
    assert clean is not None
    reasons = approval_reasons(clean, app, {"T1"})
    assert build_approval_step(bool(reasons), reasons) == (
        "Approval needed: it needs a second broadcaster's approval because it is statewide (CT was chosen; "
        "statewide alerts always need one).")


def test_minor_t1_alert_elsewhere_says_it_can_go_at_once(tmp_path: Path) -> None:
    app = alert_settings(tmp_path).app
    clean, _ = validate(compose_values(tiers="T1", jurisdictions="KS"), app, NOW, child=False,
                        known_groups=GROUPS)
    assert clean is not None
    assert approval_reasons(clean, app, {"T1"}) == ()
    assert build_approval_step(False, ()).startswith("No approval needed: you can send it at once, "
                                                     "because it is not severe")


def test_every_triggered_rule_is_named(tmp_path: Path) -> None:
    tiers = {"T0": {"tlp_max": "RED"}, "T1": {"approval": True}, "T2": {},
             "T3": {"tlp_max": "CLEAR", "chase": False}}
    app = alert_settings(tmp_path, tiers=tiers).app
    clean, _ = validate(compose_values(tiers="T1, T3", jurisdictions="KS", severity="severe"),
                        app, NOW, child=False, known_groups=GROUPS)
    assert clean is not None
    assert approval_reasons(clean, app, {"T1", "T3"}) == (
        "its severity is severe (severe and extreme alerts always need one)",
        "it reaches T1 (every T1 alert needs one by the tier policy)",
        "it reaches T3 (every T3 alert needs one by the tier policy)")
