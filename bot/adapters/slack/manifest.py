"""The Slack app manifest (YAML) an office pastes into api.slack.com to create the app.

It works for both set-ups: one workspace (install from the app page, SLACK_BOT_TOKEN) and many
(``/slack/install`` with OAuth v2; the redirect URL below, and ``tokens_revoked`` /
``app_uninstalled`` events so a removed workspace's tokens are deleted).
"""

from __future__ import annotations

from typing import Any

import yaml

from bot.adapters.slack.translate import REPORT_SHORTCUT
from bot.config.settings import ConfigError, Settings

# No channels:history / groups:history, on purpose: they let the bot read every message of
# every channel it is in, and since 2025 Slack allows distributed apps outside the Marketplace
# one conversations.history call a minute per workspace, so checking a broadcast's channels
# after a crash could not be the main mechanism anyway. An uncertain channel post is resent
# once marked as a possible repeat; an office that grants the scopes gets the check where its
# budget allows (bot/adapters/slack/send.py reads the granted scopes from Slack's answers).
# im:history is needed for message.im and also lets direct messages be checked.
# assistant:write: the agent view's status ("is looking this up…") and suggested prompts
# (bot/adapters/slack/home.py); where the workspace's plan lacks them the bot answers as usual.
BOT_SCOPES = ("commands", "chat:write", "im:history", "im:write", "app_mentions:read",
              "users:read", "users:read.email", "channels:read", "groups:read",
              "assistant:write")
BOT_EVENTS = ("app_mention", "message.im", "app_home_opened", "assistant_thread_started",
              "assistant_thread_context_changed", "tokens_revoked", "app_uninstalled")
REDIRECT_PATH = "/slack/oauth_redirect"  # Bolt's OAuth callback, mounted by slack_oauth
# Descriptions and usage hints per command key in app.yaml's ``commands:``. A hint names the
# verbs each command really takes (handlers/*/commands.py); every command also takes ``help``.
COMMAND_TEXT = {
    "ask": ("Ask a question about election procedures", "what is the PAUSE method?"),
    "incident": ("Report an election incident or follow one up",
                 "[what happened] or list | show ID | status ID STATUS | note ID TEXT | help"),
    "alert": ("Compose or manage an alert to election staff",
              "(opens the composer) or status | update | allclear | cancel ALERT-ID | help"),
    "cert": ("Check or record certification status",
             "(your status) or done COURSE [date] [hours] | @user | "
             "jurisdiction CODE | unreachable | help"),
}
# Message shortcuts (callback ids are what the listeners match).
SHORTCUTS = ({"name": "Report as incident", "type": "message", "callback_id": REPORT_SHORTCUT,
              "description": "File an election incident report from this message"},)
# Commands whose arguments name people (``/incident assign ID @user``, ``/cert @user``): Slack
# then sends mentions as <@U123|name>, which is the platform identity the handler needs
# (unescaped, it would send a bare "@name").
ESCAPED_COMMANDS = frozenset({"incident", "cert"})
MAX_NAME = 35  # Slack limits display and bot user names to 35 characters


def _command(name: str, key: str, events_url: str) -> dict[str, Any]:
    description, hint = COMMAND_TEXT[key]
    return {"command": name, "url": events_url, "description": description,
            "usage_hint": hint, "should_escape": key in ESCAPED_COMMANDS}


def public_base_url(settings: Settings, url: str | None) -> str:
    """The https:// address Slack calls: ``url`` (``--url``), else ``webchat.public_url``.

    The web chat, Slack and Teams share one server, so the web chat's public address is the
    bot's. Raises ConfigError naming ``--url`` when neither is set or the address is not https.
    """
    base = url or settings.app.webchat.public_url
    if not base:
        raise ConfigError("--url: give the bot's public https:// address (or set "
                          "webchat.public_url in app.yaml)")
    if not base.startswith("https://"):
        raise ConfigError(f"--url: Slack calls only https:// addresses, not {base!r}")
    return base


def build_slack_manifest_dict(settings: Settings, base_url: str) -> dict[str, Any]:
    """Build the manifest as a dict (HTTP mode: one request URL for commands, events, clicks)."""
    events_url = base_url.rstrip("/") + "/slack/events"
    redirect_url = base_url.rstrip("/") + REDIRECT_PATH
    office = settings.app.office.name
    name = f"{office} Assistant"[:MAX_NAME].strip()
    commands = settings.app.commands.model_dump()
    return {
        "display_information": {
            "name": name,
            "description": f"Vetted answers and coordination for {office}"[:140],
            "background_color": "#1d3557",
        },
        "features": {
            # The Home tab shows each person what needs them (their incidents, certification,
            # alerts awaiting an answer); the agent view gives DMs Slack's assistant features.
            "app_home": {"home_tab_enabled": True, "messages_tab_enabled": True,
                         "messages_tab_read_only_enabled": False},
            "agent_view": {"agent_description": (
                f"Vetted, nonpartisan answers for {office} staff; report incidents, follow "
                "your certification and answer alerts")[:300]},
            "bot_user": {"display_name": name, "always_online": True},
            "slash_commands": [_command(commands[key], key, events_url) for key in COMMAND_TEXT
                               if key in commands],
            "shortcuts": [dict(s) for s in SHORTCUTS],
        },
        "oauth_config": {"redirect_urls": [redirect_url], "scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": {"request_url": events_url, "bot_events": list(BOT_EVENTS)},
            "interactivity": {"is_enabled": True, "request_url": events_url},
            "org_deploy_enabled": False,
            "socket_mode_enabled": False,
            "token_rotation_enabled": False,
        },
    }


def build_slack_manifest(settings: Settings, base_url: str) -> str:
    """Build the manifest as YAML, ready to paste into "Create an app > From a manifest"."""
    return yaml.safe_dump(build_slack_manifest_dict(settings, base_url), sort_keys=False,
                          allow_unicode=True)
