"""Reusable test harness: run the stand-in on a free port and serve a bolt app it can deliver to."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack.server import start
from sandbox.slack.standin import SlackStandIn, StandInConfig


@dataclass
class Running:
    """A started stand-in, its base URL and a real slack_sdk client pointed at it."""

    standin: SlackStandIn
    base_url: str
    client: AsyncWebClient

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"


@contextlib.asynccontextmanager
async def running_standin(config: StandInConfig | None = None) -> AsyncIterator[Running]:
    """Start the stand-in on 127.0.0.1 (free port) and stop it afterwards."""
    standin = SlackStandIn(config)
    base = await start(standin)
    client = AsyncWebClient(token=standin.config.bot_token, base_url=f"{base}/api/")
    try:
        yield Running(standin, base, client)
    finally:
        await standin.close()


@contextlib.asynccontextmanager
async def bolt_over_http(standin: SlackStandIn, app: AsyncApp, path: str = "/slack/events") -> AsyncIterator[str]:
    """Serve a bolt AsyncApp over HTTP and point the stand-in's deliveries at it; yields the request URL."""
    async with serve(app.web_app(path=path)) as base:
        previous = standin.config.request_url
        standin.config.request_url = f"{base}{path}"
        try:
            yield standin.config.request_url
        finally:
            standin.config.request_url = previous


@contextlib.asynccontextmanager
async def serve(app: web.Application, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve any aiohttp application (e.g. `AsyncApp.web_app()`) on a free port; yields its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    try:
        yield f"http://{host}:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()
