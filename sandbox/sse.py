"""Server-Sent Events for the sandbox page: one event per state change, a keep-alive comment when idle.

A reader that goes away (a closed tab, a dropped connection) is an ordinary event, not an error: the
stream ends with one DEBUG line. (Before, the next keep-alive wrote to the closed transport, and aiohttp
logged the failure at ERROR with three chained tracebacks, each time a tab closed.)
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from aiohttp import web

__all__ = ["KEEPALIVE_SECONDS", "event_stream"]

log = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15.0
Event = Mapping[str, Any]


def _json(event: Event) -> str:
    return json.dumps(event, ensure_ascii=False, default=str)


async def event_stream(
    request: web.Request,
    subscription: AbstractAsyncContextManager[asyncio.Queue[Any]],
    *,
    end: str,
    keepalive: float = KEEPALIVE_SECONDS,
    dumps: Callable[[Event], str] = _json,
) -> web.StreamResponse:
    """Stream the subscription's events (`event: TYPE` / `data: JSON`) until one of type `end` arrives or
    the reader leaves."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    try:
        await response.prepare(request)
        async with subscription as queue:
            await response.write(b": connected\n\n")
            while True:
                event = await _next(queue, keepalive)
                if event is None:
                    await response.write(b": keep-alive\n\n")
                elif event["type"] == end:
                    break
                else:
                    await response.write(f"event: {event['type']}\ndata: {dumps(event)}\n\n".encode())
    except ConnectionError:  # aiohttp's ClientConnectionResetError is one: the reader left
        log.debug("%s: the reader left", request.path)
    return response


async def _next(queue: asyncio.Queue[Any], timeout: float) -> Event | None:  # noqa: ASYNC109
    """The next event, or None when none came within timeout (time for a keep-alive)."""
    try:
        event: Event = await asyncio.wait_for(queue.get(), timeout)
    except TimeoutError:
        return None
    return event
