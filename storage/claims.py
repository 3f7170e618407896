"""Which queued rows a worker may take: the eligibility rules both backends claim by (SQLite with one UPDATE,
PostgreSQL with FOR UPDATE SKIP LOCKED), kept in one place so the order they promise cannot drift apart."""

from __future__ import annotations

__all__ = ["INBOX_DUE", "OUTBOX_DUE", "TIMERS_DUE"]

# Per ordering key only the oldest open entry is eligible: a chat's second message never overtakes the first,
# even while the first waits for a retry. A 'working' entry whose lease expired is claimable again.
INBOX_DUE = """
    i.status IN ('pending', 'working')
      AND i.available_at <= :now
      AND (i.status = 'pending' OR i.locked_until <= :now)
      AND i.id = (
          SELECT MIN(i2.id) FROM inbox AS i2
          WHERE i2.ordering_key = i.ordering_key AND i2.status IN ('pending', 'working')
      )
"""

# Per (destination, ordering_key) only the oldest undelivered row may go out: a later message to a chat must
# never overtake an earlier one that is waiting for a retry. A 'sending' row whose lease expired is claimable
# again (its worker died). Each backend adds its own test for the lanes to skip.
OUTBOX_DUE = """
    o.status IN ('pending', 'sending')
      AND o.available_at <= :now
      AND (o.status = 'pending' OR o.locked_until <= :now)
      AND o.id = (
          SELECT MIN(o2.id) FROM outbox AS o2
          WHERE o2.destination = o.destination AND o2.ordering_key = o.ordering_key
            AND o2.status IN ('pending', 'sending')
      )
"""

# A due timer, or one whose worker died (its lease expired).
TIMERS_DUE = """
    status IN ('pending', 'running')
      AND due_at <= :now
      AND (status = 'pending' OR locked_until <= :now)
"""
