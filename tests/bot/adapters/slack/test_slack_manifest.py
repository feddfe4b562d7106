"""The Slack manifest's usage hints name each command's real verbs."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.adapters.slack.manifest import build_slack_manifest
from handlers.alerts.commands import CHILD_VERBS
from handlers.incidents.commands import VERBS as INCIDENT_VERBS
from tests.support import make_settings


def _commands(tmp_path: Path) -> dict[str, dict[str, object]]:
    settings = make_settings(tmp_path, commands={"alert": "/alert-ct", "cert": "/cert-ct"})
    manifest = yaml.safe_load(build_slack_manifest(settings, base_url="https://bot.example/"))
    return {c["command"]: c for c in manifest["features"]["slash_commands"]}


def _verbs(hint: object) -> set[str]:
    """The words a hint offers as verbs: the first word of each ``|`` choice, when a word."""
    choices = re.sub(r"^.*?\bor\b", "", str(hint)).split("|")
    return {c.split()[0] for c in choices if re.fullmatch(r"[a-z]+", c.split()[0])}


def test_usage_hints_offer_the_verbs_each_command_takes(tmp_path: Path) -> None:
    commands = _commands(tmp_path)
    alert, incident, cert = commands["/alert-ct"], commands["/incident"], commands["/cert-ct"]
    assert "[message]" not in str(alert["usage_hint"])  # the composer takes no message
    assert _verbs(alert["usage_hint"]) == {"status", *CHILD_VERBS, "help"}
    assert _verbs(incident["usage_hint"]) <= INCIDENT_VERBS
    assert {"list", "show", "status", "help"} <= _verbs(incident["usage_hint"])
    assert _verbs(cert["usage_hint"]) == {"done", "jurisdiction", "unreachable", "help"}
    assert "[jurisdiction]" not in str(cert["usage_hint"])  # a bare code is not a verb


def test_commands_that_name_people_get_slack_mentions_escaped(tmp_path: Path) -> None:
    commands = _commands(tmp_path)
    assert commands["/cert-ct"]["should_escape"] is True  # /cert @user
    assert commands["/incident"]["should_escape"] is True  # /incident assign ID @user
    assert commands["/alert-ct"]["should_escape"] is False
