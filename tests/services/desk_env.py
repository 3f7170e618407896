"""A real SQLite store with the demo company and a settable clock, for the desk use-case tests."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.delivery import Dispatcher, Outgoing
from bot.domain.types import ServiceArea, Severity
from bot.i18n import Catalogue
from bot.inbox import Receipt
from bot.services import delivered, desk_entry, escalation, outbox
from bot.services.context import Services
from bot.services.desk import RelayOutcome
from bot.services.events import ThreadMessage
from bot.services.sla import start_response_clock
from bot.settings import Settings
from bot.wiring import build_calendar, response_targets, tier_rules
from sandbox.demo import LAURA_ID, Demo, seed_demo
from sandbox.testing import DEFAULT_NOW, FakeClock
from storage import SecretBox, Store, generate_key, open_store
from storage.records import CredentialKind, Escalation, NewTicket, OutboxMessage, Ticket, Timer

PASSWORD = "k9#Lm2"
T = TypeVar("T")


@dataclass
class DeskEnv:
    store: Store
    services: Services
    clock: FakeClock
    demo: Demo
    wakes: list[int] = field(default_factory=list)

    async def open(
        self,
        *,
        severity: Severity = Severity.CRITICAL,
        chat_id: int | None = LAURA_ID,
        description: str = "Sin red",
        warranty: bool = False,
    ) -> Ticket:
        """A ticket as the intake's confirm leaves it (card queued, response clock started); `warranty`: the
        intake found it free (R-WARRANTY)."""
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
                    warranty=warranty,
                )
            )
            await tx.put_credential(ticket.id, CredentialKind.TEAMVIEWER_PASSWORD, "TeamViewer 1", PASSWORD, at=now)
            await outbox.slack_card(tx, ticket, at=now)
            await start_response_clock(tx, s, ticket)
        await self.drain()
        return ticket

    async def do(self, use_case: Callable[..., Awaitable[T]], **kwargs: Any) -> T:
        """Run one desk use case in its own transaction, now (as its entry would), and wake delivery."""
        params = inspect.signature(use_case).parameters
        async with self.store.transaction() as tx:
            args: list[Any] = [tx, self.services] if "services" in params else [tx]
            if "at" in params:
                kwargs.setdefault("at", self.clock())
            result = await use_case(*args, **kwargs)
        self.services.wake_delivery()
        return result

    async def decide(self, **kwargs: Any) -> Escalation:
        """An escalation decision; a refusal (returned, with its audit row committed) is raised."""
        kwargs.setdefault("reason", None)
        result = await self.do(escalation.decide_in_tx, **kwargs)
        if isinstance(result, Exception):
            raise result
        return result

    async def thread_message(self, message: ThreadMessage, key: str) -> RelayOutcome | None:
        """A thread reply through the inbox, as the Slack edge commits it. Returns: the relay's outcome, or
        None for a redelivered event (same key: nothing is done twice)."""
        now = self.clock()
        async with self.store.transaction() as tx:
            entry_id = await tx.add_inbox("slack", key, f"slack:msg:{message.channel}:{message.thread_ts}",
                                          "message", {}, at=now)  # fmt: skip
            if entry_id is None:
                return None
            await tx.claim_inbox(now, "test-worker", 1000, 60.0)
        return await desk_entry.handle_message(self.services, Receipt(entry_id, "test-worker"), message)

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

    async def deliver(self) -> list[OutboxMessage]:
        """Every queued message delivered through the real dispatcher, each platform accepting it, with the
        hooks that record what a delivery means (bot.services.delivered: a reply that reached the client...)."""
        dispatcher = Dispatcher(self.store, clock=self.clock)
        taken: list[OutboxMessage] = []

        async def accept(out: Outgoing) -> dict[str, Any]:
            taken.append(out.row)
            return {}

        for name in dir(outbox):
            value = getattr(outbox, name)
            if isinstance(value, str) and name.startswith(("TG_", "SLACK_")):
                destination = outbox.TELEGRAM if name.startswith("TG_") else outbox.SLACK
                dispatcher.register(destination, value, accept)
        delivered.register(dispatcher, self.services)
        await dispatcher.drain()
        return taken

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
        box=SecretBox([generate_key()]),
        clock=clock,
        wake_delivery=lambda: env.wakes.append(1),
    )
    try:
        yield env
    finally:
        await store.close()
