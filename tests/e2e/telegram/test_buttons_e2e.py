"""Telegram buttons, end to end: an answered question shows the choice instead of its buttons; a stale tap
gets a toast (answerCallbackQuery), never a new message."""

from __future__ import annotations

from sandbox.demo import LAURA_ID
from sandbox.testing import World
from tests.e2e.slack.test_info_and_resolve import claimed, resolve
from tests.e2e.telegram.helpers import intake_data, tap


async def test_an_answered_question_loses_its_buttons_and_shows_the_choice(world: World) -> None:
    laura = world.client(LAURA_ID)
    await laura.send("/reportar")
    question = laura.bot_messages()[-1]
    await tap(laura, "a.firewall")
    answered = next(m for m in laura.bot_messages() if m["message_id"] == question["message_id"])
    assert answered["buttons"] == []
    assert answered["text"] == "¿Sobre qué servicio es tu reporte?\n\n✅ Firewall"
    assert answered["edited"]
    assert "editMessageText" in [method for method, _ in world.telegram.requests]


async def test_a_stale_tap_is_a_toast_not_a_message(world: World) -> None:
    laura = world.client(LAURA_ID)
    await laura.send("/reportar")
    old = intake_data(laura, "a.software")
    question = laura.bot_messages()[-1]["message_id"]
    await tap(laura, "a.firewall")
    before = laura.texts()
    for _ in range(2):  # a double tap, a replay: each a toast, nothing else
        tapped = await laura.forge_tap(question, old)
        answer = laura.callback_answer(tapped)
        assert answer is not None and answer.get("text") == "Ese botón ya no está activo."
    assert laura.texts() == before


async def test_under_a_solution_each_row_is_its_own_question(world: World) -> None:
    ticket_id, card = await claimed(world)
    await resolve(world, card, remote="1")
    laura = world.client(LAURA_ID)
    solution = await laura.wait_for_text("Se reemplazó la fuente")
    await laura.tap(f"desk:ok:{ticket_id}")
    shown = next(m for m in laura.bot_messages() if m["message_id"] == solution["message_id"])
    assert shown["text"].endswith("✅ Resuelto")
    assert [[b["callback_data"] for b in row] for row in shown["buttons"]] == [
        [f"desk:rate:{ticket_id}:{n}" for n in range(1, 6)]
    ]  # the rating is still open
    await laura.tap(f"desk:rate:{ticket_id}:4")
    shown = next(m for m in laura.bot_messages() if m["message_id"] == solution["message_id"])
    assert shown["buttons"] == [] and shown["text"].endswith("✅ ⭐⭐⭐⭐")
