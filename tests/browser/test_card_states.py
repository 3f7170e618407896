"""The card in every state, in a real browser: one screenshot per state, kept in test-output/card-states/ (git
ignores it; CARD_SCREENSHOTS names another folder) so they outlive pytest's temporary folders. Each is printed.

The story runs through the page where the page can play it (Tomar, the modals), and through the stand-ins for
the rest (the client on Telegram, a manager's DM, the clock). Each picture is of the card alone.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from playwright.async_api import Locator, Page, expect

from bot.domain.types import ServiceArea, Severity
from bot.services import outbox
from bot.services.sla import start_response_clock
from sandbox.demo import AGENT_ANA, AGENT_MARCO, LAURA_ID, QUALITY_SOFIA
from sandbox.run import SandboxApp
from sandbox.testing import MEXICO, FakeClock
from storage.records import NewTicket

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]

VISIT = '{"address": "Av. Reforma 100, Centro, Puebla", "contact": "Luis Ramos, 222 555 0101", "rules": "Casco"}'


async def settle(sandbox: SandboxApp) -> None:
    for _ in range(3):
        assert sandbox.bot.scheduler is not None
        await sandbox.bot.scheduler.drain()
        await sandbox.bot.settle()
        await sandbox.slack.wait_quiet(0.05, 5.0)


async def open_ticket(sandbox: SandboxApp, *, description: str, onsite: bool = False) -> str:
    """A ticket as the intake's confirm leaves it (since this morning, on site or with remote access)."""
    store, services = sandbox.bot.store, sandbox.bot.services
    assert store is not None and services is not None
    now = services.clock()
    start = services.calendar.next_open(now)
    async with store.transaction() as tx:
        contact = await tx.get_contact_by_telegram_user(LAURA_ID)
        assert contact is not None
        ticket = await tx.create_ticket(
            NewTicket(
                client_id=contact.client_id,
                contact_id=contact.id,
                service_area=ServiceArea.FIREWALL,
                severity=Severity.CRITICAL,
                description=description,
                opened_at=now,
                contract_id=sandbox.demo.contract_id,
                product_id=sandbox.demo.products["fortigate60"],
                since_at=datetime(2026, 11, 24, 6, 0, tzinfo=MEXICO),
                onsite_details=VISIT if onsite else None,
                telegram_chat_id=LAURA_ID,
                clock_started_at=start,
                response_due_at=services.calendar.add(start, services.targets[Severity.CRITICAL]),
                slack_channel=services.settings.slack_support_channel,
            )
        )
        opened = {"severity": 1, "since_precision": "part_of_day", "since_part": "morning"}
        await tx.append_audit(ticket.id, at=now, actor_kind="client", actor_id=str(LAURA_ID), action="opened",
                              data=opened)  # fmt: skip
        await outbox.slack_card(tx, ticket, at=now)
        await start_response_clock(tx, services, ticket)
    await settle(sandbox)
    return ticket.number


async def shot(card: Locator, folder: Path, name: str) -> None:
    path = folder / f"tarjeta-{name}.png"
    await card.screenshot(path=str(path))
    print(f"screenshot: {path}")
    assert path.stat().st_size > 1000


async def submit_modal(page: Page, fields: dict[str, str]) -> None:
    modal = page.locator("#slack-modal")
    await expect(modal).to_be_visible()
    for block_id, value in fields.items():
        await modal.locator(f"textarea[data-block-id='{block_id}'], input[data-block-id='{block_id}']").fill(value)
    await page.click("#slack-modal-submit")
    await expect(modal).to_be_hidden()


@pytest.fixture
def card_shots() -> Path:
    """Where the pictures of this test go, emptied of an earlier run's."""
    folder = Path(os.environ.get("CARD_SCREENSHOTS") or ROOT / "test-output" / "card-states")
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("tarjeta-*.png"):
        old.unlink()
    return folder


