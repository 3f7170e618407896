"""Glitches of the client's flow, end to end: each one as the client met it, and what they read now."""

from __future__ import annotations

from sandbox.demo import CLINICA_ID, LAURA_ID
from sandbox.testing import World
from tests.e2e.slack.helpers import open_ticket
from tests.e2e.telegram.helpers import DESCRIPTION, TV_PASSWORD, tap, to_description, to_summary_remote


async def test_editing_the_description_goes_back_to_the_summary_without_asking_since_when(world: World) -> None:
    laura = world.client(LAURA_ID)
    await to_summary_remote(laura, world)
    await tap(laura, "e.desc")
    assert "Cuéntame qué pasa" in laura.last_text()
    await laura.send("Ahora tampoco entra el correo, además del internet que sigue caído en toda la oficina.")
    assert "¿Desde cuándo ocurre?" not in laura.last_text()
    summary = laura.last_text()
    assert "Revisa tu reporte" in summary and "tampoco entra el correo" in summary
    assert "hoy, martes 24 de noviembre, a las 09:00" in summary  # the answer given before is kept
    assert sum("¿Desde cuándo ocurre?" in text for text in laura.texts()) == 1


async def test_do_not_use_the_computer_is_said_once_even_with_an_equipment_password(world: World) -> None:
    laura = world.client(LAURA_ID)
    await to_description(laura, world)
    await laura.send(DESCRIPTION)
    await laura.send("desde hoy a las 9")
    await laura.send_photo()
    await tap(laura, "ok")
    await tap(laura, "acc.remote")
    await laura.send("1 234 567 890")
    await laura.send(TV_PASSWORD)
    await tap(laura, "y")
    await laura.send("equipo-Secreto1")
    assert "Revisa tu reporte" in laura.last_text()
    told = [text for text in laura.texts() if "no uses el equipo" in text]
    assert len(told) == 1, laura.texts()
    assert sum("Guardada y borrada del chat" in text for text in laura.texts()) == 2


async def test_a_burst_of_messages_to_an_open_ticket_is_acknowledged_once(world: World) -> None:
    laura = world.client(LAURA_ID)
    await laura.send("/start")
    ticket = await open_ticket(world)
    for text in ("Ya reinicié el equipo", "Sigue igual", "Les mando una foto en un momento"):
        await laura.send(text)
    acks = [t for t in laura.texts() if t.startswith("Le envié tu respuesta al consultor")]
    assert acks == [f"Le envié tu respuesta al consultor de tu ticket {ticket.number}."]
    card = await world.team.card_for(ticket.number)
    assert len([m for m in world.team.thread(card) if "(cliente)" in m.text]) == 3  # every message arrived
    world.clock.advance(minutes=30)  # a new burst later on is acknowledged again
    await laura.send("¿Alguna novedad?")
    assert laura.last_text().startswith("Le envié tu respuesta al consultor")


async def test_a_purchase_order_of_one_letter_is_explained_not_called_no_text(world: World) -> None:
    paty = world.client(CLINICA_ID)
    await paty.send("/reportar")
    assert "orden de compra" in paty.last_text()
    await paty.send("x")
    said = paty.last_text()
    assert "Aquí necesito texto" not in said
    assert "Ese no parece un número de orden de compra" in said


async def test_tomorrow_as_the_start_of_a_problem_is_told_it_has_not_come_yet(world: World) -> None:
    laura = world.client(LAURA_ID)
    await to_description(laura, world)
    await laura.send(DESCRIPTION)
    await laura.send("mañana")
    said = laura.last_text()
    assert "Esa fecha todavía no llega" in said and "No logré entender la fecha" not in said
    assert "¿Desde cuándo ocurre?" in said  # the question again, with its buttons
    await laura.send("asdfgh")
    assert "No logré entender la fecha. ¿Me la escribes de otra forma?" in laura.last_text()
