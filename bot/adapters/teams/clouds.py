"""The Microsoft clouds an election office's Teams can live in, and where each one may call from.

``teams.cloud`` in app.yaml (``public``, ``gcc``, ``gcch``, ``dod``) picks one row: the issuer of
the Bot Framework tokens Teams sends us, the OpenID metadata those tokens are checked against,
the Entra authority and scope our own outbound token is asked from, and the hosts a
``serviceUrl`` may have. GCC (Moderate) runs Teams in its own service but the bot's identity in
Azure commercial; GCC High and DoD use Azure Government for both.

The service-URL rule is the SSRF fence: an inbound activity names where replies go, so an
activity whose ``serviceUrl`` is outside the cloud is refused before anything is sent, and the
outbox posts only to that cloud's hosts. Loopback addresses (``127.0.0.0/8``, ``::1``,
``localhost``) are allowed only in demo mode, which itself serves on loopback only: the fake
Bot Connector of the tests and the Bot Framework Emulator live there. No app.yaml key turns it on.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.addresses import is_loopback_host


@dataclass(frozen=True)
class TeamsCloud:
    """What one Microsoft cloud means for the bot."""

    name: str
    #: ``iss`` of the tokens the Bot Framework (on behalf of Teams) sends to /api/messages.
    token_issuer: str
    #: OpenID metadata for those tokens (its ``jwks_uri`` holds the signing keys).
    openid_metadata: str
    #: Entra authority host our outbound token comes from (tenant appended per app type).
    login_authority: str
    #: The resource our outbound token is for (``<scope>/.default``).
    connector_scope: str
    #: Hosts (and their subdomains) a serviceUrl of this cloud may have; https only.
    service_hosts: tuple[str, ...]
    #: What to register where (README "Connecting Teams"), shown by ``config check``.
    azure: str
    #: Teams in this cloud takes targeted messages (shown only to one person in a channel or
    #: group chat). Where it is not known to, a reply for one person goes to their personal chat:
    #: a cloud that ignored the flag would show it to everyone.
    targeted_messages: bool = False
    #: The Teams admin center where the app package is uploaded for this cloud's tenants.
    admin_center: str = "https://admin.teams.microsoft.com"


CLOUDS: dict[str, TeamsCloud] = {
    "public": TeamsCloud(
        "public", "https://api.botframework.com",
        "https://login.botframework.com/v1/.well-known/openidconfiguration",
        "https://login.microsoftonline.com", "https://api.botframework.com",
        ("smba.trafficmanager.net",), "Azure Bot in Azure commercial (portal.azure.com)",
        targeted_messages=True),
    "gcc": TeamsCloud(
        "gcc", "https://api.botframework.com",
        "https://login.botframework.com/v1/.well-known/openidconfiguration",
        "https://login.microsoftonline.com", "https://api.botframework.com",
        ("smba.infra.gcc.teams.microsoft.com",),
        "Azure Bot in Azure commercial (portal.azure.com), Teams in GCC"),
    "gcch": TeamsCloud(
        "gcch", "https://api.botframework.us",
        "https://login.botframework.azure.us/v1/.well-known/openidconfiguration",
        "https://login.microsoftonline.us", "https://api.botframework.us",
        ("smba.infra.gov.teams.microsoft.us",),
        "Azure Bot in Azure Government (portal.azure.us), Teams in GCC High",
        admin_center="https://admin.gov.teams.microsoft.us"),
    "dod": TeamsCloud(
        "dod", "https://api.botframework.us",
        "https://login.botframework.azure.us/v1/.well-known/openidconfiguration",
        "https://login.microsoftonline.us", "https://api.botframework.us",
        ("smba.infra.dod.teams.microsoft.us",),
        "Azure Bot in Azure Government (portal.azure.us), Teams in DoD",
        admin_center="https://admin.dod.teams.microsoft.us"),
}


@dataclass(frozen=True)
class ServiceUrlPolicy:
    """Which serviceUrls replies and proactive sends may go to."""

    cloud: TeamsCloud
    loopback: bool = False  # demo mode only (see the module docstring)

    def problem(self, url: str) -> str | None:
        """None when ``url`` is one of this cloud's Bot Connector endpoints, else why not."""
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower().rstrip(".")
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            return "the serviceUrl is not a URL"
        if parts.username is not None or parts.password is not None:
            return "the serviceUrl carries credentials"
        if self.loopback and is_loopback_host(host) and parts.scheme in ("http", "https"):
            return None
        if parts.scheme != "https":
            return "the serviceUrl is not https"
        if any(host == allowed or host.endswith("." + allowed)
               for allowed in self.cloud.service_hosts):
            return None
        return f"the serviceUrl is not a Teams endpoint of the {self.cloud.name} cloud"

    def allows(self, url: str) -> bool:
        """True when :meth:`problem` finds none."""
        return self.problem(url) is None
