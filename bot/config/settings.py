"""Settings = app.yaml (behaviour) + environment (secrets).

This is the only module that reads ``os.environ``. Everything is validated once at start-up;
a bad file or a contradictory environment raises :class:`ConfigError`, which names the key and
the fix. The CLI turns it into one line on stderr and exit code 2.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
)

from bot.addresses import is_loopback_host
from bot.config.admission import Limits, SlackAdmission, TeamsAdmission, admission_problem
from bot.config.base import ConfigError, IdentityText, Strict
from bot.config.email import EmailConfig, Relay, email_problem, email_warnings, parse_relay
from bot.config.slack import slack_oauth_problem
from bot.config.webchat import WebChat
from knowledge.yamlload import safe_load

DEFAULT_CONFIG_PATH = Path("app.yaml")
DEFAULT_DATABASE_URL = "sqlite:///data/electionbot.db"
# Demo mode (``electionbot serve --demo`` only) merges this file, found next to app.yaml, over it.
DEMO_OVERLAY_NAME = "demo.yaml"
DEMO_PLATFORM = "webchat"
OIDC_SECRET = re.compile(r"WEBCHAT_OIDC_[A-Z0-9_]+_CLIENT_SECRET")




class Office(Strict):
    """Who runs this bot."""

    name: str = Field(min_length=1, max_length=120)
    state: str = Field(min_length=2, max_length=2)
    time_zone: str = "America/New_York"
    #: The office's privacy statement and terms of use, linked from the Teams app package.
    privacy_url: str | None = Field(default=None, max_length=2048)
    terms_url: str | None = Field(default=None, max_length=2048)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _check_zone(value)

    @field_validator("privacy_url", "terms_url")
    @classmethod
    def _https_page(cls, value: str | None) -> str | None:
        if value is not None and not (value.startswith("https://") and urlsplit(value).hostname):
            raise ValueError("must be an https:// address of the office's own page")
        return value


class Jurisdiction(Strict):
    """A state, county or town the office works with."""

    code: str = Field(min_length=2, max_length=40)
    name: str
    time_zone: str | None = None
    #: Other names a question may use for it or its election office ("SOTS", "VoteSure"): a
    #: question naming one is about this jurisdiction (its articles, its contact).
    aliases: list[Annotated[str, Field(min_length=3, max_length=80)]] = Field(default_factory=list)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else _check_zone(value)


class Contact(Strict):
    """Who to ask; contacts drift, so each carries the date it was last verified."""

    name: str
    #: The name in Spanish conversations, where it is not a proper name ("your state election
    #: office" -> "su oficina electoral estatal"); the name is used when absent.
    name_es: str | None = None
    email: str | None = None
    phone: str | None = None
    url: str | None = None
    verified_on: date

    def name_in(self, language: str) -> str:
        """The name to show in ``language`` (``name_es`` in Spanish when there is one)."""
        return self.name_es if language == "es" and self.name_es else self.name


class Commands(Strict):
    """Slash-command names (configurable so two bots can share a workspace)."""

    ask: str = "/ask"
    incident: str = "/incident"
    alert: str = "/alert"
    cert: str = "/cert"

    @field_validator("ask", "incident", "alert", "cert")
    @classmethod
    def _slash(cls, value: str) -> str:
        if not value.startswith("/") or len(value) < 2 or " " in value or len(value) > 32:
            raise ValueError("must look like /name (a slash, no spaces, at most 32 characters)")
        return value


class Thresholds(Strict):
    """Scores in 0..1 that decide between answering and saying 'I don't know'."""

    answer_confidence: float = Field(default=0.5, ge=0.0, le=1.0)


S = TypeVar("S", bound=BaseModel)
#: The sections domains own, by app.yaml key (``handlers.FEATURES`` supplies them): each is
#: validated by its own model and read back with :meth:`AppConfig.section`.
Sections = Mapping[str, type[BaseModel]]


