"""Installing the Slack app into many workspaces: Bolt's OAuth v2 flow on our server.

``GET /slack/install`` issues a single-use state (10 minutes, kept in the database and bound to
the browser by Bolt's cookie) and redirects to Slack's authorize page. Slack sends the installer
back to ``GET /slack/oauth_redirect?code=...&state=...``; Bolt consumes the state, exchanges the
code with oauth.v2.access and saves the installation through
:class:`bot.adapters.slack.store.DatabaseInstallationStore` (tokens encrypted). The pages here
say plainly what happened; a reused or expired link is refused with a way to start again.
"""

from __future__ import annotations

import html
import logging
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.error import BoltError
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth import OAuthStateUtils
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.manifest import BOT_SCOPES, REDIRECT_PATH
from bot.adapters.slack.store import (
    STATE_LIFETIME,
    DatabaseInstallationStore,
    DatabaseStateStore,
    TokenBox,
)
from bot.adapters.slack.workspaces import Fallback, Workspaces
from bot.config.settings import AppConfig, Settings
from bot.db.engine import Database
from bot.ops.audit import audit

log = logging.getLogger(__name__)
INSTALL_PATH = "/slack/install"
HTML = "text/html; charset=utf-8"
FAILURES = {
    "invalid_state": (
        "This install link has expired or was already used",
        f"Install links work once and for {STATE_LIFETIME // 60} minutes."),
    "invalid_browser": (
        "This install link was opened in a different browser",
        "Start and finish the installation in the same browser, with cookies allowed."),
    "access_denied": ("The installation was cancelled", "Nothing was installed."),
    "missing_code": ("Slack did not confirm the installation",
                     "The answer from Slack had no code."),
    "invalid_code": ("Slack did not confirm the installation",
                     "The code from Slack was refused (already used or expired)."),
    "storage_error": ("The installation could not be saved", "Please try again in a minute."),
}


def authorize_url(api_url: str) -> str:
    """Slack's authorize page next to SLACK_API_URL (slack.com, GovSlack, or a test fake)."""
    base = api_url.rstrip("/")
    base = base[: -len("/api")] if base.endswith("/api") else base
    return f"{base}/oauth/v2/authorize"


def _page(status: int, title: str, text: str, cookie: str) -> BoltResponse:
    body = (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}"
            f"</title></head><body><h1>{html.escape(title)}</h1><p>{text}</p></body></html>")
    return BoltResponse(status=status, body=body,
                        headers={"Content-Type": HTML, "Set-Cookie": cookie})


class NotAdmitted(BoltError):
    """The workspace that finished the install is not in app.yaml ``slack.workspaces``."""

    def __init__(self, installation: Installation) -> None:
        """Keep the ids the page names."""
        super().__init__("workspace not in slack.workspaces")
        self.team_id = installation.team_id or ""
        self.enterprise_id = installation.enterprise_id or ""


class AdmittingOAuthFlow(AsyncOAuthFlow):
    """Bolt's OAuth flow that stores an installation only for a workspace the office admits.

    A refused install is audited, not stored, and the token Slack just issued is given back
    (``apps.uninstall``), so the app does not stay half-installed in that workspace.
    """

    def __init__(self, *, settings: AsyncOAuthSettings, admitted: frozenset[str],
                 db: Database) -> None:
        """``admitted``: team ids (T…) and Enterprise Grid ids (E…) from app.yaml."""
        super().__init__(settings=settings, logger=logging.getLogger("slack_bolt.oauth"))
        self.admitted = admitted
        self.db = db

    async def store_installation(self, request: AsyncBoltRequest,
                                 installation: Installation) -> None:
        """Save an admitted workspace's installation; refuse any other with NotAdmitted."""
        if installation.team_id in self.admitted or installation.enterprise_id in self.admitted:
            await super().store_installation(request, installation)
            return
        where = installation.team_id or installation.enterprise_id or "unknown"
        await audit(self.db, actor=f"slack:{where}:{installation.user_id or ''}",
                    action="slack.install", target=where, allowed=False,
                    reason="workspace not in slack.workspaces; not stored")
        if installation.bot_token:
            try:
                await self.client.apps_uninstall(
                    token=installation.bot_token, client_id=self.settings.client_id,
                    client_secret=self.settings.client_secret)
            except SlackApiError as exc:
                log.warning("could not uninstall from a refused workspace",
                            extra={"error": type(exc).__name__})
        raise NotAdmitted(installation)


