"""Sign in with an OpenID Connect provider: authorization code flow with PKCE, state and nonce.

authlib makes the PKCE challenge, the random values and validates the ID token's claims
(iss, aud, exp, iat, nonce, azp); joserfc (authlib's JOSE library) checks its signature against
the provider's published keys. Discovery and keys are fetched with aiohttp and cached.

The state is single use (a database row, so any instance can finish a sign-in another began)
and bound to the browser by a cookie; the nonce is bound to the ID token. Identities are
``web:<provider name>:<sub>``: ``sub`` is unique and stable within one issuer, which is why a
provider name must always mean the same issuer.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from bot.adapters.webchat.models import WebOidcLogin
from bot.adapters.webchat.sessions import (
    clear_cookie,
    client_address,
    read_cookie,
    set_cookie,
    token_hash,
)
from bot.config.webchat import OidcProvider
from bot.db.engine import utcnow
from bot.ops.audit import audit

STATE_COOKIE = "electionbot_oidc"
LOGIN_TTL = timedelta(minutes=10)
CACHE_SECONDS = 3600
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
SUBJECT = re.compile(r"^[\x21-\x7e]{1,200}$")
TIMEOUT = aiohttp.ClientTimeout(total=10)


class OidcError(Exception):
    """A sign-in that cannot complete; the message is safe to show (no token, no secret)."""


class OidcClient:
    """Discovery, keys, the redirect out and the callback, for the configured providers."""

    def __init__(self, auth: Any) -> None:
        """Serve the providers of ``auth`` (a :class:`~bot.adapters.webchat.signin.WebAuth`)."""
        self.auth = auth
        self.config = auth.config
        self.secrets = auth.services.settings.env.WEBCHAT_OIDC_SECRETS
        self.providers = {p.name: p for p in self.config.oidc}
        self._metadata: dict[str, tuple[float, dict[str, Any]]] = {}
        self._keys: dict[str, tuple[float, KeySet]] = {}

    async def _get_json(self, url: str) -> dict[str, Any]:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http, http.get(url) as resp:
            if resp.status != 200:
                raise OidcError(f"the provider answered {resp.status}")
            body = await resp.json(content_type=None)
        if not isinstance(body, dict):
            raise OidcError("the provider's answer is not a JSON object")
        return body

    async def metadata(self, provider: OidcProvider) -> dict[str, Any]:
        """The discovery document; its issuer must be exactly the configured one."""
        cached = self._metadata.get(provider.name)
        if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        meta = await self._get_json(
            provider.issuer.rstrip("/") + "/.well-known/openid-configuration")
        if meta.get("issuer") != provider.issuer:
            raise OidcError("the provider's discovery document names another issuer")
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(meta.get(key), str):
                raise OidcError(f"the provider's discovery document has no {key}")
        self._metadata[provider.name] = (time.monotonic(), meta)
        return meta

    async def keys(self, provider: OidcProvider, *, refresh: bool = False) -> KeySet:
        """The provider's signing keys (fetched again when a token names an unknown key)."""
        cached = self._keys.get(provider.name)
        if cached and not refresh and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        meta = await self.metadata(provider)
        try:
            keys = KeySet.import_key_set(await self._get_json(meta["jwks_uri"]))  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise OidcError("the provider's keys could not be read") from exc
        self._keys[provider.name] = (time.monotonic(), keys)
        return keys

    def redirect_uri(self, request: web.Request, provider: OidcProvider) -> str:
        """Where the provider sends the browser back (register this URL with the provider)."""
        base = self.config.public_url or f"{request.scheme}://{request.host}"
        return f"{base}/webchat/oidc/{provider.name}/callback"

    async def login(self, request: web.Request, provider: OidcProvider) -> web.Response:
        """Redirect to the provider with state, nonce and a PKCE challenge."""
        meta = await self.metadata(provider)
        state, nonce, verifier = generate_token(43), generate_token(43), generate_token(64)
        now = utcnow()
        async with self.auth.services.db.session() as session:
            session.add(WebOidcLogin(state_hash=token_hash(state), provider=provider.name,
                                     nonce=nonce, code_verifier=verifier, created_at=now))
            await session.commit()
        query = urlencode({
            "response_type": "code", "client_id": provider.client_id,
            "redirect_uri": self.redirect_uri(request, provider),
            "scope": " ".join(provider.scopes), "state": state, "nonce": nonce,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256"})
        endpoint = meta["authorization_endpoint"]
        response = web.Response(status=303, headers={
            "Location": f"{endpoint}{'&' if '?' in endpoint else '?'}{query}",
            "Cache-Control": "no-store"})
        set_cookie(response, request, self.config, STATE_COOKIE, state)
        return response

    async def _pending(self, request: web.Request, provider: OidcProvider) -> WebOidcLogin:
        state = request.query.get("state", "")
        if not state or len(state) > 200 or state != read_cookie(request, self.config,
                                                                 STATE_COOKIE):
            raise OidcError("the sign-in did not start in this browser (state mismatch)")
        async with self.auth.services.db.session() as session:
            pending = await session.get(WebOidcLogin, token_hash(state))
            if pending is not None:  # single use, whatever happens next
                await session.delete(pending)
                await session.commit()
        if pending is None or pending.provider != provider.name \
                or utcnow() - pending.created_at > LOGIN_TTL:
            raise OidcError("the sign-in expired or was already used; start again")
        return pending

    async def _exchange(self, request: web.Request, provider: OidcProvider,
                        pending: WebOidcLogin, code: str) -> str:
        meta = await self.metadata(provider)
        secret = self.secrets[provider.secret_variable].get_secret_value()
        data = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": self.redirect_uri(request, provider),
                "code_verifier": pending.code_verifier, "client_id": provider.client_id}
        auth = None
        if provider.token_auth == "client_secret_post":
            data["client_secret"] = secret
        else:
            auth = aiohttp.BasicAuth(provider.client_id, secret)
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http, \
                http.post(meta["token_endpoint"], data=data, auth=auth,
                          headers={"Accept": "application/json"}) as resp:
            body = await resp.json(content_type=None) if resp.status == 200 else None
        if not isinstance(body, dict) or not isinstance(body.get("id_token"), str):
            raise OidcError("the provider did not issue an ID token")
        return str(body["id_token"])

    async def verify(self, provider: OidcProvider, id_token: str, nonce: str) -> dict[str, Any]:
        """Signature (provider keys), then iss, aud, exp, iat, nonce and azp; the claims."""
        meta = await self.metadata(provider)
        allowed = [a for a in meta.get("id_token_signing_alg_values_supported", ["RS256"])
                   if a in ALGORITHMS] or ["RS256"]
        try:
            try:
                token = jwt.decode(id_token, await self.keys(provider), algorithms=allowed)
            except JoseError:  # perhaps a rotated key: fetch the set once more
                token = jwt.decode(id_token, await self.keys(provider, refresh=True),
                                   algorithms=allowed)
            claims = CodeIDToken(
                token.claims, token.header,
                options={"iss": {"essential": True, "value": provider.issuer},
                         "aud": {"essential": True, "value": provider.client_id}},
                params={"nonce": nonce, "client_id": provider.client_id})
            claims.validate(leeway=60)
        except (JoseError, ValueError, TypeError) as exc:
            raise OidcError(f"the ID token was refused ({type(exc).__name__})") from exc
        if not isinstance(claims.get("sub"), str) or not SUBJECT.fullmatch(claims["sub"]):
            raise OidcError("the ID token has no usable subject")
        return dict(claims)

    async def callback(self, request: web.Request, provider: OidcProvider) -> web.Response:
        """Finish the sign-in: check state, exchange the code, verify the ID token, open a session."""
        pending = await self._pending(request, provider)
        if "error" in request.query:
            raise OidcError("the provider did not sign you in")
        code = request.query.get("code", "")
        if not code or len(code) > 2000:
            raise OidcError("the provider sent no authorization code")
        claims = await self.verify(provider, await self._exchange(request, provider, pending,
                                                                  code), pending.nonce)
        await audit(self.auth.services.db, actor=f"web:{provider.name}:{claims['sub']}",
                    action="webchat.signin", target=f"from {client_address(request, self.config)}",
                    allowed=True, reason=f"openid connect ({provider.name})")
        shown = next((str(claims[k]) for k in ("name", "preferred_username", "email")
                      if isinstance(claims.get(k), str) and claims[k]), claims["sub"])
        response: web.Response = await self.auth.open_session(
            request, identity=f"web:{provider.name}:{claims['sub']}", provider=provider.name,
            account=None, display_name=shown, redirect="/")
        clear_cookie(response, request, self.config, STATE_COOKIE)
        return response

    def routes(self, app: web.Application) -> None:
        """Mount /webchat/oidc/{name}/login and /webchat/oidc/{name}/callback."""
        async def handle(request: web.Request) -> web.Response:
            provider = self.providers.get(request.match_info["name"])
            if provider is None or self.auth.demo:
                return web.Response(status=404, text="No such sign-in provider.\n")
            try:
                if request.match_info["step"] == "login":
                    return await self.login(request, provider)
                return await self.callback(request, provider)
            except (OidcError, aiohttp.ClientError, TimeoutError) as exc:
                reason = str(exc) if isinstance(exc, OidcError) else "the provider is unreachable"
                await audit(self.auth.services.db, actor=f"web:{provider.name}:?",
                            action="webchat.signin", allowed=False, reason=reason,
                            target=f"from {client_address(request, self.config)}")
                return web.Response(status=400, text=(
                    f"Sign-in with {provider.shown_as} did not complete: {reason}.\n"
                    "Go back to the chat page and try again.\n"))
        app.router.add_get(r"/webchat/oidc/{name}/{step:login|callback}", handle)
