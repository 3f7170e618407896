"""The aiohttp request class python-telegram-bot runs on: the real Bot over HTTP to the Telegram stand-in."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import BadRequest, NetworkError, TimedOut

from handlers.telegram.request import AiohttpRequest
from sandbox.telegram import StandIn
from sandbox.telegram.testing import running_standin

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture
async def standin() -> AsyncIterator[StandIn]:
    async with running_standin() as s:
        yield s


def bot_on(standin: StandIn, **kwargs: float) -> Bot:
    assert standin.urls is not None
    return Bot(
        standin.token,
        base_url=standin.urls.base_url,
        base_file_url=standin.urls.base_file_url,
        request=AiohttpRequest(**kwargs),  # type: ignore[arg-type]
    )


async def test_json_calls_multipart_upload_and_file_download(standin: StandIn) -> None:
    laura = standin.create_user("Laura")
    await standin.send_text(laura, "/start")
    async with bot_on(standin) as bot:
        me = await bot.get_me()
        assert me.is_bot
        sent = await bot.send_message(laura.id, "<b>Hola</b> &amp; adiós", parse_mode="HTML")
        assert sent.text == "Hola & adiós"
        photo = await bot.send_photo(laura.id, PNG, caption="captura")
        file = await bot.get_file(photo.photo[-1].file_id)
        assert bytes(await file.download_as_bytearray()) == PNG
    assert standin.violations == []


async def test_telegram_errors_keep_their_meaning(standin: StandIn) -> None:
    laura = standin.create_user("Laura")
    await standin.send_text(laura, "/start")
    async with bot_on(standin) as bot:
        with pytest.raises(BadRequest, match=r"(?i)can.t parse entities"):
            await bot.send_message(laura.id, "<foo>", parse_mode="HTML")


async def test_connection_refused_is_a_network_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError):
            await request.do_request(f"http://127.0.0.1:{port}/bot1:A/getMe", "POST")
    finally:
        await request.shutdown()


async def test_a_server_that_does_not_answer_times_out() -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(1)
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/{tail:.*}", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    request = AiohttpRequest(read_timeout=0.2)
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await request.do_request(f"http://127.0.0.1:{port}/bot1:A/getMe", "POST")
    finally:
        await request.shutdown()
        await runner.cleanup()


async def test_use_before_initialize_is_refused() -> None:
    with pytest.raises(RuntimeError, match="not initialized"):
        await AiohttpRequest().do_request("http://127.0.0.1:1/x", "POST")
