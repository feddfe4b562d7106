"""Bot Framework authentication for the Teams endpoint: who may call us, and our outbound token.

botbuilder validates inbound JWTs with a synchronous ``requests`` call for the OpenID metadata
and raises whatever PyJWT raises for a bad token. This module runs that validation off the
event loop and turns every failure into :class:`Unauthorized` (401) or, when the metadata
cannot be fetched, :class:`AuthUnavailable` (503), so a bad token can never become a 500.
"""

from __future__ import annotations

import asyncio
import logging

import requests
from botbuilder.schema import Activity
from botframework.connector.auth import (
    AppCredentials,
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    BotFrameworkAuthenticationFactory,
    ManagedIdentityServiceClientCredentialsFactory,
    MicrosoftAppCredentials,
    PasswordServiceClientCredentialFactory,
    ServiceClientCredentialsFactory,
)
from msrest.authentication import Authentication

from bot.config.settings import Settings

log = logging.getLogger(__name__)
#: Bot Framework gives a channel about 15 s for an HTTP answer; metadata must come sooner.
AUTH_TIMEOUT = 10.0


class Unauthorized(Exception):
    """The caller did not prove it is the Bot Framework service talking to this app id."""


class AuthUnavailable(Exception):
    """The signing keys could not be fetched, so no token can be checked right now."""


def build_credential_factory(settings: Settings) -> ServiceClientCredentialsFactory:
    """Credentials from MICROSOFT_APP_ID / _PASSWORD / _TENANT_ID / _TYPE (none: auth off).

    Tests replace this function to hand out a fixed token instead of asking
    login.microsoftonline.com.
    """
    env = settings.env
    if env.MICROSOFT_APP_TYPE == "UserAssignedMSI":
        return ManagedIdentityServiceClientCredentialsFactory(env.MICROSOFT_APP_ID)
    password = env.MICROSOFT_APP_PASSWORD.get_secret_value() if env.MICROSOFT_APP_PASSWORD else None
    tenant = env.MICROSOFT_APP_TENANT_ID if env.MICROSOFT_APP_TYPE == "SingleTenant" else None
    return PasswordServiceClientCredentialFactory(env.MICROSOFT_APP_ID, password, tenant)


def build_authentication(settings: Settings) -> BotFrameworkAuthentication:
    """Build the public-cloud Bot Framework authentication for this app id."""
    return BotFrameworkAuthenticationFactory.create(
        credential_factory=build_credential_factory(settings))


def _authenticate_blocking(auth: BotFrameworkAuthentication, activity: Activity,
                           header: str) -> AuthenticateRequestResult:
    # A private event loop in a worker thread: the SDK's metadata fetch blocks, and it must
    # not stall every other request (or a fake metadata server on the same loop) meanwhile.
    result: AuthenticateRequestResult = asyncio.run(auth.authenticate_request(activity, header))
    return result


async def authenticate(auth: BotFrameworkAuthentication, activity: Activity, header: str, *,
                       required: bool) -> AuthenticateRequestResult:
    """Check the Authorization header; raise Unauthorized or AuthUnavailable."""
    if not required:
        # No app id (demo mode only): anonymous. Ignore any header so nothing is fetched.
        try:
            return await auth.authenticate_request(activity, "")
        except Exception as exc:  # the SDK refuses (PermissionError) when it expected a token
            log.info("rejected anonymous Teams request: %s", type(exc).__name__)
            raise Unauthorized("invalid token") from None
    if not header:
        raise Unauthorized("missing Authorization header")
    try:
        return await asyncio.wait_for(
            asyncio.to_thread(_authenticate_blocking, auth, activity, header), AUTH_TIMEOUT)
    except (requests.RequestException, TimeoutError) as exc:
        log.warning("cannot fetch Bot Framework signing keys: %s", type(exc).__name__)
        raise AuthUnavailable("signing keys unavailable") from None
    except Exception as exc:
        # PermissionError (issuer, audience, serviceurl), PyJWT errors (malformed, expired,
        # bad signature), IndexError (unknown key id) and bare Exceptions from the SDK all
        # mean the same thing to the caller. Never log the token itself.
        log.info("rejected Teams request: %s: %s", type(exc).__name__, str(exc)[:120])
        raise Unauthorized("invalid token") from None


class _FixedTokenCredentials(AppCredentials):
    def __init__(self, app_id: str, token: str) -> None:
        super().__init__(app_id=app_id)
        self._token = token

    def get_access_token(self, force_refresh: bool = False) -> str:
        return self._token


class FixedTokenCredentialFactory(ServiceClientCredentialsFactory):
    """Accepts one app id and presents a token obtained elsewhere on outbound calls.

    Used by the tests against the fake Bot Connector (so nothing asks Azure AD for a token);
    production uses :func:`build_credential_factory`.
    """

    def __init__(self, app_id: str, token: str) -> None:
        self.app_id = app_id
        self.token = token

    async def is_valid_app_id(self, app_id: str) -> bool:
        """Only our own app id."""
        return app_id == self.app_id

    async def is_authentication_disabled(self) -> bool:
        """Report authentication as always on."""
        return False

    async def create_credentials(self, app_id: str, oauth_scope: str, login_endpoint: str,
                                 validate_authority: bool) -> Authentication:
        """Credentials that always present the fixed token."""
        if app_id != self.app_id:
            return MicrosoftAppCredentials.empty()
        return _FixedTokenCredentials(app_id, self.token)
