"""The ``webchat:`` section of app.yaml: the page, how people sign in, and session limits.

Each OpenID Connect provider has a short ``name`` that becomes part of every identity it signs in
(``web:<name>:<subject>``), so one name must always mean one issuer: renaming a provider or
pointing a name at another issuer changes (or, worse, reuses) the identities in ``roles:``.
Client secrets come from the environment (``WEBCHAT_OIDC_<NAME>_CLIENT_SECRET``), never this file.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from bot.addresses import is_loopback_host
from bot.config.base import Strict

PROVIDER_NAME = r"^[a-z][a-z0-9-]{0,31}$"



def _loopback_http(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "http" and is_loopback_host(parts.hostname or "")


class OidcProvider(Strict):
    """One OpenID Connect identity provider (Entra ID, Okta, Google Workspace, Login.gov...)."""

    name: str = Field(pattern=PROVIDER_NAME, description="identities are web:<name>:<sub>")
    label: str = Field(default="", max_length=60, description="shown as 'Sign in with <label>'")
    issuer: str = Field(min_length=8, max_length=300)
    client_id: str = Field(min_length=1, max_length=300)
    scopes: list[str] = Field(default_factory=lambda: ["openid", "profile", "email"])
    token_auth: str = Field(default="client_secret_basic",
                            pattern=r"^(client_secret_basic|client_secret_post)$")

    @field_validator("name")
    @classmethod
    def _not_local(cls, value: str) -> str:
        if value == "local":
            raise ValueError("'local' is the name of local accounts; choose another name")
        return value

    @field_validator("issuer")
    @classmethod
    def _https(cls, value: str) -> str:
        if not (value.startswith("https://") or _loopback_http(value)):
            raise ValueError("the issuer must be an https:// URL")
        return value  # compared exactly with the discovery document and the ID token's iss

    @field_validator("scopes")
    @classmethod
    def _openid(cls, value: list[str]) -> list[str]:
        if "openid" not in value:
            raise ValueError("scopes must include openid")
        return value

    @property
    def shown_as(self) -> str:
        """The name on the sign-in button."""
        return self.label or self.name

    @property
    def secret_variable(self) -> str:
        """The environment variable holding this provider's client secret."""
        return f"WEBCHAT_OIDC_{self.name.upper().replace('-', '_')}_CLIENT_SECRET"


class SignInLimits(Strict):
    """Failed sign-ins allowed in ``window_minutes`` before the account, address or pair locks."""

    window_minutes: int = Field(default=15, ge=1, le=1440)
    per_pair: int = Field(default=5, ge=1, le=1000, description="one account from one address")
    per_account: int = Field(default=20, ge=1, le=10000, description="one account, any address")
    per_address: int = Field(default=20, ge=1, le=10000, description="one address, any account")


class WebChat(Strict):
    """The web chat page and its sign-in."""

    enabled: bool = True
    public_url: str | None = Field(default=None, description="https://host the browser uses")
    oidc: list[OidcProvider] = Field(default_factory=list)
    local_accounts: bool = True
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_max_hours: int = Field(default=12, ge=1, le=24 * 30)
    signin_limits: SignInLimits = SignInLimits()
    trusted_proxies: list[str] = Field(
        default_factory=list, description="proxies whose X-Forwarded-For names the client")

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if not (parts.scheme == "https" or _loopback_http(value)) or not parts.netloc \
                or parts.path not in ("", "/"):
            raise ValueError("must be https://host (no path), the address people open")
        return f"{parts.scheme}://{parts.netloc}"

    @model_validator(mode="after")
    def _unique_names(self) -> WebChat:
        names = [p.name for p in self.oidc]
        if len(names) != len(set(names)):
            raise ValueError("each oidc provider needs its own name")
        return self
