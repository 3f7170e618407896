"""Starting and mounting the stand-in, its public surface, and driver conveniences."""

from __future__ import annotations

import aiohttp
from aiohttp import web
from telegram import Bot

import sandbox.telegram
from sandbox.telegram import StandIn, TelegramClient, start
from sandbox.telegram.server import make_app


def test_public_surface_is_pinned() -> None:
    assert sorted(sandbox.telegram.__all__) == [
        "ActionError",
        "ApiError",
        "Sent",
        "SettleTimeout",
        "StandIn",
        "StandInUrls",
        "TelegramClient",
        "User",
        "Violation",
        "start",
    ]


async def test_start_helper_binds_a_free_port() -> None:
    standin = await start(bot_username="otro_bot")
    try:
        assert standin.urls is not None and standin.urls.base_url.endswith("/bot")
        async with Bot(standin.token, base_url=standin.urls.base_url) as bot:
            assert bot.username == "otro_bot"
    finally:
        await standin.stop()


async def test_mounted_under_another_application() -> None:
    standin = StandIn()
    parent = web.Application()
    parent.add_subapp("/tg", make_app(standin))
    runner = web.AppRunner(parent)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    root = f"http://127.0.0.1:{runner.addresses[0][1]}/tg"
    try:
        async with Bot(standin.token, base_url=f"{root}/bot", base_file_url=f"{root}/file/bot") as bot:
            laura = standin.create_user("Laura")
            await standin.send_text(laura, "/start")
            assert (await bot.send_message(laura.id, "montado")).text == "montado"
        async with aiohttp.ClientSession() as http, http.get(f"{root}/sandbox/telegram/state") as r:
            assert (await r.json())["result"]["users"][0]["first_name"] == "Laura"
    finally:
        standin.state.close()
        await runner.cleanup()


async def test_tap_label_and_last_buttons(client: TelegramClient) -> None:
    await client.send("/start")
    assert client.last_buttons() == [("Severidad 1", "sev:1"), ("Severidad 2", "sev:2"), ("Sin respuesta", "noanswer")]
    await client.tap_label("Severidad 1")
    assert client.last_text() == "Elegiste severidad 1"
    assert client.last_buttons() == []


async def test_document_can_be_resent_by_file_id(standin: StandIn, bot: Bot) -> None:
    laura = standin.create_user("Laura")
    sent = await standin.send_document(laura, "factura.pdf", 3000)
    assert sent.message is not None
    file_id = sent.message.payload["document"]["file_id"]
    message = await bot.send_document(laura.id, file_id)
    assert message.document is not None and message.document.file_name == "factura.pdf"
    assert [m["from"] for m in standin.history(laura)] == ["user", "bot"]
