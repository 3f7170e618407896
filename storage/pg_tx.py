"""The PostgreSQL Tx: the SQLite repositories on asyncpg, with the methods whose SQL differs written again here.

Written again: the claims (inbox, outbox, timers), which take rows with FOR UPDATE SKIP LOCKED so that several
replicas never take one row twice and never wait on each other; the audit log, whose ids must grow in commit
order across replicas; and the few statements in SQLite's own dialect (printf, rowid, json_each, MAX(a, b),
untyped `? IS NULL`). The repository mixins are the SQLite store's, in the same order (a test holds the two lists
together, so a mixin added there is added here).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any

import asyncpg

from bot.domain.types import Role
from storage import sqlite_codec as c
from storage.claims import INBOX_DUE, OUTBOX_DUE, TIMERS_DUE
from storage.pg_txbase import PgTxBase
from storage.records import Agent, InboxEntry, Invite, NewTicket, OutboxMessage, Ticket, Timer
from storage.secrets import SecretBox
from storage.sqlite_inbox import InboxRepo
from storage.sqlite_mail import MailRepo
from storage.sqlite_office import OfficeRepo
from storage.sqlite_people import PeopleRepo
from storage.sqlite_queues import QueueRepo, lease_until
from storage.sqlite_tickets import TicketRepo
from storage.sqlite_txbase import positive_int

__all__ = ["PgTx"]

# Per ordering key only the oldest open entry is eligible (as on SQLite). A row another replica is taking right
# now is locked: SKIP LOCKED passes over it, and the key's next entry is not eligible while it is open, so one
# chat's events are still handled one at a time, in order, whichever replica takes them.
_CLAIM_INBOX = f"""
WITH picked AS (
    SELECT i.id FROM inbox AS i
    WHERE {INBOX_DUE}
    ORDER BY i.available_at, i.id
    LIMIT :limit
    FOR UPDATE OF i SKIP LOCKED
)
UPDATE inbox SET status = 'working', locked_by = :worker, locked_until = :until
FROM picked WHERE inbox.id = picked.id
RETURNING inbox.*
"""

# Due rows, the oldest undelivered of their (destination, ordering key), outside the lanes to skip.
_DUE_OUTBOX = f"""
    {OUTBOX_DUE}
      AND NOT (o.pace_key = ANY (CAST(:skip AS text[])))
