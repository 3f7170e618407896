"""Logging set-up for `supportbot run`: one format (text or JSON lines), quiet HTTP clients, no credential in
any line, and every line names the ticket and the event (update, Slack event, outbox row, timer) it is about."""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Final

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


# --- what a line is about -----------------------------------------------------------------------------------
# Set by the workers around each inbox entry, outbox row and timer (each handled in its own task, or reset
# after it), and by the services once they know the ticket: every line logged meanwhile carries them.
_EVENT: ContextVar[str | None] = ContextVar("supportbot_log_event", default=None)
_TICKET: ContextVar[str | None] = ContextVar("supportbot_log_ticket", default=None)
CONTEXT_FIELDS: Final = ("ticket", "event")


@contextlib.contextmanager
def log_context(*, event: str | None, ticket: str | None = None) -> Iterator[None]:
    """Lines logged inside name this event ("telegram:812", "slack:Ev0123", "outbox:17", "timer:4") and
    ticket (its number; None until known); the previous context is back on exit."""
    event_token, ticket_token = _EVENT.set(event), _TICKET.set(ticket)
    try:
        yield
    finally:
        _TICKET.reset(ticket_token)
        _EVENT.reset(event_token)


def bind_ticket(number: str) -> None:
    """The ticket the event at hand turned out to be about: named by every later line of this task."""
    _TICKET.set(number)


class AddContext(logging.Filter):
    """Puts `ticket` and `event` on each record (None when the line is about neither)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in (("ticket", _TICKET), ("event", _EVENT)):
            if getattr(record, name, None) is None:
                setattr(record, name, var.get())
        return True


TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class TextFormatter(logging.Formatter):
    """One readable line; the context follows the message: `... claimed [ticket=SOP-2026-000001 event=slack:…]`."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        context = " ".join(f"{name}={value}" for name in CONTEXT_FIELDS if (value := getattr(record, name, None)))
        return f"{line} [{context}]" if context else line


class JsonFormatter(logging.Formatter):
    """One JSON object a line (LOG_FORMAT=json): time (UTC), level, logger, message, ticket and event when
    known, and the traceback as one string. Standard library only: nothing else to install or to trust."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value:
                out[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exc"] = record.exc_text
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def configure_logging(level: str, fmt: str = "text") -> None:
    """Root logging at `level` in `fmt` ("text" or "json"); HTTP client chatter only from WARNING up; every
    handler redacts secrets and names the ticket and event of each line."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    root.setLevel(level)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    for name in _VERBATIM:
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLevelName(level)))
    formatter: logging.Formatter = JsonFormatter() if fmt == "json" else TextFormatter()
    for handler in root.handlers:
        # Ours, or one nobody formatted; a handler a host process set up with its own format keeps it.
        if handler.formatter is None or isinstance(handler.formatter, TextFormatter | JsonFormatter):
            handler.setFormatter(formatter)
        if not any(isinstance(f, AddContext) for f in handler.filters):
            handler.addFilter(AddContext())
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(RedactSecrets())
