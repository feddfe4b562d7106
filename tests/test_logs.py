"""Logs are JSON lines and never carry tokens."""

from __future__ import annotations

import json
import logging

from bot.logs import JsonFormatter, configure, redact


def test_tokens_are_redacted_everywhere() -> None:
    text = "token xoxb-123-abc and xapp-1-A-B and xoxe.xoxp-1-x Bearer eyJhbGciOi.x.y"
    cleaned = redact(text)
    for secret in ("xoxb-123-abc", "xapp-1-A-B", "eyJhbGciOi"):
        assert secret not in cleaned
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed with %s", ("xoxb-9-z",),
                               None)
    record.__dict__["detail"] = "Bearer abc.def"
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "failed with [redacted]"
    assert line["detail"] == "[redacted]"
    assert line["level"] == "ERROR"


def test_sdk_loggers_run_at_warning() -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure("DEBUG")
        assert logging.getLogger("slack_bolt").level == logging.WARNING
        assert logging.getLogger("botbuilder").level == logging.WARNING
        assert root.level == logging.DEBUG
        assert isinstance(root.handlers[0].formatter, JsonFormatter)
    finally:
        root.handlers[:], _ = saved[0], root.setLevel(saved[1])
