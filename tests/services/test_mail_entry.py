"""The mail entry's decisions without servers (P-IN-6): each message once, machines ignored, strangers answered
once a day, floods held, a number in a subject from another company ignored, a closed ticket's reply opening a new
one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain.types import TicketStatus
from bot.i18n import Catalogue
from bot.services import mail_entry
from bot.services.context import Services
from bot.services.mail_entry import Outcome
from bot.services.mail_events import MailReceived
from bot.services.mail_out import EMAIL
from bot.settings import Settings
from bot.wiring import build_calendar, response_targets, tier_rules
from sandbox.demo import LAURA_ID, NORTE_ID, seed_demo
from sandbox.testing import DEFAULT_NOW, FakeClock
from storage import SecretBox, Store, generate_key, open_store
from storage.records import OutboxMessage, OutboxStatus

LAURA = "laura@comercializadora.test"


class Env:
    def __init__(self, store: Store, services: Services, clock: FakeClock) -> None:
        self.store, self.services, self.clock = store, services, clock
        self.n = 0

    def mail(self, **changes: Any) -> MailReceived:
        self.n += 1
        base = MailReceived(message_id=f"<m{self.n}@cliente.test>", address=LAURA, name="Laura", subject="Sin red",
                            text="No hay red desde las 9.", arrived_at=self.clock())  # fmt: skip
        return replace(base, **changes)

    async def handle(self, mail: MailReceived) -> Outcome | None:
        return await mail_entry.handle(self.services, None, mail)

    async def sent(self) -> list[OutboxMessage]:
        async with self.store.transaction() as tx:
            rows = await tx.list_outbox(OutboxStatus.PENDING, limit=1000)
        return [r for r in rows if r.destination == EMAIL]


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_path=tmp_path / "db.sqlite", imap_host="imap.test", smtp_host="smtp.test",
        mail_max_tickets_per_hour=2,
    )  # fmt: skip
    store = await open_store(tmp_path / "db.sqlite", SecretBox([generate_key()]))
    clock = FakeClock(DEFAULT_NOW)
    async with store.transaction() as tx:
        await seed_demo(tx, today=DEFAULT_NOW.date(), now=clock(), rules=tier_rules(settings),
                        invite_ttl=timedelta(hours=1))  # fmt: skip
        laura = await tx.get_contact_by_telegram_user(LAURA_ID)
        assert laura is not None
        await tx.set_contact_email(laura.id, LAURA)
    services = Services(
        settings=settings, store=store, calendar=build_calendar(settings), tiers=tier_rules(settings),
        targets=response_targets(settings), catalogue=Catalogue.load(), box=SecretBox([generate_key()]), clock=clock,
    )  # fmt: skip
    try:
        yield Env(store, services, clock)
    finally:
        await store.close()


async def test_the_same_message_read_again_opens_nothing_more(env: Env) -> None:
    first = env.mail()
    assert await env.handle(first) is Outcome.TICKET
    assert await env.handle(first) is Outcome.DUPLICATE  # its inbox entry forgotten, read again: one ticket
    async with env.store.transaction() as tx:
        assert len(await tx.list_tickets()) == 1


async def test_machines_get_nothing(env: Env) -> None:
    assert await env.handle(env.mail(automatic="auto-submitted: auto-replied")) is Outcome.AUTOMATIC
    assert await env.handle(env.mail(address="")) is Outcome.AUTOMATIC
    assert await env.sent() == []


async def test_a_stranger_is_answered_once_a_day(env: Env) -> None:
    for _ in range(3):
        assert await env.handle(env.mail(address="alguien@x.test")) is Outcome.UNMATCHED
    assert len(await env.sent()) == 1
    env.clock.advance(days=1)
    await env.handle(env.mail(address="alguien@x.test"))
    assert len(await env.sent()) == 2


async def test_a_flood_is_held_after_the_hourly_allowance(env: Env) -> None:
    outcomes = [await env.handle(env.mail(subject=f"Reporte {n}")) for n in range(4)]
    assert outcomes == [Outcome.TICKET, Outcome.TICKET, Outcome.UNMATCHED, Outcome.UNMATCHED]
    env.clock.advance(hours=1, minutes=1)
    assert await env.handle(env.mail()) is Outcome.TICKET


async def test_a_number_in_a_subject_from_another_company_reaches_nothing(env: Env) -> None:
    assert await env.handle(env.mail()) is Outcome.TICKET
    async with env.store.transaction() as tx:
        [ticket] = await tx.list_tickets()
        jorge = await tx.get_contact_by_telegram_user(NORTE_ID)
        assert jorge is not None
        await tx.set_contact_email(jorge.id, "jorge@norte.test")
    forged = env.mail(address="jorge@norte.test", subject=f"Re: [{ticket.number}] Sin red", text="hola")
    assert await env.handle(forged) is Outcome.REFUSED  # his own (expired) contract decides, not her ticket
    async with env.store.transaction() as tx:
        assert [e.action for e in await tx.list_audit(ticket.id)].count("client_message") == 0


async def test_a_reply_to_a_closed_ticket_opens_a_new_one(env: Env) -> None:
    first = env.mail()
    await env.handle(first)
    async with env.store.transaction() as tx:
        [ticket] = await tx.list_tickets()
        await tx.update_ticket(ticket.id, ticket.version, status=TicketStatus.CLOSED)
    assert await env.handle(env.mail(answers=(first.message_id,), subject=f"Re: [{ticket.number}] Sin red")) is (
        Outcome.TICKET
    )
