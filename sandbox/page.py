"""The sandbox page's own routes: the page, its static files, who can be played, and file uploads."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, web

from bot.domain.types import Role
from sandbox.demo import (
    CLINICA_ID,
    KEVIN_ID,
    LAURA_ID,
    NORTE_ID,
    SLACK_PEOPLE,
    STRANGER_ID,
    TELEGRAM_PEOPLE,
)
from sandbox.slack import ActionError as SlackActionError
from sandbox.slack import SlackStandIn
from sandbox.slack.control import summary
from sandbox.telegram import ActionError, StandIn

STATIC = Path(__file__).with_name("static")
STATIC_FILES = ("index.html", "app.js", "blocks.js", "client.js", "team.js", "mail.js", "style.css")
# Telegram's own ceiling for what a client can send a bot is 2 GB; 50 MB keeps the sandbox's memory sane
# while still letting a newcomer try the bot's "too big" answer (LIMITS.md: bots download up to 20 MB).
MAX_UPLOAD = 50 * 1024 * 1024

ROLE_LABELS: dict[Role | None, str] = {
    Role.AGENT: "consultor",
    Role.QUALITY_MANAGER: "responsable de calidad",
    Role.OPERATIONS_MANAGER: "gerente de operaciones",
    None: "sin rol",
}
TELEGRAM_NOTES = {
    LAURA_ID: "contacto de Comercializadora del Valle",
    KEVIN_ID: "contacto de Comercializadora del Valle, Telegram en inglés",
    NORTE_ID: "Ferretería del Norte: póliza vencida",
    CLINICA_ID: "Clínica Santa Fe: póliza por evento",
    STRANGER_ID: "no es cliente",
}


@dataclass(frozen=True)
class PageInfo:
    """What the page needs to know: the stand-ins and where they are mounted on the server."""

    telegram: StandIn
    slack: SlackStandIn
    telegram_prefix: str
    slack_prefix: str


def page_config(info: PageInfo) -> dict[str, Any]:
    """The people the page lets you play and where the stand-ins' control APIs live."""
    cfg = info.slack.config
    return {
        "telegram": {
            "prefix": info.telegram_prefix,
            "bot_name": info.telegram.state.bot_name,
            "people": [
                {"id": uid, "name": name, "language": lang, "note": TELEGRAM_NOTES.get(uid, "")}
                for uid, name, lang in TELEGRAM_PEOPLE
            ],
        },
        "slack": {
            "prefix": info.slack_prefix,
            "channel": cfg.channel_id,
            "channel_name": cfg.channel_name,
            "bot_user": cfg.bot_user_id,
            "bot_name": cfg.bot_name,
            "people": [
                {"id": sid, "name": name, "role": role.value if role else None, "role_label": ROLE_LABELS[role]}
                for sid, name, role in SLACK_PEOPLE
            ],
        },
    }


def _fail(message: str, status: int = 400) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status)


async def _read_upload(request: web.Request) -> tuple[dict[str, str], tuple[str, str, bytes] | None]:
    """Fields and the one file of a multipart form, read as a stream: the root app's 1 MB body cap does not
    apply to multipart readers, so the page's own limit is enforced here."""
    fields: dict[str, str] = {}
    upload: tuple[str, str, bytes] | None = None
    reader = await request.multipart()
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            raise ActionError("nested multipart is not supported")
        if part.filename:
            data = bytearray()
            while chunk := await part.read_chunk(256 * 1024):
                data.extend(chunk)
                if len(data) > MAX_UPLOAD:
                    raise ActionError(f"the sandbox takes files up to {MAX_UPLOAD // (1024 * 1024)} MB")
            mime = part.headers.get("Content-Type") or mimetypes.guess_type(part.filename)[0]
            upload = (part.filename, mime or "application/octet-stream", bytes(data))
        elif part.name:
            fields[part.name] = await part.text()
    return fields, upload


def make_page_app(info: PageInfo) -> web.Application:
    """The page as an aiohttp app meant for the server's root; handlers close over `info`, not request.app."""
    app = web.Application()

    async def index(_: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def static(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in STATIC_FILES:
            raise web.HTTPNotFound()
        return web.FileResponse(STATIC / name, headers={"Cache-Control": "no-store"})

    async def config(_: web.Request) -> web.Response:
        return web.json_response({"ok": True, "result": page_config(info)})

    async def upload(request: web.Request) -> web.Response:
        """The client pane's file picker: the chosen file reaches the bot as a photo or a document."""
        try:
            user = info.telegram.state.user(int(request.match_info["user_id"]))
        except ValueError as exc:
            return _fail(str(exc), 404)
        if not request.content_type.startswith("multipart/"):
            return _fail("send the file as multipart/form-data")
        try:
            fields, file = await _read_upload(request)
            if file is None:
                raise ActionError("no file in the form")
            name, mime, data = file
            caption = fields.get("caption") or None
            if fields.get("as") == "photo":
                sent = await info.telegram.send_photo(user, content=data, caption=caption)
            else:
                sent = await info.telegram.send_document(
                    user, name, len(data), content=data, mime_type=mime, caption=caption
                )
        except (ActionError, ValueError) as exc:
            return _fail(str(exc))
        message_id = sent.message.message_id if sent.message else None
        return web.json_response({"ok": True, "result": {"update_id": sent.update_id, "message_id": message_id}})

    async def click_ephemeral(request: web.Request) -> web.Response:
        """A button in an ephemeral message (the Slack stand-in's control API has no route for these)."""
        try:
            body = await request.json()
            user, ts, action_id = str(body["user"]), str(body["ts"]), str(body["action_id"])
        except (ValueError, KeyError, TypeError):
            return _fail("send JSON with user, ts and action_id")
        found = [e for e in info.slack.ephemerals if e.ts == ts and e.user == user]
        if not found:
            return _fail(f"{user} has no ephemeral message {ts}", 404)
        try:
            delivery = await info.slack.actions.click_ephemeral(found[-1], action_id, block_id=body.get("block_id"))
        except SlackActionError as exc:
            return _fail(str(exc))
        return web.json_response({"ok": True, "delivery": summary(delivery)})

    app.router.add_get("/", index)
    app.router.add_get("/static/{name}", static)
    app.router.add_get("/sandbox/page/config", config)
    app.router.add_post("/sandbox/page/telegram/{user_id:\\d+}/upload", upload)
    app.router.add_post("/sandbox/page/slack/click_ephemeral", click_ephemeral)
    return app
