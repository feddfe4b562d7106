"""Configuration: the real app.yaml loads; every bad input names the key and exits 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from app.config import load_settings
from bot.config.settings import ConfigError, demo_identities
from handlers.alerts.config import AlertsConfig
from handlers.certifications.config import CertificationConfig
from handlers.incidents.permissions import manages
from tests.support import BASE_CONFIG, ROOT, make_settings, write_config


def test_the_shipped_app_yaml_is_valid() -> None:
    settings = load_settings({"ELECTIONBOT_CONFIG": str(ROOT / "app.yaml")})
    assert settings.app.office.state == "CT"
    assert settings.app.commands.ask == "/ask"
    assert settings.app.contact_for("KS") is not None
    assert settings.app.contact_for("nowhere") == settings.app.contacts["default"]


def test_the_shipped_app_yaml_grants_nothing_to_demo_names() -> None:
    settings = load_settings({"ELECTIONBOT_CONFIG": str(ROOT / "app.yaml")})
    assert not settings.demo and settings.mode == "production"
    app = settings.app
    assert not any(app.has_role(f"webchat:local:{name}", role)
                   for name in ("state-demo", "state-deputy", "ks-supervisor", "ct-manager")
                   for role in ("state_staff", "broadcaster", "incident_manager",
                                "cert_supervisor"))
    assert not manages(app, "webchat:local:ct-manager", "CT")
    raw = yaml.safe_load((ROOT / "app.yaml").read_text(encoding="utf-8"))
    assert demo_identities(raw) == []


def test_demo_mode_merges_the_shipped_demo_overlay() -> None:
    settings = load_settings({"ELECTIONBOT_CONFIG": str(ROOT / "app.yaml")}, demo=True)
    assert settings.demo and settings.mode == "demo"
    app = settings.app
    assert app.has_role("webchat:local:state-demo", "state_staff")
    assert app.has_role("webchat:local:state-deputy", "broadcaster")
    assert manages(app, "webchat:local:ct-manager", "CT")
    assert {g.name for g in app.section(AlertsConfig).groups} == {"state-staff", "ct-registrars", "community"}
    assert app.section(AlertsConfig).templates  # app.yaml's own settings survive the merge
    assert app.section(CertificationConfig).supervisors["KS"] == ["webchat:local:ks-supervisor"]


WEBCHAT_IN_PRODUCTION = [
    ({"roles": {"state_staff": ["slack:T1:U1", "webchat:local:boss"]}}, "roles.state_staff[1]"),
    ({"incidents": {"on_call": ["webchat:local:@boss"]}}, "incidents.on_call[0]"),
    ({"incidents": {"managers": {"CT": ["webchat:local:mgr"]}}}, "incidents.managers.CT[0]"),
    ({"incidents": {"routing": [{"notify": ["webchat:local:@boss"]}]}},
     "incidents.routing[0].notify[0]"),
    ({"alerts": {"groups": [{"name": "g", "tier": "T1", "members": [
        {"destination": "webchat:local:@x", "organisation": "O", "jurisdiction": "CT"}]}]}},
     "alerts.groups[0].members[0].destination"),
    ({"alerts": {"help_destinations": ["webchat:local:@boss"]}}, "alerts.help_destinations[0]"),
    ({"certification": {"supervisors": {"KS": ["webchat:local:sup"]}}},
     "certification.supervisors.KS[0]"),
]


@pytest.mark.parametrize(("change", "key"), WEBCHAT_IN_PRODUCTION)
def test_webchat_identity_outside_demo_mode_is_refused(tmp_path: Path, change: dict,
                                                       key: str) -> None:
    path = tmp_path / "app.yaml"  # one file, not split into demo.yaml the way write_config does
    path.write_text(yaml.safe_dump({**BASE_CONFIG, "roles": {}, **change}), encoding="utf-8")
    environ = {"ELECTIONBOT_CONFIG": str(path)}
    with pytest.raises(ConfigError) as err:
        load_settings(environ)
    assert str(err.value).startswith(f"{path}: {key}: webchat:local identities are "
                                     "self-declared and exist only in demo mode")
    assert "serve --demo" in str(err.value)
    assert load_settings(environ, demo=True).demo  # the same file loads in demo mode


def test_demo_mode_cannot_be_set_from_the_environment(tmp_path: Path) -> None:
    env = {"ELECTIONBOT_DEMO": "1", "DEMO": "true", "demo": "true"}
    settings = make_settings(tmp_path, env=env, demo=False,
                             roles={"state_staff": ["slack:T1:U1"]})
    assert settings.demo is False and settings.mode == "production"


def test_secrets_are_never_printed_in_repr(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, env={"SLACK_BOT_TOKEN": "xoxb-very-secret",
                                            "SLACK_SIGNING_SECRET": "shh-secret"})
    assert "xoxb-very-secret" not in repr(settings)
    assert "shh-secret" not in repr(settings)


@pytest.mark.parametrize(("change", "expected"), [
    ({"office": {"name": "X", "state": "CT", "time_zone": "Mars/Olympus"}}, "office.time_zone"),
    ({"office": {"name": "X", "state": "Connecticut"}}, "office.state"),
    ({"offfice": {}}, "offfice"),
    ({"commands": {"ask": "ask"}}, "commands.ask"),
    ({"roles": {"state_staff": ["U123"]}}, "roles"),
    ({"thresholds": {"answer_confidence": 2}}, "thresholds.answer_confidence"),
    ({"contacts": {"CT": {"name": "x", "verified_on": "2026-01-01"}}}, "contacts"),
])
def test_bad_app_yaml_names_the_key(tmp_path: Path, change: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        make_settings(tmp_path, **change)
    assert expected in str(err.value)


def test_invalid_yaml_reports_the_line(tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text("office:\n  name: [unclosed\n  state: CT\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings({"ELECTIONBOT_CONFIG": str(path)})
    assert f"{path}:" in str(err.value)


def test_missing_config_file_says_which_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ELECTIONBOT_CONFIG"):
        load_settings({"ELECTIONBOT_CONFIG": str(tmp_path / "nope.yaml")})


@pytest.mark.parametrize(("env", "key"), [
    ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
    ({"SLACK_APP_TOKEN": "xapp-1"}, "SLACK_BOT_TOKEN"),
    ({"MICROSOFT_APP_PASSWORD": "pw"}, "MICROSOFT_APP_ID"),
    ({"MICROSOFT_APP_ID": "id", "MICROSOFT_APP_TYPE": "SingleTenant"}, "MICROSOFT_APP_TENANT_ID"),
    ({"MICROSOFT_APP_TYPE": "Weird"}, "MICROSOFT_APP_TYPE"),
    ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    ({"ELECTIONBOT_SIMULATED_START": "2026-11-03T13:00:00"}, "ELECTIONBOT_SIMULATED_START"),
])
def test_contradictory_environment_names_the_key(tmp_path: Path, env: dict, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        make_settings(tmp_path, env=env)
    assert str(err.value).startswith(key)


def test_socket_mode_needs_no_signing_secret(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, env={"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"})
    assert settings.slack_enabled


def test_demo_mode_listens_on_loopback_only(tmp_path: Path) -> None:
    demo = make_settings(tmp_path, demo=True)
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        demo.check_listen_address(host)
    for host in ("0.0.0.0", "::", "10.0.0.5", "bot.example.gov"):
        with pytest.raises(ConfigError, match="demo mode refuses to listen on"):
            demo.check_listen_address(host)
    # Outside demo mode any address will do: Teams without an app id answers 503 instead.
    make_settings(tmp_path, demo=False).check_listen_address("0.0.0.0")


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("SLACK_", "MICROSOFT_", "DATABASE_URL", "ELECTIONBOT_"))}
    return subprocess.run([sys.executable, "-m", "app", *args], env={**clean, **env},
                          capture_output=True, text=True, cwd=cwd, timeout=60)


def test_cli_exits_2_with_one_line_naming_the_key(tmp_path: Path) -> None:
    bad = dict(BASE_CONFIG, office={"name": "X", "state": "CT", "time_zone": "Nowhere/Zone"})
    (tmp_path / "app.yaml").write_text(yaml.safe_dump(bad), encoding="utf-8")
    result = _cli(["config", "check"], {"ELECTIONBOT_CONFIG": str(tmp_path / "app.yaml")},
                  tmp_path)
    assert result.returncode == 2
    assert "office.time_zone" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_serve_demo_refuses_a_public_address(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    result = _cli(["serve", "--demo", "--host", "0.0.0.0", "--port", "1"],
                  {"ELECTIONBOT_CONFIG": str(config),
                   "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}, tmp_path)
    assert result.returncode == 2
    assert "demo mode refuses to listen on 0.0.0.0" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.db").exists()  # refused before anything was set up


def test_cli_config_check_ok(tmp_path: Path) -> None:
    config = write_config(tmp_path)  # webchat grants go to demo.yaml next to app.yaml
    result = _cli(["config", "check"], {"ELECTIONBOT_CONFIG": str(config)}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "ok:" in result.stdout and "production mode" in result.stdout
    result = _cli(["config", "check", "--demo"], {"ELECTIONBOT_CONFIG": str(config)}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "demo mode" in result.stdout


def test_cli_config_check_names_a_webchat_identity_outside_demo_mode(tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(BASE_CONFIG), encoding="utf-8")  # webchat:local:boss inside
    result = _cli(["config", "check"], {"ELECTIONBOT_CONFIG": str(path)}, tmp_path)
    assert result.returncode == 2
    assert "roles.state_staff[0]: webchat:local identities are self-declared" in result.stderr
    assert "Traceback" not in result.stderr
    ok = _cli(["config", "check", "--demo"], {"ELECTIONBOT_CONFIG": str(path)}, tmp_path)
    assert ok.returncode == 0, ok.stderr
