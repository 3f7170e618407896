"""The outbox dispatcher and the timer scheduler over the real SQLite store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.delivery import Dispatcher, PermanentFailure, RetryLater, RetryPolicy, Scheduler
from storage import SecretBox, Store, Tx, generate_key
from storage.records import OutboxStatus, Timer, TimerStatus
from storage.sqlite import SqliteStore

T0 = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await SqliteStore.open(tmp_path / "db.sqlite", SecretBox([generate_key()]))
    yield s
    await s.close()


async def enqueue(store: Store, key: str, n: int, **kw: Any) -> None:
    async with store.transaction() as tx:
        await tx.enqueue("telegram", key, "send", {"n": n}, at=T0, **kw)


async def status_of(store: Store, message_id: int) -> OutboxStatus:
    async with store.transaction() as tx:
        row = await tx.get_outbox(message_id)
    assert row is not None
    return row.status


async def test_delivers_in_order_per_chat(store: Store) -> None:
    clock = FakeClock()
    sent: list[tuple[str, int]] = []
    d = Dispatcher(store, clock=clock)

    async def send(payload: Mapping[str, Any]) -> None:
        sent.append((payload["chat"], payload["n"]))

    d.register("telegram", "send", send)
    async with store.transaction() as tx:
        for n in range(3):
            for chat in ("a", "b"):
                await tx.enqueue("telegram", chat, "send", {"chat": chat, "n": n}, at=T0)
    for _ in range(5):
        await d.run_once()
    assert [n for chat, n in sent if chat == "a"] == [0, 1, 2]
    assert [n for chat, n in sent if chat == "b"] == [0, 1, 2]


async def test_retry_after_is_honoured_and_blocks_the_chat(store: Store) -> None:
    """A 429 with retry_after delays that row, and the chat's later messages wait behind it."""
    clock = FakeClock()
    sent: list[int] = []
    fail_once = {0}

    async def send(payload: Mapping[str, Any]) -> None:
        if payload["n"] in fail_once:
            fail_once.discard(payload["n"])
            raise RetryLater(7)
        sent.append(payload["n"])

    d = Dispatcher(store, clock=clock)
    d.register("telegram", "send", send)
    await enqueue(store, "chat", 0)
    await enqueue(store, "chat", 1)
    await d.run_once()
    await d.run_once()
    assert sent == []  # message 1 may not overtake message 0
    clock.advance(6.9)
    await d.run_once()
    assert sent == []
    clock.advance(0.2)
    await d.run_once()
    await d.run_once()
    assert sent == [0, 1]


async def test_unexpected_error_backs_off_then_gives_up(store: Store) -> None:
    clock = FakeClock()
    calls = 0

    async def send(payload: Mapping[str, Any]) -> None:
        nonlocal calls
        calls += 1
        raise ConnectionError("down")

    d = Dispatcher(store, clock=clock, policy=RetryPolicy(max_attempts=3, first_backoff=1, max_backoff=10))
    d.register("telegram", "send", send)
    await enqueue(store, "chat", 0)
    for _ in range(10):
        await d.run_once()
        clock.advance(5)
    assert calls == 3
    assert await status_of(store, 1) is OutboxStatus.DEAD


async def test_permanent_failure_and_unknown_kind_are_dead_at_once(store: Store) -> None:
    async def send(payload: Mapping[str, Any]) -> None:
        raise PermanentFailure("Forbidden: bot was blocked by the user")

    d = Dispatcher(store, clock=FakeClock())
    d.register("telegram", "send", send)
    await enqueue(store, "chat", 0)
    async with store.transaction() as tx:
        await tx.enqueue("slack", "C1", "nobody_sends_this", {}, at=T0)
    await d.run_once()
    assert await status_of(store, 1) is OutboxStatus.DEAD
    assert await status_of(store, 2) is OutboxStatus.DEAD


async def test_crash_mid_send_is_redelivered_after_the_lease(store: Store, tmp_path: Path) -> None:
    """Nothing lost when a process dies: a claimed row whose worker vanished goes out again."""
    clock = FakeClock()
    dead = Dispatcher(store, clock=clock, lease=30)
    started = asyncio.Event()

    async def hang(payload: Mapping[str, Any]) -> None:
        started.set()
        await asyncio.sleep(3600)

    dead.register("telegram", "send", hang)
    await enqueue(store, "chat", 0)
    task = asyncio.create_task(dead.run_once())
    await started.wait()
    task.cancel()  # the process "dies" between claim and mark_sent
    with pytest.raises(asyncio.CancelledError):
        await task
    sent: list[int] = []

    async def send(payload: Mapping[str, Any]) -> None:
        sent.append(payload["n"])

    alive = Dispatcher(store, clock=clock, lease=30)
    alive.register("telegram", "send", send)
    await alive.run_once()
    assert sent == []  # still leased by the dead worker
    clock.advance(31)
    await alive.run_once()
    assert sent == [0]


async def test_background_loop_wakes_on_demand(store: Store) -> None:
    got = asyncio.Event()

    async def send(payload: Mapping[str, Any]) -> None:
        got.set()

    d = Dispatcher(store, poll_interval=60)
    d.register("telegram", "send", send)
    d.start()
    try:
        await asyncio.sleep(0.05)
        async with store.transaction() as tx:
            await tx.enqueue("telegram", "c", "send", {"n": 1}, at=datetime.now(UTC))
        d.wake()
        await asyncio.wait_for(got.wait(), 5)
    finally:
        await d.stop()


async def test_timer_effect_and_completion_commit_together(store: Store) -> None:
    clock = FakeClock()
    s = Scheduler(store, clock=clock, policy=RetryPolicy(max_attempts=2))
    attempts = 0

    async def remind(tx: Tx, timer: Timer) -> None:
        nonlocal attempts
        attempts += 1
        await tx.enqueue("telegram", "c", "send", {"reminder": timer.payload["n"]}, at=clock())
        if attempts == 1:
            raise RuntimeError("boom after writing")

    s.register("remind", remind)
    async with store.transaction() as tx:
        timer_id = await tx.schedule_timer("remind", T0 + timedelta(minutes=5), payload={"n": 1})
    assert timer_id is not None
    await s.run_once()
    assert attempts == 0  # not due yet
    clock.advance(301)
    await s.run_once()  # fails: its outbox row is rolled back with it
    async with store.transaction() as tx:
        assert await tx.claim_outbox(clock(), "probe", 10, 1) == []
    clock.advance(61)  # lease expired: claimed again
    await s.run_once()
    async with store.transaction() as tx:
        timer = await tx.get_timer(timer_id)
        rows = await tx.claim_outbox(clock(), "probe", 10, 1)
    assert timer is not None and timer.status is TimerStatus.DONE
    assert [dict(r.payload) for r in rows] == [{"reminder": 1}]
