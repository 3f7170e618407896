"""SQLite repository methods for intake drafts, processed-update keys, the outbox and timers."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

from storage import sqlite_codec as c
from storage.base import InvalidValue, NotFound, StaleVersion
from storage.claims import OUTBOX_DUE, TIMERS_DUE
from storage.records import Draft, OutboxMessage, OutboxStatus, Timer
from storage.sqlite_txbase import TxBase, positive_int

_DRAFT_COLUMNS = "chat_id, user_id, step, data, language, updated_at"

# The oldest undelivered row of each (destination, ordering_key) (storage.claims). The dispatcher paces itself
# per pace_key (a platform limit): it skips the lanes that are full and takes at most per_lane rows of each
# other lane, so one busy Slack channel never fills a round while a client's reply waits.
_CLAIM_OUTBOX = f"""
UPDATE outbox
SET status = 'sending', locked_by = :worker, locked_until = :until, claims = claims + 1
WHERE id IN (
    SELECT id FROM (
        SELECT o.id, o.available_at,
               ROW_NUMBER() OVER (PARTITION BY o.pace_key ORDER BY o.available_at, o.id) AS lane_rank
        FROM outbox AS o
        WHERE {OUTBOX_DUE}
          AND o.pace_key NOT IN (SELECT value FROM json_each(:skip))
    )
    WHERE lane_rank <= :per_lane
    ORDER BY available_at, id
    LIMIT :limit
)
RETURNING *
"""

_CLAIM_TIMERS = f"""
UPDATE timers
SET status = 'running', locked_by = :worker, locked_until = :until, attempts = attempts + 1
WHERE id IN (
    SELECT id FROM timers
    WHERE {TIMERS_DUE}
    ORDER BY due_at, id
    LIMIT :limit
)
RETURNING *
"""


def prune_limit(limit: int | None) -> int:
    """A prune's LIMIT: positive, or -1 (SQLite's "no limit") for None."""
    return -1 if limit is None else positive_int(limit, "limit")


def lease_until(now: datetime, lease: float) -> str:
    """The text of now + lease seconds; refuses a lease that is not positive."""
    if lease <= 0:
        raise InvalidValue(f"a lease must be positive seconds, got {lease!r}")
    return c.ts(now + timedelta(seconds=lease))


class QueueRepo(TxBase):
    """Intake drafts, de-duplication keys, outbox messages and timers."""

    async def get_draft(self, chat_id: int) -> Draft | None:
        """Args: Telegram chat. Returns: the intake draft or None."""
        row = await self._one("SELECT * FROM drafts WHERE chat_id = ?", (chat_id,))
        return None if row is None else c.draft(row)

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
        values = (chat_id, user_id, step, c.to_json(data), language, c.ts(at))
        if expected_version is None:
            row = await self._one(
                f"INSERT INTO drafts ({_DRAFT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (chat_id) DO UPDATE SET user_id = excluded.user_id, step = excluded.step,"
                " data = excluded.data, language = excluded.language, updated_at = excluded.updated_at,"
                " version = drafts.version + 1 RETURNING *",
                values,
            )
        elif expected_version == 0:
            row = await self._one(
                f"INSERT INTO drafts ({_DRAFT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (chat_id) DO NOTHING RETURNING *",
                values,
            )
        else:
            row = await self._one(
                "UPDATE drafts SET user_id = ?, step = ?, data = ?, language = ?, updated_at = ?,"
                " version = version + 1 WHERE chat_id = ? AND version = ? RETURNING *",
                (*values[1:], chat_id, expected_version),
            )
        if row is None:
            raise StaleVersion(f"draft of chat {chat_id} is not at version {expected_version}")
        return c.draft(row)

    async def delete_draft(self, chat_id: int) -> bool:
        """Args: chat. Returns: True if a draft was deleted."""
        rows = await self._all("DELETE FROM drafts WHERE chat_id = ? RETURNING chat_id", (chat_id,))
        return bool(rows)

    async def list_drafts_older_than(self, before: datetime) -> list[Draft]:
        """Args: bound. Returns: drafts last updated before it, oldest first."""
        rows = await self._all(
            "SELECT * FROM drafts WHERE updated_at < ? ORDER BY updated_at, chat_id", (c.ts(before),)
        )
        return [c.draft(r) for r in rows]

    async def mark_processed(self, source: str, key: str, at: datetime) -> bool:
        """Returns: True only the first time (source, key) is seen."""
        if not source or not key:
            raise InvalidValue("mark_processed needs a source and a key")
        rows = await self._all(
            "INSERT INTO processed_updates (source, key, at) VALUES (?, ?, ?)"
            " ON CONFLICT (source, key) DO NOTHING RETURNING 1",
            (source, key, c.ts(at)),
        )
        return bool(rows)

    async def prune_processed(self, before: datetime, limit: int | None = None) -> int:
        """Args: bound. Returns: how many remembered keys older than it were forgotten."""
        rows = await self._all(
            "DELETE FROM processed_updates WHERE rowid IN"
            " (SELECT rowid FROM processed_updates WHERE at < ? ORDER BY at LIMIT ?) RETURNING 1",
            (c.ts(before), prune_limit(limit)),
        )
        return len(rows)

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
        """Queue a message. Returns: its id, or None when dedupe_key was already queued."""
        if not destination or not kind:
            raise InvalidValue("an outbox message needs a destination and a kind")
        created = c.ts(at)
        row = await self._one(
            "INSERT INTO outbox (destination, ordering_key, kind, payload, dedupe_key, created_at,"
            " available_at, pace_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
            (
                destination,
                str(ordering_key),
                kind,
                c.to_json(payload),
                dedupe_key,
                created,
                created if available_at is None else c.ts(available_at),
                pace_key,
            ),
        )
        return None if row is None else int(row["id"])

    async def get_outbox(self, message_id: int) -> OutboxMessage | None:
        """Args: id. Returns: the row or None."""
        row = await self._one("SELECT * FROM outbox WHERE id = ?", (message_id,))
        return None if row is None else c.outbox(row)

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
        positive_int(limit, "limit")
        lanes = limit if per_lane is None else positive_int(per_lane, "per_lane")
        rows = await self._all(
            _CLAIM_OUTBOX,
            {
                "worker": worker,
                "until": lease_until(now, lease),
                "now": c.ts(now),
                "limit": limit,
                "skip": json.dumps(sorted(skip_lanes)),
                "per_lane": lanes,
            },
        )
        claimed = [c.outbox(r) for r in rows]
        claimed.sort(key=lambda m: (m.available_at, m.id))
        return claimed

    async def _set_outbox(self, message_id: int, sql: str, params: tuple[Any, ...]) -> None:
        rows = await self._all(sql + " WHERE id = ? RETURNING id", (*params, message_id))
        if not rows:
            raise NotFound(f"outbox message {message_id} not found")

    async def mark_sent(self, message_id: int, at: datetime | None = None) -> None:
        """Args: id, when the platform accepted it. Marks the row delivered."""
        await self._set_outbox(
            message_id,
            "UPDATE outbox SET status = 'sent', locked_by = NULL, locked_until = NULL, last_error = NULL, sent_at = ?",
            (c.ts_opt(at),),
        )

    async def mark_retry(
        self, message_id: int, available_at: datetime, error: str, *, counted: bool = True, reached: bool = True
    ) -> None:
        """Args: id, next attempt time, error text, whether it was a failed attempt (a rate limit is a wait,
        not a failure), whether this take may have reached the platform (False: it waited for its pacing turn
        and gave the row back before any call, so the take is not counted in claims). Releases the lease."""
        await self._set_outbox(
            message_id,
            "UPDATE outbox SET status = 'pending', locked_by = NULL, locked_until = NULL,"
            " available_at = ?, last_error = ?, attempts = attempts + ?, claims = MAX(0, claims - ?)",
            (c.ts(available_at), error, 1 if counted else 0, 0 if reached else 1),
        )

    async def mark_dead(self, message_id: int, error: str) -> None:
        """Args: id, error text. Gives up on the row (it stops blocking its ordering key)."""
        await self._set_outbox(
            message_id,
            "UPDATE outbox SET status = 'dead', locked_by = NULL, locked_until = NULL, last_error = ?",
            (error,),
        )

    async def list_outbox(self, status: OutboxStatus, limit: int = 100) -> list[OutboxMessage]:
        """Returns: rows in that state, oldest first (the dead letters for `supportbot outbox list --dead`)."""
        positive_int(limit, "limit")
        rows = await self._all(
            "SELECT * FROM outbox WHERE status = ? ORDER BY id LIMIT ?", (OutboxStatus(status).value, limit)
        )
        return [c.outbox(r) for r in rows]

    async def requeue_outbox(self, message_id: int, at: datetime) -> bool:
        """Send a dead row again, from now, with its attempts reset. Returns: False when it is not dead."""
        rows = await self._all(
            "UPDATE outbox SET status = 'pending', attempts = 0, available_at = ?, last_error = NULL"
            " WHERE id = ? AND status = 'dead' RETURNING id",
            (c.ts(at), message_id),
        )
        return bool(rows)

    async def prune_outbox(self, before: datetime, limit: int | None = None) -> int:
        """Delete sent rows created before the bound (their dedupe keys are forgotten with them), at most limit
        of them, oldest first. Dead letters stay until someone retries them (`supportbot outbox retry`).
        Returns: how many rows were deleted."""
        rows = await self._all(
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE status = 'sent'"
            " AND created_at < ? ORDER BY id LIMIT ?) RETURNING id",
            (c.ts(before), prune_limit(limit)),
        )
        return len(rows)

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
        if not kind:
            raise InvalidValue("a timer needs a kind")
        row = await self._one(
            "INSERT INTO timers (kind, ticket_id, due_at, payload, dedupe_key) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING RETURNING id",
            (kind, ticket_id, c.ts(due_at), c.to_json(payload), dedupe_key),
        )
        return None if row is None else int(row["id"])

    async def get_timer(self, timer_id: int) -> Timer | None:
        """Args: id. Returns: the Timer or None."""
        row = await self._one("SELECT * FROM timers WHERE id = ?", (timer_id,))
        return None if row is None else c.timer(row)

    async def cancel_timers(self, ticket_id: int, kind: str | None = None) -> int:
        """Cancel pending timers of a ticket (optionally one kind). Returns: how many."""
        rows = await self._all(
            "UPDATE timers SET status = 'cancelled', locked_by = NULL, locked_until = NULL"
            " WHERE ticket_id = ? AND (? IS NULL OR kind = ?) AND status IN ('pending', 'running')"
            " RETURNING id",
            (ticket_id, kind, kind),
        )
        return len(rows)

    async def claim_due_timers(self, now: datetime, worker: str, limit: int, lease: float) -> list[Timer]:
        """Lease due timers (and ones whose lease expired). Returns: them by due_at then id."""
        positive_int(limit, "limit")
        rows = await self._all(
            _CLAIM_TIMERS,
            {"worker": worker, "until": lease_until(now, lease), "now": c.ts(now), "limit": limit},
        )
        claimed = [c.timer(r) for r in rows]
        claimed.sort(key=lambda t: (t.due_at, t.id))
        return claimed

    async def complete_timer(self, timer_id: int) -> None:
        """Args: id. Marks the timer done (a timer cancelled meanwhile stays cancelled)."""
        rows = await self._all(
            "UPDATE timers SET status = CASE WHEN status = 'cancelled' THEN 'cancelled' ELSE 'done' END,"
            " locked_by = NULL, locked_until = NULL WHERE id = ? RETURNING id",
            (timer_id,),
        )
        if not rows:
            raise NotFound(f"timer {timer_id} not found")

    async def prune_timers(self, before: datetime, limit: int | None = None) -> int:
        """Delete done and cancelled timers due before the bound, at most limit of them, oldest first.
        Returns: how many were deleted."""
        rows = await self._all(
            "DELETE FROM timers WHERE id IN (SELECT id FROM timers WHERE status IN ('done', 'cancelled')"
            " AND due_at < ? ORDER BY due_at LIMIT ?) RETURNING id",
            (c.ts(before), prune_limit(limit)),
        )
        return len(rows)