class AppConfig(Strict):
    """The whole of app.yaml: the core's keys here, each domain's section in its own model."""

    _sections: dict[type[BaseModel], BaseModel] = PrivateAttr(default_factory=dict)

    office: Office
    jurisdictions: list[Jurisdiction] = Field(default_factory=list)
    commands: Commands = Commands()
    roles: dict[str, list[IdentityText]] = Field(default_factory=dict)
    contacts: dict[str, Contact] = Field(default_factory=dict)
    thresholds: Thresholds = Thresholds()
    knowledge_path: str = "knowledge/articles"
    #: Add the semantic retrieval channel (it runs only with the ``semantic`` extra installed).
    #: Off when app.yaml omits it; the shipped app.yaml turns it on (see README).
    semantic_retrieval: bool = False
    #: Labelled questions about this base (JSON lines: ``q`` with the ``article`` that answers it,
    #: or ``"expect": "abstain"``), as globs relative to app.yaml. The semantic decision weighs how
    #: close a new question comes to them (``knowledge.memory``). None when app.yaml omits it.
    question_memory: list[str] = Field(default_factory=list)
    webchat: WebChat = WebChat()
    teams: TeamsAdmission = TeamsAdmission()
    slack: SlackAdmission = SlackAdmission()
    limits: Limits = Limits()
    email: EmailConfig = EmailConfig()

    @field_validator("contacts")
    @classmethod
    def _default_contact(cls, value: dict[str, Contact]) -> dict[str, Contact]:
        if value and "default" not in value:
            raise ValueError("needs a 'default' entry used when no jurisdiction matches")
        return value

    @property
    def aliases(self) -> dict[str, str]:
        """Every jurisdiction's other names (``Jurisdiction.aliases``) -> its code."""
        return {alias: j.code for j in self.jurisdictions for alias in j.aliases}

    def contact_for(self, jurisdiction: str | None) -> Contact | None:
        """The contact for a jurisdiction, else the default one."""
        if jurisdiction and jurisdiction in self.contacts:
            return self.contacts[jurisdiction]
        return self.contacts.get("default")

    def section(self, model: type[S]) -> S:
        """A domain's own section of app.yaml (see :data:`Sections`); defaults when absent."""
        found = self._sections.get(model)
        return found if isinstance(found, model) else model()

    def has_role(self, identity: str, role: str) -> bool:
        """Whether a platform identity holds a role (authorization is on identity only)."""
        return identity in self.roles.get(role, [])

    def time_zone_for(self, jurisdiction: str | None) -> str:
        """The jurisdiction's time zone from app.yaml, else the office's."""
        zone = next((j.time_zone for j in self.jurisdictions if j.code == jurisdiction), None)
        return zone or self.office.time_zone




class Environment(BaseModel):
    """Secrets and deployment settings, from the environment only (:func:`read_environment`).

    Variable names are exact (case-sensitive, no prefix); other variables are ignored.
    """

    model_config = ConfigDict(extra="ignore", validate_default=True)

    SLACK_BOT_TOKEN: SecretStr | None = None
    SLACK_SIGNING_SECRET: SecretStr | None = None
    SLACK_APP_TOKEN: SecretStr | None = None
    SLACK_API_URL: str = "https://slack.com/api/"
    # Multi-workspace installs (Slack OAuth v2); tokens are kept encrypted with the key below.
    SLACK_CLIENT_ID: str | None = None
    SLACK_CLIENT_SECRET: SecretStr | None = None
    SLACK_REDIRECT_URI: str | None = None
    ELECTIONBOT_TOKEN_KEY: SecretStr | None = None
    # HMAC key of the incident record and the audit log (see bot/ops/audit_key.py and the README).
    ELECTIONBOT_AUDIT_KEY: SecretStr | None = None
    # Signs e-mail acknowledgement links (handlers/alerts/links.py): one key, or NEW,OLD while
    # changing it (links signed with OLD keep working until their alert expires).
    ELECTIONBOT_LINK_KEY: SecretStr | None = None
    MICROSOFT_APP_ID: str | None = None
    MICROSOFT_APP_PASSWORD: SecretStr | None = None
    MICROSOFT_APP_TENANT_ID: str | None = None
    MICROSOFT_APP_TYPE: str = "MultiTenant"
    DATABASE_URL: str = DEFAULT_DATABASE_URL
    ELECTIONBOT_CONFIG: Path = DEFAULT_CONFIG_PATH
    ELECTIONBOT_LOG_LEVEL: str = "INFO"
    ELECTIONBOT_SIMULATED_START: datetime | None = None
    # The office's SMTP relay (see bot/config/email.py): e-mail is on when SMTP_URL is set.
    SMTP_URL: str | None = None
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: SecretStr | None = None
    MAIL_FROM: str | None = None
    # WEBCHAT_OIDC_<NAME>_CLIENT_SECRET, one per provider in app.yaml, keyed by variable name.
    WEBCHAT_OIDC_SECRETS: dict[str, SecretStr] = Field(default_factory=dict)


