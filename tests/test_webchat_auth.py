"""Signing in to the web chat with a local account: sessions, cookies, CSRF, limits, audit."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pyotp
import pytest
import sqlalchemy as sa

from bot.adapters.webchat.accounts import add_account, disable_account, sign_in
from bot.config.webchat import SignInLimits
from bot.db.engine import utcnow
from tests.support import make_settings, running_bot
from tests.test_cli import cli

PASSWORD = "correct horse battery staple"


class Web:
    """One browser: its own cookie jar and CSRF token, talking to the running bot."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def __aenter__(self) -> Web:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.close()

    async def session(self) -> dict[str, Any]:
        async with self.http.get(f"{self.url}/webchat/session") as resp:
            body = await resp.json()
        self.csrf = body.get("csrf", "")
        return body

    async def sign_in(self, user: str, password: str = PASSWORD,
                      code: str = "") -> tuple[int, dict[str, Any]]:
        await self.session()  # as the page does: the current pre-sign-in token
        async with self.http.post(f"{self.url}/webchat/signin", headers=self.headers(),
                                  json={"user": user, "password": password, "code": code}) as resp:
            body = await resp.json()
        if resp.status == 200:
            self.csrf = body["csrf"]
        return resp.status, body

    def headers(self, **extra: str) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf, **extra}

    async def post(self, payload: dict[str, Any], **headers: str) -> tuple[int, dict[str, Any]]:
        async with self.http.post(f"{self.url}/webchat/messages", json=payload,
                                  headers=headers or self.headers()) as resp:
            return resp.status, await resp.json()

    async def say(self, text: str) -> dict[str, Any]:
        status, body = await self.post({"text": text})
        assert status == 200, body
        return body["replies"][0]

    async def click(self, action: str, value: str) -> dict[str, Any]:
        status, body = await self.post({"action": {"id": action, "value": value}})
        assert status == 200, body
        return body["replies"][0]

    async def submit(self, form_id: str, values: dict[str, str]) -> dict[str, Any]:
        status, body = await self.post({"form": {"id": form_id, "values": values}})
        assert status == 200, body
        return body["replies"][0]

    async def inbox(self, **params: str) -> tuple[int, dict[str, Any]]:
        async with self.http.get(f"{self.url}/webchat/inbox",
                                 params={"after": "0", **params}) as resp:
            return resp.status, await resp.json()

    async def sign_out(self) -> int:
        async with self.http.post(f"{self.url}/webchat/signout", headers=self.headers()) as resp:
            return resp.status


def signin_settings(tmp_path: Path, **overrides: Any):
    return make_settings(tmp_path, demo=False, **overrides)


async def audit_rows(db) -> list[tuple[str, bool, str]]:
    async with db.engine.connect() as conn:
        rows = (await conn.execute(sa.text(
            "SELECT actor, allowed, reason FROM audit_entry WHERE action = 'webchat.signin' "
            "ORDER BY id"))).all()
    return [(r[0], bool(r[1]), r[2]) for r in rows]


