"""The stand-in as an aiohttp application: Web API, upload URLs, control API, SSE and Socket Mode."""

from __future__ import annotations

from aiohttp import web

from sandbox.slack import control, socket_mode, webapi
from sandbox.slack.standin import SlackStandIn


def install(app: web.Application, standin: SlackStandIn) -> None:
    """Add the stand-in's routes to an existing application (e.g. one server for both stand-ins)."""
    webapi.add_routes(app, standin)
    control.add_routes(app)
    socket_mode.add_routes(app)


def make_app(standin: SlackStandIn | None = None) -> web.Application:
    """A web.Application serving `/api/<method>` and `/sandbox/slack/...`; mountable with add_subapp."""
    app = web.Application()
    install(app, standin or SlackStandIn())
    return app


def standin_of(app: web.Application) -> SlackStandIn:
    return app[webapi.STANDIN]


async def start(standin: SlackStandIn | None = None, host: str = "127.0.0.1", port: int = 0) -> str:
    """Serve the stand-in on host:port (0 picks a free port); returns the base URL. `standin.close()` stops it."""
    app = make_app(standin)
    target = standin_of(app)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    base = f"http://{host}:{bound}"
    target.public_url = base
    target.cleanups.append(runner.cleanup)
    return base
