"""Logging set-up for `supportbot run`: one format, quiet HTTP clients, and no credential in any line."""

from __future__ import annotations

import logging
import re
from typing import Final

# Credentials that end up in log lines by way of libraries: python-telegram-bot's request URLs carry the bot
# token (httpx logs every URL at INFO), Slack tokens appear in error reprs. Masked whatever logged them.
_SECRETS: Final = (
    re.compile(r"(?<=bot)\d+(?::|%3A)[A-Za-z0-9_-]{20,}"),
    re.compile(r"xox[abposr]-[A-Za-z0-9-]+"),
    re.compile(r"xapp-[A-Za-z0-9-]+"),
)
MASK: Final = "<redacted>"
_CHATTY: Final = ("httpx", "httpcore", "aiohttp.access")
# At DEBUG these libraries log request parameters and received updates whole: a client's password message
# included. They stay at INFO even when LOG_LEVEL=DEBUG, so no level ever writes a secret to the log.
_VERBATIM: Final = ("telegram", "slack_bolt", "slack_sdk")


def redact(text: str) -> str:
    """The text with every bot token and Slack token replaced by <redacted>."""
    for pattern in _SECRETS:
        text = pattern.sub(MASK, text)
    return text


class RedactSecrets(logging.Filter):
    """Rewrites a record whose message or traceback holds a credential (the record is then pre-formatted)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def configure_logging(level: str) -> None:
    """Root logging at `level`; HTTP client chatter only from WARNING up; every handler redacts secrets."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    for name in _VERBATIM:
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLevelName(level)))
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(RedactSecrets())
