"""The HTTP face of the stand-in: `/bot<token>/<method>`, `/file/bot<token>/<path>`, and the control API."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.faults import play
from sandbox.telegram import errors
from sandbox.telegram.errors import ApiError
from sandbox.telegram.media import file_by_path
from sandbox.telegram.methods import Params, Upload

if TYPE_CHECKING:
    from sandbox.telegram.standin import StandIn

TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
STANDIN_KEY: web.AppKey[StandIn] = web.AppKey("telegram_standin")
MAX_BODY = 60 * 1024 * 1024  # above Telegram's 50 MB upload limit, so the 413 comes from our own check


def error_response(error: ApiError) -> web.Response:
    """The JSON error body with the real HTTP status."""
    return web.json_response(error.to_json(), status=error.code)


def fault_response(mode: str, retry_after: int) -> web.Response:
    """What Telegram answers during an outage (sandbox.faults); the call itself is not handled."""
    if mode == "429":
        return error_response(errors.too_many_requests(retry_after))
    if mode == "500":
        return error_response(ApiError(500, "Internal Server Error"))
    return web.Response(status=502, text="Bad Gateway")  # after hanging: the proxy gives up


async def read_params(request: web.Request) -> Params:
    """Merge query and body like the Bot API: JSON, form-urlencoded or multipart (files kept apart)."""
    values: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if request.method == "POST" and request.can_read_body:
        ctype = request.content_type
        if ctype == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise errors.bad_request("can't parse JSON object") from None
            if not isinstance(body, dict):
                raise errors.bad_request("JSON object expected")
            values.update(body)
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    uploads[key] = Upload(value.filename, value.content_type, value.file.read())
                else:
                    values[key] = value

    def connected() -> bool:
        transport = request.transport
        return transport is not None and not transport.is_closing()

    return Params(values, uploads, connected)


def _token_error(standin: StandIn, token: str) -> ApiError | None:
    """Malformed tokens get 404 Not Found, well-formed wrong ones 401 Unauthorized (as on Telegram)."""
    if token == standin.token:
        return None
    return errors.UNAUTHORIZED if TOKEN_SHAPE.match(token) else errors.NOT_FOUND


async def bot_api(request: web.Request) -> web.StreamResponse:
    """One Bot API call."""
    standin = request.app[STANDIN_KEY]
    token_error = _token_error(standin, request.match_info["token"])
    if token_error is not None:
        return error_response(token_error)
    fault = standin.faults
    mode = await play(fault)
    if mode is not None and fault is not None:
        return fault_response(mode, fault.retry_after)
    method = request.match_info["method"]
    try:
        params = await read_params(request)
        result = await standin.call(method, params)
    except ApiError as exc:
        return error_response(exc)
    return web.Response(
        text=json.dumps({"ok": True, "result": result}, ensure_ascii=False), content_type="application/json"
    )


async def file_download(request: web.Request) -> web.StreamResponse:
    """Download a file by the path getFile returned."""
    standin = request.app[STANDIN_KEY]
    token_error = _token_error(standin, request.match_info["token"])
    if token_error is not None:
        return error_response(token_error)
    stored = file_by_path(standin.state, request.match_info["path"])
    if stored is None:
        return error_response(errors.NOT_FOUND)
    return web.Response(body=stored.read(), content_type=stored.mime_type or "application/octet-stream")


def make_app(standin: StandIn) -> web.Application:
    """The stand-in as an aiohttp application (serve it, or mount it with `add_subapp`)."""
    from sandbox.telegram.control import add_control_routes

    app = web.Application(client_max_size=MAX_BODY)
    app[STANDIN_KEY] = standin
    app.router.add_route("*", r"/bot{token:[^/]*}/{method:[^/]*}", bot_api)
    app.router.add_get(r"/file/bot{token:[^/]*}/{path:.+}", file_download)
    add_control_routes(app)

    async def on_startup(_: web.Application) -> None:
        standin.webhooks.start()

    async def on_cleanup(_: web.Application) -> None:
        await standin.webhooks.stop()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app
