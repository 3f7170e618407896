"""Shared fixtures of the intake service tests: a real SQLite store with the demo company, and outbox reads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.i18n import Catalogue
from bot.services.context import Services
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
        clock=clock,
    )
    try:
        yield Env(services, clock, demo, SecretBox(list(settings.secrets_keys)))
    finally:
        await store.close()


def at(hour: int, minute: int = 0, day: int = 24) -> datetime:
    return DEFAULT_NOW.replace(day=day, hour=hour, minute=minute)
