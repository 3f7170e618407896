"""Every bad input of issue 4 over the real PTB client: a friendly reply, the step repeats, nothing breaks."""

from __future__ import annotations

import logging

import pytest

from sandbox.demo import LAURA_ID
from sandbox.testing import World
from storage.records import InboxStatus
from tests.e2e.telegram.helpers import DESCRIPTION, draft, intake_data, tap, to_description


async def step_of(world: World) -> str | None:
    d = await draft(world, LAURA_ID)
    return None if d is None else d.step


async def test_sticker_voice_and_a_command_mid_step_repeat_the_step(world: World) -> None:
    laura = world.client(LAURA_ID)
    await to_description(laura, world)
    await laura.send_sticker()
    assert "no puedo leer stickers" in laura.last_text() and "Cuéntame qué pasa" in laura.last_text()
    await laura.send_voice()
    assert "no puedo escuchar audios" in laura.last_text() and "Cuéntame qué pasa" in laura.last_text()
    await laura.send("/inventado")
    assert "No conozco ese comando" in laura.last_text() and "Cuéntame qué pasa" in laura.last_text()
    await laura.send("/ayuda")  # a known command is answered, then the pending question comes back
    assert "/mis_tickets" in laura.texts()[-2] and "Cuéntame qué pasa" in laura.last_text()
    assert await step_of(world) == "description"


async def test_text_where_a_photo_is_asked_and_a_file_over_20_mb(world: World) -> None:
    laura = world.client(LAURA_ID)
    await to_description(laura, world)
    await laura.send(DESCRIPTION)
    await laura.send("ayer")
    await laura.send("aquí está")
    assert "espero fotos o capturas" in laura.last_text()
    await laura.send_document("video.mp4", size=25 * 1024 * 1024, mime_type="video/mp4")
    assert "el límite es de 20 MB" in laura.last_text()
    await laura.send_document("log.txt", size=4000, mime_type="text/plain")
    assert "Recibí 1 archivo" in laura.last_text()
    assert await step_of(world) == "attachments"


async def test_a_10000_character_message_is_kept_whole_and_shown_within_limits(world: World) -> None:
    laura = world.client(LAURA_ID)
    await to_description(laura, world)
    words = ("El firewall <b>falla</b> & *reinicia* _solo_ [x](y) 🔥 " * 200)[:10_000]
    # The Telegram app sends a long text as pieces of at most 4096 characters.
    for start in range(0, len(words), 4096):
        await laura.send(words[start : start + 4096])
        if start == 0:
            assert "Si quieres agregar algo" in laura.last_text()  # a full piece: more may follow
    assert "¿Desde cuándo ocurre?" in laura.last_text()
    d = await draft(world, LAURA_ID)
    assert d is not None
    kept = d.data["intake"]["description"]
    assert "".join(kept.split()) == "".join(words.split())
    await laura.send("hoy a las 9")
    await tap(laura, "ok")
    await tap(laura, "ok")
    await tap(laura, "acc.onsite")
    await laura.send("Av. Reforma 1, Puebla")
    await laura.send("Ana 222 111 2233")
    await tap(laura, "none")
    summary = laura.last_text()
    assert "Revisa tu reporte" in summary and len(summary) < 4096 and "…" in summary


async def test_html_markdown_and_emoji_never_break_a_message(world: World) -> None:
    laura = world.client(LAURA_ID)
    await laura.send("/reportar")
    await tap(laura, "a.firewall")
    await tap(laura, "p.other")
    await laura.send("<b>Router</b> & *Cisco* _viejo_ 🙂 </i> `x` [a](b)")
    await tap(laura, "t.question")
    await tap(laura, "t.usage_question")
    await laura.send("¿Cómo abro el puerto <8080> & el _443_? 🤔 **urgente** <script>alert(1)</script>")
    await tap(laura, "dk")
    await tap(laura, "ok")
    await tap(laura, "acc.onsite")
    await laura.send("Calle <5> & 3 *Centro* 🏢")
    await laura.send("Ana </b> 222 111 2233")
    await laura.send("Casco & chaleco <obligatorio>")
    summary = laura.last_text()
    assert "<b>Router</b> & *Cisco*" in summary and "Calle <5> & 3" in summary


async def test_old_button_and_tampered_callback_data(world: World) -> None:
    laura = world.client(LAURA_ID)
    await laura.send("/reportar")
    old = intake_data(laura, "a.software")
    old_message = laura.bot_messages()[-1]["message_id"]
    await tap(laura, "a.firewall")
    area = next(m for m in laura.bot_messages() if m["message_id"] == old_message)
    assert area["buttons"] == [] and area["text"].endswith("✅ Firewall")  # answered: the choice, no buttons
    before = laura.texts()
    tapped = await laura.forge_tap(old_message, old)  # the area question's button, from an app not yet updated
    answer = laura.callback_answer(tapped)
    assert answer is not None and "Ese botón ya no está activo" in answer.get("text", "")  # a toast...
    assert laura.texts() == before  # ...and no new message
    for forged in ("i:1:p.99999", "i:1:" + "x" * 50, "hola", "desk:rate:1:9"):
        await laura.forge_tap(old_message, forged)
    assert await step_of(world) == "product"
    d = await draft(world, LAURA_ID)
    assert d is not None and d.data["intake"]["area"] == "firewall"


async def test_old_intake_button_after_the_draft_ended(world: World) -> None:
    laura = world.client(LAURA_ID)
    await laura.send("/reportar")
    old = intake_data(laura, "a.software")
    await laura.send("/cancelar")
    before = laura.texts()
    tapped = await laura.tap(old)
    answer = laura.callback_answer(tapped)  # a quiet toast, no new message
    assert answer is not None and "Ese botón ya no está activo" in answer.get("text", "")
    assert laura.texts() == before
    assert await draft(world, LAURA_ID) is None
    await laura.send_voice()  # outside the intake too, a friendly word rather than silence
    assert "no puedo escuchar audios" in laura.last_text()


async def test_an_unreadable_update_by_polling_is_kept_and_the_rest_go_on(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue "every event exactly once": the offset moves past it (else getUpdates returns it forever), a WARNING
    names its update_id and the error, the inbox keeps it as unparsed, and the next update is answered."""
    with caplog.at_level(logging.WARNING):
        update_id = await world.telegram.state.push_update(
            "message",
            {"message_id": 1, "chat": {"id": LAURA_ID, "type": "private"}},  # no date, no from
        )
        assert update_id is not None
        await world.received(update_id)
    [line] = [r for r in caplog.records if "unparsed" in r.getMessage()]
    assert line.levelno == logging.WARNING and str(update_id) in line.getMessage() and "date" in line.getMessage()
    assert world.bot.store is not None
    async with world.bot.store.transaction() as tx:
        [kept] = await tx.list_inbox((InboxStatus.UNPARSED,))
    assert kept.key == str(update_id)
    laura = world.client(LAURA_ID)
    await laura.send("/start")
    assert "Laura" in laura.last_text()