class Settings(BaseModel):
    """Everything the process needs, validated together."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    app: AppConfig
    env: Environment
    config_path: Path
    # Set only by ``electionbot serve --demo`` (never from the environment): self-declared web
    # chat names, the demo overlay's role grants, loopback only, no proxied requests.
    demo: bool = False

    @property
    def slack_enabled(self) -> bool:
        """Slack is on with a bot token (one workspace) or an OAuth client (many workspaces)."""
        return self.env.SLACK_BOT_TOKEN is not None or self.slack_oauth_enabled

    @property
    def slack_oauth_enabled(self) -> bool:
        """Slack installs into many workspaces through OAuth v2 (client id and secret set)."""
        return self.env.SLACK_CLIENT_ID is not None and self.env.SLACK_CLIENT_SECRET is not None

    @property
    def teams_enabled(self) -> bool:
        """Teams is on with an app id (anonymous Teams in demo mode is for local tests only)."""
        return self.env.MICROSOFT_APP_ID is not None

    @property
    def email_enabled(self) -> bool:
        """E-mail is on when SMTP_URL names the office's relay (checked at load)."""
        return self.env.SMTP_URL is not None

    @property
    def relay(self) -> Relay | None:
        """The SMTP relay from SMTP_URL, when e-mail is on."""
        return parse_relay(self.env.SMTP_URL) if self.env.SMTP_URL is not None else None

    @property
    def mode(self) -> str:
        """``"demo"`` or ``"production"``, as /healthz reports it."""
        return "demo" if self.demo else "production"

    def check_listen_address(self, host: str) -> None:
        """Demo mode serves only this machine: refuse any bind address beyond loopback."""
        if self.demo and not is_loopback_host(host):
            raise ConfigError(
                f"--host: demo mode refuses to listen on {host}; anyone who can reach the "
                "server can pick any name in demo mode. Listen on 127.0.0.1, or run without "
                "--demo (production: signed-in web chat, Teams with MICROSOFT_APP_ID)."
            )


def read_environment(environ: Mapping[str, str] | None = None) -> Environment:
    """The process environment (or ``environ``) as :class:`Environment`; ValidationError if bad.

    ``WEBCHAT_OIDC_<NAME>_CLIENT_SECRET`` variables are gathered into ``WEBCHAT_OIDC_SECRETS``.
    """
    source = os.environ if environ is None else environ
    secrets = {k: v for k, v in source.items() if OIDC_SECRET.fullmatch(k)}
    return Environment.model_validate({**source, "WEBCHAT_OIDC_SECRETS": secrets})


