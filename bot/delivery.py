"""The workers that turn stored intentions into I/O: the outbox dispatcher and the timer scheduler.

Services write outbox rows (messages owed to people) and timer rows (work owed later) inside their
transaction. The dispatcher delivers rows after commit, paced under the platforms' limits (bot.pacing: a
429 is a wait, never a failed attempt), in order per ordering key (the store hands out only the oldest
undelivered row of each key), with leases, so a crash mid-send is retried, not lost. What a send tells us
(where a card was posted, that a client blocked the bot) is recorded by a hook in the same transaction that
marks the row sent or dead. The scheduler fires due timers, each in the transaction that completes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.clock import Clock, utcnow
from bot.logs import log_context
from bot.pacing import Deferred, Pacer
from storage import Store, Tx
from storage.records import OutboxMessage, Timer

__all__ = [
    "Dispatcher",
    "FileTooBig",
    "LeasedLoop",
    "Outgoing",
    "PermanentFailure",
    "RetryLater",
    "RetryPolicy",
    "Scheduler",
    "Unavailable",
    "process_name",
]

log = logging.getLogger(__name__)

# A sender performs the platform calls of one row and may return what the platform answered (a card's ts)
# for the row's hook. A hook records that answer in the transaction that marks the row sent (or dead).
Sender = Callable[["Outgoing"], Awaitable[Mapping[str, Any] | None]]
SentHook = Callable[[Tx, OutboxMessage, Mapping[str, Any]], Awaitable[None]]
DeadHook = Callable[[Tx, OutboxMessage, str], Awaitable[None]]
# A timer handler only changes the store (state, audit, outbox rows): it runs inside the transaction
# that completes the timer, so a timer's effect and its completion commit together or not at all.
TimerHandler = Callable[[Tx, Timer], Awaitable[None]]


class RetryLater(Exception):
    """The platform asked us to wait (HTTP 429 Retry-After / Telegram retry_after): not a failed attempt."""

    def __init__(self, seconds: float, reason: str = "", *, lane: str | None = None) -> None:
        super().__init__(reason or f"retry after {seconds}s")
        self.seconds = max(0.0, seconds)
        self.lane = lane


class Unavailable(Exception):
    """The platform is down or unreachable (5xx, timeout, connection refused): try again with back-off,
    for as long as it takes, without holding it against the row."""


class FileTooBig(Exception):
    """The platform will not hand over a file over its download limit (Telegram's getFile: 20 MB)."""


class PermanentFailure(Exception):
    """Sending can never succeed (user blocked the bot, channel gone): give up on this row now."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    first_backoff: float = 1.0
    max_backoff: float = 300.0
    max_outage_backoff: float = 30.0

    def backoff(self, attempts: int) -> float:
        """Seconds before attempt number `attempts + 1` (exponential, capped)."""
        return float(min(self.max_backoff, self.first_backoff * 2 ** max(0, attempts - 1)))

    def outage_backoff(self, tries: int) -> float:
        """Seconds before trying a platform that was down again (exponential, capped low: it comes back)."""
        return float(min(self.max_outage_backoff, self.first_backoff * 2 ** max(0, tries - 1)))


def process_name(replica: str = "") -> str:
    """This process's worker prefix, "<replica>/<pid>-<random>/": its loops' leases carry it, and the next
    process of the same replica releases whatever a dead predecessor still held (Store.release_leases)."""
    return f"{replica or socket.gethostname()}/{os.getpid()}-{secrets.token_hex(3)}/"


@dataclass(frozen=True)
class Outgoing:
    """One row as its sender sees it, with the pacing turn to take before each platform call."""

    row: OutboxMessage
    pacer: Pacer
    hold: float

    @property
    def payload(self) -> Mapping[str, Any]:
        return self.row.payload

    @property
    def tried_before(self) -> bool:
        """An earlier try may have reached the platform (it crashed or timed out before recording it)."""
        return self.row.claims > 1

    def turn(self, *lanes: str) -> AbstractAsyncContextManager[None]:
        """Wait for a turn in every lane (bot.pacing); raises Deferred when the wait is long."""
        return self.pacer.turn(lanes, hold=self.hold)


class LeasedLoop:
    """A loop over leased store rows: woken early after a commit that queued work, drained on demand (tests,
    shutdown), stopped cleanly. Subclasses claim in `_claim` and handle one row in `_handle`; rows of a round
    are handled concurrently, and the next round does not wait for a slow row to finish."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock,
        policy: RetryPolicy | None,
        batch: int,
        lease: float,
        poll_interval: float,
        max_in_flight: int,
        name: str,
    ) -> None:
        self._store = store
        self._clock = clock
        self._policy = policy or RetryPolicy()
        self._batch = batch
        self._lease = lease
        self._poll = poll_interval
        self._max_in_flight = max_in_flight
        self._wake = asyncio.Event()
        self._claiming = asyncio.Lock()  # one round at a time: drain() and the loop never race on a claim
        self._task: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._stopping = False
        self.worker = f"{name or process_name()}{type(self).__name__.lower()}"
        self.last_round = 0  # rows taken by the latest round
        self.alive_at = 0.0  # loop time of the latest round (health checks)

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
        for task in list(self._in_flight):
            task.cancel()
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        while not self._stopping:
            self.alive_at = asyncio.get_running_loop().time()
            try:
                took = await self._round()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s round failed; trying again", type(self).__name__)
                took = 0
            if took and len(self._in_flight) < self._max_in_flight:
                continue  # more may be due at once (the next row of a chat that was just handled)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll)
            self._wake.clear()

    async def _round(self) -> int:
        async with self._claiming:
            room = self._max_in_flight - len(self._in_flight)
            if room <= 0:
                return 0
            rows = await self._claim(min(self._batch, room))
            self.last_round = len(rows)
            for row in rows:
                task = asyncio.create_task(self._guarded(row))
                self._in_flight.add(task)
                task.add_done_callback(self._done)
            return len(rows)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._wake.set()  # the next row of the same key may be due now

    async def _guarded(self, row: Any) -> None:
        # Each row is handled in a task of its own: its lines name it (and its ticket), and no other's do.
        with self._log_context(row):
            try:
                await self._handle(row)
            except asyncio.CancelledError:
                raise
            except Exception:
                # The store itself failed while recording the outcome: the lease expires (or the next start
                # releases it) and the row is taken again.
                log.exception("%s could not record the outcome of %s", type(self).__name__, getattr(row, "id", row))

    def _log_context(self, row: Any) -> AbstractContextManager[None]:
        """What the lines logged while handling row are about (bot.logs.log_context)."""
        return contextlib.nullcontext()

    async def run_once(self) -> bool:
        """Take what is due now and handle it to the end. Returns: True when it took anything: the next
        message of the same chat may have become due by its delivery, so look again at once."""
        took = await self._round()
        await self.wait_idle()
        return bool(took)

    async def wait_idle(self) -> None:
        """Wait until every row taken so far has been handled."""
        while self._in_flight:
            await asyncio.gather(*list(self._in_flight), return_exceptions=True)

    async def drain(self, max_rounds: int = 1000) -> int:
        """Handle rows until nothing is due and nothing is in hand (tests, and shutdown, use it).
        Returns: how many rows this drain took itself."""
        total = 0
        for _ in range(max_rounds):
            took = await self._round()
            total += took
            if not took and not self._in_flight and not self._claiming.locked():
                break
            await self.wait_idle()
        return total

    async def _claim(self, limit: int) -> list[Any]:
        raise NotImplementedError

    async def _handle(self, row: Any) -> None:
        raise NotImplementedError


