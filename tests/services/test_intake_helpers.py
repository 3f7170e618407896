"""Shared fixtures of the intake service tests: a real SQLite store with the demo company, and outbox reads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.conversation import Choice, Command, Input
from bot.i18n import Catalogue
from bot.inbox import Receipt
from bot.services import client_entry
from bot.services.context import Services
from bot.services.events import ButtonTapped, ClientAct, ClientEvent, CommandSent, MessageSent, Person
from bot.settings import Settings
from bot.wiring import build_calendar, open_store, response_targets, tier_rules
from sandbox.demo import Demo, seed_demo
from sandbox.testing import DEFAULT_NOW, FakeClock
from storage import SecretBox, generate_key
from storage.records import OutboxMessage


@dataclass
class Env:
    """The services under test, their clock, the demo ids and the key box."""

    services: Services
    clock: FakeClock
    demo: Demo
    box: SecretBox
    updates: int = 0

    def key(self) -> str:
        """A fresh Telegram update key."""
        self.updates += 1
        return str(self.updates)

    async def say(
        self, act: ClientAct, user: int, *, key: str | None = None, lang: str = "es", first_name: str = ""
    ) -> bool:
        """One client event through the inbox, as the worker hands it to the client entry.
        Returns: False when `key` was received before (a redelivery: nothing is done twice)."""
        return await deliver(self.services, act, Person(user, user, lang, first_name), key=key or self.key())

    async def outbox(self) -> list[OutboxMessage]:
        """Every row queued since the last read, in order (each marked sent, as the dispatcher would)."""
        rows: list[OutboxMessage] = []
        while True:
            async with self.services.store.transaction() as tx:
                batch = await tx.claim_outbox(self.clock() + timedelta(days=3650), "test", 1000, 60.0)
                for row in batch:
                    await tx.mark_sent(row.id)
            if not batch:
                return sorted(rows, key=lambda r: r.id)
            rows.extend(batch)

    async def texts(self) -> list[str]:
        """The Telegram texts queued since the last read."""
        return [str(r.payload["text"]) for r in await self.outbox() if r.kind == "send"]


def as_act(event: Input) -> ClientAct:
    """What the Telegram adapter makes of an input: a tap, a command, or a message."""
    if isinstance(event, Choice):
        return ButtonTapped(event.data, f"q-{event.data}")
    if isinstance(event, Command):
        return CommandSent(event.name, event.text.partition(" ")[2].strip(), event)
    return MessageSent(event)


def command(name: str, argument: str = "") -> CommandSent:
    text = f"/{name} {argument}".strip()
    return CommandSent(name, argument, Command(name, text))


async def deliver(services: Services, act: ClientAct, who: Person, *, key: str) -> bool:
    """Commit the event to the inbox (a key seen before is a redelivery), claim it, run the client entry."""
    now = services.clock()
    async with services.store.transaction() as tx:
        entry_id = await tx.add_inbox("telegram", key, f"tg:chat:{who.chat_id}", "update", {}, at=now)
        if entry_id is None:
            return False
        claimed = await tx.claim_inbox(now, "test-worker", 1000, 60.0)
        assert entry_id in [c.id for c in claimed]
    await client_entry.handle(services, Receipt(entry_id, "test-worker"), ClientEvent(who, act))
    return True


def make_settings(tmp: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"database_path": tmp / "bot.db", "secrets_keys": [generate_key()]}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    settings = make_settings(tmp_path)
    store = await open_store(settings)
    clock = FakeClock(DEFAULT_NOW)
    async with store.transaction() as tx:
        demo = await seed_demo(
            tx,
            today=DEFAULT_NOW.date(),
            now=clock(),
            rules=tier_rules(settings),
            invite_ttl=timedelta(hours=72),
        )
    services = Services(
        settings=settings,
        store=store,
        calendar=build_calendar(settings),
        tiers=tier_rules(settings),
        targets=response_targets(settings),
        catalogue=Catalogue.load(),
        box=SecretBox(list(settings.secrets_keys)),
        clock=clock,
    )
    try:
        yield Env(services, clock, demo, SecretBox(list(settings.secrets_keys)))
    finally:
        await store.close()


def at(hour: int, minute: int = 0, day: int = 24) -> datetime:
    return DEFAULT_NOW.replace(day=day, hour=hour, minute=minute)
