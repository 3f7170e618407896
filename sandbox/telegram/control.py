"""JSON control API and Server-Sent Events under /sandbox/telegram/ for the page that plays the client."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from sandbox.sse import KEEPALIVE_SECONDS, event_stream
from sandbox.telegram.actions import ActionError, Sent
from sandbox.telegram.models import JSON, User
from sandbox.telegram.server import STANDIN_KEY
from sandbox.telegram.standin import StandIn

PREFIX = "/sandbox/telegram"
SSE_KEEPALIVE_SECONDS = KEEPALIVE_SECONDS
Handler = Callable[[StandIn, User, JSON], Awaitable[Sent]]


def ok(result: Any) -> web.Response:
    """A successful control answer."""
    return web.json_response({"ok": True, "result": result})


def fail(message: str, status: int = 400) -> web.Response:
    """A refused control action, with the reason the page shows."""
    return web.json_response({"ok": False, "error": message}, status=status)


async def _body(request: web.Request) -> JSON:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise ActionError("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ActionError("the body must be a JSON object")
    return body


def _user_json(standin: StandIn, user: User) -> JSON:
    return {**user.to_api(), "phone": user.phone, "blocked": user.blocked, "started": user.started}


async def state(request: web.Request) -> web.Response:
    """Bot, users, webhook and queue at a glance."""
    standin = request.app[STANDIN_KEY]
    st = standin.state
    return ok(
        {
            "bot": st.bot_user(),
            "users": [_user_json(standin, u) for u in st.users.values()],
            "webhook": st.webhook.url if st.webhook else None,
            "pending_updates": len(st.pending),
            "rate_limits": st.rate_limits,
        }
    )


async def create_user(request: web.Request) -> web.Response:
    """Add a user: {first_name, last_name?, username?, language_code "es"|"en", phone?, user_id?}."""
    standin = request.app[STANDIN_KEY]
    try:
        body = await _body(request)
        allowed = {"last_name", "username", "language_code", "phone", "user_id"}
        unknown = set(body) - allowed - {"first_name"}
        if unknown:
            raise ActionError(f"unknown fields: {sorted(unknown)}")
        first_name = body.get("first_name")
        if not isinstance(first_name, str) or not first_name.strip():
            raise ActionError("first_name is required")
        user = standin.create_user(first_name, **{k: v for k, v in body.items() if k in allowed})
    except (ActionError, ValueError, TypeError) as exc:
        return fail(str(exc))
    return ok(_user_json(standin, user))


async def chat(request: web.Request) -> web.Response:
    """The user's chat: messages, reply keyboard, command menu and menu button."""
    standin = request.app[STANDIN_KEY]
    try:
        user = standin.state.user(int(request.match_info["user_id"]))
    except ValueError as exc:
        return fail(str(exc), 404)
    return ok(
        {
            "user": _user_json(standin, user),
            "messages": standin.history(user),
            "reply_keyboard": standin.reply_keyboard(user),
            "commands": standin.commands(user),
            "chat_action": standin.state.chat_actions.get(user.id),
        }
    )


def _str(body: JSON, key: str, default: str | None = None) -> str | None:
    value = body.get(key, default)
    if value is not None and not isinstance(value, str):
        raise ActionError(f"{key} must be text")
    return value


def _int(body: JSON, key: str, default: int) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ActionError(f"{key} must be a whole number")
    return value


async def _send(s: StandIn, u: User, b: JSON) -> Sent:
    return await s.send_text(u, _str(b, "text") or "")


async def _photo(s: StandIn, u: User, b: JSON) -> Sent:
    return await s.send_photo(
        u, caption=_str(b, "caption"), width=_int(b, "width", 1280), height=_int(b, "height", 960)
    )


async def _document(s: StandIn, u: User, b: JSON) -> Sent:
    return await s.send_document(
        u,
        _str(b, "file_name", "reporte.pdf") or "reporte.pdf",
        _int(b, "size", 2048),
        mime_type=_str(b, "mime_type", "application/pdf"),
        caption=_str(b, "caption"),
    )


async def _contact(s: StandIn, u: User, b: JSON) -> Sent:
    own = b.get("own", True)
    if not isinstance(own, bool):
        raise ActionError("own must be true or false")
    other = b.get("contact_user_id")
    if other is not None and (isinstance(other, bool) or not isinstance(other, int)):
        raise ActionError("contact_user_id must be a whole number")
    return await s.share_contact(
        u, _str(b, "phone_number"), own=own, contact_user_id=other, first_name=_str(b, "first_name")
    )


async def _sticker(s: StandIn, u: User, b: JSON) -> Sent:
    return await s.send_sticker(u, _str(b, "emoji", "👍") or "👍")


async def _voice(s: StandIn, u: User, b: JSON) -> Sent:
    return await s.send_voice(u, _int(b, "duration", 3))


async def _tap(s: StandIn, u: User, b: JSON) -> Sent:
    # The page can only tap buttons that exist: no `forge` here, whatever the body says.
    data = _str(b, "callback_data")
    if not data:
        raise ActionError("callback_data is required")
    return await s.tap(u, _int(b, "message_id", 0), data)


async def _block(s: StandIn, u: User, b: JSON) -> Sent:
    return await s.block(u)


async def _unblock(s: StandIn, u: User, b: JSON) -> Sent:
    return await s.unblock(u)


ACTIONS: dict[str, Handler] = {
    "send": _send,
    "photo": _photo,
    "document": _document,
    "contact": _contact,
    "sticker": _sticker,
    "voice": _voice,
    "tap": _tap,
    "block": _block,
    "unblock": _unblock,
}


async def user_action(request: web.Request) -> web.Response:
    """POST /users/{id}/{action}: the user does something in their app."""
    standin = request.app[STANDIN_KEY]
    handler = ACTIONS.get(request.match_info["action"])
    if handler is None:
        return fail(f"unknown action; one of {sorted(ACTIONS)}", 404)
    try:
        user = standin.state.user(int(request.match_info["user_id"]))
    except ValueError as exc:
        return fail(str(exc), 404)
    try:
        sent = await handler(standin, user, await _body(request))
    except (ActionError, ValueError) as exc:
        return fail(str(exc))
    return ok(
        {
            "update_id": sent.update_id,
            "message_id": sent.message.message_id if sent.message else None,
            "callback_query_id": sent.query_id,
        }
    )


async def violations(request: web.Request) -> web.Response:
    """The violations log."""
    return ok([v.to_json() for v in request.app[STANDIN_KEY].violations])


async def events(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: message / edited / deleted / violation / callback_answer / chat_action."""
    standin = request.app[STANDIN_KEY]
    return await event_stream(
        request, standin.state.subscribe(), end="closed", keepalive=SSE_KEEPALIVE_SECONDS, dumps=_dumps
    )


def _dumps(event: Mapping[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False)


def add_control_routes(app: web.Application) -> None:
    """Mount the control API on the stand-in's application."""
    app.router.add_get(f"{PREFIX}/state", state)
    app.router.add_post(f"{PREFIX}/users", create_user)
    app.router.add_get(f"{PREFIX}/users/{{user_id:-?\\d+}}/chat", chat)
    app.router.add_post(f"{PREFIX}/users/{{user_id:-?\\d+}}/{{action}}", user_action)
    app.router.add_get(f"{PREFIX}/violations", violations)
    app.router.add_get(f"{PREFIX}/events", events)
