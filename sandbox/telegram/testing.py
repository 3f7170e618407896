"""Helpers for product tests: a running stand-in, a PTB Bot on it, and a PTB Application polling it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from telegram import Bot
from telegram.ext import Application

from sandbox.telegram.standin import StandIn


@contextlib.asynccontextmanager
async def running_standin(host: str = "127.0.0.1", port: int = 0, **options: Any) -> AsyncIterator[StandIn]:
    """A stand-in serving on a free port for the duration of the block (options as for StandIn)."""
    standin = StandIn(**options)
    await standin.start(host, port)
    try:
        yield standin
    finally:
        await standin.stop()


def ptb_bot(standin: StandIn) -> Bot:
    """A python-telegram-bot Bot pointed at a started stand-in (use it with `async with`)."""
    if standin.urls is None:
        raise RuntimeError("start the stand-in first")
    return Bot(standin.token, base_url=standin.urls.base_url, base_file_url=standin.urls.base_file_url)


@contextlib.asynccontextmanager
async def polling(app: Application, *, poll_timeout: int = 1) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """Run a PTB Application in polling mode for the duration of the block, then shut it down cleanly."""
    if app.updater is None:
        raise RuntimeError("the Application was built without an Updater")
    await app.initialize()
    await app.start()
    await app.updater.start_polling(poll_interval=0.0, timeout=poll_timeout)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
