"""getUpdates (offset, long polling, allowed_updates, conflicts) and webhook delivery (secret, retries)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Conflict

from sandbox.telegram import StandIn, User


async def test_offset_confirms_earlier_updates(standin: StandIn, bot: Bot) -> None:
    laura = standin.create_user("Laura")
    for text in ("uno", "dos", "tres"):
        await standin.send_text(laura, text)
    first = await bot.get_updates(timeout=0)
    assert [u.message.text for u in first if u.message] == ["uno", "dos", "tres"]
    ids = [u.update_id for u in first]
    assert ids == sorted(ids) and len(set(ids)) == 3
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == ids, "unconfirmed updates are delivered again"
    rest = await bot.get_updates(offset=ids[1], timeout=0)
    assert [u.update_id for u in rest] == ids[1:]
    assert standin.is_delivered(ids[0]) and not standin.is_delivered(ids[1])
    assert await bot.get_updates(offset=ids[2] + 1, timeout=0) == ()


async def test_limit_and_negative_offset(standin: StandIn, bot: Bot) -> None:
    laura = standin.create_user("Laura")
    for n in range(5):
        await standin.send_text(laura, f"m{n}")
    limited = await bot.get_updates(limit=2, timeout=0)
    assert [u.message.text for u in limited if u.message] == ["m0", "m1"]
    last = await bot.get_updates(offset=-1, timeout=0)
    assert [u.message.text for u in last if u.message] == ["m4"]


async def test_long_poll_waits_for_the_next_update(standin: StandIn, bot: Bot) -> None:
    laura = standin.create_user("Laura")

    async def later() -> None:
        await asyncio.sleep(0.2)
        await standin.send_text(laura, "tarde")

    task = asyncio.create_task(later())
    started = time.monotonic()
    updates = await bot.get_updates(timeout=5)
    elapsed = time.monotonic() - started
    await task
    assert [u.message.text for u in updates if u.message] == ["tarde"]
    assert 0.15 < elapsed < 2.0


async def test_long_poll_times_out_empty(standin: StandIn, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=timedelta(seconds=0.3)) == ()
    assert time.monotonic() - started >= 0.25


async def test_allowed_updates_filters_new_updates(standin: StandIn, bot: Bot, user: User) -> None:
    message = await bot.send_message(
        user.id, "x", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="a")]])
    )
    await bot.get_updates(offset=-1, allowed_updates=["callback_query"], timeout=0)
    await bot.get_updates(offset=10**12, timeout=0)  # confirm everything so far
    assert await standin.send_text(user, "ignorado") is not None
    tap = await standin.tap(user, message.message_id, "a")
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [tap.update_id]
    assert updates[0].callback_query is not None and updates[0].callback_query.data == "a"


async def test_second_poller_terminates_the_first(standin: StandIn, bot: Bot) -> None:
    """Two running copies of the bot: Telegram ends the older long poll with 409."""
    assert standin.urls is not None
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    async with Bot(standin.token, base_url=standin.urls.base_url) as twin:
        second = asyncio.create_task(twin.get_updates(timeout=timedelta(seconds=0.2)))
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await first
        assert await second == ()


async def test_get_updates_while_webhook_is_set_is_a_conflict(standin: StandIn, bot: Bot) -> None:
    await bot.set_webhook("http://127.0.0.1:9/hook")
    with pytest.raises(Conflict) as info:
        await bot.get_updates(timeout=0)
    assert standin.violations[-1].description == (
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
    )
    assert standin.violations[-1].error_code == 409
    assert "webhook is active" in info.value.message
    await bot.delete_webhook()
    assert await bot.get_updates(timeout=0) == ()


@pytest.mark.parametrize("secret", ["a b", "a.b", "base64+/=", "x" * 257, "ñ"])
async def test_bad_secret_tokens_are_refused(standin: StandIn, bot: Bot, secret: str) -> None:
    with pytest.raises(BadRequest):
        await bot.set_webhook("http://127.0.0.1:9/hook", secret_token=secret)
    assert standin.violations[-1].description == "Bad Request: secret token contains unallowed characters"


async def test_secret_token_edges_are_accepted(bot: Bot) -> None:
    for secret in ("a", "A-z_09" * 42 + "abcd"):  # 1 and 256 characters
        assert await bot.set_webhook("http://127.0.0.1:9/hook", secret_token=secret)


async def test_strict_webhook_url_needs_https(standin: StandIn, bot: Bot) -> None:
    standin.state.strict_webhook_url = True
    with pytest.raises(BadRequest):
        await bot.set_webhook("http://example.com/hook")
    assert standin.violations[-1].description == "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
    with pytest.raises(BadRequest):
        await bot.set_webhook("https://example.com:8080/hook")
    assert await bot.set_webhook("https://example.com:8443/hook")


class Receiver:
    """A bot's webhook endpoint that records what it got and can be told to fail."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, object]] = []
        self.secrets: list[str | None] = []
        self.fail_next = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.secrets.append(request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        if self.fail_next:
            self.fail_next -= 1
            return web.Response(status=500)
        self.bodies.append(await request.json())
        return web.Response(text="ok")


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield rec, f"http://127.0.0.1:{port}/hook"
    await runner.cleanup()


async def test_webhook_delivery_sends_secret_header(standin: StandIn, bot: Bot, receiver: tuple[Receiver, str]) -> None:
    rec, url = receiver
    await bot.set_webhook(url, secret_token="s3cr3t_-X")
    laura = standin.create_user("Laura")
    sent = await standin.send_text(laura, "/start ABC")
    assert sent.update_id is not None
    await standin.settle(sent.update_id, timeout=3)
    assert rec.secrets == ["s3cr3t_-X"]
    assert rec.bodies[0]["update_id"] == sent.update_id
    info = await bot.get_webhook_info()
    assert info.url == url and info.pending_update_count == 0


async def test_webhook_retries_after_500_and_keeps_the_update(
    standin: StandIn, bot: Bot, receiver: tuple[Receiver, str]
) -> None:
    rec, url = receiver
    rec.fail_next = 2
    await bot.set_webhook(url)
    laura = standin.create_user("Laura")
    sent = await standin.send_text(laura, "hola")
    assert sent.update_id is not None
    await standin.settle(sent.update_id, timeout=3)
    assert len(rec.secrets) == 3, "two 500s, then the same update again"
    assert [b["update_id"] for b in rec.bodies] == [sent.update_id]
    assert rec.secrets == [None, None, None], "no header without a secret_token"
    errors = [v for v in standin.violations if v.kind == "webhook_error"]
    assert len(errors) == 2 and errors[0].description == "Wrong response from the webhook: 500 Internal Server Error"
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"


async def test_updates_wait_while_the_webhook_is_down(standin: StandIn, bot: Bot) -> None:
    await bot.set_webhook("http://127.0.0.1:9/hook")  # nothing listens there
    laura = standin.create_user("Laura")
    sent = await standin.send_text(laura, "hola")
    await asyncio.sleep(0.2)
    assert sent.update_id is not None and not standin.is_delivered(sent.update_id)
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 1 and info.last_error_message
    await bot.delete_webhook()
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [sent.update_id], "kept for getUpdates after deleteWebhook"


async def test_delete_webhook_can_drop_pending_updates(standin: StandIn, bot: Bot) -> None:
    laura = standin.create_user("Laura")
    await standin.send_text(laura, "viejo")
    await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates(timeout=0) == ()


async def test_updates_older_than_24_hours_are_dropped(bot: Bot) -> None:
    now = [1_700_000_000.0]
    standin = StandIn(clock=lambda: now[0])
    urls = await standin.start()
    try:
        laura = standin.create_user("Laura")
        await standin.send_text(laura, "ayer")
        now[0] += 24 * 3600 + 1
        await standin.send_text(laura, "hoy")
        async with Bot(standin.token, base_url=urls.base_url) as other:
            updates = await other.get_updates(timeout=0)
        assert [u.message.text for u in updates if u.message] == ["hoy"]
    finally:
        await standin.stop()


async def test_update_ids_restart_at_random_after_a_quiet_week() -> None:
    """LIMITS: de-duplicate by remembering ids, not by "<= last seen" (the id may go down)."""
    now = [1_700_000_000.0]
    standin = StandIn(clock=lambda: now[0])
    laura = standin.create_user("Laura")
    first = await standin.send_text(laura, "uno")
    second = await standin.send_text(laura, "dos")
    assert first.update_id is not None and second.update_id == first.update_id + 1
    jumps = set()
    for _ in range(5):
        now[0] += 7 * 24 * 3600
        sent = await standin.send_text(laura, "una semana después")
        assert sent.update_id is not None
        jumps.add(sent.update_id)
    assert len(jumps) == 5 and not all(j == first.update_id + 2 + k for k, j in enumerate(sorted(jumps)))
    standin.state.close()


async def test_set_webhook_can_drop_pending_updates(standin: StandIn, bot: Bot, receiver: tuple[Receiver, str]) -> None:
    rec, url = receiver
    laura = standin.create_user("Laura")
    await standin.send_text(laura, "viejo")
    await bot.set_webhook(url, drop_pending_updates=True)
    sent = await standin.send_text(laura, "nuevo")
    assert sent.update_id is not None
    await standin.settle(sent.update_id, timeout=3)
    assert [b["update_id"] for b in rec.bodies] == [sent.update_id]


async def test_blocking_sends_my_chat_member_updates(standin: StandIn, bot: Bot, user: User) -> None:
    await bot.get_updates(offset=10**12, timeout=0)
    blocked = await standin.block(user)
    restarted = await standin.unblock(user)
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [blocked.update_id, restarted.update_id]
    first, second = (u.my_chat_member for u in updates)
    assert first is not None and first.new_chat_member.status == "kicked"
    assert second is not None and second.new_chat_member.status == "member"
    assert (await standin.block(user)).update_id is not None
    assert (await standin.block(user)).update_id is None, "blocking twice changes nothing"


async def test_restarting_a_polling_bot_leaves_no_violation(standin: StandIn) -> None:
    """A stopped bot's abandoned long poll ends with a 409 nobody receives; the restart is clean."""
    from sandbox.telegram import TelegramClient
    from sandbox.telegram.testing import polling
    from tests.sandbox.telegram.keyboard_bot import build_keyboard_bot

    laura = TelegramClient(standin, standin.create_user("Laura"))
    async with polling(build_keyboard_bot(standin), poll_timeout=5):
        await laura.send("/start uno")
    async with polling(build_keyboard_bot(standin), poll_timeout=5):
        await laura.send("/start dos")
    assert laura.texts() == ["Hola Laura, código uno", "Hola Laura, código dos"]
    assert standin.violations == []
