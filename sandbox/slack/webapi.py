"""The Web API endpoint `/api/<method>`: body parsing, bearer auth, rate limits, and Slack-shaped answers."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from sandbox.faults import play
from sandbox.slack import methods_chat, methods_misc, methods_views
from sandbox.slack.api import METHODS, ApiError, Params
from sandbox.slack.standin import SlackStandIn

# Importing the method modules registers their methods.
_REGISTERED = (methods_chat, methods_misc, methods_views)
STANDIN: web.AppKey[SlackStandIn] = web.AppKey("slack_standin", SlackStandIn)
APP_TOKEN_METHODS = {"apps.connections.open"}


async def _read(request: web.Request) -> tuple[dict[str, Any], bool]:
    data: dict[str, Any] = dict(request.query)
    if request.method != "POST" or not request.can_read_body:
        return data, False
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise ApiError("invalid_json") from None
        if not isinstance(body, dict):
            raise ApiError("invalid_json")
        return {**data, **body}, True
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        return {**data, **{k: v for k, v in form.items() if isinstance(v, str)}}, False
    raise ApiError("invalid_post_type")


def _check_token(s: SlackStandIn, name: str, request: web.Request, data: dict[str, Any], is_json: bool) -> None:
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.startswith("Bearer ") else ""
    if not token and not is_json:
        # Slack still takes a `token` form field; a JSON body must use the header.
        token = str(data.get("token") or "")
    if not token:
        raise ApiError("not_authed")
    wanted = s.config.app_token if name in APP_TOKEN_METHODS else s.config.bot_token
    if token == wanted:
        return
    if token in (s.config.app_token, s.config.bot_token):
        raise ApiError("not_allowed_token_type")
    raise ApiError("invalid_auth")


def _origin(request: web.Request, name: str) -> str:
    prefix = request.path[: -len(f"/api/{name}")] if request.path.endswith(f"/api/{name}") else ""
    return f"{request.url.origin()}{prefix}"


def fault_response(mode: str, retry_after: int) -> web.Response:
    """What Slack answers during an outage (sandbox.faults); the call itself is not handled."""
    if mode == "429":
        return web.json_response(
            {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(retry_after)}
        )
    if mode == "500":
        return web.json_response({"ok": False, "error": "fatal_error"}, status=500)
    return web.Response(status=502, text="Bad Gateway")  # after hanging: the proxy gives up


async def api_call(request: web.Request) -> web.Response:
    """Serve one Web API method exactly as Slack would answer it."""
    s = request.app[STANDIN]
    fault = s.faults
    mode = await play(fault)
    if mode is not None and fault is not None:
        return fault_response(mode, fault.retry_after)
    name = request.match_info["method"]
    s.begin_call()
    data: dict[str, Any] = {}
    granted: dict[str, str] = {}
    try:
        try:
            data, is_json = await _read(request)
            if name not in METHODS:
                raise ApiError("unknown_method")
            _check_token(s, name, request, data, is_json)
            if name not in APP_TOKEN_METHODS:
                # Slack names the token's scopes in every answer to it, refusals included.
                granted = {"x-oauth-scopes": ",".join(s.config.scopes)}
            if s.rate_limits:
                wait = s.limiter.check(name, str(data.get("channel") or "") or None)
                if wait is not None:
                    raise ApiError("ratelimited", status=429, headers={"Retry-After": str(wait)})
            origin = _origin(request, name)
            # Mounted without start(): response_urls point where the app reached us.
            s.public_url = s.public_url or origin
            result = await METHODS[name](s, Params(data, origin))
        except ApiError as refusal:
            _log(s, name, data, refusal.error)
            s.violate("api_error", name, refusal.error, messages=refusal.messages, args=_summary(data))
            return web.json_response(refusal.body(), status=refusal.status, headers={**granted, **refusal.headers})
        _log(s, name, data, None)
        if s.on_accepted is not None:
            s.on_accepted(name, data)
        return web.json_response({"ok": True, **result}, headers=granted)
    finally:
        s.end_call()


def _summary(data: dict[str, Any]) -> dict[str, Any]:
    # Keep the log readable: long fields (blocks, views) are cut, tokens never stored.
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "token":
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        out[key] = text if len(text) <= 300 else text[:300] + "…"
    return out


def _log(s: SlackStandIn, name: str, data: dict[str, Any], error: str | None) -> None:
    s.api_log.append({"method": name, "ok": error is None, "error": error, "args": _summary(data), "at": s.clock()})
    s.emit("api_call", {"method": name, "ok": error is None, "error": error})


async def upload(request: web.Request) -> web.Response:
    """The upload URL handed out by files.getUploadURLExternal: raw bytes or a multipart `file`."""
    s = request.app[STANDIN]
    file = s.files.get(request.match_info["file_id"])
    if file is None:
        return web.Response(status=404, text="file not found")
    if request.content_type == "multipart/form-data":
        form = await request.post()
        part = form.get("file") or form.get("filename")
        content = part.file.read() if isinstance(part, web.FileField) else str(part or "").encode()
    else:
        content = await request.read()
    file.content = content
    s.emit("file_uploaded", {"file": file.to_api()})
    return web.Response(text=f"OK - {len(content)}")


_LOGIN_PAGE = "<!DOCTYPE html><html><body>Sign in to your workspace</body></html>"


async def private_file(request: web.Request) -> web.Response:
    """A file's url_private: its bytes for a request with the bot token in `Authorization: Bearer`. Without
    it Slack answers 200 with its sign-in page (HTML), a classic way to "download" a file and get no file."""
    s = request.app[STANDIN]
    file = s.files.get(request.match_info["file_id"])
    if file is None or file.content is None or file.name != request.match_info["name"]:
        return web.Response(status=404, text="file not found")
    header = request.headers.get("Authorization", "")
    if header != f"Bearer {s.config.bot_token}":
        s.violate("file_unauthorized", "url_private", "not_authed", file=file.id)
        return web.Response(text=_LOGIN_PAGE, content_type="text/html")
    return web.Response(body=file.content, content_type=file.to_api()["mimetype"])


def add_routes(app: web.Application, standin: SlackStandIn) -> None:
    """Register the Web API, upload and private file routes on `app`."""
    app[STANDIN] = standin
    app.router.add_route("*", "/api/{method}", api_call)
    app.router.add_post("/sandbox/slack/upload/{file_id}", upload)
    app.router.add_get("/sandbox/slack/files-pri/{file_id}/{name}", private_file)
