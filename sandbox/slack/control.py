"""JSON control API under /sandbox/slack/ for the page and tests: state, people's actions, live events (SSE)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from sandbox.slack.actions import ActionError
from sandbox.slack.delivery import Delivery, DeliveryError
from sandbox.slack.viewstate import SubmitRefused
from sandbox.slack.webapi import STANDIN
from sandbox.sse import KEEPALIVE_SECONDS, event_stream

PREFIX = "/sandbox/slack"
SSE_KEEPALIVE_SECONDS = KEEPALIVE_SECONDS


def summary(delivery: Delivery | None) -> dict[str, Any] | None:
    """A delivery as the page shows it."""
    if delivery is None:
        return None
    return {
        "kind": delivery.kind,
        "type": delivery.payload.get("type"),
        "acked": delivery.acked,
        "attempts": [
            {"retry": a.retry_num, "status": a.status, "reason": a.reason, "elapsed": round(a.elapsed, 3)}
            for a in delivery.attempts
        ],
        "response": delivery.response,
    }


Action = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def _guard(action: Action) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        try:
            body = await request.json() if request.can_read_body else {}
        except ValueError:
            return web.json_response({"ok": False, "error": "body must be JSON"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"ok": False, "error": "body must be a JSON object"}, status=400)
        request_body: dict[str, Any] = {**body, "_standin": request.app[STANDIN]}
        try:
            return web.json_response({"ok": True, **await action(request_body)})
        except (ActionError, SubmitRefused, DeliveryError) as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400)
        except KeyError as exc:
            return web.json_response({"ok": False, "error": f"missing field {exc}"}, status=400)

    return handler


async def _add_user(b: dict[str, Any]) -> dict[str, Any]:
    user = b["_standin"].add_user(
        b["id"], b["name"], real_name=b.get("real_name", ""), is_bot=bool(b.get("is_bot", False))
    )
    return {"user": user.to_api()}


async def _click(b: dict[str, Any]) -> dict[str, Any]:
    acts = b["_standin"].actions
    if b.get("forge"):
        delivery = await acts.forge_click(
            b["user"], b["channel"], b["ts"], b["action_id"], block_id=b.get("block_id", "forged"), value=b.get("value")
        )
    else:
        delivery = await acts.click(
            b["user"], b["channel"], b["ts"], b["action_id"], block_id=b.get("block_id"), option=b.get("option")
        )
    return {"delivery": summary(delivery)}


async def _click_view(b: dict[str, Any]) -> dict[str, Any]:
    delivery = await b["_standin"].actions.click_in_view(
        b["user"], b["view_id"], b["action_id"], block_id=b.get("block_id"), option=b.get("option")
    )
    return {"delivery": summary(delivery)}


async def _submit(b: dict[str, Any]) -> dict[str, Any]:
    delivery = await b["_standin"].actions.submit(b["user"], b["view_id"], b.get("values") or {})
    return {"delivery": summary(delivery)}


async def _close(b: dict[str, Any]) -> dict[str, Any]:
    return {"delivery": summary(await b["_standin"].actions.close(b["user"], b["view_id"]))}


async def _post(b: dict[str, Any]) -> dict[str, Any]:
    s = b["_standin"]
    message, delivery = await s.actions.post(
        b["user"],
        b.get("channel") or s.config.channel_id,
        b["text"],
        thread_ts=b.get("thread_ts"),
        raw=bool(b.get("raw", False)),
    )
    return {"ts": message.ts, "delivery": summary(delivery)}


async def _home(b: dict[str, Any]) -> dict[str, Any]:
    return {"delivery": summary(await b["_standin"].actions.open_home(b["user"]))}


async def _replay(b: dict[str, Any]) -> dict[str, Any]:
    s = b["_standin"]
    index = int(b.get("index", -1))
    if not s.deliverer.log:
        raise ActionError("nothing delivered yet")
    return {"delivery": summary(await s.deliverer.replay(s.deliverer.log[index]))}


async def _configure(b: dict[str, Any]) -> dict[str, Any]:
    s = b["_standin"]
    if "request_url" in b:
        s.config.request_url = b["request_url"] or None
    if "rate_limits" in b:
        s.rate_limits = bool(b["rate_limits"])
    return {"request_url": s.config.request_url, "rate_limits": s.rate_limits}


async def state(request: web.Request) -> web.Response:
    return web.json_response(request.app[STANDIN].snapshot())


async def violations(request: web.Request) -> web.Response:
    return web.json_response({"violations": [v.to_json() for v in request.app[STANDIN].violations]})


async def respond(request: web.Request) -> web.Response:
    """The response_url handed out with interactions."""
    try:
        body = await request.json()
    except ValueError:
        return web.json_response({"ok": False, "error": "invalid_payload"}, status=400)
    status, answer = request.app[STANDIN].actions.respond(request.match_info["token"], body)
    return web.json_response(answer, status=status)


async def events(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: one `data:` line per state change, for the live page."""
    return await event_stream(
        request, request.app[STANDIN].subscribe(), end="shutdown", keepalive=SSE_KEEPALIVE_SECONDS
    )


async def _end_streams(app: web.Application) -> None:
    # Open SSE streams would otherwise hold the server's shutdown until their next keep-alive.
    app[STANDIN].emit("shutdown", {})


def add_routes(app: web.Application) -> None:
    """Register the control API (the stand-in itself must already be on the app)."""
    app.on_shutdown.append(_end_streams)
    router = app.router
    router.add_get(f"{PREFIX}/state", state)
    router.add_get(f"{PREFIX}/violations", violations)
    router.add_get(f"{PREFIX}/events", events)
    router.add_post(f"{PREFIX}/response/{{token}}", respond)
    for path, action in {
        "users": _add_user,
        "config": _configure,
        "actions/click": _click,
        "actions/click_view": _click_view,
        "actions/submit": _submit,
        "actions/close": _close,
        "actions/post": _post,
        "actions/home": _home,
        "actions/replay": _replay,
    }.items():
        router.add_post(f"{PREFIX}/{path}", _guard(action))
