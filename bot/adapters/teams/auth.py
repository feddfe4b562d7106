"""Teams authentication on the Microsoft 365 Agents SDK: who may call us, and our outbound token.

Inbound: the SDK's :class:`JwtTokenValidator` checks the Bot Framework token (signature against
the cloud's published keys, audience = our app id, issuer allow-list of the configured cloud with
``VALIDATE_ISSUER`` on, Entra tenant binding). On top of it, as Bot Framework channel
validation always required, the token's ``serviceurl`` claim must name the activity's
serviceUrl. Every failure is :class:`Unauthorized` (401); only when the signing keys cannot be
fetched is it :class:`AuthUnavailable` (503). A bad token never becomes a 500.

Outbound: a :class:`TokenSource` hands out the bearer token for the Bot Connector: MSAL (the SDK's
``MsalAuth``) in production, a fixed token against the fake Bot Connector in tests.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol
from urllib.parse import urlsplit

import jwt
from jwt import PyJWKClientConnectionError
from microsoft_agents.hosting.core import ClaimsIdentity
from microsoft_agents.hosting.core.authorization import AgentAuthConfiguration, AuthTypes
from microsoft_agents.hosting.core.authorization.jwt import JwtTokenValidator

from bot.adapters.teams.clouds import CLOUDS, TeamsCloud
from bot.config.settings import Settings

log = logging.getLogger(__name__)
#: Bot Framework gives a channel about 15 s for an HTTP answer; keys must come sooner.
AUTH_TIMEOUT = 10.0


class Unauthorized(Exception):
    """The caller did not prove it is the Bot Framework service talking to this app id."""


class AuthUnavailable(Exception):
    """The signing keys could not be fetched, so no token can be checked right now."""


def cloud_of(settings: Settings) -> TeamsCloud:
    """The Microsoft cloud ``teams.cloud`` names (public by default)."""
    return CLOUDS[settings.app.teams.cloud]


def auth_configuration(settings: Settings) -> AgentAuthConfiguration:
    """The SDK's configuration for this app id in the configured cloud (anonymous without one)."""
    env = settings.env
    cloud = cloud_of(settings)
    tenant = env.MICROSOFT_APP_TENANT_ID if env.MICROSOFT_APP_TYPE == "SingleTenant" else None
    auth_type = (AuthTypes.user_managed_identity if env.MICROSOFT_APP_TYPE == "UserAssignedMSI"
                 else AuthTypes.client_secret)
    secret = env.MICROSOFT_APP_PASSWORD.get_secret_value() if env.MICROSOFT_APP_PASSWORD else None
    return AgentAuthConfiguration(
        auth_type=auth_type, client_id=env.MICROSOFT_APP_ID, tenant_id=tenant,
        client_secret=secret,
        authority=f"{cloud.login_authority}/{tenant or 'botframework.com'}",
        scopes=[f"{cloud.connector_scope}/.default"],
        issuers=[cloud.token_issuer], validate_issuer=True,
        anonymous_allowed=env.MICROSOFT_APP_ID is None)


class TokenSource(Protocol):
    """Where the bearer token for Bot Connector calls comes from."""

    async def token(self) -> str:
        """A current access token ("" for anonymous calls)."""
        ...


class MsalTokenSource:
    """Production: the SDK's MSAL provider, for the cloud's connector scope."""

    def __init__(self, config: AgentAuthConfiguration, scope: str) -> None:
        """Keep the configuration; MSAL caches and refreshes the token itself."""
        from microsoft_agents.authentication.msal import MsalAuth

        self._auth = MsalAuth(config)
        self._scope = scope

    async def token(self) -> str:
        """An app-only token for ``<scope>/.default``."""
        token: str = await self._auth.get_access_token(self._scope, [f"{self._scope}/.default"])
        return token


class FixedTokenSource:
    """Presents a token obtained elsewhere (tests against the fake Bot Connector; anonymous)."""

    def __init__(self, token: str = "") -> None:
        """Keep the token ("" sends no Authorization header)."""
        self._token = token

    async def token(self) -> str:
        """The fixed token."""
        return self._token


def build_token_source(settings: Settings) -> TokenSource:
    """MSAL for the configured app id; anonymous without one.

    Tests replace this function to hand out a fixed token instead of asking Entra.
    """
    if settings.env.MICROSOFT_APP_ID is None:
        return FixedTokenSource("")
    return MsalTokenSource(auth_configuration(settings), cloud_of(settings).connector_scope)


def _bearer(header: str) -> str | None:
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or any(c.isspace() for c in token):
        return None
    return token


def _same_service_url(claimed: object, actual: str) -> bool:
    if not isinstance(claimed, str):
        return False
    a, b = urlsplit(claimed.strip()), urlsplit(actual.strip())
    return (a.scheme.lower(), (a.netloc or "").lower(), a.path.rstrip("/")) == (
        b.scheme.lower(), (b.netloc or "").lower(), b.path.rstrip("/"))


def _unverified_issuer(token: str) -> object:
    try:
        return jwt.decode(token, options={"verify_signature": False}).get("iss")
    except Exception:  # malformed: the validator's own decode refuses it the same way
        return None


async def authenticate(config: AgentAuthConfiguration, service_url: str, header: str, *,
                       required: bool) -> ClaimsIdentity:
    """Check the Authorization header; raise Unauthorized or AuthUnavailable.

    Teams' tokens come from the Bot Framework issuer of the configured cloud only. A token
    naming any other issuer is refused before the SDK looks for keys: its key lookup for
    unknown issuers goes to Entra's common endpoint, which a stranger should not be able to
    make us call (nor turn into a 503 when it cannot be reached).
    """
    validator = JwtTokenValidator(config)
    if not required:
        # No app id (demo mode only): anonymous. Ignore any header so nothing is fetched.
        return validator.get_anonymous_claims()
    token = _bearer(header) if header else None
    if token is None:
        raise Unauthorized("missing or malformed Authorization header")
    issuer = _unverified_issuer(token)
    if not isinstance(issuer, str) or issuer.lower() not in {i.lower() for i in config.ISSUERS}:
        log.info("rejected Teams request: a token from another issuer")
        raise Unauthorized("invalid token")
    try:
        claims = await asyncio.wait_for(validator.validate_token(token), AUTH_TIMEOUT)
    except (PyJWKClientConnectionError, TimeoutError) as exc:
        log.warning("cannot fetch Bot Framework signing keys: %s", type(exc).__name__)
        raise AuthUnavailable("signing keys unavailable") from None
    except Exception as exc:
        # PyJWT errors (malformed, expired, bad signature, unknown key id) and the SDK's
        # ValueErrors (audience, issuer, tenant binding) mean the same thing to the caller.
        # Never log the token itself.
        log.info("rejected Teams request: %s", type(exc).__name__)
        raise Unauthorized("invalid token") from None
    if not _same_service_url(claims.get_claim_value("serviceurl"), service_url):
        log.info("rejected Teams request: the token was issued for another serviceUrl")
        raise Unauthorized("invalid token")
    return claims
