"""The Teams app package: manifest.json plus two icons, zipped, ready to upload to Teams.

The icons are drawn here with zlib and struct (no image library): a 192x192 colour icon and a
32x32 outline icon that is white on transparent, as the Teams store requires.
"""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bot.adapters.teams.clouds import CLOUDS
from bot.config.settings import ConfigError, Settings

MANIFEST_VERSION = "1.16"
SCHEMA = ("https://developer.microsoft.com/en-us/json-schemas/teams/v1.16/"
          "MicrosoftTeams.schema.json")
ACCENT = (0x1F, 0x4E, 0x79)
WHITE = (0xFF, 0xFF, 0xFF)
DESCRIPTIONS = {
    "ask": "Ask a question; answers come only from vetted articles.",
    "incident": "Report an election incident.",
    "alert": "Send or acknowledge an alert.",
    "cert": "Certification deadlines and status.",
    "help": "What this assistant can do.",
}
Pixel = Callable[[int, int], tuple[int, int, int, int]]


def png(size: int, pixel: Pixel) -> bytes:
    """Encode an RGBA PNG of ``size`` x ``size`` whose colour at (x, y) is ``pixel(x, y)``."""
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(size)) for y in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def _ballot(size: int, x: int, y: int) -> bool:
    """Tell whether (x, y) is on the ballot-box-with-check drawing, scaled to ``size``."""
    unit = size / 32
    inside = 6 * unit <= x < 26 * unit and 6 * unit <= y < 26 * unit
    border = inside and not (8 * unit <= x < 24 * unit and 8 * unit <= y < 24 * unit)
    # Check mark: two strokes, from (10,16) down to (14,20) and up to (22,11).
    on_short = 10 * unit <= x <= 14 * unit and abs((y - 16 * unit) - (x - 10 * unit)) <= unit
    on_long = 14 * unit <= x <= 22 * unit and abs((y - 20 * unit) + (x - 14 * unit) * 9 / 8) <= unit
    return border or on_short or on_long


def color_icon() -> bytes:
    """Draw the 192x192 full-colour icon: a white ballot box on the accent colour."""
    return png(192, lambda x, y: (*(WHITE if _ballot(192, x, y) else ACCENT), 255))


def outline_icon() -> bytes:
    """Draw the 32x32 outline icon: white on transparent."""
    return png(32, lambda x, y: (*WHITE, 255) if _ballot(32, x, y) else (0, 0, 0, 0))


def command_names(settings: Settings) -> list[str]:
    """List the configured command names without the slash, plus help."""
    configured = settings.app.commands.model_dump()
    return [configured[name].lstrip("/") for name in ("ask", "incident", "alert", "cert")] + [
        "help"]


def registration_hint(settings: Settings) -> str:
    """Where ``teams.cloud`` has the bot registered and its app package uploaded (one line)."""
    cloud = CLOUDS[settings.app.teams.cloud]
    return (f"Teams cloud {cloud.name}: register the bot as an {cloud.azure}; upload the app "
            f"package in the Teams admin center at {cloud.admin_center}")


def package_problems(settings: Settings) -> list[str]:
    """What the package still needs, one item per missing setting (empty when ready)."""
    office = settings.app.office
    needed = {
        "MICROSOFT_APP_ID": (settings.env.MICROSOFT_APP_ID,
                             "the bot's Microsoft app id, from the Azure Bot registration"),
        "office.privacy_url": (office.privacy_url, "the office's privacy statement, https://"),
        "office.terms_url": (office.terms_url, "the office's terms of use, https://"),
    }
    return [f"{key} ({what})" for key, (value, what) in needed.items() if not value]


def build_manifest(settings: Settings, *, version: str = "1.0.0",
                   website_url: str | None = None) -> dict[str, Any]:
    """Build manifest.json for this office's bot.

    Raises ConfigError naming every missing setting (MICROSOFT_APP_ID, office.privacy_url,
    office.terms_url). ``validDomains`` lists only the bot's own public host
    (``webchat.public_url``), never the pages the manifest merely links to.

    The same manifest serves every ``teams.cloud``: the bot signs nobody in and has no tabs, so
    there is no ``webApplicationInfo`` and no token-service or Teams host in ``validDomains``
    that would differ between clouds. What differs is where it goes
    (:func:`registration_hint`).
    """
    problems = package_problems(settings)
    if problems:
        raise ConfigError("the Teams package needs " + "; ".join(problems))
    app_id = settings.env.MICROSOFT_APP_ID
    office = settings.app.office.name
    privacy, terms = settings.app.office.privacy_url, settings.app.office.terms_url
    contact = settings.app.contact_for(None)
    website = website_url or (contact.url if contact and contact.url else None) or privacy
    # DESCRIPTIONS and command_names() list the commands in the same order.
    commands = [{"title": name, "description": description} for name, description
                in zip(command_names(settings), DESCRIPTIONS.values(), strict=True)]
    scopes = ["personal", "team", "groupChat"]
    public = settings.app.webchat.public_url
    valid = [host] if public and (host := urlparse(public).hostname) else []
    return {
        "$schema": SCHEMA, "manifestVersion": MANIFEST_VERSION, "version": version,
        "id": app_id,
        "developer": {"name": office[:32], "websiteUrl": website, "privacyUrl": privacy,
                      "termsOfUseUrl": terms},
        "name": {"short": "Election assistant", "full": f"{office} assistant"[:100]},
        "description": {
            "short": "Vetted answers, incidents and alerts for election staff."[:80],
            "full": (f"The {office} assistant answers questions from curated articles, files "
                     "incident reports and delivers alerts.")[:4000],
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [{"botId": app_id, "scopes": scopes, "supportsFiles": False,
                  "isNotificationOnly": False,
                  "commandLists": [{"scopes": scopes, "commands": commands}]}],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": valid,
    }


def write_teams_package(settings: Settings, out: Path, **options: Any) -> Path:
    """Write the zip (manifest.json, color.png, outline.png at its root) and return its path."""
    manifest = build_manifest(settings, **options)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        package.writestr("color.png", color_icon())
        package.writestr("outline.png", outline_icon())
    return out