def test_users_add_list_disable_from_the_cli(tmp_path: Path) -> None:
    from tests.support import write_config

    write_config(tmp_path)
    added = cli(tmp_path, "users", "add", "Ann", "--password-stdin", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert "web:local:ann" in added.stdout and PASSWORD not in added.stdout + added.stderr
    with_code = cli(tmp_path, "users", "add", "bob", "--totp", "--password-stdin",
                    stdin=PASSWORD + "\n")
    assert "otpauth://totp/" in with_code.stdout and "secret=" in with_code.stdout
    again = cli(tmp_path, "users", "add", "ann", "--password-stdin", stdin=PASSWORD + "\n")
    assert again.returncode == 2 and "already exists" in again.stderr
    short = cli(tmp_path, "users", "add", "cy", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "at least 12" in short.stderr
    listed = cli(tmp_path, "users", "list").stdout.splitlines()
    assert [line.split("\t")[:3] for line in listed] == [
        ["web:local:ann", "active", "password only"], ["web:local:bob", "active", "totp"]]
    assert cli(tmp_path, "users", "disable", "ann").returncode == 0
    assert "disabled" in cli(tmp_path, "users", "list").stdout.splitlines()[0]
    assert cli(tmp_path, "users", "disable", "nobody").returncode == 1
    stored = sa.create_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    with stored.connect() as conn:
        hashes = [r[0] for r in conn.execute(sa.text("SELECT password_hash FROM web_account"))]
    stored.dispose()
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)


async def test_sign_in_then_chat_as_the_signed_in_identity(tmp_path: Path) -> None:
    async with running_bot(signin_settings(tmp_path)) as bot, Web(bot.url) as web:
        await add_account(bot.services.db, name="ann", password=PASSWORD, totp=False)
        before = await web.session()
        assert before["mode"] == "signin" and before["signed_in"] is False
        status, body = await web.sign_in("Ann")
        assert status == 200 and body["identity"] == "web:local:ann"
        after = await web.session()
        assert after["signed_in"] and after["display_name"] == "ann"
        assert after["csrf"] == body["csrf"] != before["csrf"]
        # The page's self-declared name is ignored: the session decides who speaks.
        status, reply = await web.post({"user": "boss", "text": "help"}, **web.headers())
        assert status == 200 and "/ask" in reply["replies"][0]["sections"][0]["text"]
        async with bot.services.db.engine.connect() as conn:
            token_hashes = [r[0] for r in await conn.execute(sa.text(
                "SELECT token_hash FROM web_session"))]
        cookie = next(c.value for c in web.http.cookie_jar if c.key == "electionbot_session")
        assert len(token_hashes) == 1 and cookie not in token_hashes[0]  # only a hash is kept
        assert await web.sign_out() == 200
        assert (await web.post({"text": "help"}, **web.headers()))[0] == 401
        async with bot.services.db.engine.connect() as conn:
            assert (await conn.execute(sa.text("SELECT count(*) FROM web_session"))).scalar() == 0


async def test_wrong_password_and_unknown_account_read_the_same(tmp_path: Path) -> None:
    async with running_bot(signin_settings(tmp_path)) as bot, Web(bot.url) as web:
        await add_account(bot.services.db, name="ann", password=PASSWORD, totp=False)
        wrong = await web.sign_in("ann", "not the password at all")
        unknown = await web.sign_in("nobody", PASSWORD)
        assert wrong[0] == unknown[0] == 401
        assert wrong[1] == unknown[1] and "Sign-in failed" in wrong[1]["error"]
        assert (await web.post({"text": "help"}, **web.headers()))[0] == 401
        rows = await audit_rows(bot.services.db)
    assert rows == [("web:local:ann", False, "wrong password"),
                    ("web:local:nobody", False, "unknown account")]
    assert not any(PASSWORD in str(r) or "not the password" in str(r) for r in rows)


async def test_a_second_factor_is_required_checked_and_not_reusable(tmp_path: Path) -> None:
    async with running_bot(signin_settings(tmp_path)) as bot, Web(bot.url) as web:
        secret = await add_account(bot.services.db, name="ann", password=PASSWORD, totp=True)
        assert secret
        missing = await web.sign_in("ann")
        assert missing[0] == 401 and missing[1]["code_needed"] is True
        code = pyotp.TOTP(secret).now()
        wrong = "000000" if code != "000000" else "111111"
        assert (await web.sign_in("ann", code=wrong))[0] == 401
        assert (await web.sign_in("ann", "bad password here", code=code))[0] == 401
        assert (await web.sign_in("ann", code=code))[0] == 200
        async with Web(bot.url) as other:  # the same code a second time (a replay) is refused
            assert (await other.sign_in("ann", code=code))[0] == 401
        reasons = [r[2] for r in await audit_rows(bot.services.db)]
    assert reasons == ["wrong or reused code", "wrong password", "password and code",
                       "wrong or reused code"]
    assert not any(code in r for r in reasons)


async def test_one_code_signs_in_once_even_when_two_attempts_race(tmp_path: Path) -> None:
    async with running_bot(signin_settings(tmp_path)) as bot:
        db = bot.services.db
        secret = await add_account(db, name="ann", password=PASSWORD, totp=True)
        assert secret
        code, now = pyotp.TOTP(secret).now(), utcnow()
        outcomes = await asyncio.gather(*(
            sign_in(db, SignInLimits(), name="ann", password=PASSWORD, code=code,
                    address=f"10.0.0.{n}", now=now) for n in range(1, 5)))
    assert sorted(o.outcome for o in outcomes) == ["failed", "failed", "failed", "ok"]


async def test_disabling_an_account_ends_its_session_at_once(tmp_path: Path) -> None:
    async with running_bot(signin_settings(tmp_path)) as bot, Web(bot.url) as web:
        await add_account(bot.services.db, name="ann", password=PASSWORD, totp=False)
        assert (await web.sign_in("ann"))[0] == 200
        assert (await web.post({"text": "help"}, **web.headers()))[0] == 200
        assert await disable_account(bot.services.db, "ann")
        assert (await web.post({"text": "help"}, **web.headers()))[0] == 401
        assert (await web.inbox())[0] == 401
        async with Web(bot.url) as again:
            assert (await again.sign_in("ann"))[0] == 401
        assert (await audit_rows(bot.services.db))[-1][2] == "disabled account"


async def test_a_disabled_flag_set_behind_the_apps_back_is_seen_on_the_next_request(
        tmp_path: Path) -> None:
    async with running_bot(signin_settings(tmp_path)) as bot, Web(bot.url) as web:
        await add_account(bot.services.db, name="ann", password=PASSWORD, totp=False)
        assert (await web.sign_in("ann"))[0] == 200
        async with bot.services.db.engine.begin() as conn:  # e.g. another instance's CLI
            await conn.execute(sa.text("UPDATE web_account SET disabled = true"))
        assert (await web.inbox())[0] == 401


async def test_idle_and_absolute_expiry(tmp_path: Path) -> None:
    settings = signin_settings(tmp_path, webchat={"session_idle_minutes": 5,
                                                  "session_max_hours": 1})
    async with running_bot(settings) as bot, Web(bot.url) as web:
        await add_account(bot.services.db, name="ann", password=PASSWORD, totp=False)
        for column, age in (("last_seen_at", timedelta(minutes=6)),
                            ("created_at", timedelta(hours=2))):
            assert (await web.sign_in("ann"))[0] == 200
            assert (await web.inbox())[0] == 200
            async with bot.services.db.engine.begin() as conn:
                await conn.execute(sa.text(f"UPDATE web_session SET {column} = :t"),
                                   {"t": utcnow() - age})
            assert (await web.inbox())[0] == 401, column


async def test_lockout_per_pair_then_audited(tmp_path: Path) -> None:
    async with running_bot(signin_settings(tmp_path)) as bot, Web(bot.url) as web:
        await add_account(bot.services.db, name="ann", password=PASSWORD, totp=False)
        for _ in range(5):
            assert (await web.sign_in("ann", "guess guess guess"))[0] == 401
        status, body = await web.sign_in("ann")  # even the right password, while locked
        assert status == 429 and "Too many" in body["error"]
        rows = await audit_rows(bot.services.db)
    assert [r[2] for r in rows] == ["wrong password"] * 5 + [
        "locked: this account from this address"]


async def test_lockout_per_address_stops_password_spraying(tmp_path: Path) -> None:
    settings = signin_settings(tmp_path, webchat={"signin_limits": {"per_address": 4}})
    async with running_bot(settings) as bot, Web(bot.url) as web:
        await add_account(bot.services.db, name="ann", password=PASSWORD, totp=False)
        for name in ("bob", "cy", "dee", "eve"):
            assert (await web.sign_in(name, PASSWORD))[0] == 401
        assert (await web.sign_in("ann"))[0] == 429
        assert (await audit_rows(bot.services.db))[-1][2] == "locked: any account from this address"


async def test_lockout_per_account_from_many_addresses(tmp_path: Path) -> None:
    settings = signin_settings(tmp_path)
    async with running_bot(settings) as bot:
        db, limits = bot.services.db, SignInLimits(per_pair=5, per_account=3, per_address=50)
        await add_account(db, name="ann", password=PASSWORD, totp=False)
        for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
            result = await sign_in(db, limits, name="ann", password="wrong wrong wrong",
                                   code="", address=address, now=utcnow())
            assert result.outcome == "failed"
        result = await sign_in(db, limits, name="ann", password=PASSWORD, code="",
                               address="10.0.0.4", now=utcnow())
        assert result.outcome == "locked"
        later = await sign_in(db, limits, name="ann", password=PASSWORD, code="",
                              address="10.0.0.4", now=utcnow() + timedelta(minutes=16))
        assert later.outcome == "ok"  # the window passed


async def _proxied_sign_in(url: str, forwarded: str, user: str) -> int:
    """Through a proxy the cookies are Secure (__Host-), which a client on http must hand over."""
    headers = {"X-Forwarded-For": forwarded}
    async with aiohttp.ClientSession() as raw:
        async with raw.get(f"{url}/webchat/session", headers=headers) as resp:
            csrf = (await resp.json())["csrf"]
        async with raw.post(f"{url}/webchat/signin", json={
                "user": user, "password": PASSWORD, "code": ""}, headers={
                **headers, "X-CSRF-Token": csrf, "Cookie": f"__Host-electionbot_csrf={csrf}"}
                ) as resp:
            return resp.status


async def test_the_client_address_behind_a_trusted_proxy(tmp_path: Path) -> None:
    settings = signin_settings(tmp_path, webchat={"trusted_proxies": ["127.0.0.1"],
                                                  "signin_limits": {"per_address": 2}})
    async with running_bot(settings) as bot:
        await add_account(bot.services.db, name="ann", password=PASSWORD, totp=False)
        for _ in range(2):
            assert await _proxied_sign_in(bot.url, "198.51.100.1, 203.0.113.7", "bob") == 401
        assert await _proxied_sign_in(bot.url, "203.0.113.7", "ann") == 429
        assert await _proxied_sign_in(bot.url, "203.0.113.8", "ann") == 200  # another office
        rows = await audit_rows(bot.services.db)
    assert [r[2] for r in rows] == ["unknown account"] * 2 + [
        "locked: any account from this address", "password"]


async def test_session_cookie_flags(tmp_path: Path) -> None:
    async with running_bot(signin_settings(tmp_path)) as bot, Web(bot.url) as web:
        await add_account(bot.services.db, name="ann", password=PASSWORD, totp=False)
        await web.session()
        async with web.http.post(f"{bot.url}/webchat/signin", headers=web.headers(), json={
                "user": "ann", "password": PASSWORD, "code": ""}) as resp:
            local = resp.headers.getall("Set-Cookie")
        session_cookie = next(c for c in local if c.startswith("electionbot_session="))
        assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
        assert "Path=/" in session_cookie and "Secure" not in session_cookie
        # Reached by a public name (as through the proxy): Secure and the __Host- prefix.
        async with aiohttp.ClientSession() as raw:
            public = {"Host": "bot.example.gov"}
            async with raw.get(f"{bot.url}/webchat/session", headers=public) as resp:
                csrf = (await resp.json())["csrf"]
                pre = resp.headers["Set-Cookie"]
            assert pre.startswith("__Host-electionbot_csrf=") and "Secure" in pre
            async with raw.post(f"{bot.url}/webchat/signin", json={
                    "user": "ann", "password": PASSWORD, "code": ""}, headers={
                    **public, "X-CSRF-Token": csrf, "Cookie": f"__Host-electionbot_csrf={csrf}"}
                    ) as resp:
                assert resp.status == 200
                cookie = next(c for c in resp.headers.getall("Set-Cookie")
                              if c.startswith("__Host-electionbot_session="))
                token = cookie.split(";")[0].split("=", 1)[1]
                new_csrf = (await resp.json())["csrf"]
            for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
                assert flag in cookie
            assert "Domain" not in cookie
            # Over the public name, a cookie without the prefix is not accepted.
            for name, expected in (("electionbot_session", 401), ("__Host-electionbot_session", 200)):
                async with raw.get(f"{bot.url}/webchat/inbox", headers={
                        **public, "Cookie": f"{name}={token}"}) as resp:
                    assert resp.status == expected, name
            assert new_csrf


@pytest.mark.parametrize("headers", [
    {},
    {"X-CSRF-Token": "wrong"},
    {"X-CSRF-Token": "<good>", "Origin": "https://evil.example"},
    {"X-CSRF-Token": "<good>", "Sec-Fetch-Site": "cross-site"},
])
async def test_csrf_is_required_on_every_state_change(tmp_path: Path, headers: dict) -> None:
    async with running_bot(signin_settings(tmp_path)) as bot, Web(bot.url) as web:
        await add_account(bot.services.db, name="ann", password=PASSWORD, totp=False)
        assert (await web.sign_in("ann"))[0] == 200
        sent = {k: (web.csrf if v == "<good>" else v) for k, v in headers.items()}
        status, body = await web.post({"text": "help"}, **sent) if sent else \
            await web.post({"text": "help"}, Accept="application/json")
        assert status == 403 and ("CSRF" in body["error"] or "refused" in body["error"])
        async with web.http.post(f"{bot.url}/webchat/signout", headers=sent) as resp:
            assert resp.status == 403
        async with Web(bot.url) as fresh:  # the sign-in form: double-submit token and origin
            await fresh.session()
            fresh_sent = {k: (fresh.csrf if v == "<good>" else v) for k, v in headers.items()}
            async with fresh.http.post(f"{bot.url}/webchat/signin", headers=fresh_sent, json={
                    "user": "ann", "password": PASSWORD, "code": ""}) as resp:
                assert resp.status == 403
        # The good token from the same origin still works.
        status, _ = await web.post({"text": "help"}, **web.headers(Origin=bot.url))
        assert status == 200


async def test_messages_and_inbox_need_a_session(tmp_path: Path) -> None:
    async with running_bot(signin_settings(tmp_path)) as bot, Web(bot.url) as web:
        status, body = await web.post({"user": "boss", "text": "help"}, Accept="*/*")
        assert status == 401 and body["error"] == "Sign in first."
        status, body = await web.inbox(user="boss")
        assert status == 401


async def test_the_inbox_holds_only_the_signed_in_identitys_messages(tmp_path: Path) -> None:
    from bot.adapters.webchat.endpoint import WebChatTransport
    from bot.messages import Destination, Reply

    async with running_bot(signin_settings(tmp_path)) as bot, Web(bot.url) as web:
        await add_account(bot.services.db, name="ann", password=PASSWORD, totp=False)
        transport = WebChatTransport(bot.services.db)
        for dest, text in (("web:local:@bob", "TLP:AMBER for bob"),
                           ("webchat:local:@bob", "demo bob"),
                           ("web:entra:@ann", "another ann"),
                           ("web:local:@ann", "for ann")):
            await transport.send(Destination.parse(dest), Reply(text=text), key=text)
        assert (await web.sign_in("ann"))[0] == 200
        for params in ({}, {"user": "bob"}, {"user": "web:local:bob"}):  # the ?user= attack
            status, body = await web.inbox(**params)
            assert status == 200
            assert [m["reply"]["text"] for m in body["messages"]] == ["for ann"]


async def test_demo_mode_keeps_the_name_picker(tmp_path: Path) -> None:
    async with running_bot(make_settings(tmp_path, demo=True)) as bot, Web(bot.url) as web:
        assert (await web.session())["mode"] == "demo"
        status, _ = await web.post({"user": "ann", "text": "help"}, Accept="*/*")
        assert status == 200
        async with web.http.post(f"{bot.url}/webchat/signin", json={}) as resp:
            assert resp.status == 404
