"""The repository protocol for intake drafts, processed-update keys, the outbox and timers."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, Protocol

from storage.records import (
    Draft,
    OutboxMessage,
    OutboxStatus,
    Timer,
)

__all__ = ["QueueTx"]


class QueueTx(Protocol):
    """Intake drafts, processed-update keys, the outbox and timers."""

    # --- drafts and processed updates -----------------------------------------------------------------
    async def get_draft(self, chat_id: int) -> Draft | None:
        """Args: Telegram chat. Returns: the intake draft or None."""
        ...

    async def save_draft(
        self,
        chat_id: int,
        *,
        user_id: int,
        step: str,
        data: Mapping[str, Any],
        language: str,
        at: datetime,
        expected_version: int | None = None,
    ) -> Draft:
        """Upsert; with expected_version (0 = must not exist) it is compare-and-set.
        Returns: the saved Draft. Raises StaleVersion."""
        ...

    async def delete_draft(self, chat_id: int) -> bool:
        """Args: chat. Returns: True if a draft was deleted."""
        ...

    async def list_drafts_older_than(self, before: datetime) -> list[Draft]:
        """Args: bound. Returns: drafts last updated before it, oldest first."""
        ...

    async def mark_processed(self, source: str, key: str, at: datetime) -> bool:
        """Returns: True only the first time (source, key) is seen."""
        ...

    async def prune_processed(self, before: datetime, limit: int | None = None) -> int:
        """Args: bound; limit: at most this many (None: all). Returns: how many remembered keys older than it
        were forgotten."""
        ...

    # --- outbox and timers ----------------------------------------------------------------------------
    async def enqueue(
        self,
        destination: str,
        ordering_key: str,
        kind: str,
        payload: Mapping[str, Any],
        *,
        at: datetime,
        available_at: datetime | None = None,
        dedupe_key: str | None = None,
        pace_key: str = "",
    ) -> int | None:
        """Queue a message (pace_key: the platform limit it counts against).
        Returns: its id, or None when dedupe_key was already queued."""
        ...

    async def get_outbox(self, message_id: int) -> OutboxMessage | None:
        """Args: id. Returns: the row or None."""
        ...

    async def claim_outbox(
        self,
        now: datetime,
        worker: str,
        limit: int,
        lease: float,
        *,
        skip_lanes: Collection[str] = (),
        per_lane: int | None = None,
    ) -> list[OutboxMessage]:
        """Lease due rows to worker for lease seconds; per (destination, ordering_key) only the oldest
        undelivered row is eligible; rows of skip_lanes are left, and at most per_lane rows of one pace_key
        are taken. Returns: claimed rows by available_at then id."""
        ...

    async def mark_sent(self, message_id: int, at: datetime | None = None) -> None:
        """Args: id, when the platform accepted it. Marks the row delivered."""
        ...

    async def mark_retry(
        self, message_id: int, available_at: datetime, error: str, *, counted: bool = True, reached: bool = True
    ) -> None:
        """Args: id, next attempt time, error text, whether it was a failed attempt (a rate limit is a wait,
        not a failure), whether this take may have reached the platform (False: it waited for its pacing turn
        and gave the row back before any call, so the take is not counted in claims). Releases the lease."""
        ...

    async def list_outbox(self, status: OutboxStatus, limit: int = 100) -> list[OutboxMessage]:
        """Returns: rows in that state, oldest first (the dead letters for `supportbot outbox list --dead`)."""
        ...

    async def requeue_outbox(self, message_id: int, at: datetime) -> bool:
        """Send a dead row again, from now, with its attempts reset. Returns: False when it is not dead."""
        ...

    async def mark_dead(self, message_id: int, error: str) -> None:
        """Args: id, error text. Gives up on the row (it stops blocking its ordering key)."""
        ...

    async def prune_outbox(self, before: datetime, limit: int | None = None) -> int:
        """Delete sent rows created before the bound (dead letters stay for `outbox retry`; dedupe keys go too), at
        most limit of them (None: all; a big prune then takes several short transactions).
        Returns: how many rows were deleted."""
        ...

    async def schedule_timer(
        self,
        kind: str,
        due_at: datetime,
        *,
        ticket_id: int | None = None,
        payload: Mapping[str, Any] | None = None,
        dedupe_key: str | None = None,
    ) -> int | None:
        """Returns: the timer id, or None when dedupe_key was already scheduled."""
        ...

    async def get_timer(self, timer_id: int) -> Timer | None:
        """Args: id. Returns: the Timer or None."""
        ...

    async def cancel_timers(self, ticket_id: int, kind: str | None = None) -> int:
        """Cancel pending timers of a ticket (optionally one kind). Returns: how many."""
        ...

    async def claim_due_timers(self, now: datetime, worker: str, limit: int, lease: float) -> list[Timer]:
        """Lease due timers (and ones whose lease expired). Returns: them by due_at then id."""
        ...

    async def complete_timer(self, timer_id: int) -> None:
        """Args: id. Marks the timer done."""
        ...

    async def prune_timers(self, before: datetime, limit: int | None = None) -> int:
        """Delete done and cancelled timers due before the bound, at most limit of them (None: all).
        Returns: how many were deleted."""
        ...
