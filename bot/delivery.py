"""The outbox dispatcher and the timer scheduler: the only code that turns stored intentions into I/O.

Services write outbox rows (messages owed to people) and timer rows (work owed later) inside their
transaction. These workers deliver them after commit, with retries, back-off that honours the
platforms' Retry-After, per-chat order (the store hands out only the oldest undelivered row of each
ordering key) and leases, so several replicas can run them and a crash mid-send is retried, not lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.clock import Clock, utcnow
from storage import Store, Tx
from storage.records import OutboxMessage, Timer

log = logging.getLogger(__name__)

Sender = Callable[[Mapping[str, Any]], Awaitable[None]]
# A timer handler only changes the store (state, audit, outbox rows): it runs inside the transaction
# that completes the timer, so a timer's effect and its completion commit together or not at all.
TimerHandler = Callable[[Tx, Timer], Awaitable[None]]


class RetryLater(Exception):
    """The platform asked us to wait (HTTP 429 Retry-After / Telegram retry_after) or is briefly down."""

    def __init__(self, seconds: float, reason: str = "") -> None:
        super().__init__(reason or f"retry after {seconds}s")
        self.seconds = max(0.0, seconds)


class PermanentFailure(Exception):
    """Sending can never succeed (user blocked the bot, channel gone): give up on this row now."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    first_backoff: float = 1.0
    max_backoff: float = 300.0

    def backoff(self, attempts: int) -> float:
        """Seconds before attempt number `attempts + 1` (exponential, capped)."""
        return float(min(self.max_backoff, self.first_backoff * 2 ** max(0, attempts - 1)))


def worker_name(kind: str) -> str:
    """A name unique to this process, so leases say who holds a row."""
    return f"{kind}@{socket.gethostname()}:{os.getpid()}:{id(object()):x}"


class _Loop:
    """A polling loop over leased store rows that can be woken early (after a commit that queued work),
    drained on demand and stopped cleanly."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock,
        policy: RetryPolicy | None,
        batch: int,
        lease: float,
        poll_interval: float,
    ) -> None:
        self._store = store
        self._clock = clock
        self._policy = policy or RetryPolicy()
        self._batch = batch
        self._lease = lease
        self._poll = poll_interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.worker = worker_name(type(self).__name__.lower())
        self.last_round = 0  # rows taken by the latest round

    def wake(self) -> None:
        """Run a round now instead of at the next poll."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name=type(self).__name__)

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while not self._stopping:
            try:
                busy = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s round failed; trying again", type(self).__name__)
                busy = False
            if busy:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll)
            self._wake.clear()

    async def run_once(self) -> bool:
        """Take and handle what is due now. Returns: True when it took anything: the next message of the same
        chat may have become due by its delivery, so look again at once instead of at the next poll."""
        raise NotImplementedError

    async def drain(self, max_rounds: int = 100) -> None:
        """Handle rows until a round finds nothing due (tests, and shutdown, use it)."""
        for _ in range(max_rounds):
            await self.run_once()
            if self.last_round == 0:
                return


class Dispatcher(_Loop):
    """Delivers outbox rows through the sender registered for (destination, kind)."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock = utcnow,
        policy: RetryPolicy | None = None,
        batch: int = 20,
        lease: float = 60.0,
        poll_interval: float = 0.5,
    ) -> None:
        super().__init__(store, clock=clock, policy=policy, batch=batch, lease=lease, poll_interval=poll_interval)
        self._senders: dict[tuple[str, str], Sender] = {}

    def register(self, destination: str, kind: str, sender: Sender) -> None:
        """Adapters register how each kind of message is sent."""
        self._senders[(destination, kind)] = sender

    async def run_once(self) -> bool:
        async with self._store.transaction() as tx:
            rows = await tx.claim_outbox(self._clock(), self.worker, self._batch, self._lease)
        # Rows of different chats may go out concurrently; the store already gave at most one per chat.
        await asyncio.gather(*(self._deliver(row) for row in rows))
        self.last_round = len(rows)
        return bool(rows)

    async def _deliver(self, row: OutboxMessage) -> None:
        sender = self._senders.get((row.destination, row.kind))
        if sender is None:
            await self._finish(row, dead=f"no sender for {row.destination}/{row.kind}")
            return
        try:
            await sender(row.payload)
        except RetryLater as exc:
            await self._retry(row, exc.seconds, str(exc))
        except PermanentFailure as exc:
            await self._finish(row, dead=str(exc) or type(exc).__name__)
        except Exception as exc:
            log.warning("outbox %s %s/%s failed: %r", row.id, row.destination, row.kind, exc, exc_info=True)
            await self._retry(row, None, f"{type(exc).__name__}: {exc}")
        else:
            await self._finish(row, dead=None)

    async def _retry(self, row: OutboxMessage, seconds: float | None, error: str) -> None:
        if row.attempts >= self._policy.max_attempts:
            await self._finish(row, dead=f"gave up after {row.attempts} attempts: {error}")
            return
        delay = seconds if seconds is not None else self._policy.backoff(row.attempts)
        async with self._store.transaction() as tx:
            await tx.mark_retry(row.id, self._clock() + timedelta(seconds=delay), error[:500])

    async def _finish(self, row: OutboxMessage, *, dead: str | None) -> None:
        async with self._store.transaction() as tx:
            if dead is None:
                await tx.mark_sent(row.id)
            else:
                log.error("outbox %s %s/%s dropped: %s", row.id, row.destination, row.kind, dead)
                await tx.mark_dead(row.id, dead[:500])


class Scheduler(_Loop):
    """Fires due timers through the handler registered for their kind; a failing handler is retried."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock = utcnow,
        policy: RetryPolicy | None = None,
        batch: int = 20,
        lease: float = 60.0,
        poll_interval: float = 1.0,
    ) -> None:
        super().__init__(store, clock=clock, policy=policy, batch=batch, lease=lease, poll_interval=poll_interval)
        self._handlers: dict[str, TimerHandler] = {}

    def register(self, kind: str, handler: TimerHandler) -> None:
        """Services register what each kind of timer does."""
        self._handlers[kind] = handler

    async def run_once(self) -> bool:
        async with self._store.transaction() as tx:
            timers = await tx.claim_due_timers(self._clock(), self.worker, self._batch, self._lease)
        for timer in timers:  # in due order: a reminder never overtakes the one before it
            await self._fire(timer)
        self.last_round = len(timers)
        return bool(timers)

    async def _fire(self, timer: Timer) -> None:
        handler = self._handlers.get(timer.kind)
        if handler is None:
            log.error("timer %s of unknown kind %r dropped", timer.id, timer.kind)
            async with self._store.transaction() as tx:
                await tx.complete_timer(timer.id)
            return
        try:
            async with self._store.transaction() as tx:
                await handler(tx, timer)
                await tx.complete_timer(timer.id)
        except Exception:
            log.exception("timer %s (%s) failed (attempt %s)", timer.id, timer.kind, timer.attempts)
            if timer.attempts >= self._policy.max_attempts:
                async with self._store.transaction() as tx:
                    await tx.complete_timer(timer.id)
            # else its lease expires and it is claimed again
