"""The outbox dispatcher and the timer scheduler over the real SQLite store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.delivery import Dispatcher, Outgoing, PermanentFailure, RetryLater, RetryPolicy, Scheduler, Unavailable
from bot.pacing import Limit, Pacer
from storage import SecretBox, Store, Tx, generate_key
from storage.records import OutboxMessage, OutboxStatus, Timer, TimerStatus
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

    async def send(out: Outgoing) -> None:
        payload = out.payload
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

    async def send(out: Outgoing) -> None:
        payload = out.payload
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

    async def send(out: Outgoing) -> None:
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
    async def send(out: Outgoing) -> None:
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

    async def hang(out: Outgoing) -> None:
        started.set()
        await asyncio.sleep(3600)

    dead.register("telegram", "send", hang)
    await enqueue(store, "chat", 0)
    task = asyncio.create_task(dead.run_once())
    await started.wait()
    await dead.stop()  # the process "dies" between claim and mark_sent
    await task
    sent: list[int] = []

    async def send(out: Outgoing) -> None:
        payload = out.payload
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

    async def send(out: Outgoing) -> None:
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


async def test_a_rate_limit_is_a_wait_never_a_dead_letter(store: Store) -> None:
    """A 429 (RetryLater) and an outage (Unavailable) wait and try again as often as it takes: 20 of them
    in a row, far past max_attempts, and the row is still delivered, with no failed attempt counted."""
    clock = FakeClock()
    refusals = [RetryLater(2, "429")] * 10 + [Unavailable("503")] * 10
    sent: list[int] = []

    async def send(out: Outgoing) -> None:
        if refusals:
            raise refusals.pop(0)
        sent.append(out.payload["n"])

    d = Dispatcher(store, clock=clock, policy=RetryPolicy(max_attempts=3, first_backoff=1, max_outage_backoff=4))
    d.register("telegram", "send", send)
    await enqueue(store, "chat", 7)
    for _ in range(40):
        await d.run_once()
        clock.advance(5)
    assert sent == [7]
    async with store.transaction() as tx:
        row = await tx.get_outbox(1)
    assert row is not None and row.status is OutboxStatus.SENT and row.attempts == 0 and row.claims == 21
    assert d.counts["rate_limited"] == 10 and d.counts["dead"] == 0


async def test_a_deferred_row_goes_back_without_an_attempt(store: Store) -> None:
    clock = FakeClock()
    turns: list[str] = []

    async def send(out: Outgoing) -> None:
        async with out.turn("slack:post:C1"):
            turns.append(str(out.payload["n"]))

    # One post per 60 s in this lane, held at most 1 s: the second row is deferred, not failed.
    pacer = Pacer(lambda key: Limit(1, 60.0) if key.startswith("slack:post:") else None)
    d = Dispatcher(store, clock=clock, pacer=pacer, hold=1.0)
    d.register("slack", "card", send)
    async with store.transaction() as tx:
        for n in range(2):
            await tx.enqueue("slack", f"ticket:{n}", "card", {"n": n}, at=T0, pace_key="slack:post:C1")
    await d.run_once()
    assert turns == ["0"]
    async with store.transaction() as tx:
        second = await tx.get_outbox(2)
    assert second is not None and second.status is OutboxStatus.PENDING and second.attempts == 0
    assert second.claims == 0  # given back before any call: its next take is not "tried before"
    assert second.available_at > T0 + timedelta(seconds=50)
    assert d.counts["deferred"] == 1


async def test_hooks_record_in_the_transaction_that_marks_sent_or_dead(store: Store) -> None:
    clock = FakeClock()
    recorded: list[tuple[str, int, Any]] = []

    async def card(out: Outgoing) -> Mapping[str, Any]:
        return {"ts": "1.5"}

    async def blocked(out: Outgoing) -> None:
        raise PermanentFailure("blocked: bot was blocked by the user")

    async def on_sent(tx: Tx, row: OutboxMessage, result: Mapping[str, Any]) -> None:
        assert (await tx.get_outbox(row.id)).status is OutboxStatus.SENT  # type: ignore[union-attr]
        recorded.append(("sent", row.id, result["ts"]))

    async def on_dead(tx: Tx, row: OutboxMessage, reason: str) -> None:
        recorded.append(("dead", row.id, reason))

    d = Dispatcher(store, clock=clock)
    d.register("slack", "card", card)
    d.register("telegram", "send", blocked)
    d.on_sent("slack", "card", on_sent)
    d.on_dead(on_dead)
    async with store.transaction() as tx:
        await tx.enqueue("slack", "ticket:1", "card", {}, at=T0)
        await tx.enqueue("telegram", "5", "send", {}, at=T0)
    await d.run_once()
    assert sorted(recorded) == [("dead", 2, "blocked: bot was blocked by the user"), ("sent", 1, "1.5")]