def load_settings(environ: dict[str, str] | None = None, *, demo: bool = False,
                  sections: Sections | None = None) -> Settings:
    """Read app.yaml and the environment; raise ConfigError naming the key and the fix.

    ``demo`` (from ``serve --demo`` only) merges demo.yaml next to app.yaml over it; without it
    any ``webchat:`` identity or destination in the configuration is refused.
    """
    try:
        env = read_environment(environ)
    except ValidationError as exc:
        raise ConfigError(_first_error("environment", exc)) from None
    path = env.ELECTIONBOT_CONFIG
    app = load_app_config(path, demo=demo, sections=sections)
    _check_environment(env)
    for provider in app.webchat.oidc:
        if provider.secret_variable not in env.WEBCHAT_OIDC_SECRETS:
            raise ConfigError(f"{provider.secret_variable}: missing for webchat.oidc provider "
                              f"{provider.name!r}; set it to the client secret from the provider")
    problem = email_problem(env, app.email, path.parent)
    if problem is not None:
        raise ConfigError(problem)
    settings = Settings(app=app, env=env, config_path=path, demo=demo)
    problem = admission_problem(settings)
    if problem is not None:
        raise ConfigError(f"{path}: {problem}")
    return settings


def load_app_config(path: Path, *, demo: bool = False,
                    sections: Sections | None = None) -> AppConfig:
    """Parse and validate app.yaml (with demo.yaml merged over it in demo mode).

    ``sections``: the domains' keys and models; any other key the core does not know is an error.
    """
    raw = _read_yaml(path)
    where = str(path)
    overlay = path.parent / DEMO_OVERLAY_NAME
    if demo and overlay.is_file():
        raw = merge_overlay(raw, _read_yaml(overlay))
        where = f"{path} + {overlay}"
    owned = dict(sections or {})
    try:
        app = AppConfig.model_validate({k: v for k, v in raw.items() if k not in owned})
    except ValidationError as exc:
        raise ConfigError(_first_error(where, exc)) from None
    for key, model in owned.items():
        try:
            app._sections[model] = model.model_validate(raw.get(key) or {})
        except ValidationError as exc:
            raise ConfigError(_first_error(where, exc, prefix=key)) from None
    if not demo:
        _refuse_demo_identities(raw, path)
    return app


