"""The durable inbox: the one door every platform event comes through.

An edge (the Telegram webhook or poller, the Slack request handler) calls `receive` and tells the platform
"received" only after it returns: the event is committed by then. The worker takes entries in order per
ordering key (one chat, one card's thread, one Slack user), different keys in parallel, and hands each to
the handler registered for its (source, kind): that handler translates the payload and calls one service
entry, which marks the entry done in the same transaction as its effects. A redelivery (same source and
key) is recognised at the door and never handled twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from bot.clock import Clock, utcnow
from bot.delivery import LeasedLoop, RetryPolicy
from bot.logs import log_context
from storage import SecretBox, Store
from storage.records import InboxEntry, InboxStatus

__all__ = ["Arrival", "InboxEntry", "InboxWorker", "NotYet", "Receipt"]

log = logging.getLogger(__name__)

SEALED = "sealed"  # the payload key of an entry encrypted at rest


@dataclass(frozen=True)
class Receipt:
    """What a service entry needs to mark its inbox entry done inside its own transaction."""

    entry_id: int
    worker: str


@dataclass(frozen=True)
class Arrival:
    """One event as an edge received it."""

    source: str  # "telegram" | "slack"
    key: str  # what a redelivery repeats: the update_id, the event_id, an action's identity
    ordering_key: str  # events of one key are handled one at a time, in the order received
    kind: str  # which handler translates it
    payload: Mapping[str, Any]  # the platform's JSON, verbatim
    unparsed: str | None = None  # why it cannot be read: kept for a person, never handled


class NotYet(Exception):
    """The event cannot be handled yet (a thread reply whose card is not recorded): it waits its turn again."""

    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds = seconds


Handler = Callable[[InboxEntry, Receipt], Awaitable[Any]]
FailedHandler = Callable[[InboxEntry, Receipt, str], Awaitable[None]]


class InboxWorker(LeasedLoop):
    """Takes committed events in order per key and runs their handlers; failures retry, then tell the person."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock = utcnow,
        policy: RetryPolicy | None = None,
        batch: int = 64,
        lease: float = 60.0,
        poll_interval: float = 0.5,
        max_in_flight: int = 64,
        max_wait: timedelta = timedelta(hours=1),
        name: str = "",
        box: SecretBox | None = None,
    ) -> None:
        super().__init__(
            store,
            clock=clock,
            policy=policy or RetryPolicy(max_attempts=5, first_backoff=0.5, max_backoff=30.0),
            batch=batch,
            lease=lease,
            poll_interval=poll_interval,
            max_in_flight=max_in_flight,
            name=name,
        )
        self._handlers: dict[tuple[str, str], tuple[Handler, FailedHandler | None]] = {}
        self._waiters: dict[int, asyncio.Future[Any]] = {}
        self._max_wait = max_wait
        # What people write rests sealed: the inbox holds a client's message before anyone knows it is a
        # password (P-IN-3), so no payload is ever written to the database in clear.
        self._box = box
        self.counts: dict[str, int] = {"received": 0, "duplicate": 0, "unparsed": 0, "handled": 0, "failed": 0}

    def register(self, source: str, kind: str, handler: Handler, on_failed: FailedHandler | None = None) -> None:
        """Adapters register how each kind of event is translated and handed to its service entry;
        on_failed tells the person when every attempt failed (it runs with the entry still leased)."""
        self._handlers[(source, kind)] = (handler, on_failed)

    # --- the door ----------------------------------------------------------------------------------------
    async def receive(self, arrivals: Iterable[Arrival]) -> list[int | None]:
        """Commit events (one transaction for a batch). Returns: each one's entry id, None for a redelivery.
        Only after this returns may the platform be told the events were received."""
        now = self._clock()
        ids: list[int | None] = []
        async with self._store.transaction() as tx:
            for a in arrivals:
                ids.append(
                    await tx.add_inbox(
                        a.source, a.key, a.ordering_key, a.kind, self._seal(a.payload), at=now, unparsed=a.unparsed
                    )
                )
                if a.unparsed is not None and ids[-1] is not None:
                    log.warning("%s %s %s kept as unparsed: %s", a.source, a.kind, a.key, a.unparsed)
        for entry_id in ids:
            self.counts["received" if entry_id is not None else "duplicate"] += 1
        self.wake()
        return ids

    async def outcome(self, entry_id: int, timeout: float) -> Any:  # noqa: ASYNC109 (a bound, not cancellation)
        """What the entry's handler returned, if it is handled by this process within timeout; else None
        (the event stays committed and is handled anyway). Slack modals use it to return form errors in
        the acknowledgement."""
        future = self._waiters.setdefault(entry_id, asyncio.get_running_loop().create_future())
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            return None
        finally:
            self._waiters.pop(entry_id, None)

    def _seal(self, payload: Mapping[str, Any]) -> Mapping[str, Any]:
        if self._box is None:
            return payload
        return {SEALED: self._box.encrypt(json.dumps(payload, ensure_ascii=False, separators=(",", ":")))}

    def unsealed(self, entry: InboxEntry) -> InboxEntry:
        """The entry with its payload as the platform sent it."""
        token = entry.payload.get(SEALED)
        if token is None or self._box is None:
            return entry
        return replace(entry, payload=json.loads(self._box.decrypt(str(token))))

    # --- the worker --------------------------------------------------------------------------------------
    async def _claim(self, limit: int) -> list[InboxEntry]:
        async with self._store.transaction() as tx:
            return await tx.claim_inbox(self._clock(), self.worker, limit, self._lease)

    def _log_context(self, entry: InboxEntry) -> AbstractContextManager[None]:
        # The ticket is not known yet: the service names it once it has loaded it (bot.logs.bind_ticket).
        return log_context(event=f"{entry.source}:{entry.key}")

    async def _handle(self, entry: InboxEntry) -> None:
        receipt = Receipt(entry.id, self.worker)
        entry = self.unsealed(entry)
        handler, on_failed = self._handlers.get((entry.source, entry.kind), (None, None))
        if handler is None:
            await self._finish(entry, InboxStatus.UNPARSED, f"no handler for {entry.source}/{entry.kind}")
            return
        try:
            result = await handler(entry, receipt)
        except NotYet as exc:
            if self._clock() - entry.received_at > self._max_wait:
                log.warning("inbox %s (%s %s) waited too long: %s", entry.id, entry.source, entry.kind, exc)
                await self._finish(entry, InboxStatus.DONE, f"gave up waiting: {exc}")
            else:
                await self._retry(entry, exc.seconds, str(exc), counted=False)
            return
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            if entry.attempts + 1 < self._policy.max_attempts:
                log.warning("inbox %s (%s %s) failed, will retry: %s", entry.id, entry.source, entry.kind, error,
                            exc_info=True)  # fmt: skip
                await self._retry(entry, self._policy.backoff(entry.attempts + 1), error)
                return
            log.error("inbox %s (%s %s) failed every attempt", entry.id, entry.source, entry.kind, exc_info=True)
            self.counts["failed"] += 1
            if on_failed is not None:
                await on_failed(entry, receipt, error)  # tells the person and finishes the entry as failed
            else:
                await self._finish(entry, InboxStatus.FAILED, error)
            return
        self.counts["handled"] += 1
        log.debug("inbox %s (%s %s) handled", entry.id, entry.source, entry.kind)
        waiter = self._waiters.get(entry.id)
        if waiter is not None and not waiter.done():
            waiter.set_result(result)

    async def _retry(self, entry: InboxEntry, seconds: float, error: str, *, counted: bool = True) -> None:
        async with self._store.transaction() as tx:
            await tx.retry_inbox(
                entry.id, self.worker, self._clock() + timedelta(seconds=seconds), error, counted=counted
            )

    async def _finish(self, entry: InboxEntry, status: InboxStatus, error: str) -> None:
        async with self._store.transaction() as tx:
            await tx.finish_inbox(entry.id, self.worker, self._clock(), status=status, error=error)
