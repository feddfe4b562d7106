"""A small OpenID Connect provider on 127.0.0.1 for tests: discovery, JWKS, authorize, token.

It signs ID tokens with a freshly generated RSA key and checks what a real provider checks:
client id and secret, redirect URI, the PKCE verifier and single-use codes. ``tamper`` changes
the next ID token's claims (a wrong nonce, issuer, audience, an expired token) and
``sign_with_stranger`` signs it with a key the provider never published.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from joserfc import jwt
from joserfc.jwk import RSAKey


@dataclass
class FakeOidcProvider:
    """Run with ``async with FakeOidcProvider(...) as idp``; ``idp.issuer`` is its URL."""

    client_id: str = "electionbot"
    client_secret: str = "s3cret-for-tests"
    subject: str = "00u1abcd"
    claims: dict[str, Any] = field(default_factory=lambda: {"name": "Ann Example"})
    tamper: dict[str, Any] = field(default_factory=dict)
    discovery_issuer: str | None = None
    sign_with_stranger: bool = False
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    issuer: str = ""

    def __post_init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "fake-1", "use": "sig"})
        self.stranger = RSAKey.generate_key(2048, parameters={"kid": "fake-1"})
        self.codes: dict[str, dict[str, str]] = {}
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> FakeOidcProvider:
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self._discovery)
        app.router.add_get("/jwks", self._jwks)
        app.router.add_get("/authorize", self._authorize)
        app.router.add_post("/token", self._token)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.issuer = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _discovery(self, _request: web.Request) -> web.Response:
        return web.json_response({
            "issuer": self.discovery_issuer or self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"]})

    async def _jwks(self, _request: web.Request) -> web.Response:
        return web.json_response({"keys": [self.key.as_dict(private=False)]})

    async def _authorize(self, request: web.Request) -> web.Response:
        q = dict(request.query)
        self.authorize_requests.append(q)
        if q.get("client_id") != self.client_id or q.get("response_type") != "code" \
                or q.get("code_challenge_method") != "S256" or not q.get("nonce"):
            return web.Response(status=400, text="bad authorization request")
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"nonce": q["nonce"], "challenge": q["code_challenge"],
                            "redirect_uri": q["redirect_uri"]}
        location = f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}"
        return web.Response(status=302, headers={"Location": location})

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.token_requests.append({k: str(v) for k, v in form.items()})
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return web.json_response({"error": "invalid_client"}, status=401)
        grant = self.codes.pop(str(form.get("code", "")), None)
        verifier = str(form.get("code_verifier", ""))
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if grant is None or form.get("redirect_uri") != grant["redirect_uri"] \
                or challenge != grant["challenge"]:
            return web.json_response({"error": "invalid_grant"}, status=400)
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": self.subject, "aud": self.client_id,
                  "iat": now, "exp": now + 300, "nonce": grant["nonce"], **self.claims,
                  **self.tamper}
        key = self.stranger if self.sign_with_stranger else self.key
        id_token = jwt.encode({"alg": "RS256", "kid": "fake-1"}, claims, key)
        return web.json_response({"access_token": secrets.token_urlsafe(16),
                                  "token_type": "Bearer", "expires_in": 300,
                                  "id_token": id_token})
