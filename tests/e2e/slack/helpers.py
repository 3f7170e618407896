"""Helpers of the desk end-to-end tests: a ticket opened as the intake's confirm does, and store reads."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.types import ServiceArea, Severity
from bot.services import outbox
from bot.services.context import Services
from bot.services.sla import start_response_clock
from sandbox.demo import LAURA_ID
from sandbox.testing import World
from storage import Store
from storage.records import CredentialKind, NewTicket, Ticket

TV_PASSWORD = "k9#Lm2"


@dataclass(frozen=True)
class Opened:
    ticket: Ticket


def parts(world: World) -> tuple[Store, Services]:
    assert world.bot.store is not None and world.bot.services is not None
    return world.bot.store, world.bot.services


async def open_ticket(
    world: World,
    *,
    description: str = "No hay internet en toda la oficina, el firewall tiene la luz de alarma en rojo.",
    severity: Severity = Severity.CRITICAL,
    chat_id: int = LAURA_ID,
    with_password: bool = True,
) -> Ticket:
    """What the intake's confirm does: create the ticket, store the password, audit, queue the card."""
    store, services = parts(world)
    now = services.clock()
    start = services.calendar.next_open(now)
    async with store.transaction() as tx:
        contact = await tx.get_contact_by_telegram_user(chat_id)
        assert contact is not None
        ticket = await tx.create_ticket(
            NewTicket(
                client_id=contact.client_id,
                contact_id=contact.id,
                service_area=ServiceArea.FIREWALL,
                severity=severity,
                description=description,
                opened_at=now,
                contract_id=world.demo.contract_id,
                product_id=world.demo.products["fortigate60"],
                telegram_chat_id=chat_id,
                clock_started_at=start,
                response_due_at=services.calendar.add(start, services.targets[severity]),
                slack_channel=services.settings.slack_support_channel,
            )
        )
        if with_password:
            await tx.put_credential(
                ticket.id, CredentialKind.TEAMVIEWER_PASSWORD, "TeamViewer 123 456 789", TV_PASSWORD, at=now
            )
        await tx.append_audit(
            ticket.id,
            at=now,
            actor_kind="client",
            actor_id=str(chat_id),
            action="opened",
            data={"severity": int(severity)},
        )
        await outbox.slack_card(tx, ticket, at=now)
        await start_response_clock(tx, services, ticket)
    services.wake_delivery()
    await world.settle()
    return ticket


async def ticket(world: World, ticket_id: int) -> Ticket:
    store, _ = parts(world)
    async with store.transaction() as tx:
        found = await tx.get_ticket(ticket_id)
    assert found is not None
    return found


async def audit_actions(world: World, ticket_id: int) -> list[str]:
    store, _ = parts(world)
    async with store.transaction() as tx:
        return [e.action for e in await tx.list_audit(ticket_id)]
