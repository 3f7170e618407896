"""Socket Mode: the websocket apps.connections.open points to, envelopes out, acks by envelope_id back."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

from aiohttp import WSMsgType, web

from sandbox.slack.delivery import Attempt
from sandbox.slack.webapi import STANDIN


class SocketHub:
    """The open Socket Mode connections; envelopes go to the newest, as Slack picks one of them."""

    def __init__(self) -> None:
        self._sockets: list[web.WebSocketResponse] = []
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}

    @property
    def connected(self) -> bool:
        return any(not ws.closed for ws in self._sockets)

    async def send(
        self, kind: str, payload: dict[str, Any], retry: int, reason: str | None, ack_within: float
    ) -> Attempt:
        ws = next(ws for ws in reversed(self._sockets) if not ws.closed)
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            # Slack lets only some interactions answer through the ack (view_submission, for one).
            "accepts_response_payload": kind == "interactive",
            "retry_attempt": retry,
            "retry_reason": reason or "",
        }
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[envelope_id] = future
        started = time.monotonic()
        try:
            await ws.send_str(json.dumps(envelope, ensure_ascii=False))
            ack = await asyncio.wait_for(future, ack_within)
        except TimeoutError:
            return Attempt(retry, None, "http_timeout", time.monotonic() - started)
        finally:
            self._waiting.pop(envelope_id, None)
        body = json.dumps(ack.get("payload")) if ack.get("payload") is not None else ""
        return Attempt(retry, 200, None, time.monotonic() - started, body)

    def acked(self, message: dict[str, Any]) -> None:
        future = self._waiting.get(str(message.get("envelope_id")))
        if future is not None and not future.done():
            future.set_result(message)

    async def serve(self, request: web.Request) -> web.WebSocketResponse:
        """The websocket endpoint: say hello, then read acks until the app disconnects."""
        standin = request.app[STANDIN]
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        standin.socket = self
        await ws.send_str(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": len(self._sockets),
                    "debug_info": {"host": "sandbox", "approximate_connection_time": 18060},
                    "connection_info": {"app_id": standin.config.app_id},
                }
            )
        )
        standin.emit("socket_connected", {"connections": len(self._sockets)})
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    try:
                        data = json.loads(msg.data)
                    except ValueError:
                        continue
                    if isinstance(data, dict) and "envelope_id" in data:
                        self.acked(data)
        finally:
            self._sockets.remove(ws)
            standin.emit("socket_disconnected", {"connections": len(self._sockets)})
        return ws

    async def close_all(self) -> None:
        for ws in list(self._sockets):
            await ws.close()


HUB: web.AppKey[SocketHub] = web.AppKey("slack_socket_hub", SocketHub)


def add_routes(app: web.Application) -> None:
    """Register the websocket endpoint apps.connections.open hands out."""
    hub = SocketHub()
    app[HUB] = hub
    app.router.add_get("/sandbox/slack/socket", hub.serve)

    async def shutdown(_: web.Application) -> None:
        await hub.close_all()

    app.on_shutdown.append(shutdown)
