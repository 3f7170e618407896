"""Helpers shared by the storage contract suites: a fixed clock, seed data and the fixture types."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.domain.types import Role, ServiceArea, Severity, Tier
from storage.base import Store
from storage.records import NewTicket, Ticket
from storage.secrets import SecretBox

# Opens another Store on the same database with the given keys (the backend's test module provides it).
StoreFactory = Callable[[SecretBox], Awaitable[Store]]

T0 = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)


def at(minutes: float = 0) -> datetime:
    """T0 shifted by minutes: tests stand at a fixed point in time."""
    return T0 + timedelta(minutes=minutes)


@dataclass(frozen=True)
class Seed:
    client_id: int
    other_client_id: int
    contact_id: int
    contract_id: int
    product_id: int
    agent_id: int
    manager_id: int


async def seed(store: Store) -> Seed:
    """One client with a contact, a contract, a product; a second client; an agent and a manager."""
    async with store.transaction() as tx:
        client = await tx.add_client("Acme SA de CV", phone="+52 55 1111 2222", tax_id="ACM010101AAA", at=T0)
        other = await tx.add_client("Beta SC", at=T0)
        contact = await tx.add_contact(client.id, "Ana", phone="55 1234 5678", telegram_user_id=1001, at=T0)
        contract = await tx.add_contract(
            number="POL-0001",
            client_id=client.id,
            tier=Tier.BUSINESS,
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 12, 31),
            minutes_total=20 * 60,
        )
        product = await tx.add_product(client.id, "Firewall FG-60", ServiceArea.FIREWALL, contract_id=contract.id)
        agent = await tx.add_agent("Luis", "U0AGENT", Role.AGENT)
        manager = await tx.add_agent("Marta", "U0QUALITY", Role.QUALITY_MANAGER)
    return Seed(client.id, other.id, contact.id, contract.id, product.id, agent.id, manager.id)


def new_ticket(s: Seed, **overrides: Any) -> NewTicket:
    values: dict[str, Any] = {
        "client_id": s.client_id,
        "contact_id": s.contact_id,
        "service_area": ServiceArea.FIREWALL,
        "severity": Severity.HIGH,
        "description": "El firewall reinicia cada hora",
        "opened_at": T0,
        "contract_id": s.contract_id,
        "product_id": s.product_id,
        "telegram_chat_id": 5001,
    }
    values.update(overrides)
    return NewTicket(**values)


async def create_ticket(store: Store, s: Seed, **overrides: Any) -> Ticket:
    async with store.transaction() as tx:
        return await tx.create_ticket(new_ticket(s, **overrides))
