"""E-mail in a process: build the relay transport from the settings and register it.

Called from :func:`app.server.create_app`, which both the web server and ``electionbot worker``
build, so every process that drains the outbox can send e-mail.
"""

from __future__ import annotations

import ssl

from aiohttp import web

from bot.adapters.email.message import Mailer
from bot.adapters.email.render import Office
from bot.adapters.email.send import Credentials, EmailTransport
from bot.config.email import ca_path
from bot.config.settings import Contact, Settings
from bot.messages import email_address
from bot.router import Router


def contact_line(contact: Contact | None, reply_to: str | None) -> str:
    """Whom the footer names for questions: the office's default contact, else Reply-To."""
    if contact is None:
        return reply_to or ""
    ways = [way for way in (contact.email or reply_to, contact.phone, contact.url) if way]
    return ", ".join([contact.name, *ways])


def build_transport(settings: Settings) -> EmailTransport | None:
    """The relay transport, or None when e-mail is off (no SMTP_URL)."""
    relay, env, config = settings.relay, settings.env, settings.app.email
    if relay is None or env.MAIL_FROM is None:
        return None
    office = settings.app.office.name
    mailer = Mailer(address=email_address(env.MAIL_FROM), name=config.from_name or office,
                    reply_to=config.reply_to,
                    office=Office(office, contact_line(settings.app.contact_for(None),
                                                       config.reply_to)))
    context = ssl.create_default_context(
        cafile=str(ca_path(config, settings.config_path.parent)) if config.ca_file else None)
    credentials = None
    if env.SMTP_USERNAME is not None and env.SMTP_PASSWORD is not None:
        credentials = Credentials(env.SMTP_USERNAME, env.SMTP_PASSWORD.get_secret_value())
    return EmailTransport(relay, mailer, credentials=credentials, tls_context=context,
                          starttls_required=config.starttls == "required",
                          timeout=config.timeout_seconds, connections=config.connections)


def setup(app: web.Application, router: Router) -> bool:
    """Register the ``email`` transport on the outbox; False when e-mail is off."""
    transport = build_transport(router.services.settings)
    if transport is None:
        return False
    router.services.outbox.register("email", transport)

    async def close(_app: web.Application) -> None:
        await transport.aclose()
    app.on_cleanup.append(close)
    return True
