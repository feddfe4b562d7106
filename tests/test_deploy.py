"""deploy/ as shipped: its app.yaml and env pass `config check` in production mode, and behind
its nginx (X-Forwarded-For appended, requests from 127.0.0.1) each browser is counted apart."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import aiohttp
import pytest

from app.config import load_settings
from bot.adapters.webchat.accounts import add_account
from tests.support import FIXTURE_KB, running_bot
from tests.test_cli import cli
from tests.test_webchat_auth import PASSWORD

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
REPO_APP_YAML = DEPLOY.parent / "app.yaml"


def deploy_env(tmp: Path) -> dict[str, str]:
    """env.example with its placeholders filled in as an office would."""
    env = {}
    for line in (DEPLOY / "env.example").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            env[name] = value
    env["ELECTIONBOT_AUDIT_KEY"] = secrets.token_hex(32)
    env["ELECTIONBOT_CONFIG"] = str(DEPLOY / "app.yaml")
    return env


def test_config_check_passes_on_the_deploy_example_in_production_mode(tmp_path: Path) -> None:
    result = cli(tmp_path, "config", "check", **deploy_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "production mode" in result.stdout and "teams" in result.stdout
    assert "warning" not in result.stderr, result.stderr


def test_the_units_never_start_demo_mode_and_nginx_forwards_the_client() -> None:
    for unit in DEPLOY.glob("*.service"):
        assert "--demo" not in unit.read_text(encoding="utf-8"), unit.name
    nginx = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in nginx
    # nginx reaches the instances over loopback, which deploy/app.yaml trusts.
    assert re.findall(r"server (127\.0\.0\.1):\d+", nginx)


async def _sign_in_through_nginx(url: str, client: str, user: str, password: str) -> int:
    """As nginx forwards a browser: from 127.0.0.1, the client appended to X-Forwarded-For."""
    headers = {"X-Forwarded-For": client}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{url}/webchat/session", headers=headers) as resp:
            csrf = (await resp.json())["csrf"]
        async with http.post(f"{url}/webchat/signin", json={
                "user": user, "password": password, "code": ""}, headers={
                **headers, "X-CSRF-Token": csrf, "Cookie": f"__Host-electionbot_csrf={csrf}"}
                ) as resp:
            return resp.status


@pytest.mark.parametrize(("config", "locked_out"), [(DEPLOY / "app.yaml", False),
                                                    (REPO_APP_YAML, True)])
async def test_one_browsers_failed_sign_ins_do_not_lock_out_another(
        tmp_path: Path, config: Path, locked_out: bool) -> None:
    """With deploy/app.yaml each browser is its own address; without trusted_proxies (the
    repository's app.yaml as is) all of them are nginx's 127.0.0.1, so one attacker's 20
    failures lock every person out of sign-in."""
    kb = tmp_path / "kb"  # as installed, with a vetted article of the office's own
    kb.mkdir()
    article = (FIXTURE_KB / "general-sample-chain.md").read_text(encoding="utf-8")
    (kb / "general-sample-chain.md").write_text(
        re.sub(r"(?m)^related:.*\n(  - .*\n)*", "", article), encoding="utf-8")
    app_yaml = tmp_path / "app.yaml"
    app_yaml.write_text(re.sub(r"(?m)^knowledge_path: .*$", "", config.read_text(
        encoding="utf-8")) + f"knowledge_path: {kb}\n", encoding="utf-8")
    env = {**deploy_env(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
           "ELECTIONBOT_CONFIG": str(app_yaml)}
    for name in ("MICROSOFT_APP_ID", "MICROSOFT_APP_PASSWORD", "SLACK_BOT_TOKEN",
                 "SLACK_SIGNING_SECRET"):
        env.pop(name)
    async with running_bot(load_settings(env)) as bot:
        await add_account(bot.services.db, name="ann", password=PASSWORD, totp=False)
        for i in range(20):  # an attacker spraying names from one address, through nginx
            assert await _sign_in_through_nginx(
                bot.url, f"203.0.113.{i % 3 + 7}, 198.51.100.66", f"user{i}",
                "wrong wrong wrong") == 401
        # The attacker's address is locked, whatever it claims to be...
        assert await _sign_in_through_nginx(bot.url, "198.51.100.66", "ann", PASSWORD) == 429
        assert await _sign_in_through_nginx(bot.url, "192.0.2.10, 198.51.100.66", "ann",
                                            PASSWORD) == 429
        # ...and another office signs in unless everyone shares nginx's address.
        status = await _sign_in_through_nginx(bot.url, "192.0.2.10", "ann", PASSWORD)
    assert status == (429 if locked_out else 200)
