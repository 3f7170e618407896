"""SQLite repository methods of the durable inbox, and taking over the leases of a dead process."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from storage import sqlite_codec as c
from storage.base import InvalidValue
from storage.claims import INBOX_DUE
from storage.records import Backlog, InboxEntry, InboxStatus
from storage.sqlite_queues import lease_until, prune_limit
from storage.sqlite_txbase import TxBase, positive_int

# The oldest open entry of each ordering key (storage.claims), oldest first.
_CLAIM = f"""
UPDATE inbox
SET status = 'working', locked_by = :worker, locked_until = :until
WHERE id IN (
    SELECT i.id FROM inbox AS i
    WHERE {INBOX_DUE}
    ORDER BY i.available_at, i.id
    LIMIT :limit
)
RETURNING *
"""
_FINISHED = (InboxStatus.DONE, InboxStatus.UNPARSED, InboxStatus.FAILED)
# Work waiting, in one statement; each part reads a partial index of open (or dead) rows.
_OPEN_OUTBOX = "FROM outbox WHERE status IN ('pending', 'sending')"
_OPEN_INBOX = "FROM inbox WHERE status IN ('pending', 'working')"
_BACKLOG = (
    f"SELECT (SELECT COUNT(*) {_OPEN_OUTBOX}) AS outbox_n, (SELECT MIN(created_at) {_OPEN_OUTBOX}) AS outbox_oldest,"
    " (SELECT COUNT(*) FROM outbox WHERE status = 'dead') AS dead_n,"
    f" (SELECT COUNT(*) {_OPEN_INBOX}) AS inbox_n, (SELECT MIN(received_at) {_OPEN_INBOX}) AS inbox_oldest"
)


class InboxRepo(TxBase):
    """The inbox: add, claim in order per key, finish inside the entry's transaction, retry, prune."""

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
        """Returns: the new entry's id, or None for a redelivery of (source, key)."""
        if not source or not key or not kind:
            raise InvalidValue("an inbox entry needs a source, a key and a kind")
        stamp = c.ts(at)
        status = InboxStatus.PENDING if unparsed is None else InboxStatus.UNPARSED
        row = await self._one(
            "INSERT INTO inbox (source, key, ordering_key, kind, payload, status, received_at, available_at,"
            " finished_at, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (source, key) DO NOTHING RETURNING id",
            (
                source,
                key,
                ordering_key,
                kind,
                c.to_json(payload),
                status.value,
                stamp,
                stamp,
                None if unparsed is None else stamp,
                None if unparsed is None else unparsed[:1000],
            ),
        )
        return None if row is None else int(row["id"])

    async def get_inbox(self, entry_id: int) -> InboxEntry | None:
        row = await self._one("SELECT * FROM inbox WHERE id = ?", (entry_id,))
        return None if row is None else c.inbox(row)

    async def claim_inbox(self, now: datetime, worker: str, limit: int, lease: float) -> list[InboxEntry]:
        positive_int(limit, "limit")
        rows = await self._all(
            _CLAIM, {"worker": worker, "until": lease_until(now, lease), "now": c.ts(now), "limit": limit}
        )
        claimed = [c.inbox(r) for r in rows]
        claimed.sort(key=lambda e: (e.available_at, e.id))
        return claimed

    async def finish_inbox(
        self, entry_id: int, worker: str, at: datetime, *, status: InboxStatus = InboxStatus.DONE, error: str = ""
    ) -> bool:
        if status not in _FINISHED:
            raise InvalidValue(f"an inbox entry finishes as done, unparsed or failed, not {status}")
        rows = await self._all(
            "UPDATE inbox SET status = ?, finished_at = ?, error = ?, locked_by = NULL, locked_until = NULL"
            " WHERE id = ? AND status = 'working' AND locked_by = ? RETURNING id",
            (status.value, c.ts(at), error[:1000] or None, entry_id, worker),
        )
        return bool(rows)

    async def retry_inbox(
        self, entry_id: int, worker: str, available_at: datetime, error: str, *, counted: bool = True
    ) -> bool:
        rows = await self._all(
            "UPDATE inbox SET status = 'pending', available_at = ?, error = ?, locked_by = NULL,"
            " locked_until = NULL, attempts = attempts + ? WHERE id = ? AND status = 'working' AND locked_by = ?"
            " RETURNING id",
            (c.ts(available_at), error[:1000], 1 if counted else 0, entry_id, worker),
        )
        return bool(rows)

    async def list_inbox(self, statuses: tuple[InboxStatus, ...], limit: int = 100) -> list[InboxEntry]:
        positive_int(limit, "limit")
        marks = ", ".join("?" for _ in statuses) or "NULL"
        rows = await self._all(
            f"SELECT * FROM inbox WHERE status IN ({marks}) ORDER BY id LIMIT ?",
            (*(InboxStatus(s).value for s in statuses), limit),
        )
        return [c.inbox(r) for r in rows]

    async def prune_inbox(self, before: datetime, limit: int | None = None) -> int:
        rows = await self._all(
            # Unparsed and failed entries stay for a person to look at (`supportbot inbox list --failed`).
            "DELETE FROM inbox WHERE id IN (SELECT id FROM inbox WHERE status = 'done'"
            " AND finished_at < ? ORDER BY finished_at LIMIT ?) RETURNING id",
            (c.ts(before), prune_limit(limit)),
        )
        return len(rows)

    async def backlog(self) -> Backlog:
        row = await self._one(_BACKLOG)
        assert row is not None
        return Backlog(
            outbox_pending=int(row["outbox_n"]),
            outbox_oldest=c.from_ts_opt(row["outbox_oldest"]),
            outbox_dead=int(row["dead_n"]),
            inbox_pending=int(row["inbox_n"]),
            inbox_oldest=c.from_ts_opt(row["inbox_oldest"]),
        )

    async def release_leases(self, worker_prefix: str, keep_prefix: str) -> int:
        if not worker_prefix or not keep_prefix:
            raise InvalidValue("release_leases needs the replica's prefix and this process's prefix")
        released = 0
        for table, busy in (("inbox", "working"), ("outbox", "sending"), ("timers", "running")):
            rows = await self._all(
                f"UPDATE {table} SET status = 'pending', locked_by = NULL, locked_until = NULL"
                f" WHERE status = '{busy}' AND substr(locked_by, 1, ?) = ? AND substr(locked_by, 1, ?) != ?"
                " RETURNING id",
                (len(worker_prefix), worker_prefix, len(keep_prefix), keep_prefix),
            )
            released += len(rows)
        return released