"""
_TAKE_OUTBOX = """
UPDATE outbox SET status = 'sending', locked_by = :worker, locked_until = :until, claims = outbox.claims + 1
FROM picked WHERE outbox.id = picked.id
RETURNING outbox.*
"""
# Every lane may fill the round: the oldest due rows, passing over those another replica is taking right now.
_CLAIM_OUTBOX = f"""
WITH picked AS (
    SELECT o.id FROM outbox AS o WHERE {_DUE_OUTBOX}
    ORDER BY o.available_at, o.id
    LIMIT :limit
    FOR UPDATE OF o SKIP LOCKED
)
{_TAKE_OUTBOX}
"""
# At most per_lane rows of a lane: the lanes are ranked over the due rows, then the rows within their lane's
# share are locked, passing over those another replica is taking (that replica has the lane's share this round),
# and their state is checked again on the locked version.
_CLAIM_OUTBOX_LANES = f"""
WITH ranked AS (
    SELECT o.id, o.available_at,
           ROW_NUMBER() OVER (PARTITION BY o.pace_key ORDER BY o.available_at, o.id) AS lane_rank
    FROM outbox AS o WHERE {_DUE_OUTBOX}
), picked AS (
    SELECT o.id FROM outbox AS o JOIN ranked AS r ON r.id = o.id
    WHERE r.lane_rank <= :per_lane
      AND o.status IN ('pending', 'sending')
      AND (o.status = 'pending' OR o.locked_until <= :now)
    ORDER BY r.available_at, r.id
    LIMIT :limit
    FOR UPDATE OF o SKIP LOCKED
)
{_TAKE_OUTBOX}
"""

_CLAIM_TIMERS = f"""
WITH picked AS (
    SELECT id FROM timers
    WHERE {TIMERS_DUE}
    ORDER BY due_at, id
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
)
UPDATE timers SET status = 'running', locked_by = :worker, locked_until = :until, attempts = timers.attempts + 1
FROM picked WHERE timers.id = picked.id
RETURNING timers.*
"""


class PgTx(PeopleRepo, TicketRepo, QueueRepo, InboxRepo, MailRepo, OfficeRepo, PgTxBase):
    """Every repository method of the Tx protocol, bound to one open PostgreSQL transaction."""

    def __init__(self, conn: asyncpg.Connection, box: SecretBox, *, audit_lock: int) -> None:
        super().__init__(conn, box)
        self._audit_lock = audit_lock

    def savepoint(self) -> AbstractAsyncContextManager[None]:
        self._savepoints += 1
        return self._atomic(f"sp{self._savepoints}")

    # --- SQLite-only SQL, written for PostgreSQL ------------------------------------------------------------
    async def list_agents(self, role: Role | None = None, *, active_only: bool = False) -> list[Agent]:
        """Args: optional role filter, active filter. Returns: agents by name."""
        wanted = None if role is None else Role(role).value
        rows = await self._all(
            "SELECT * FROM agents WHERE (CAST(? AS text) IS NULL OR role = ?) AND (? = 0 OR active = 1)"
            " ORDER BY name, id",
            (wanted, wanted, int(active_only)),
        )
        return [c.agent(r) for r in rows]

    async def list_invites(self, client_id: int | None = None) -> list[Invite]:
        """Args: optional client filter. Returns: invites by id."""
        rows = await self._all(
            "SELECT * FROM invites WHERE (CAST(? AS bigint) IS NULL OR client_id = ?) ORDER BY id",
            (client_id, client_id),
        )
        return [c.invite(r) for r in rows]

    async def cancel_timers(self, ticket_id: int, kind: str | None = None) -> int:
        """Cancel pending timers of a ticket (optionally one kind). Returns: how many."""
        rows = await self._all(
            "UPDATE timers SET status = 'cancelled', locked_by = NULL, locked_until = NULL"
            " WHERE ticket_id = ? AND (CAST(? AS text) IS NULL OR kind = ?) AND status IN ('pending', 'running')"
            " RETURNING id",
            (ticket_id, kind, kind),
        )
        return len(rows)

    async def find_client_ticket_by_suffix(self, client_id: int, suffix: str) -> Ticket | None:
        """The company's newest ticket whose number ends with suffix ("-000124"), or None (one number per
        counter row, each looked up by the number's unique index, as on SQLite)."""
        row = await self._one(
            "SELECT t.* FROM ticket_counters AS k CROSS JOIN tickets AS t"
            " WHERE t.number = k.prefix || '-' || lpad(CAST(k.year AS text), 4, '0') || ? AND t.client_id = ?"
            " ORDER BY t.id DESC LIMIT 1",
            (suffix.strip().upper(), client_id),
        )
        return None if row is None else c.ticket(row)

    async def mark_retry(
        self, message_id: int, available_at: datetime, error: str, *, counted: bool = True, reached: bool = True
    ) -> None:
        """Args: id, next attempt time, error text, whether it was a failed attempt, whether this take may have
        reached the platform. Releases the lease."""
        await self._set_outbox(
            message_id,
            "UPDATE outbox SET status = 'pending', locked_by = NULL, locked_until = NULL,"
            " available_at = ?, last_error = ?, attempts = attempts + ?, claims = GREATEST(0, claims - ?)",
            (c.ts(available_at), error, 1 if counted else 0, 0 if reached else 1),
        )

    # --- claims: FOR UPDATE SKIP LOCKED --------------------------------------------------------------------
    async def claim_inbox(self, now: datetime, worker: str, limit: int, lease: float) -> list[InboxEntry]:
        positive_int(limit, "limit")
        rows = await self._all(
            _CLAIM_INBOX,
            {"worker": worker, "until": lease_until(now, lease), "now": c.ts(now), "limit": limit},
            guard=False,
        )
        claimed = [c.inbox(r) for r in rows]
        claimed.sort(key=lambda e: (e.available_at, e.id))
        return claimed

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
        positive_int(limit, "limit")
        lanes = limit if per_lane is None else positive_int(per_lane, "per_lane")
        params: dict[str, Any] = {
            "worker": worker,
            "until": lease_until(now, lease),
            "now": c.ts(now),
            "limit": limit,
            "skip": sorted(skip_lanes),
        }
        if lanes < limit:
            rows = await self._all(_CLAIM_OUTBOX_LANES, {**params, "per_lane": lanes}, guard=False)
        else:
            rows = await self._all(_CLAIM_OUTBOX, params, guard=False)
        claimed = [c.outbox(r) for r in rows]
        claimed.sort(key=lambda m: (m.available_at, m.id))
        return claimed

    async def claim_due_timers(self, now: datetime, worker: str, limit: int, lease: float) -> list[Timer]:
        positive_int(limit, "limit")
        rows = await self._all(
            _CLAIM_TIMERS,
            {"worker": worker, "until": lease_until(now, lease), "now": c.ts(now), "limit": limit},
            guard=False,
        )
        claimed = [c.timer(r) for r in rows]
        claimed.sort(key=lambda t: (t.due_at, t.id))
        return claimed

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
        """Returns: the new entry's id, or None for a redelivery of (source, key). A batch of updates is
        received in one transaction: no savepoint per entry (a redelivery is ON CONFLICT, nothing can fail)."""
        with self._unguarded():
            return await super().add_inbox(source, key, ordering_key, kind, payload, at=at, unparsed=unparsed)

    # --- the audit log in commit order -----------------------------------------------------------------------
    async def _audit_turn(self) -> None:
        """Wait for the audit log's turn: held until this transaction ends, so ids are given in commit order
        across replicas (metrics read the log forward by id and must not step over one committed later)."""
        await self._all("SELECT pg_advisory_xact_lock(?)", (self._audit_lock,), guard=False)

    async def append_audit(
        self,
        ticket_id: int | None,
        *,
        at: datetime,
        actor_kind: str,
        actor_id: str,
        action: str,
        data: Mapping[str, Any] | None = None,
    ) -> int:
        """Append one event to the append-only audit log. Returns: its id."""
        await self._audit_turn()
        return await super().append_audit(ticket_id, at=at, actor_kind=actor_kind, actor_id=actor_id, action=action,
                                          data=data)  # fmt: skip

    async def create_ticket(self, ticket: NewTicket, *, prefix: str = "SOP", year: int | None = None) -> Ticket:
        """Allocate PREFIX-YYYY-NNNNNN and insert (as on SQLite). The audit log's turn is taken first: every
        transaction takes the two in the same order, so two replicas opening tickets never deadlock."""
        await self._audit_turn()
        return await super().create_ticket(ticket, prefix=prefix, year=year)
