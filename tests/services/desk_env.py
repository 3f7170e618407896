"""A real SQLite store with the demo company and a settable clock, for the desk use-case tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain.types import ServiceArea, Severity
from bot.i18n import Catalogue
from bot.services import outbox
from bot.services.context import Services
from bot.services.sla import start_response_clock
from bot.settings import Settings
from bot.wiring import build_calendar, response_targets, tier_rules
from sandbox.demo import LAURA_ID, Demo, seed_demo
from sandbox.testing import DEFAULT_NOW, FakeClock
from storage import SecretBox, Store, generate_key, open_store
from storage.records import CredentialKind, NewTicket, OutboxMessage, Ticket, Timer

PASSWORD = "k9#Lm2"


@dataclass
class DeskEnv:
    store: Store
    services: Services
    clock: FakeClock
    demo: Demo
    wakes: list[int] = field(default_factory=list)

    async def open(
        self, *, severity: Severity = Severity.CRITICAL, chat_id: int | None = LAURA_ID, description: str = "Sin red"
    ) -> Ticket:
        """A ticket as the intake's confirm leaves it (card queued, response clock started)."""
        s = self.services
        now = self.clock()
        start = s.calendar.next_open(now)
        async with self.store.transaction() as tx:
            contact = await tx.get_contact_by_telegram_user(LAURA_ID)
            assert contact is not None
            ticket = await tx.create_ticket(
                NewTicket(
                    client_id=contact.client_id,
                    contact_id=contact.id,
                    service_area=ServiceArea.FIREWALL,
                    severity=severity,
                    description=description,
                    opened_at=now,
                    contract_id=self.demo.contract_id,
                    product_id=self.demo.products["fortigate60"],
                    telegram_chat_id=chat_id,
                    clock_started_at=start,
                    response_due_at=s.calendar.add(start, s.targets[severity]),
                )
            )
            await tx.put_credential(ticket.id, CredentialKind.TEAMVIEWER_PASSWORD, "TeamViewer 1", PASSWORD, at=now)
            await outbox.slack_card(tx, ticket.id, at=now)
            await start_response_clock(tx, s, ticket)
        await self.drain()
        return ticket

    async def ticket(self, ticket_id: int) -> Ticket:
        async with self.store.transaction() as tx:
            found = await tx.get_ticket(ticket_id)
        assert found is not None
        return found

    async def drain(self) -> list[OutboxMessage]:
        """Every queued message, taken as the dispatcher would, marked sent (what the use case owed)."""
        taken: list[OutboxMessage] = []
        while True:
            async with self.store.transaction() as tx:
                rows = await tx.claim_outbox(self.clock() + timedelta(days=3650), "test", 500, 60)
                for row in rows:
                    await tx.mark_sent(row.id)
            if not rows:
                return taken
            taken += rows

    async def due_timers(self, at: datetime) -> list[Timer]:
        async with self.store.transaction() as tx:
            return await tx.claim_due_timers(at, "test", 100, 60)

    async def audit(self, ticket_id: int) -> list[str]:
        async with self.store.transaction() as tx:
            return [e.action for e in await tx.list_audit(ticket_id)]

    async def agent_id(self, slack_id: str) -> int:
        async with self.store.transaction() as tx:
            agent = await tx.get_agent_by_slack(slack_id)
        assert agent is not None
        return agent.id


def payloads(rows: list[OutboxMessage], kind: str) -> list[dict[str, Any]]:
    return [dict(r.payload) for r in rows if r.kind == kind]


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[DeskEnv]:
    settings = Settings(_env_file=None, database_path=tmp_path / "db.sqlite")  # type: ignore[call-arg]
    store = await open_store(tmp_path / "db.sqlite", SecretBox([generate_key()]))
    clock = FakeClock(DEFAULT_NOW)
    async with store.transaction() as tx:
        demo = await seed_demo(
            tx, today=DEFAULT_NOW.date(), now=clock(), rules=tier_rules(settings), invite_ttl=timedelta(hours=1)
        )
    env = DeskEnv(store, None, clock, demo)  # type: ignore[arg-type]
    env.services = Services(
        settings=settings,
        store=store,
        calendar=build_calendar(settings),
        tiers=tier_rules(settings),
        targets=response_targets(settings),
        catalogue=Catalogue.load(),
        clock=clock,
        wake_delivery=lambda: env.wakes.append(1),
    )
    try:
        yield env
    finally:
        await store.close()