async def test_the_card_in_each_state(page: Page, sandbox: SandboxApp, card_shots: Path) -> None:
    shots = card_shots
    page.set_default_timeout(8000)
    await sandbox.telegram.send_text(LAURA_ID, "/start")
    await settle(sandbox)
    number = await open_ticket(sandbox, description="No hay internet en toda la oficina, la alarma está en rojo.")
    await page.select_option("#slack-person", AGENT_MARCO)
    card = page.locator("#slack-channel .slack-msg", has_text=number)
    await expect(card).to_contain_text("nuevo, sin asignar")
    await expect(card).to_contain_text("Reporta: Laura Pérez")
    await shot(card, shots, "1-nuevo")

    await card.locator("button.bk-button", has_text="Tomar").click()
    await expect(card).to_contain_text("asignado a")
    await shot(card, shots, "2-asignado")

    await card.locator("button.bk-button", has_text="Pedir información").click()
    await submit_modal(page, {"question": "¿Qué luz está encendida en el firewall?"})
    await expect(card).to_contain_text("en espera del cliente")
    await shot(card, shots, "3-en-espera-del-cliente")

    await sandbox.telegram.send_text(LAURA_ID, "La roja de alarma")
    await settle(sandbox)
    await card.locator("button.bk-button", has_text="Escalar").click()
    await submit_modal(page, {"reason": "Necesitamos al fabricante"})
    await expect(card).to_contain_text("Escalación pendiente")
    await shot(card, shots, "4-escalacion-pendiente")

    [request] = [m for m in sandbox.slack.messages.values() if m.channel == sandbox.slack.dm_with(QUALITY_SOFIA).id]
    await sandbox.slack.actions.click(QUALITY_SOFIA, request.channel, request.ts, "desk_approve")
    await settle(sandbox)
    await expect(card).to_contain_text("escalado a nivel 2")
    await shot(card, shots, "5-escalado-nivel-2")

    await card.locator("button.bk-button", has_text="Resolver").click()
    await submit_modal(page, {"solution": "Se reemplazó la fuente de poder", "hours_remote": "1.5"})
    await expect(card).to_contain_text("resuelto por")
    await shot(card, shots, "6-resuelto")

    solution = [m for m in sandbox.telegram.history(LAURA_ID) if "Solución" in m["text"]][-1]
    ticket_id = next(b["callback_data"] for row in solution["buttons"] for b in row).split(":")[2]
    await sandbox.telegram.tap(LAURA_ID, solution["message_id"], f"desk:reopen:{ticket_id}")
    await settle(sandbox)
    await expect(card).to_contain_text("reabierto")
    await shot(card, shots, "7-reabierto")

    await card.locator("button.bk-button", has_text="Resolver").click()
    await submit_modal(page, {"solution": "Listo", "hours_remote": "0.5"})
    await expect(card).to_contain_text("resuelto por")
    solution = [m for m in sandbox.telegram.history(LAURA_ID) if "Solución" in m["text"]][-1]
    await sandbox.telegram.tap(LAURA_ID, solution["message_id"], f"desk:ok:{ticket_id}")
    await settle(sandbox)
    await expect(card).to_contain_text("Estado: cerrado")
    await shot(card, shots, "8-cerrado")

    visit = await open_ticket(
        sandbox, description="El switch del segundo piso no enciende desde la mañana.", onsite=True
    )
    on_site = page.locator("#slack-channel .slack-msg", has_text=visit)
    await expect(on_site).to_contain_text("Dirección de la visita")
    # The card by its place: the SLA warning posted later names the ticket too.
    on_site = page.locator(f"#slack-channel .slack-msg[data-ts='{await on_site.get_attribute('data-ts')}']")
    await expect(on_site).to_contain_text("en la mañana")
    await shot(on_site, shots, "9-en-sitio")

    await page.select_option("#slack-person", QUALITY_SOFIA)  # a manager assigns it, with the user picker
    await on_site.locator("button.bk-button", has_text="Asignar").click()
    await expect(page.locator("#slack-modal")).to_be_visible()
    await page.select_option("#slack-modal-body select[data-block-id='agent']", AGENT_ANA)
    await page.click("#slack-modal-submit")
    await expect(on_site).to_contain_text("asignado a @Ana")
    await shot(on_site, shots, "10-asignado-por-calidad")

    clock = cast(FakeClock, sandbox.bot.clock)
    clock.set(clock() + timedelta(days=2))  # past the 8 business hours: Thursday morning
    await settle(sandbox)
    await expect(on_site).to_contain_text("vencido")
    await shot(on_site, shots, "11-vencido")