class Pages:
    """Bolt's success / failure callbacks, rendered as short pages; the state cookie is cleared."""

    def __init__(self, state_utils: OAuthStateUtils, app: AppConfig | None = None) -> None:
        """Clear the state cookie Bolt set with ``state_utils``; name the office from ``app``."""
        self.state_utils = state_utils
        self.app = app

    async def success(self, args: AsyncSuccessArgs) -> BoltResponse:
        """The app is installed: name the workspace."""
        installation = args.installation
        where = installation.team_name or installation.enterprise_name or "your workspace"
        log.info("slack app installed", extra={"team": installation.team_id or "",
                                               "enterprise": installation.enterprise_id or ""})
        return _page(200, "Installed", f"The assistant is now installed in "
                     f"<b>{html.escape(where)}</b>. You can close this tab and invite it to a "
                     "channel with <code>/invite</code>.",
                     self.state_utils.build_set_cookie_for_deletion())

    async def failure(self, args: AsyncFailureArgs) -> BoltResponse:
        """Say what went wrong and link back to a fresh install."""
        if isinstance(args.error, NotAdmitted):
            return self.not_admitted(args.error)
        title, detail = FAILURES.get(args.reason, ("The installation failed", ""))
        log.warning("slack install refused", extra={"reason": args.reason})
        status = args.suggested_status_code if args.suggested_status_code >= 400 else 400
        return _page(status, title, f"{html.escape(detail)} <a href=\"{INSTALL_PATH}\">Start "
                     "the installation again</a>.",
                     self.state_utils.build_set_cookie_for_deletion())


    def not_admitted(self, error: NotAdmitted) -> BoltResponse:
        """The office has not approved this workspace: say so, its id, and whom to ask."""
        office = self.app.office.name if self.app else "the election office"
        contact = self.app.contact_for(None) if self.app else None
        ask = html.escape(office)
        if contact is not None:
            ways = [w for w in (contact.email, contact.phone) if w]
            ask = html.escape(contact.name + (f" ({', '.join(ways)})" if ways else ""))
        ids = " / ".join(i for i in (error.team_id, error.enterprise_id) if i)
        log.warning("slack install refused: workspace not admitted",
                    extra={"team": error.team_id, "enterprise": error.enterprise_id})
        return _page(403, "This workspace is not approved",
                     f"{html.escape(office)} has not approved this Slack workspace "
                     f"(<code>{html.escape(ids)}</code>) for the assistant, so nothing was "
                     f"installed. Ask {ask} to add this id to the approved workspaces, then "
                     f"<a href=\"{INSTALL_PATH}\">start the installation again</a>.",
                     self.state_utils.build_set_cookie_for_deletion())


def build_workspaces(settings: Settings, db: Database, client: AsyncWebClient) -> Workspaces:
    """The installation store (tokens sealed with ELECTIONBOT_TOKEN_KEY) and token resolver."""
    env = settings.env
    assert env.SLACK_CLIENT_ID and env.SLACK_CLIENT_SECRET and env.ELECTIONBOT_TOKEN_KEY
    store = DatabaseInstallationStore(db, TokenBox(env.ELECTIONBOT_TOKEN_KEY.get_secret_value()))
    single = env.SLACK_BOT_TOKEN.get_secret_value() if env.SLACK_BOT_TOKEN else None
    return Workspaces(store, client, client_id=env.SLACK_CLIENT_ID,
                      client_secret=env.SLACK_CLIENT_SECRET.get_secret_value(),
                      single_token=single, admitted=frozenset(settings.app.slack.workspaces))


def oauth_options(settings: Settings, workspaces: Workspaces,
                  fallback: Fallback | None) -> dict[str, Any]:
    """AsyncApp arguments for many workspaces: the admitting OAuth flow and the authorize."""
    flow = AdmittingOAuthFlow(settings=build_oauth_settings(settings, workspaces),
                              admitted=workspaces.admitted, db=workspaces.store.db)
    return {"oauth_flow": flow, "authorize": workspaces.authorize(fallback)}


def build_oauth_settings(settings: Settings, workspaces: Workspaces) -> AsyncOAuthSettings:
    """Bolt's OAuth settings with our database stores and pages."""
    env = settings.env
    assert env.SLACK_CLIENT_ID and env.SLACK_CLIENT_SECRET
    state_utils = OAuthStateUtils(expiration_seconds=STATE_LIFETIME)
    pages = Pages(state_utils, settings.app)
    return AsyncOAuthSettings(
        client_id=env.SLACK_CLIENT_ID,
        client_secret=env.SLACK_CLIENT_SECRET.get_secret_value(),
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        redirect_uri=env.SLACK_REDIRECT_URI,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        # Straight to Slack: no intermediate "Add to Slack" page.
        install_page_rendering_enabled=False,
        callback_options=AsyncCallbackOptions(success=pages.success, failure=pages.failure),
        authorization_url=authorize_url(env.SLACK_API_URL),
        installation_store=workspaces.store,
        installation_store_bot_only=False,
        state_store=DatabaseStateStore(workspaces.store.db, STATE_LIFETIME),
        state_expiration_seconds=STATE_LIFETIME,
        logger=logging.getLogger("slack_bolt.oauth"),
    )


def _bolt_request(request: web.Request) -> AsyncBoltRequest:
    return AsyncBoltRequest(body="", query=request.query_string,
                            headers={k.lower(): v for k, v in request.headers.items()})


def add_routes(app: web.Application, bolt: AsyncApp) -> None:
    """Mount ``/slack/install`` and ``/slack/oauth_redirect`` on the aiohttp server."""
    flow = bolt.oauth_flow
    assert flow is not None

    async def install(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await flow.handle_installation(_bolt_request(request)))

    async def redirect(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await flow.handle_callback(_bolt_request(request)))

    app.router.add_get(INSTALL_PATH, install)
    app.router.add_get(REDIRECT_PATH, redirect)
