"""Bot Connector clients for the Agents SDK adapter, only ever for the configured cloud.

Every outbound call (a reply in a turn, a proactive send, an update) gets its client here, so
the service-URL fence of :mod:`bot.adapters.teams.clouds` holds for all of them: a serviceUrl
outside the cloud raises :class:`ServiceUrlRefused` before any connection is opened.
"""

from __future__ import annotations

from typing import Any

from microsoft_agents.hosting.core import ClaimsIdentity, TurnContext
from microsoft_agents.hosting.core.connector.client import ConnectorClient

from bot.adapters.teams.auth import TokenSource
from bot.adapters.teams.clouds import ServiceUrlPolicy


class ServiceUrlRefused(PermissionError):
    """The serviceUrl is not a Bot Connector endpoint of the configured Microsoft cloud."""


class _NoUserTokens:
    """The bot signs nobody in (no OAuth cards), so a turn needs no user-token client."""

    async def close(self) -> None:
        """Nothing to close."""


class TeamsClientFactory:
    """The SDK's ChannelServiceClientFactory: a ConnectorClient with our token, cloud-fenced."""

    def __init__(self, tokens: TokenSource, policy: ServiceUrlPolicy) -> None:
        """Keep where tokens come from and which serviceUrls are allowed."""
        self.tokens = tokens
        self.policy = policy

    async def client(self, service_url: str) -> ConnectorClient:
        """A new client for ``service_url`` carrying a current token (refused outside the cloud)."""
        problem = self.policy.problem(service_url)
        if problem is not None:
            raise ServiceUrlRefused(problem)
        return ConnectorClient(service_url, await self.tokens.token())

    async def authorize(self, client: ConnectorClient) -> None:
        """Put a current token on a kept client (tokens expire; MSAL caches them)."""
        token = await self.tokens.token()
        if token:
            client.client.headers["Authorization"] = f"Bearer {token}"

    async def create_connector_client(
        self, context: TurnContext | None, claims_identity: ClaimsIdentity, service_url: str,
        audience: str, scopes: list[str] | None = None, use_anonymous: bool = False,
    ) -> ConnectorClient:
        """The SDK asks for one client per turn; it closes it when the turn ends."""
        return await self.client(service_url)

    async def create_user_token_client(self, context: TurnContext,
                                       claims_identity: ClaimsIdentity,
                                       use_anonymous: bool = False) -> Any:
        """No user tokens (see :class:`_NoUserTokens`)."""
        return _NoUserTokens()
