"""The audit key: the secret that makes the incident record and the audit log tamper-evident.

Every event hash, every pinned chain head and every checkpoint is an HMAC-SHA-256 with this key,
so someone who can write to the database but does not hold the key cannot recompute them.

Where the key comes from, in order:

1. ``ELECTIONBOT_AUDIT_KEY`` (read by :func:`bot.config.settings.read_environment`), the production choice;
2. on the embedded SQLite default, ``audit.key`` beside the database file, generated on first
   use with mode 0600 (a warning says to back it up and to move it to the environment);
3. otherwise (PostgreSQL without a key) no key: plain SHA-256 as before the key existed, with a
   warning here, in ``config check``, ``/healthz`` and ``incidents verify``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)
KEY_FILE = "audit.key"
UNKEYED_ID = "unkeyed"
GENESIS = "0" * 64  # the "previous hash" of every chain's first link


@dataclass(frozen=True)
class AuditKey:
    """An HMAC key (empty: unkeyed SHA-256, the algorithm of records made before the key)."""

    secret: bytes = field(repr=False)
    source: str  # "environment", "file" or "none"

    @property
    def keyed(self) -> bool:
        """Whether a secret is in use (False: anyone with write access can recompute hashes)."""
        return bool(self.secret)

    @property
    def key_id(self) -> str:
        """A short public fingerprint of the key, stored beside what it sealed."""
        if not self.keyed:
            return UNKEYED_ID
        return hashlib.sha256(b"electionbot audit key id\0" + self.secret).hexdigest()[:12]

    def mac(self, message: bytes) -> str:
        """HMAC-SHA-256 of ``message`` (plain SHA-256 when unkeyed), as 64 hex digits."""
        if not self.keyed:
            return hashlib.sha256(message).hexdigest()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def matches(self, message: bytes, expected: str | None) -> bool:
        """Constant-time comparison of ``mac(message)`` with a stored value."""
        return expected is not None and hmac.compare_digest(self.mac(message), expected)


UNKEYED = AuditKey(b"", "none")
_BOUND: weakref.WeakKeyDictionary[Any, AuditKey] = weakref.WeakKeyDictionary()
_RESOLVED: dict[tuple[str | None, str], AuditKey] = {}


def resolve_audit_key(configured: str | None, database_url: str) -> AuditKey:
    """The key for this deployment (cached per process); see the module docstring."""
    cache_key = (configured, database_url)
    if cache_key not in _RESOLVED:
        _RESOLVED[cache_key] = _resolve(configured, database_url)
    return _RESOLVED[cache_key]


def _resolve(configured: str | None, database_url: str) -> AuditKey:
    if configured:
        return AuditKey(configured.encode(), "environment")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return AuditKey(_key_file(Path(str(url.database)).parent / KEY_FILE), "file")
    log.warning("ELECTIONBOT_AUDIT_KEY is not set: incident and audit records are hashed "
                "without a key, so a database writer can recompute them; set it (see README)")
    return UNKEYED


def _key_file(path: Path) -> bytes:
    """Read the key file, creating it (mode 0600, atomically) if it does not exist yet."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, path)  # fails if another process won the race; then use theirs
            log.warning("generated an audit key at %s: back it up with your checkpoints, or "
                        "set ELECTIONBOT_AUDIT_KEY instead (see README)", path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text(encoding="ascii").strip().encode()


def bind_audit_key(engine: Any, key: AuditKey) -> None:
    """Use ``key`` for everything written through this (sync) engine."""
    _BOUND[engine] = key


def audit_key_for(engine: Any) -> AuditKey:
    """The key bound to this (sync) engine, else the one the environment configures."""
    bound = _BOUND.get(engine)
    if bound is not None:
        return bound
    from bot.config.settings import read_environment  # the only reader of the environment

    configured = read_environment().ELECTIONBOT_AUDIT_KEY
    secret = configured.get_secret_value() if configured is not None else None
    return resolve_audit_key(secret, engine.url.render_as_string(hide_password=False))


def settings_audit_key(settings: Any) -> AuditKey:
    """The key a :class:`bot.config.settings.Settings` configures."""
    configured = settings.env.ELECTIONBOT_AUDIT_KEY
    secret = configured.get_secret_value() if configured is not None else None
    return resolve_audit_key(secret, settings.env.DATABASE_URL)


def audit_health(db: Any) -> dict[str, Any]:
    """For /healthz: whether records are keyed, where the key comes from, and its public id."""
    key = audit_key_for(db.engine.sync_engine)
    return {"keyed": key.keyed, "key_source": key.source, "key_id": key.key_id}
