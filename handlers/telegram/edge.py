"""Where Telegram's updates come in: our own getUpdates loop, or the webhook. Either commits the updates to the
inbox before Telegram is told they were received (the offset moves, or the webhook answers 200)."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from telegram import Bot
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBUserWarning

from bot.inbox import InboxWorker
from handlers.telegram.senders import retry_seconds
from handlers.telegram.translate import ALLOWED_UPDATES, arrival

__all__ = ["SECRET_HEADER", "Poller", "webhook_handler"]

log = logging.getLogger(__name__)
# We ask getUpdates through do_api_request on purpose: the raw JSON goes to the inbox verbatim, and an update
# python-telegram-bot cannot parse is kept (as unparsed) instead of failing the whole batch.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.getUpdates'", category=PTBUserWarning)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


class Poller:
    """Long polling: each batch is committed to the inbox, and only then does the offset move past it.
    Killed between the two, the next process asks from the old offset and the inbox drops what it has."""

    def __init__(self, bot: Bot, inbox: InboxWorker, *, timeout: int = 10) -> None:
        self._bot = bot
        self._inbox = inbox
        self._timeout = timeout
        self._offset: int | None = None
        self._task: asyncio.Task[None] | None = None
        self.polls = 0
        self.rate_limited = 0  # 429s Telegram answered to getUpdates
        self.committed_through = 0  # the highest update_id committed to the inbox

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="telegram-poller")

    async def stop(self) -> None:
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        backoff = 1.0
        while True:
            try:
                await self.poll_once()
                backoff = 1.0
            except asyncio.CancelledError:
                raise
            except InvalidToken:
                log.error("Telegram refused the bot token: polling stops")
                return
            except RetryAfter as exc:
                # A wait Telegram asked for, not a failure: one line, no traceback.
                self.rate_limited += 1
                seconds = retry_seconds(exc)
                log.info("getUpdates rate limited by Telegram: waiting %.1f s", seconds)
                await asyncio.sleep(seconds)
            except Conflict as exc:
                # Another process polls with this token (or a webhook is set): it ends when that one stops.
                log.warning("getUpdates conflict: %s; trying again in 5 s", exc.message)
                await asyncio.sleep(5)
            except (NetworkError, TelegramError) as exc:
                log.warning("getUpdates failed: %s; trying again in %.0f s", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
            except Exception:
                log.exception("could not keep the updates of a getUpdates batch; asking again")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)

    async def poll_once(self) -> int:
        """One getUpdates: commit the batch, then move the offset. Returns: how many updates came."""
        kwargs: dict[str, Any] = {"timeout": self._timeout, "allowed_updates": list(ALLOWED_UPDATES)}
        if self._offset is not None:
            kwargs["offset"] = self._offset
        result = await self._bot.do_api_request(
            "getUpdates", api_kwargs=kwargs, read_timeout=self._timeout + 10, connect_timeout=5
        )
        self.polls += 1
        updates = [u for u in (result or []) if isinstance(u, dict) and isinstance(u.get("update_id"), int)]
        if not updates:
            return 0
        await self._inbox.receive([arrival(u) for u in updates])
        newest = max(int(u["update_id"]) for u in updates)
        self.committed_through = max(self.committed_through, newest)
        self._offset = newest + 1
        return len(updates)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def webhook_handler(inbox: InboxWorker, secret: str) -> Handler:
    """POST /telegram/webhook: the secret token (constant-time), then the update committed, then 200.
    A body that can never be an update gets 400 (Telegram would retry anything else)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        given = request.headers.get(SECRET_HEADER, "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=403, text="forbidden")
        try:
            data = json.loads(await request.read())
        except ValueError:
            return web.Response(status=400, text="not JSON")
        if not isinstance(data, dict) or type(data.get("update_id")) is not int:
            return web.Response(status=400, text="not a Telegram update")
        await inbox.receive([arrival(data)])
        return web.Response(text="ok")

    return handle
