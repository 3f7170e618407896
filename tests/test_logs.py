"""No credential in any log line (ARCHITECTURE.md "Secrets"), whichever library logged it."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.logs import MASK, AddContext, RedactSecrets, bind_ticket, configure_logging, log_context, redact

BOT_TOKEN = "7000000001:IX_XkaO6ZBUjySiXcGywIe9yGXY1ZfUzPtZ"


@pytest.mark.parametrize(
    "line",
    [
        f'HTTP Request: POST http://127.0.0.1:45101/bot{BOT_TOKEN}/getFile "HTTP/1.1 200 OK"',
        f"GET http://127.0.0.1:45101/file/bot{BOT_TOKEN.replace(':', '%3A')}/photos/file_8.jpg",
        "slack said invalid_auth for xoxb-1234-5678-abcdefABCDEF",
        "socket mode token xapp-1-A0SANDBOX-0000-app-token refused",
    ],
)
def test_tokens_are_masked(line: str) -> None:
    clean = redact(line)
    assert MASK in clean
    assert "IX_XkaO6ZBUjySiXcGywIe9yGXY1ZfUzPtZ" not in clean and "xoxb-1234" not in clean and "xapp-1" not in clean


def test_ordinary_lines_are_untouched() -> None:
    line = "ticket SOP-2026-000001 claimed by U0MARCO in 0 h 12 min; bot 42 replied"
    assert redact(line) == line


TOUCHED = ("httpx", "httpcore", "aiohttp.access", "telegram", "slack_bolt", "slack_sdk")


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """The root logger writing to a buffer; every level configure_logging touches is put back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in TOUCHED}
    buffer = io.StringIO()
    root.handlers = [logging.StreamHandler(buffer)]
    try:
        yield buffer
    finally:
        root.handlers = handlers
        root.setLevel(level)
        for name, saved in levels.items():
            logging.getLogger(name).setLevel(saved)


def test_configured_logging_redacts_args_and_tracebacks_and_quiets_httpx(stream: io.StringIO) -> None:
    configure_logging("INFO")
    logging.getLogger("httpx").info("HTTP Request: POST %s", f"http://x/bot{BOT_TOKEN}/sendMessage")
    logging.getLogger("bot").info("calling %s", f"http://x/bot{BOT_TOKEN}/getMe")
    try:
        raise RuntimeError(f"failed POST /bot{BOT_TOKEN}/sendMessage")
    except RuntimeError:
        logging.getLogger("bot").exception("send failed")
    out = stream.getvalue()
    assert "sendMessage" not in out.split("send failed")[0]  # httpx INFO chatter is off
    assert "calling http://x/bot<redacted>/getMe" in out
    assert "RuntimeError: failed POST /bot<redacted>/sendMessage" in out
    assert "IX_XkaO6" not in out
    assert sum(isinstance(f, RedactSecrets) for f in logging.getLogger().handlers[0].filters) == 1
    configure_logging("INFO")  # idempotent: no second filter
    assert sum(isinstance(f, RedactSecrets) for f in logging.getLogger().handlers[0].filters) == 1


def test_debug_level_never_lets_libraries_log_updates_verbatim(stream: io.StringIO) -> None:
    """At LOG_LEVEL=DEBUG python-telegram-bot would log each update whole, a password message included."""
    configure_logging("DEBUG")
    logging.getLogger("telegram.ext.Updater").debug("Got update: {'text': 'k9#Lm2'}")
    logging.getLogger("bot.services").debug("our own debug line")
    out = stream.getvalue()
    assert "k9#Lm2" not in out and "our own debug line" in out


# --- what a line is about, and LOG_FORMAT=json ------------------------------------------------------------
def test_json_lines_parse_and_name_the_ticket_and_the_event(stream: io.StringIO) -> None:
    configure_logging("INFO", "json")
    log = logging.getLogger("bot.inbox")
    log.info("before any event")
    with log_context(event="telegram:812"):
        log.info("received")
        bind_ticket("SOP-2026-000007")  # the service loaded the ticket
        log.warning("two\nlines of %s", "text")
        try:
            raise RuntimeError(f"failed POST /bot{BOT_TOKEN}/sendMessage")
        except RuntimeError:
            log.exception("send failed")
    log.info("after it")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["message"] for line in lines] == [
        "before any event",
        "received",
        "two\nlines of text",
        "send failed",
        "after it",
    ]
    assert [(line.get("event"), line.get("ticket")) for line in lines] == [
        (None, None),
        ("telegram:812", None),
        ("telegram:812", "SOP-2026-000007"),
        ("telegram:812", "SOP-2026-000007"),
        (None, None),
    ]
    assert lines[0]["level"] == "INFO" and lines[0]["logger"] == "bot.inbox" and lines[0]["time"].endswith("+00:00")
    assert "RuntimeError: failed POST /bot<redacted>/sendMessage" in lines[3]["exc"]
    assert "IX_XkaO6" not in stream.getvalue()


def test_text_lines_carry_the_context_after_the_message(stream: io.StringIO) -> None:
    configure_logging("INFO")
    with log_context(event="outbox:17", ticket="SOP-2026-000001"):
        logging.getLogger("bot.delivery").info("sent")
    logging.getLogger("bot.delivery").info("idle")
    first, second = stream.getvalue().splitlines()
    assert first.endswith("INFO bot.delivery: sent [ticket=SOP-2026-000001 event=outbox:17]")
    assert second.endswith("INFO bot.delivery: idle")


async def test_each_task_keeps_its_own_context() -> None:
    """The workers handle rows concurrently, each in its own task: one row's ticket never leaks to another."""
    seen: dict[str, tuple[str | None, str | None]] = {}

    class Grab(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen[record.getMessage()] = (getattr(record, "event", None), getattr(record, "ticket", None))

    handler = Grab()
    handler.addFilter(AddContext())
    log = logging.getLogger("tests.context")
    log.addHandler(handler)
    log.setLevel(logging.INFO)

    async def row(n: int) -> None:
        with log_context(event=f"outbox:{n}"):
            await asyncio.sleep(0)
            bind_ticket(f"T{n}")
            await asyncio.sleep(0)
            log.info("row %d", n)

    try:
        await asyncio.gather(*(asyncio.create_task(row(n)) for n in range(3)))
        log.info("after")
    finally:
        log.removeHandler(handler)
    assert seen == {f"row {n}": (f"outbox:{n}", f"T{n}") for n in range(3)} | {"after": (None, None)}
