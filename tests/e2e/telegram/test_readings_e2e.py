"""POLICY.md "Readings" as the client lives them, through the real bot between the Telegram and Slack stand-ins."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.domain.types import ServiceArea, Tier
from sandbox.demo import AGENT_MARCO, CLINICA_ID, LAURA_ID, NORTE_ID
from sandbox.telegram.driver import TelegramClient
from sandbox.testing import DEFAULT_NOW, World
from tests.e2e.telegram.helpers import DESCRIPTION, store, tap, tickets

PHONES, EMAIL = "222 248 3734, 222 248 2573", "soporte@intecnia.com.mx"
ROSA = 5550201  # a company with no contract at all, whose router is in warranty


async def _finish_on_site(client: TelegramClient, world: World) -> None:
    await client.send(DESCRIPTION)
    await tap(client, "dk")
    await tap(client, "ok")
    await tap(client, "ok")  # no pictures: asked once more, then on
    await tap(client, "acc.onsite")
    await client.send("Av. Juárez 100, Centro, Puebla")
    await client.send("Rosa Díaz 222 111 2233")
    await tap(client, "none")
    await tap(client, "ok")


async def test_r_warranty_a_client_without_a_contract_gets_a_ticket_for_a_product_in_warranty(world: World) -> None:
    """R-WARRANTY: the free route is open without a contract (the bot used to refuse at "Reportar")."""
    async with store(world).transaction() as tx:
        client = await tx.add_client("Dental Angelópolis", at=world.clock())
        await tx.add_contact(client.id, "Rosa Díaz", telegram_user_id=ROSA, at=world.clock())
        router = await tx.add_product(
            client.id, "Router MikroTik", ServiceArea.ROUTING, warranty_until=DEFAULT_NOW.date() + timedelta(days=60)
        )
    rosa = world.client(ROSA)
    await rosa.send("/reportar")
    assert "equipos en garantía" in rosa.last_text()
    await tap(rosa, "a.routing")
    await tap(rosa, f"p.{router.id}")
    await tap(rosa, "t.down")
    await tap(rosa, "t.whole_company")
    assert "está en garantía" in rosa.last_text()
    await tap(rosa, "c.product")
    assert "no tiene costo" in rosa.last_text()
    await _finish_on_site(rosa, world)
    [ticket] = await tickets(world)
    assert ticket.warranty is True and ticket.contract_id is None
    assert ticket.number in rosa.last_text()
    card = await world.team.card_for(ticket.number)
    assert "en garantía" in json.dumps(world.team.message(card).blocks, ensure_ascii=False)
    # The consultant confirms it at resolution: the Resolver modal proposes "sin cargo / garantía".
    await world.team.click(card, "desk_claim", as_user=AGENT_MARCO)
    await world.team.click(card, "desk_resolve", as_user=AGENT_MARCO)
    modal = await world.team.modal(AGENT_MARCO)
    [billing] = [b for b in modal.payload["blocks"] if b.get("block_id") == "billing"]
    assert billing["element"]["initial_option"]["value"] == "warranty"
    values = {"solution": {"value": "Se actualizó el firmware del router"}, "hours_remote": {"value": "1"}}
    await world.team.submit(modal, values, as_user=AGENT_MARCO)
    async with store(world).transaction() as tx:
        resolved = next(e for e in await tx.list_audit(ticket.id) if e.action == "resolved")
    assert resolved.data["charged"] is False and resolved.data["warranty_mark"] is True


async def test_r_event_a_per_event_purchase_order_is_not_used_twice(world: World) -> None:
    """R-EVENT: Paty's per-event contract covers one ticket; OC-4471 does not pass again."""
    paty = world.client(CLINICA_ID)
    async with store(world).transaction() as tx:
        [product] = await tx.list_products(world.demo.per_event_client_id)
    await paty.send("/reportar")
    await paty.send("OC-4471")
    await tap(paty, "a.wireless")
    await tap(paty, f"p.{product.id}")
    await tap(paty, "t.down")
    await tap(paty, "t.whole_company")
    await _finish_on_site(paty, world)
    [ticket] = await tickets(world)
    assert ticket.purchase_order == "OC-4471"
    await paty.send("/reportar")
    assert ticket.number in paty.last_text() and "OC-4471" in paty.last_text() and PHONES in paty.last_text()
    # Sales sells her a new event; the old order still cannot be used for it.
    async with store(world).transaction() as tx:
        await tx.add_contract(
            number="EV-2026-0102", client_id=world.demo.per_event_client_id, tier=Tier.PER_EVENT,
            starts_on=DEFAULT_NOW.date(), ends_on=DEFAULT_NOW.date() + timedelta(days=365), minutes_total=60,
        )  # fmt: skip
    await paty.send("/reportar")
    await paty.send("OC-4471")
    assert "ya se usó en el ticket" in paty.last_text() and ticket.number in paty.last_text()
    await paty.send("OC-4480")
    assert "¿Sobre qué servicio" in paty.last_text()
    assert len(await tickets(world)) == 1


async def test_r_contact_an_expired_poliza_says_vencida_with_its_date_and_the_phones(world: World) -> None:
    """R-CONTACT: /poliza for Jorge's expired contract said "Horas: 5 de 5 disponibles"."""
    jorge = world.client(NORTE_ID)
    await jorge.send("/poliza")
    text = jorge.last_text()
    assert "vencida" in text and "estuvo vigente hasta el" in text and "disponibles" not in text
    assert PHONES in text and EMAIL in text


async def test_a_scope_refusal_leads_back_to_the_menu(world: World) -> None:
    """ "Otro tema → Ninguna de estas" was a dead end; now its buttons lead back to the menu or a new report."""
    laura = world.client(LAURA_ID)
    await laura.send("/reportar")
    await tap(laura, "a.other")
    await tap(laura, "x.none")
    assert [data for _, data in laura.last_buttons()] == ["m:report", "m:menu"]
    await laura.tap("m:menu")
    assert "Mi póliza" in [label for label, _ in laura.last_buttons()]
    await laura.send("/reportar")
    await tap(laura, "a.other")
    await tap(laura, "x.training")
    assert PHONES in laura.last_text() and EMAIL in laura.last_text()
    await laura.tap("m:report")
    assert "¿Sobre qué servicio" in laura.last_text()
    assert await tickets(world) == []
