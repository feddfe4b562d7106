"""E-mail settings: on with SMTP_URL, fail fast naming the key and the fix, no password in clear."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config.settings import ConfigError, mail_warnings
from tests.support import make_settings

RELAY = {"SMTP_URL": "smtp://relay.example.gov", "MAIL_FROM": "Alerts@Elections.Example.gov"}
SIGN_IN = {"SMTP_USERNAME": "bot", "SMTP_PASSWORD": "pw"}


def test_off_without_smtp_url(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    assert not settings.email_enabled and settings.relay is None


def test_on_with_defaults(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, {**RELAY, **SIGN_IN})
    assert settings.email_enabled
    assert settings.relay is not None
    assert (settings.relay.host, settings.relay.port, settings.relay.implicit_tls) == \
        ("relay.example.gov", 587, False)
    assert settings.app.email.starttls == "required"
    smtps = make_settings(tmp_path, {**RELAY, "SMTP_URL": "smtps://relay.example.gov"})
    assert smtps.relay is not None and (smtps.relay.port, smtps.relay.implicit_tls) == (465, True)


@pytest.mark.parametrize(("env", "key", "words"), [
    ({"SMTP_URL": "http://relay.example.gov", "MAIL_FROM": "a@b.gov"}, "SMTP_URL", "scheme"),
    ({"SMTP_URL": "smtp://bot:pw@relay.example.gov", "MAIL_FROM": "a@b.gov"}, "SMTP_URL",
     "SMTP_PASSWORD"),
    ({"SMTP_URL": "smtp://relay.example.gov?tls=no", "MAIL_FROM": "a@b.gov"}, "SMTP_URL",
     "no path or options"),
    ({"SMTP_URL": "smtp://relay.example.gov:99999", "MAIL_FROM": "a@b.gov"}, "SMTP_URL",
     "not a URL"),
    ({"SMTP_URL": "smtp://", "MAIL_FROM": "a@b.gov"}, "SMTP_URL", "no host"),
    ({"SMTP_URL": "smtp://relay.example.gov"}, "MAIL_FROM", "required"),
    ({**RELAY, "MAIL_FROM": "Alerts <a@b.gov>"}, "MAIL_FROM", "plain"),
    ({**RELAY, "SMTP_USERNAME": "bot"}, "SMTP_PASSWORD", "together"),
    ({**RELAY, "SMTP_PASSWORD": "pw"}, "SMTP_USERNAME", "together"),
    ({"MAIL_FROM": "a@b.gov"}, "MAIL_FROM", "without SMTP_URL"),
    ({"SMTP_PASSWORD": "pw"}, "SMTP_PASSWORD", "without SMTP_URL"),
])
def test_bad_environment_names_the_key(tmp_path: Path, env: dict[str, str], key: str,
                                       words: str) -> None:
    with pytest.raises(ConfigError) as err:
        make_settings(tmp_path, env)
    assert str(err.value).startswith(f"{key}:"), err.value
    assert words in str(err.value)
    assert "pw" not in str(err.value).replace("SMTP_PASSWORD", "")  # never echoes the secret


def test_opportunistic_starttls_with_a_password_is_refused_except_on_this_machine(
        tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        make_settings(tmp_path, {**RELAY, **SIGN_IN}, email={"starttls": "opportunistic"})
    assert str(err.value).startswith("email.starttls:")
    local = make_settings(tmp_path, {**RELAY, **SIGN_IN, "SMTP_URL": "smtp://127.0.0.1:2525"},
                          email={"starttls": "opportunistic"})
    assert local.relay is not None and local.relay.loopback
    no_password = make_settings(tmp_path, RELAY, email={"starttls": "opportunistic"})
    assert any("in clear" in w for w in mail_warnings(no_password))


@pytest.mark.parametrize(("section", "key"), [
    ({"starttls": "sometimes"}, "email.starttls"),
    ({"pacing": {"per_second": 0}}, "email.pacing.per_second"),
    ({"timeout_seconds": 60}, "email.timeout_seconds"),
    ({"reply_to": "not an address"}, "email.reply_to"),
    ({"from_name": "Office\nBcc: x@y.org"}, "email.from_name"),
    ({"smtp_url": "smtp://x"}, "email.smtp_url"),
    ({"ca_file": "missing.pem"}, "email.ca_file"),
])
def test_bad_email_section_names_the_key(tmp_path: Path, section: dict[str, object],
                                         key: str) -> None:
    with pytest.raises(ConfigError) as err:
        make_settings(tmp_path, RELAY, email=section)
    assert f": {key}" in str(err.value) or str(err.value).startswith(f"{key}:"), err.value


def test_no_contact_is_warned(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, RELAY, contacts={})
    assert any(w.startswith("email.reply_to") for w in mail_warnings(settings))
    assert not mail_warnings(make_settings(tmp_path, RELAY))


def test_config_check_reports_the_relay_and_refuses_a_bad_one(tmp_path: Path) -> None:
    from tests.app.test_cli import cli
    from tests.support import write_config

    write_config(tmp_path)
    off = cli(tmp_path, "config", "check")
    assert off.returncode == 0 and "e-mail: off" in off.stdout
    on = cli(tmp_path, "config", "check", **RELAY, **SIGN_IN)
    assert on.returncode == 0, on.stderr
    assert "e-mail: relay relay.example.gov:587 (STARTTLS), 5/s" in on.stdout
    assert "pw" not in on.stdout.replace("SMTP_PASSWORD", "")
    bad = cli(tmp_path, "config", "check", **RELAY, SMTP_USERNAME="bot")
    assert bad.returncode == 2 and bad.stderr.strip() == (
        "error: SMTP_PASSWORD: set SMTP_USERNAME and SMTP_PASSWORD together (or neither)")
