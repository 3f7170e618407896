"""The driver plays the client against a real python-telegram-bot Application polling the stand-in."""

from __future__ import annotations

import asyncio

import pytest

from sandbox.telegram import StandIn, TelegramClient


async def test_start_with_deep_link_greets_and_offers_buttons(client: TelegramClient) -> None:
    await client.send("/start ABC123")
    assert client.last_text() == "Hola Laura, código ABC123"
    assert client.bot_messages()[-1]["html"] == "<b>Hola Laura</b>, código ABC123"
    assert ("Severidad 1", "sev:1") in client.last_buttons()


async def test_tap_is_answered_and_message_edited(client: TelegramClient) -> None:
    await client.send("/start")
    sent = await client.tap("sev:2")
    assert client.last_text() == "Elegiste severidad 2"
    assert client.bot_messages()[-1]["edited"] is True
    assert client.bot_messages()[-1]["buttons"] == []  # an edit without markup drops the keyboard
    answer = client.callback_answer(sent)
    assert answer is not None and answer["text"] == "Anotado"
    assert client.standin.violations == []


async def test_unanswered_callback_is_recorded_as_violation(client: TelegramClient) -> None:
    await client.send("/start")
    sent = await client.tap("noanswer")
    assert client.standin.violations == [], "not yet: the client waits callback_answer_timeout (0.3 s here)"
    for _ in range(200):
        if client.standin.violations:
            break
        await asyncio.sleep(0.01)
    kinds = [v.kind for v in client.standin.violations]
    assert kinds == ["unanswered_callback_query"]
    assert sent.query_id is not None and sent.query_id in client.standin.violations[0].description


async def test_tap_unknown_data_lists_available_buttons(client: TelegramClient) -> None:
    await client.send("/start")
    with pytest.raises(AssertionError, match=r"sev:1.*sev:2"):
        await client.tap("sev:9")


async def test_echo(client: TelegramClient) -> None:
    await client.send("hola <mundo> & más")
    assert client.last_text() == "hola <mundo> & más"


async def test_request_contact_keyboard_and_own_contact(client: TelegramClient) -> None:
    """LIMITS: a shared contact proves identity only when contact.user_id is the sender."""
    await client.send("/contacto")
    assert client.reply_keyboard() == [["Compartir mi número"]]
    with pytest.raises(AssertionError, match="no reply-keyboard button 'Otro'"):
        await client.press("Otro")
    await client.press("Compartir mi número")
    assert client.messages()[-2]["contact"]["user_id"] == client.user.id
    assert client.last_text() == "contacto propio"
    assert client.reply_keyboard() == [], "ReplyKeyboardRemove hides it"
    await client.share_contact("+525500000000", own=False, contact_user_id=777)
    assert client.last_text() == "contacto ajeno"


async def test_photo_is_downloaded_by_the_bot(client: TelegramClient) -> None:
    from sandbox.telegram.models import tiny_png

    png = tiny_png(4, 4)
    await client.send_photo("mi pantalla", content=png)
    assert client.last_text() == f"foto de {len(png)} bytes"


async def test_big_document_is_refused_by_get_file(client: TelegramClient) -> None:
    """Zammad #2289 / Chatwoot #8428: files over 20 MB must not fail without a word."""
    await client.send_document("respaldo.zip", 25 * 1024 * 1024)
    assert client.last_text() == "no pude bajar el archivo: File is too big"
    await client.send_document("log.txt", 1234)
    assert client.last_text() == "archivo log.txt de 1234 bytes"


async def test_sticker_and_voice(client: TelegramClient) -> None:
    await client.send_sticker("🔥")
    assert client.last_text() == "sticker 🔥"
    await client.send_voice(7)
    assert client.last_text() == "voz de 7 s"
    assert client.texts() == ["sticker 🔥", "voz de 7 s"]


async def test_forged_tap_reaches_the_bot(client: TelegramClient) -> None:
    """Tampering test: data that no button carries still arrives (the bot must not trust it)."""
    await client.send("/start")
    message_id = client.bot_messages()[-1]["message_id"]
    sent = await client.forge_tap(message_id, "sev:99")
    assert client.last_text() == "Elegiste severidad 99"
    assert sent.query_id is not None


async def test_wait_for_text_fails_loudly(client: TelegramClient) -> None:
    await client.send("hola")
    assert (await client.wait_for_text("hol", timeout=0.5))["text"] == "hola"
    with pytest.raises(AssertionError, match=r"no bot message contains 'adiós'.*\['hola'\]"):
        await client.wait_for_text("adiós", timeout=0.1)


async def test_settle_times_out_loudly_without_a_bot(standin: StandIn) -> None:
    laura = standin.create_user("Laura")
    lonely = TelegramClient(standin, laura, timeout=0.2)
    with pytest.raises(AssertionError, match=r"not delivered within 0\.2 s"):
        await lonely.send("¿hay alguien?")


async def test_last_text_fails_when_the_bot_said_nothing(standin: StandIn) -> None:
    laura = standin.create_user("Laura")
    with pytest.raises(AssertionError, match="no message"):
        TelegramClient(standin, laura).last_text()


async def test_driver_with_a_webhook_bot(standin: StandIn) -> None:
    """The bot in webhook mode (its own aiohttp endpoint feeding PTB), checking the secret header."""
    from aiohttp import web
    from telegram import Update

    from tests.sandbox.telegram.keyboard_bot import build_keyboard_bot

    app = build_keyboard_bot(standin)
    app_updater = app.updater
    assert app_updater is not None
    seen_secrets: list[str | None] = []

    async def hook(request: web.Request) -> web.Response:
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        seen_secrets.append(secret)
        if secret != "hook-secret":
            return web.Response(status=403)
        await app.update_queue.put(Update.de_json(await request.json(), app.bot))
        return web.Response()

    server = web.Application()
    server.router.add_post("/tg", hook)
    runner = web.AppRunner(server)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    await app.initialize()
    await app.start()
    try:
        await app.bot.set_webhook(f"http://127.0.0.1:{port}/tg", secret_token="hook-secret")
        laura = TelegramClient(standin, standin.create_user("Laura"))
        await laura.send("/start WEB")
        assert laura.last_text() == "Hola Laura, código WEB"
        await laura.tap("sev:1")
        assert laura.last_text() == "Elegiste severidad 1"
        assert seen_secrets == ["hook-secret", "hook-secret"]
        assert standin.violations == []
    finally:
        await app.stop()
        await app.shutdown()
        await runner.cleanup()
