"""The sandbox page's live streams: a tab that closes is an ordinary event, at most one DEBUG line.

Measured before (issue "Safe by default"): each closed tab logged three chained ERROR tracebacks at the
next keep-alive, 373 of them in 25 minutes of normal use.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

import sandbox.slack.control as slack_control
import sandbox.telegram.control as telegram_control
from sandbox.slack.server import start as start_slack
from sandbox.slack.standin import SlackStandIn
from sandbox.telegram.standin import StandIn

KEEPALIVE = 0.05


@asynccontextmanager
async def slack_stream() -> AsyncIterator[tuple[str, Callable[[], int]]]:
    standin = SlackStandIn()
    base = await start_slack(standin)
    try:
        yield f"{base}/sandbox/slack/events", lambda: len(standin._subscribers)
    finally:
        await standin.close()


@asynccontextmanager
async def telegram_stream() -> AsyncIterator[tuple[str, Callable[[], int]]]:
    standin = StandIn()
    urls = await standin.start()
    try:
        yield f"{urls.root}/sandbox/telegram/events", lambda: len(standin.state._subscribers)
    finally:
        await standin.stop()


async def _open_and_leave(url: str) -> None:
    """A browser tab: opens the stream, reads that it is connected, and is closed (the socket goes)."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    path = "/" + url.split("//")[1].split("/", 1)[1]
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode())
    await writer.drain()
    head = b""
    while b": connected" not in head:
        chunk = await asyncio.wait_for(reader.read(1024), 5)
        assert chunk, "the stream closed before it said it was connected"
        head += chunk
    writer.close()
    await writer.wait_closed()


@pytest.mark.parametrize("stream", [slack_stream, telegram_stream], ids=["slack", "telegram"])
async def test_a_closed_tab_is_one_debug_line_at_most(
    stream: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(slack_control, "SSE_KEEPALIVE_SECONDS", KEEPALIVE)
    monkeypatch.setattr(telegram_control, "SSE_KEEPALIVE_SECONDS", KEEPALIVE)
    caplog.set_level(logging.DEBUG)
    async with stream() as (url, subscribers):
        for _ in range(3):
            await _open_and_leave(url)
        # A few keep-alives later every stream has noticed its reader is gone and let go of its subscription.
        for _ in range(200):
            if subscribers() == 0:
                break
            await asyncio.sleep(KEEPALIVE)
        await asyncio.sleep(KEEPALIVE * 3)
        assert subscribers() == 0
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert loud == [], [f"{r.levelname} {r.name}: {r.getMessage()}" for r in loud]
    assert not [r for r in caplog.records if r.exc_info]
    left = [r for r in caplog.records if "left" in r.getMessage() and r.name.startswith("sandbox")]
    assert len(left) == 3 and all(r.levelno == logging.DEBUG for r in left)
