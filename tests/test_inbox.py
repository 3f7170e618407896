"""The durable inbox worker over the real SQLite store: the door, order per key, retries, sealing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.delivery import RetryPolicy
from bot.inbox import Arrival, InboxEntry, InboxWorker, NotYet, Receipt
from storage import SecretBox, Store, generate_key
from storage.records import InboxStatus
from storage.sqlite import SqliteStore

T0 = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await SqliteStore.open(tmp_path / "db.sqlite", SecretBox([generate_key()]))
    yield s
    await s.close()


def arrival(key: str, chat: str, text: str = "hola") -> Arrival:
    return Arrival("telegram", key, f"tg:chat:{chat}", "update", {"update_id": int(key), "text": text})


async def finish(store: Store, receipt: Receipt, at: datetime) -> None:
    async with store.transaction() as tx:
        assert await tx.finish_inbox(receipt.entry_id, receipt.worker, at)


async def test_received_once_handled_once_in_order_per_chat(store: Store) -> None:
    clock = FakeClock()
    worker = InboxWorker(store, clock=clock)
    seen: list[str] = []

    async def handle(entry: InboxEntry, receipt: Receipt) -> None:
        seen.append(str(entry.payload["text"]))
        await finish(store, receipt, clock())

    worker.register("telegram", "update", handle)
    ids = await worker.receive([arrival("1", "A", "a1"), arrival("2", "A", "a2"), arrival("3", "B", "b1")])
    assert all(i is not None for i in ids)
    assert await worker.receive([arrival("1", "A", "a1")]) == [None]  # the redelivery stops at the door
    await worker.drain()
    assert seen.index("a1") < seen.index("a2") and sorted(seen) == ["a1", "a2", "b1"]
    assert worker.counts["duplicate"] == 1 and worker.counts["handled"] == 3


async def test_not_yet_waits_without_counting_then_a_failure_retries_then_tells_the_person(store: Store) -> None:
    clock = FakeClock()
    worker = InboxWorker(store, clock=clock, policy=RetryPolicy(max_attempts=2, first_backoff=1))
    calls: list[str] = []
    told: list[str] = []

    async def handle(entry: InboxEntry, receipt: Receipt) -> None:
        calls.append("try")
        if len(calls) == 1:
            raise NotYet(5, "card not recorded")
        raise RuntimeError("boom")

    async def failed(entry: InboxEntry, receipt: Receipt, error: str) -> None:
        told.append(error)
        async with store.transaction() as tx:
            await tx.finish_inbox(receipt.entry_id, receipt.worker, clock(), status=InboxStatus.FAILED, error=error)

    worker.register("telegram", "update", handle, failed)
    [entry_id] = await worker.receive([arrival("1", "A")])
    assert entry_id is not None
    await worker.drain()
    clock.now += timedelta(seconds=5)
    await worker.drain()  # second try fails (attempt 1 of 2)
    clock.now += timedelta(seconds=5)
    await worker.drain()  # third try fails for good: the person is told
    assert calls == ["try"] * 3 and told == ["RuntimeError: boom"]
    async with store.transaction() as tx:
        entry = await tx.get_inbox(entry_id)
    assert entry is not None and entry.status is InboxStatus.FAILED and entry.attempts == 1


def _files_hold(folder: Path, needle: bytes) -> bool:
    return any(needle in path.read_bytes() for path in folder.glob("db.sqlite*"))


async def test_what_people_write_rests_sealed(store: Store, tmp_path: Path) -> None:
    """P-IN-3: a password message sits in the inbox before anyone knows it is one: never in clear."""
    box = SecretBox([generate_key()])
    worker = InboxWorker(store, clock=FakeClock(), box=box)
    got: list[str] = []

    async def handle(entry: InboxEntry, receipt: Receipt) -> None:
        got.append(str(entry.payload["text"]))

    worker.register("telegram", "update", handle)
    await worker.receive([arrival("1", "A", "k9#Lm2-secreto")])
    assert not await asyncio.to_thread(_files_hold, tmp_path, b"k9#Lm2-secreto")
    await worker.drain()
    assert got == ["k9#Lm2-secreto"]


async def test_outcome_reaches_the_edge_that_waits_for_it(store: Store) -> None:
    worker = InboxWorker(store, clock=FakeClock())

    async def handle(entry: InboxEntry, receipt: Receipt) -> dict[str, str]:
        await finish(store, receipt, T0)
        return {"severity": "no"}

    worker.register("slack", "view", handle)
    worker.start()
    try:
        [entry_id] = await worker.receive([Arrival("slack", "v1", "slack:user:U1", "view", {})])
        assert entry_id is not None
        assert await worker.outcome(entry_id, 2.0) == {"severity": "no"}
        assert await worker.outcome(999, 0.05) is None  # not handled here in time: no verdict, nothing lost
    finally:
        await worker.stop()


async def test_an_entry_nobody_handles_is_kept_for_a_person(store: Store) -> None:
    worker = InboxWorker(store, clock=FakeClock())
    [entry_id] = await worker.receive([Arrival("slack", "e1", "slack:user:U1", "mystery", {})])
    await asyncio.wait_for(worker.drain(), 5)
    async with store.transaction() as tx:
        entry = await tx.get_inbox(entry_id or 0)
    assert entry is not None and entry.status is InboxStatus.UNPARSED and "no handler" in (entry.error or "")
