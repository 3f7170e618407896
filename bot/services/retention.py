"""Retention: once a day, handled work older than the RETENTION_DAYS_* settings is forgotten.

Received events handled (inbox entries done, and remembered update keys), outbox rows sent, timers done or
cancelled. What is still to do is never touched, nor what waits for a person (failed or unreadable events,
dead letters), nor the audit log (the ticket's history). The prune is a timer like any other: one run a day
across every process and replica (its dedupe key is the day), restarted by the next start-up if it was missed.
It forgets at most BATCH rows of each kind per transaction and goes on in the next one: the first prune of a
database kept for a year holds the database for moments at a time, never long enough to stall the workers or
fail /healthz.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.delivery import Scheduler
from bot.services.context import Services
from bot.settings import Settings
from storage import Tx
from storage.records import Timer

__all__ = ["BATCH", "EVERY", "RETENTION", "Pruned", "arm", "prune", "register_timers"]

log = logging.getLogger(__name__)

RETENTION = "retention"
EVERY = timedelta(days=1)
BATCH = 2000  # rows of each kind per transaction


@dataclass(frozen=True)
class Pruned:
    """How many rows one prune forgot, by kind."""

    inbox: int
    processed: int
    outbox: int
    timers: int

    @property
    def counts(self) -> tuple[int, int, int, int]:
        return (self.inbox, self.processed, self.outbox, self.timers)

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def most(self) -> int:
        return max(self.counts)


async def prune(tx: Tx, settings: Settings, now: datetime, limit: int | None = None) -> Pruned:
    """Forget finished work older than its retention (at most limit rows of each kind); keep everything
    pending. Returns: what went."""
    events_before = now - timedelta(days=settings.retention_days_inbox)
    return Pruned(
        inbox=await tx.prune_inbox(events_before, limit),
        processed=await tx.prune_processed(events_before, limit),
        outbox=await tx.prune_outbox(now - timedelta(days=settings.retention_days_outbox), limit),
        timers=await tx.prune_timers(now - timedelta(days=settings.retention_days_timers), limit),
    )


async def arm(tx: Tx, due: datetime) -> None:
    """Schedule the prune of due's day (UTC) at due; a day that already has one keeps it (start-up asks for
    today's on every start: the first start of a day prunes at once, the others change nothing)."""
    day = due.astimezone(UTC).date().isoformat()
    await tx.schedule_timer(RETENTION, due, dedupe_key=f"{RETENTION}:{day}")


def register_timers(scheduler: Scheduler, services: Services) -> None:
    """The daily prune; the composition root arms the first one at start-up."""

    async def run(tx: Tx, timer: Timer) -> None:
        now = services.clock()
        pruned = await prune(tx, services.settings, now, BATCH)
        if pruned.most >= BATCH:
            # More to forget: the next batch in a transaction of its own, due now (the workers go in between).
            await tx.schedule_timer(RETENTION, now, dedupe_key=f"{RETENTION}:more:{timer.id}")
        else:
            await arm(tx, now + EVERY)
        level = logging.INFO if pruned.total else logging.DEBUG
        log.log(
            level,
            "retention: forgot %d inbox entries, %d update keys, %d outbox rows, %d timers",
            pruned.inbox,
            pruned.processed,
            pruned.outbox,
            pruned.timers,
        )

    scheduler.register(RETENTION, run)
