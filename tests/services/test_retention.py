"""Retention (issue "Safe by default"): handled work older than its RETENTION_DAYS_* is forgotten once a day;
whatever is still to do stays, however old."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.delivery import Scheduler
from bot.services import retention
from bot.services.retention import RETENTION, arm, prune, register_timers
from bot.settings import Settings
from sandbox.testing import FakeClock
from storage import Store, open_store
from storage.records import InboxStatus, TimerStatus
from storage.secrets import SecretBox, generate_key

NOW = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(tmp_path / "retention.db", SecretBox([generate_key()]))
    try:
        yield opened
    finally:
        await opened.close()


def settings(**overrides: int) -> Settings:
    return Settings(_env_file=None, **overrides)  # type: ignore[call-arg]


async def _fill(store: Store) -> dict[str, int]:
    """One row of each kind and state, old (past every retention) or recent (inside every one)."""
    ids: dict[str, int] = {}
    async with store.transaction() as tx:
        for name, received in (("inbox_done_old", 20), ("inbox_failed_old", 20), ("inbox_done_recent", 10)):
            entry = await tx.add_inbox("telegram", name, f"chat:{name}", "update", {}, at=days_ago(received))
            assert entry is not None
            [claimed] = await tx.claim_inbox(days_ago(received), "w", 1, 30)
            assert claimed.id == entry
            status = InboxStatus.FAILED if "failed" in name else InboxStatus.DONE
            await tx.finish_inbox(entry, "w", days_ago(received), status=status)
            ids[name] = entry
        pending = await tx.add_inbox("telegram", "inbox_pending_old", "chat:pending", "update", {}, at=days_ago(40))
        assert pending is not None
        ids["inbox_pending_old"] = pending
        assert await tx.mark_processed("telegram", "processed_old", days_ago(20))
        assert await tx.mark_processed("telegram", "processed_recent", days_ago(10))

        for name, created in (("outbox_sent_old", 40), ("outbox_dead_old", 40), ("outbox_sent_recent", 20)):
            row = await tx.enqueue("telegram", name, "send", {}, at=days_ago(created))
            assert row is not None
            ids[name] = row
        await tx.claim_outbox(NOW, "w", 10, 30)
        await tx.mark_sent(ids["outbox_sent_old"], days_ago(40))
        await tx.mark_dead(ids["outbox_dead_old"], "403")
        await tx.mark_sent(ids["outbox_sent_recent"], days_ago(20))
        # Queued 40 days ago and still not delivered (its chat waits): kept.
        waiting = await tx.enqueue("telegram", "waiting", "send", {}, at=days_ago(40), available_at=NOW)
        assert waiting is not None
        ids["outbox_pending_old"] = waiting

        for name, due in (("timer_done_old", 40), ("timer_pending_old", 40), ("timer_done_recent", 20)):
            timer = await tx.schedule_timer("remind", days_ago(due), dedupe_key=name)
            assert timer is not None
            ids[name] = timer
        claimed_timers = await tx.claim_due_timers(days_ago(19), "s", 10, 60)
        for timer in claimed_timers:
            if timer.id != ids["timer_pending_old"]:
                await tx.complete_timer(timer.id)
    return ids


async def test_prune_forgets_exactly_the_old_finished_rows(store: Store) -> None:
    ids = await _fill(store)
    async with store.transaction() as tx:
        pruned = await prune(tx, settings(), NOW)  # defaults: 14 days of events, 30 of outbox rows and timers
        inbox = {name: await tx.get_inbox(ids[name]) for name in ids if name.startswith("inbox")}
        outbox = {name: await tx.get_outbox(ids[name]) for name in ids if name.startswith("outbox")}
        timers = {name: await tx.get_timer(ids[name]) for name in ids if name.startswith("timer")}
        processed_recent_again = await tx.mark_processed("telegram", "processed_recent", NOW)
        processed_old_again = await tx.mark_processed("telegram", "processed_old", NOW)
    assert (pruned.inbox, pruned.processed, pruned.outbox, pruned.timers) == (1, 1, 1, 1)
    # Failed events and dead letters stay, however old, until a person looks (`inbox list --failed`, `outbox retry`).
    assert {name for name, row in inbox.items() if row is None} == {"inbox_done_old"}
    assert {name for name, row in outbox.items() if row is None} == {"outbox_sent_old"}
    assert {name for name, row in timers.items() if row is None} == {"timer_done_old"}
    # The remembered update keys: the old one is forgotten, the recent one still recognised.
    assert processed_old_again and not processed_recent_again


async def test_retention_settings_move_the_bound(store: Store) -> None:
    ids = await _fill(store)
    async with store.transaction() as tx:
        pruned = await prune(tx, settings(retention_days_inbox=30, retention_days_outbox=10), NOW)
        assert await tx.get_inbox(ids["inbox_done_old"]) is not None
        assert await tx.get_outbox(ids["outbox_sent_recent"]) is None
        assert await tx.get_outbox(ids["outbox_pending_old"]) is not None
    assert (pruned.inbox, pruned.outbox) == (0, 2)


async def test_a_big_prune_goes_in_batches_each_in_its_own_transaction(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "BATCH", 1)
    ids = await _fill(store)
    clock = FakeClock(NOW)
    scheduler = _scheduler(store, clock)
    async with store.transaction() as tx:
        await arm(tx, NOW)
    # BATCH 1: the prune (every kind full), a follow-up (a second done timer: full again), a last one that
    # finds nothing and arms tomorrow's; the leftover "remind" timer fires too.
    assert await scheduler.drain() == 4
    async with store.transaction() as tx:
        read = {"inbox": tx.get_inbox, "outbox": tx.get_outbox, "timer": tx.get_timer}
        for name in ("inbox_done_old", "outbox_sent_old", "timer_done_old"):
            assert await read[name.split("_")[0]](ids[name]) is None, name
        for name in ("inbox_failed_old", "outbox_dead_old"):
            assert await read[name.split("_")[0]](ids[name]) is not None, name
        assert await tx.get_outbox(ids["outbox_pending_old"]) is not None
        due = await tx.claim_due_timers(NOW + timedelta(days=1), "probe", 10, 1)
    assert [(t.kind, t.due_at) for t in due] == [(RETENTION, NOW + timedelta(days=1))]


def _scheduler(store: Store, clock: FakeClock) -> Scheduler:
    scheduler = Scheduler(store, clock=clock)

    class Services:  # what the timer reads: the settings and the clock
        pass

    services = Services()
    services.settings = settings()  # type: ignore[attr-defined]
    services.clock = clock  # type: ignore[attr-defined]
    register_timers(scheduler, services)  # type: ignore[arg-type]
    return scheduler


async def test_the_prune_runs_once_a_day_as_a_timer(store: Store) -> None:
    ids = await _fill(store)
    scheduler = _scheduler(store, FakeClock(NOW))
    async with store.transaction() as tx:
        await arm(tx, NOW)
        await arm(tx, NOW + timedelta(hours=2))  # a second start the same day: no second prune
    assert await scheduler.drain() == 2  # the leftover "remind" (pending, due long ago) and the prune
    async with store.transaction() as tx:
        assert await tx.get_outbox(ids["outbox_sent_old"]) is None
        due = await tx.claim_due_timers(NOW + timedelta(days=1), "probe", 10, 1)
    # The next day's prune is scheduled, and only it.
    assert [(t.kind, t.due_at, t.status) for t in due] == [(RETENTION, NOW + timedelta(days=1), TimerStatus.RUNNING)]
