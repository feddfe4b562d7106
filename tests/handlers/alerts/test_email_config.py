"""app.yaml: e-mail members of alert groups and the domains TLP:AMBER may reach by e-mail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.config import load_settings
from bot.config.settings import ConfigError, Settings
from handlers.alerts.config import AlertsConfig
from tests.support import write_config


def load(tmp_path: Path, alerts: dict[str, Any]) -> Settings:
    path = write_config(tmp_path, alerts=alerts)
    return load_settings({"ELECTIONBOT_CONFIG": str(path),
                          "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}"}, demo=False)


def faith(*members: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"groups": [{"name": "faith", "tier": "T3", "members": [
        {"organisation": "Grace Church", "jurisdiction": "CT", **m} for m in members]}], **extra}


def test_email_members_and_backups_are_kept_in_normal_form(tmp_path: Path) -> None:
    settings = load(tmp_path, faith(
        {"destination": "email:Office@Grace.Example.ORG",
         "backup": "email:Pastor@GRACE.example.org"},
        email={"amber_domains": ["SOS.Example.gov", " *.ct.example.gov "]}))
    config = settings.app.section(AlertsConfig)
    (member,) = config.groups[0].members
    assert member.destination == "email:Office@grace.example.org"
    assert member.backup == "email:Pastor@grace.example.org"
    assert config.email.amber_domains == ["sos.example.gov", "*.ct.example.gov"]


@pytest.mark.parametrize(("alerts", "says"), [
    (faith({"destination": "email:Office@grace.example.org"},
           {"destination": "email:Office@GRACE.example.org"}),
     "alerts.groups.0: Value error, email:Office@grace.example.org is listed twice in group "
     "faith"),
    (faith({"destination": "email:office@grace.example.org", "people": ["slack:T1:U1"]}),
     "alerts.groups.0.members.0: Value error, people: an e-mail member is one mailbox"),
    (faith({"destination": "email:office@grace"}),
     "alerts.groups.0.members.0.destination"),
    (faith({"destination": "email:Grace <office@grace.example.org>"}),
     "alerts.groups.0.members.0.destination"),
    (faith({"destination": "email:office@grace.example.org", "backup": "email:"}),
     "alerts.groups.0.members.0.backup"),
    ({"email": {"amber_domains": ["*.gov"]}}, "would admit a whole top-level domain"),
    ({"email": {"amber_domains": ["clerk@sos.example.gov"]}},
     "alerts.email.amber_domains: Value error, 'clerk@sos.example.gov' is not a domain name"),
    ({"email": {"amber_domains": ["*"]}}, "alerts.email.amber_domains"),
    ({"email": {"amber": ["sos.example.gov"]}}, "alerts.email.amber"),
])
def test_bad_email_configuration_is_refused_naming_the_key(
        tmp_path: Path, alerts: dict[str, Any], says: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load(tmp_path, alerts)
    assert says in str(refused.value)
