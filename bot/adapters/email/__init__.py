"""E-mail through the office's SMTP relay: rendering (Reply -> MIME message) and the transport.

``render.py`` and ``markup.py`` are pure; ``send.py`` is the outbox's transport (aiosmtplib);
``app.py`` registers it in every process that sends (the web server and ``electionbot worker``).
The only package that imports aiosmtplib.
"""
