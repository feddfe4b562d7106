"""Configuration: the real app.yaml loads; every bad input names the key and exits 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.config import ConfigError, load_settings
from tests.support import BASE_CONFIG, ROOT, make_settings, write_config


def test_the_shipped_app_yaml_is_valid() -> None:
    settings = load_settings({"ELECTIONBOT_CONFIG": str(ROOT / "app.yaml")})
    assert settings.app.office.state == "CT"
    assert settings.app.commands.ask == "/ask"
    assert settings.app.contact_for("KS") is not None
    assert settings.app.contact_for("nowhere") == settings.app.contacts["default"]


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


def test_teams_without_app_id_only_on_loopback(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    settings.check_listen_address("127.0.0.1")
    settings.check_listen_address("localhost")
    with pytest.raises(ConfigError, match="MICROSOFT_APP_ID"):
        settings.check_listen_address("0.0.0.0")
    make_settings(tmp_path, env={"MICROSOFT_APP_ID": "app"},
                  teams={"tenants": ["72f988bf-86f1-41af-91ab-2d7cd011db47"]}
                  ).check_listen_address("0.0.0.0")


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("SLACK_", "MICROSOFT_", "DATABASE_URL", "ELECTIONBOT_"))}
    return subprocess.run([sys.executable, "-m", "bot", *args], env={**clean, **env},
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


def test_cli_serve_refuses_public_address_without_teams_app_id(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    result = _cli(["serve", "--host", "0.0.0.0", "--port", "1"],
                  {"ELECTIONBOT_CONFIG": str(config),
                   "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}, tmp_path)
    assert result.returncode == 2
    assert "MICROSOFT_APP_ID" in result.stderr


def test_cli_config_check_ok(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    result = _cli(["config", "check"], {"ELECTIONBOT_CONFIG": str(config)}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "ok:" in result.stdout