def merge_overlay(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``overlay`` merged in: mappings recursively, lists appended, else replaced."""
    merged = dict(base)
    for key, value in overlay.items():
        old = merged.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            merged[key] = merge_overlay(old, value)
        elif isinstance(old, list) and isinstance(value, list):
            merged[key] = [*old, *value]
        else:
            merged[key] = value
    return merged


def demo_identities(node: Any, where: str = "") -> list[str]:
    """The keys (``roles.state_staff[0]``) holding a ``webchat:`` identity or destination."""
    if isinstance(node, dict):
        return [hit for key, value in node.items()
                for hit in demo_identities(value, f"{where}.{key}" if where else str(key))]
    if isinstance(node, list):
        return [hit for i, value in enumerate(node) for hit in demo_identities(value, f"{where}[{i}]")]
    if isinstance(node, str) and node.strip().lower().startswith(f"{DEMO_PLATFORM}:"):
        return [where]
    return []


def _refuse_demo_identities(raw: dict[str, Any], path: Path) -> None:
    # Every string is checked, not only the fields known today, so a new setting that names
    # people cannot bring self-declared identities back into production.
    found = demo_identities(raw)
    if found:
        raise ConfigError(
            f"{path}: {found[0]}: webchat:local identities are self-declared and exist only in "
            f"demo mode; name signed-in people instead (web:local:<user>, "
            f"web:<issuer>:<subject>, slack:<team>:<user>, teams:<tenant>:<aad_object_id>), or "
            f"move demo grants to {DEMO_OVERLAY_NAME} and run `electionbot serve --demo`"
        )


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        raw = safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"ELECTIONBOT_CONFIG: {path} does not exist; point ELECTIONBOT_CONFIG at app.yaml"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: must be a mapping of settings (office:, roles:, ...)")
    return raw


def _check_environment(env: Environment) -> None:
    if env.SLACK_BOT_TOKEN is not None and env.SLACK_SIGNING_SECRET is None:
        if env.SLACK_APP_TOKEN is None:
            raise ConfigError(
                "SLACK_SIGNING_SECRET: missing while SLACK_BOT_TOKEN is set; copy the signing "
                "secret from your Slack app's Basic Information page (or set SLACK_APP_TOKEN "
                "for Socket Mode)"
            )
    if env.SLACK_APP_TOKEN is not None and env.SLACK_BOT_TOKEN is None:
        raise ConfigError("SLACK_BOT_TOKEN: missing while SLACK_APP_TOKEN is set; set both")
    problem = slack_oauth_problem(env)
    if problem is not None:
        raise ConfigError(problem)
    if env.MICROSOFT_APP_PASSWORD is not None and env.MICROSOFT_APP_ID is None:
        raise ConfigError("MICROSOFT_APP_ID: missing while MICROSOFT_APP_PASSWORD is set")
    if env.MICROSOFT_APP_TYPE not in {"MultiTenant", "SingleTenant", "UserAssignedMSI"}:
        raise ConfigError(
            "MICROSOFT_APP_TYPE: must be MultiTenant, SingleTenant or UserAssignedMSI"
        )
    if env.MICROSOFT_APP_TYPE == "SingleTenant" and not env.MICROSOFT_APP_TENANT_ID:
        raise ConfigError("MICROSOFT_APP_TENANT_ID: required when MICROSOFT_APP_TYPE=SingleTenant")
    start = env.ELECTIONBOT_SIMULATED_START
    if start is not None and start.tzinfo is None:
        raise ConfigError("ELECTIONBOT_SIMULATED_START: give a time zone, e.g. "
                          "2026-11-03T13:00:00+00:00")
    audit_key = env.ELECTIONBOT_AUDIT_KEY
    if audit_key is not None and len(audit_key.get_secret_value()) < 32:
        raise ConfigError("ELECTIONBOT_AUDIT_KEY: too short; use at least 32 random characters, "
                          "e.g. the output of `openssl rand -hex 32`")
    link_keys = env.ELECTIONBOT_LINK_KEY
    if link_keys is not None and any(
            len(part.strip()) < 32 for part in link_keys.get_secret_value().split(",")):
        raise ConfigError("ELECTIONBOT_LINK_KEY: too short; use at least 32 random characters "
                          "(NEW,OLD: each of them), e.g. the output of `openssl rand -hex 32`")
    if not env.DATABASE_URL.startswith(("sqlite", "postgresql")):
        raise ConfigError("DATABASE_URL: use sqlite:///path.db or postgresql+psycopg://...")


def environment_warnings(env: Environment) -> list[str]:
    """Settings that work but that a production deployment should not keep."""
    warnings = []
    if env.ELECTIONBOT_AUDIT_KEY is None and env.DATABASE_URL.startswith("postgresql"):
        warnings.append("ELECTIONBOT_AUDIT_KEY: not set on PostgreSQL; the incident record and "
                        "audit log are hashed without a key, so anyone who can write to the "
                        "database can rewrite them undetected. Set it (`openssl rand -hex 32`) "
                        "and run `electionbot incidents verify --reseal` once")
    return warnings


def mail_warnings(settings: Settings) -> list[str]:
    """E-mail settings that work but deserve a second look."""
    return email_warnings(settings.env, settings.app.email,
                          has_contact=settings.app.contact_for(None) is not None)


def proxy_warnings(settings: Settings) -> list[str]:
    """app.yaml settings that work on one machine but go wrong behind a reverse proxy."""
    web = settings.app.webchat
    warnings: list[str] = []
    if settings.demo or not web.enabled:
        return warnings
    if web.oidc and web.public_url is None:
        warnings.append("webchat.public_url: not set; behind a proxy the OIDC redirect URI is "
                        "built from the request (http://, any Host header). Set it to the "
                        "https:// address people open")
    return warnings


def _first_error(where: str, exc: ValidationError, *, prefix: str = "") -> str:
    err = exc.errors()[0]
    key = ".".join(str(part) for part in (prefix, *err["loc"]) if part != "") or "(top level)"
    return f"{where}: {key}: {err['msg']}"


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r}; use an IANA name like America/Chicago") from None
    return value