class Dispatcher(LeasedLoop):
    """Delivers outbox rows through the sender registered for (destination, kind), paced per platform limit."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock = utcnow,
        policy: RetryPolicy | None = None,
        pacer: Pacer | None = None,
        hold: float = 1.5,
        per_lane: int = 2,
        batch: int = 50,
        lease: float = 60.0,
        poll_interval: float = 0.5,
        max_in_flight: int = 256,
        name: str = "",
    ) -> None:
        super().__init__(
            store,
            clock=clock,
            policy=policy,
            batch=batch,
            lease=lease,
            poll_interval=poll_interval,
            max_in_flight=max_in_flight,
            name=name,
        )
        self.pacer = pacer or Pacer(lambda key: None)
        self._hold = hold
        self._per_lane = per_lane
        self._senders: dict[tuple[str, str], Sender] = {}
        self._sent_hooks: dict[tuple[str, str], SentHook] = {}
        self._dead_hooks: list[DeadHook] = []
        # What happened, for the benchmarks, the fault tests and /metrics.
        self.counts: dict[str, int] = {"sent": 0, "dead": 0, "retried": 0, "rate_limited": 0, "deferred": 0}
        self.rate_limited_by: dict[str, int] = {}  # 429s received, by platform (these sends' and others')
        self.record_lag: list[float] = []  # seconds from the platform's answer to the commit that records it
        # The same, per destination: for a Telegram message it is the window in which a crash sends it twice.
        self.record_lag_by: dict[str, list[float]] = {}

    def register(self, destination: str, kind: str, sender: Sender) -> None:
        """Adapters register how each kind of message is sent."""
        self._senders[(destination, kind)] = sender

    def on_sent(self, destination: str, kind: str, hook: SentHook) -> None:
        """Record what the platform answered for this kind, in the transaction that marks the row sent."""
        self._sent_hooks[(destination, kind)] = hook

    def on_dead(self, hook: DeadHook) -> None:
        """Called in the transaction that gives up on a row (a client who blocked the bot, a channel gone)."""
        self._dead_hooks.append(hook)

    async def _claim(self, limit: int) -> list[OutboxMessage]:
        # Lanes that cannot take a call within `hold` are left in the store: their rows would only wait.
        busy = self.pacer.busy_lanes(self._hold)
        async with self._store.transaction() as tx:
            return await tx.claim_outbox(
                self._clock(), self.worker, limit, self._lease, skip_lanes=busy, per_lane=self._per_lane
            )

    def note_rate_limited(self, platform: str) -> None:
        """Count a 429 the platform answered (a send's, or an adapter's outside the outbox)."""
        self.rate_limited_by[platform] = self.rate_limited_by.get(platform, 0) + 1

    def _log_context(self, row: OutboxMessage) -> AbstractContextManager[None]:
        ticket = row.payload.get("ticket")
        if ticket is None and row.payload.get("ticket_id") is not None:
            ticket = f"#{row.payload['ticket_id']}"  # a row queued without the number: the id still finds it
        return log_context(event=f"outbox:{row.id}", ticket=None if ticket is None else str(ticket))

    async def _handle(self, row: OutboxMessage) -> None:
        sender = self._senders.get((row.destination, row.kind))
        if sender is None:
            await self._dead(row, f"no sender for {row.destination}/{row.kind}")
            return
        try:
            result = await sender(Outgoing(row, self.pacer, self._hold))
        except Deferred as exc:
            # Given back before the call that mattered: not a claim that may have reached the platform (a
            # card counted as tried would be looked for in the channel's history first, a Tier 3 call).
            self.counts["deferred"] += 1
            await self._again(row, exc.seconds, str(exc), counted=False, reached=False)
        except RetryLater as exc:
            # Logged once, at INFO: pacing should make this rare, and it is no failure.
            self.counts["rate_limited"] += 1
            self.note_rate_limited(row.destination)
            log.info("%s/%s rate limited by the platform: waiting %.1f s", row.destination, row.kind, exc.seconds)
            if exc.lane:
                self.pacer.penalize(exc.lane, exc.seconds)
            await self._again(row, exc.seconds, str(exc), counted=False)
        except Unavailable as exc:
            log.warning("outbox %s %s/%s: platform unavailable (%s); trying again", row.id, row.destination,
                        row.kind, exc)  # fmt: skip
            await self._again(row, self._policy.outage_backoff(row.claims), str(exc), counted=False)
        except PermanentFailure as exc:
            await self._dead(row, str(exc) or type(exc).__name__)
        except Exception as exc:
            log.warning("outbox %s %s/%s failed: %r", row.id, row.destination, row.kind, exc, exc_info=True)
            if row.attempts + 1 >= self._policy.max_attempts:
                await self._dead(row, f"gave up after {row.attempts + 1} attempts: {type(exc).__name__}: {exc}")
            else:
                await self._again(row, self._policy.backoff(row.attempts + 1), f"{type(exc).__name__}: {exc}")
        else:
            await self._sent(row, result or {})

    async def _sent(self, row: OutboxMessage, result: Mapping[str, Any]) -> None:
        answered = asyncio.get_running_loop().time()
        hook = self._sent_hooks.get((row.destination, row.kind))
        async with self._store.transaction() as tx:
            await tx.mark_sent(row.id, self._clock())
            if hook is not None:
                await hook(tx, row, result)
        lag = asyncio.get_running_loop().time() - answered
        for lags in (self.record_lag, self.record_lag_by.setdefault(row.destination, [])):
            lags.append(lag)
            if len(lags) > 10_000:
                del lags[:5_000]
        self.counts["sent"] += 1
        log.debug("outbox %s %s/%s sent", row.id, row.destination, row.kind)

    async def _again(
        self, row: OutboxMessage, seconds: float, error: str, *, counted: bool = True, reached: bool = True
    ) -> None:
        if counted:
            self.counts["retried"] += 1
        async with self._store.transaction() as tx:
            await tx.mark_retry(
                row.id, self._clock() + timedelta(seconds=seconds), error[:500], counted=counted, reached=reached
            )

    async def _dead(self, row: OutboxMessage, reason: str) -> None:
        log.error("outbox %s %s/%s dead-lettered: %s", row.id, row.destination, row.kind, reason)
        self.counts["dead"] += 1
        async with self._store.transaction() as tx:
            await tx.mark_dead(row.id, reason[:500])
            for hook in self._dead_hooks:
                await hook(tx, row, reason)


class Scheduler(LeasedLoop):
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
        name: str = "",
    ) -> None:
        super().__init__(
            store,
            clock=clock,
            policy=policy,
            batch=batch,
            lease=lease,
            poll_interval=poll_interval,
            max_in_flight=1,  # in due order: a reminder never overtakes the one before it
            name=name,
        )
        self._handlers: dict[str, TimerHandler] = {}

    def register(self, kind: str, handler: TimerHandler) -> None:
        """Services register what each kind of timer does."""
        self._handlers[kind] = handler

    async def _round(self) -> int:
        async with self._claiming:
            async with self._store.transaction() as tx:
                timers = await tx.claim_due_timers(self._clock(), self.worker, self._batch, self._lease)
            for timer in timers:
                await self._fire(timer)
            self.last_round = len(timers)
            return len(timers)

    async def _fire(self, timer: Timer) -> None:
        # Timers fire one after the other in the loop's own task: the context is put back after each.
        with log_context(event=f"timer:{timer.id}", ticket=None if timer.ticket_id is None else f"#{timer.ticket_id}"):
            await self._fire_one(timer)

    async def _fire_one(self, timer: Timer) -> None:
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
