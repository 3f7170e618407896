"""Webhook mode (TELEGRAM_WEBHOOK_URL): Telegram POSTs updates to the bot, which checks the secret token."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from sandbox.demo import LAURA_ID
from sandbox.testing import World, running_world
from storage.records import InboxStatus

SECRET = "s3cret_Token-1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def hooked(tmp_path: Path) -> AsyncIterator[World]:
    port = _free_port()
    async with running_world(
        tmp_path,
        http_port=port,
        telegram_webhook_url=f"http://127.0.0.1:{port}/telegram/webhook",
        telegram_webhook_secret=SECRET,
    ) as world:
        yield world
        world.assert_no_violations()


async def test_updates_arrive_by_webhook_and_are_answered(hooked: World) -> None:
    laura = hooked.client(LAURA_ID)
    await laura.send("/start")
    assert "Laura" in laura.last_text()
    methods = [method for method, _ in hooked.telegram.requests]
    assert "setWebhook" in methods and "getUpdates" not in methods
    [params] = [p for m, p in hooked.telegram.requests if m == "setWebhook"]
    assert params.get("secret_token") == SECRET


@pytest.mark.parametrize("header", [None, "wrong", SECRET + "x"])
async def test_a_request_without_the_secret_token_is_refused(hooked: World, header: str | None) -> None:
    """LIMITS.md: the webhook's X-Telegram-Bot-Api-Secret-Token is compared (in constant time) before anything."""
    update = {"update_id": 99, "message": {"message_id": 1, "date": 0, "chat": {"id": LAURA_ID, "type": "private"},
                                           "from": {"id": LAURA_ID, "is_bot": False, "first_name": "Mallory"},
                                           "text": "/start"}}  # fmt: skip
    headers = {} if header is None else {"X-Telegram-Bot-Api-Secret-Token": header}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{hooked.bot.http_url}/telegram/webhook", json=update, headers=headers) as resp,
    ):
        assert resp.status == 403
    await hooked.settle()
    assert hooked.client(LAURA_ID).bot_messages() == []  # nothing was answered


async def test_a_body_that_is_not_an_update_is_a_400(hooked: World) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{hooked.bot.http_url}/telegram/webhook", data=b"{not json", headers=headers) as resp,
    ):
        assert resp.status == 400


async def test_an_update_the_library_cannot_read_is_kept_with_a_warning(
    hooked: World, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue "every event exactly once": a 200 (Telegram would otherwise resend it forever), a WARNING naming the
    update_id and the error, and the update kept in the inbox as unparsed for `supportbot inbox list --failed`."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    broken = {"update_id": 4242, "message": {"message_id": 1, "chat": {"id": LAURA_ID, "type": "private"}}}  # no date
    with caplog.at_level(logging.WARNING):
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{hooked.bot.http_url}/telegram/webhook", json=broken, headers=headers) as resp,
        ):
            assert resp.status == 200
    [line] = [r for r in caplog.records if "4242" in r.getMessage()]
    assert line.levelno == logging.WARNING and "unparsed" in line.getMessage() and "date" in line.getMessage()
    assert hooked.bot.store is not None
    async with hooked.bot.store.transaction() as tx:
        [kept] = await tx.list_inbox((InboxStatus.UNPARSED,))
    assert kept.key == "4242" and "KeyError" in (kept.error or "")
    # The next update of the same chat is not held behind it.
    laura = hooked.client(LAURA_ID)
    await laura.send("/start")
    assert "Laura" in laura.last_text()
