"""The repository protocol of the durable inbox: received platform events, in order per chat, each handled once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from storage.records import Backlog, InboxEntry, InboxStatus

__all__ = ["InboxTx"]


class InboxTx(Protocol):
    """Received events wait here, committed before the platform hears "received", until their entry commits."""

    async def add_inbox(
        self,
        source: str,
        key: str,
        ordering_key: str,
        kind: str,
        payload: Mapping[str, Any],
        *,
        at: datetime,
        unparsed: str | None = None,
    ) -> int | None:
        """Keep one received event (unparsed: why it cannot be read; it is then kept, never handled).
        Returns: its id, or None when (source, key) was received before (a redelivery)."""
        ...

    async def get_inbox(self, entry_id: int) -> InboxEntry | None:
        """Args: id. Returns: the entry or None."""
        ...

    async def claim_inbox(self, now: datetime, worker: str, limit: int, lease: float) -> list[InboxEntry]:
        """Lease due entries to worker for lease seconds; per ordering key only the oldest open entry is
        eligible (one chat's events are handled in the order received). Returns: them by available_at, id."""
        ...

    async def finish_inbox(
        self, entry_id: int, worker: str, at: datetime, *, status: InboxStatus = InboxStatus.DONE, error: str = ""
    ) -> bool:
        """Mark an entry handled, inside the transaction of its effects. Returns: False when the entry is not
        leased to worker any more (another worker took it over): the caller must roll back."""
        ...

    async def retry_inbox(
        self, entry_id: int, worker: str, available_at: datetime, error: str, *, counted: bool = True
    ) -> bool:
        """Give an entry back to be handled again at available_at (counted: a failed attempt, not a wait).
        Returns: False when it is not leased to worker."""
        ...

    async def list_inbox(self, statuses: tuple[InboxStatus, ...], limit: int = 100) -> list[InboxEntry]:
        """Returns: entries in those states, oldest first."""
        ...

    async def prune_inbox(self, before: datetime, limit: int | None = None) -> int:
        """Forget handled entries (done) finished before the bound, at most limit of them (None: all); unparsed
        and failed ones stay for a person. Returns: how many."""
        ...

    async def backlog(self) -> Backlog:
        """Returns: how much work waits in the outbox and the inbox, and since when (health and metrics)."""
        ...

    async def release_leases(self, worker_prefix: str, keep_prefix: str) -> int:
        """Give back every inbox entry, outbox row and timer leased by a worker whose name starts with
        worker_prefix (this replica) but not keep_prefix (this process): a restarted process takes over
        what its dead predecessor held at once, instead of waiting out the leases.
        Returns: how many rows were released."""
        ...
