"""/healthz: is this process doing its work? The database answers, and the loops that move work are alive.

A process manager (systemd, Docker, Kubernetes) restarts the bot on a 503; its body says why.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Protocol

from bot.delivery import LeasedLoop
from storage import Store

__all__ = ["DB_TIMEOUT", "STALE_AFTER", "Polling", "database_problem", "loop_problem", "problems"]

# A loop runs a round at least every poll interval (1 s at most) unless one round hangs; a round claims and
# hands rows to tasks, so only a stuck store or a stuck timer handler holds it this long.
STALE_AFTER = 60.0
# Every transaction takes the write lock: one waiting this long means the database is stuck or locked.
DB_TIMEOUT = 5.0


class Polling(Protocol):
    """The Telegram poller, as far as health is concerned."""

    @property
    def running(self) -> bool: ...


def loop_problem(name: str, loop: LeasedLoop | None, now: float, stale_after: float = STALE_AFTER) -> str | None:
    """Why the loop is not doing its work (None: it is). now and alive_at are event-loop times."""
    if loop is None or not loop.running:
        return f"{name} loop is not running"
    if now - loop.alive_at > stale_after:
        return f"{name} loop has not run for {now - loop.alive_at:.0f} s"
    return None


async def database_problem(store: Store | None, timeout: float = DB_TIMEOUT) -> str | None:  # noqa: ASYNC109
    """Why the database cannot be used (None: a transaction began, read and committed within timeout)."""
    if store is None:
        return "database is not open"
    try:
        async with asyncio.timeout(timeout):
            async with store.transaction() as tx:
                await tx.backlog()
    except TimeoutError:
        return f"database did not answer within {timeout:g} s"
    except Exception as exc:
        return f"database: {type(exc).__name__}: {exc}"
    return None


async def problems(
    store: Store | None, loops: Mapping[str, LeasedLoop | None], poller: Polling | None = None
) -> list[str]:
    """Everything wrong, in words (empty: healthy)."""
    now = asyncio.get_running_loop().time()
    found = [p for name, loop in loops.items() if (p := loop_problem(name, loop, now)) is not None]
    if poller is not None and not poller.running:
        found.append("telegram poller is not running")
    db = await database_problem(store)
    if db is not None:
        found.insert(0, db)
    return found
