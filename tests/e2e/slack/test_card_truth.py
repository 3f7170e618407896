"""The card tells the truth, end to end: updated in place at every change, in the glossary's words."""

from __future__ import annotations

import json
from datetime import datetime

from sandbox.demo import AGENT_MARCO, CLINICA_ID, LAURA_ID, QUALITY_SOFIA
from sandbox.slack.driver import Card
from sandbox.testing import MEXICO, World
from tests.e2e.slack.helpers import open_ticket
from tests.e2e.slack.test_info_and_resolve import ask, resolve
from tests.e2e.telegram.helpers import DESCRIPTION, tap, tickets, to_description


def shown(world: World, card: Card) -> str:
    message = world.team.message(card)
    return json.dumps(message.blocks, ensure_ascii=False)


def status(world: World, card: Card) -> str:
    for block in world.team.message(card).blocks:
        text = (block.get("text") or {}).get("text", "")
        if text.startswith("Estado:"):
            return str(text)
    raise AssertionError(f"no status line on the card: {shown(world, card)}")


async def opened(world: World) -> tuple[int, Card]:
    await world.client(LAURA_ID).send("/start")
    t = await open_ticket(world)
    return t.id, await world.team.card_for(t.number)


async def test_a_new_card_says_nuevo_the_time_left_and_who_reported(world: World) -> None:
    _, card = await opened(world)
    text = shown(world, card)
    assert status(world, card).startswith("Estado: nuevo, sin asignar · Nivel 1")
    assert "quedan 8 horas hábiles" in text  # Tue 10:15, severity 1: due Wed 10:15
    assert "horas disponibles: 12.5" in text
    assert "Reporta: Laura Pérez · +52 222 123 4567 · habla español" in text


async def test_the_card_follows_the_ticket_through_every_state(world: World) -> None:
    ticket_id, card = await opened(world)
    laura = world.client(LAURA_ID)
    updates = len(world.team.message(card).edits)
    await world.team.click(card, "desk_claim", as_user=AGENT_MARCO)
    assert status(world, card).startswith("Estado: asignado a <@U0MARCO> · Nivel 1")

    await ask(world, card, "¿Qué luz está encendida?")
    waiting = status(world, card)
    assert "Estado: en espera del cliente desde <!date^" in waiting and "(avisos enviados: 0 de 3)" in waiting
    world.clock.set(datetime(2026, 11, 25, 10, 20, tzinfo=MEXICO))
    await world.fire_timers()
    await laura.wait_for_text("aviso 1 de 3")
    assert "(avisos enviados: 1 de 3), asignado a <@U0MARCO>" in status(world, card)

    await laura.send("La luz roja de alarma")
    assert status(world, card).startswith("Estado: asignado a <@U0MARCO>")

    await world.team.click(card, "desk_escalate", as_user=AGENT_MARCO)
    modal = await world.team.modal(AGENT_MARCO)
    await world.team.submit(modal, {"reason": {"value": "Necesitamos al fabricante"}}, as_user=AGENT_MARCO)
    assert "⏳ Escalación pendiente a Responsable de Calidad" in status(world, card)
    request = await world.team.card_for("Escalación", channel=QUALITY_SOFIA)
    await world.team.click(request, "desk_approve", as_user=QUALITY_SOFIA)
    assert "· escalado a nivel 2 (Responsable de Calidad)" in status(world, card)

    await resolve(world, card, remote="1")
    assert status(world, card).startswith("Estado: resuelto por <@U0MARCO>")
    await laura.tap(f"desk:reopen:{ticket_id}")
    assert status(world, card).startswith("Estado: reabierto, asignado a <@U0MARCO>")
    await resolve(world, card, remote="0.5")
    await laura.tap(f"desk:ok:{ticket_id}")
    assert status(world, card).startswith("Estado: cerrado")
    assert len(world.team.message(card).edits) > updates  # always the same card, edited in place
    assert len([m for m in world.slack.top_level(card.channel) if m.ts == card.ts]) == 1


async def test_past_the_deadline_the_card_says_vencido(world: World) -> None:
    _, card = await opened(world)
    world.clock.set(datetime(2026, 11, 25, 11, 15, tzinfo=MEXICO))  # one business hour after the deadline
    await world.fire_timers()
    text = shown(world, card)
    assert "⚠️ vencido" in text and "quedan" not in text


async def test_an_intake_on_site_since_yesterday_shows_the_visit_fields_and_a_date_without_hour(
    world: World,
) -> None:
    laura = world.client(LAURA_ID)
    await to_description(laura, world)
    await laura.send(DESCRIPTION)
    await laura.send("desde ayer")
    assert "Anotado: desde ayer, lunes 23 de noviembre." in laura.last_text()
    await tap(laura, "ok")
    await tap(laura, "ok")  # no files: asked once more, then on
    await tap(laura, "acc.onsite")
    await laura.send("Av. Reforma 100, Centro, Puebla")
    await laura.send("Luis Ramos, 222 555 0101")
    await laura.send("Casco y botas de seguridad")
    assert "el personal debe ser recibido según lo acordado" in " ".join(laura.texts())
    await tap(laura, "ok")
    [ticket] = await tickets(world)
    card = await world.team.card_for(ticket.number)
    blocks = world.team.message(card).blocks
    [visit] = [b for b in blocks if b["type"] == "section" and "fields" in b]
    assert [f["text"] for f in visit["fields"]] == [
        "*Dirección de la visita*\nAv. Reforma 100, Centro, Puebla",
        "*Recibe al consultor*\nLuis Ramos, 222 555 0101",
        "*Requisitos de acceso*\nCasco y botas de seguridad",
    ]
    context = next(b for b in blocks if b["type"] == "context")["elements"][0]["text"]
    assert "Desde: <!date^" in context and "{date_short_pretty}|lun 23 nov>" in context
    assert "{time}" not in context and "00:00" not in context


async def test_in_the_morning_is_a_part_of_the_day_not_six_oclock(world: World) -> None:
    laura = world.client(LAURA_ID)
    await to_description(laura, world)
    await laura.send(DESCRIPTION)
    await laura.send("hoy en la mañana")
    await laura.send_photo()
    await tap(laura, "ok")
    await tap(laura, "acc.remote")
    await laura.send("1 234 567 890")
    await laura.send("secreto-1")
    await tap(laura, "n")
    await tap(laura, "ok")
    [ticket] = await tickets(world)
    card = await world.team.card_for(ticket.number)
    context = next(b for b in world.team.message(card).blocks if b["type"] == "context")["elements"][0]["text"]
    assert "mar 24 nov>, en la mañana" in context and "06:00" not in context


async def test_a_per_event_card_names_the_purchase_order(world: World) -> None:
    paty = world.client(CLINICA_ID)
    await paty.send("/reportar")
    await paty.send("OC-2026-0099")
    await tap(paty, "a.software")
    await paty.send("Sistema de citas de la clínica")
    await tap(paty, "t.wrong")
    await tap(paty, "t.high")
    await paty.send("El sistema de citas no guarda las citas nuevas desde esta mañana en recepción.")
    await tap(paty, "dk")
    await paty.send_photo()
    await tap(paty, "ok")
    await tap(paty, "acc.remote")
    await paty.send("1 234 567 890")
    await paty.send("secreto-2")
    await tap(paty, "n")
    await tap(paty, "ok")
    [ticket] = await tickets(world)
    card = await world.team.card_for(ticket.number)
    assert "Orden de compra: OC-2026-0099" in shown(world, card)
