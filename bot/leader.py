"""Work that runs on one replica at a time: the replica holding a lock in the database does it, the others say so
once and take over when that one stops (its lock goes with its database connection)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from storage.leader import Alone, Leadership

__all__ = ["OneReplica"]

log = logging.getLogger(__name__)

RETRY_S = 3.0  # how often a waiting replica asks for the lock
CHECK_S = 5.0  # how often the holder checks that its lock (its connection) is still there


class OneReplica:
    """Runs start() while this process holds the lock and stop() when it lets go of it or loses it."""

    def __init__(
        self,
        lock: Leadership,
        what: str,
        *,
        start: Callable[[], Awaitable[None]],
        stop: Callable[[], Awaitable[None]],
        retry: float = RETRY_S,
        check: float = CHECK_S,
    ) -> None:
        self._lock = lock
        self._what = what
        self._start = start
        self._stop = stop
        self._retry = retry
        self._check = check
        self._task: asyncio.Task[None] | None = None
        self.leading = False

    async def begin(self) -> bool:
        """Ask for the lock once now (so a single process starts its work at once), then keep watching.
        Returns: whether this process does the work now."""
        try:
            got = await self._lock.try_acquire()
        except Exception as exc:
            log.warning("could not ask the database who %s: %s; asking again in %.0f s", self._what, exc, self._retry)
            got = False
        if got:
            await self._lead()
        else:
            log.info(
                "another replica %s (it holds the lock in the database); this one serves the rest and takes over"
                " if that one stops",
                self._what,
            )
        if not isinstance(self._lock, Alone):
            self._task = asyncio.create_task(self._watch(), name=f"one-replica {self._what}")
        return got

    async def _lead(self) -> None:
        self.leading = True
        await self._start()

    async def _watch(self) -> None:
        while True:
            if self.leading:
                await asyncio.sleep(self._check)
                if not await self._lock.still_held():
                    log.warning("lost the database lock: this replica no longer %s; asking for it again", self._what)
                    self.leading = False
                    await self._stop()
                    await self._lock.release()
                continue
            await asyncio.sleep(self._retry)
            try:
                got = await self._lock.try_acquire()
            except Exception as exc:
                log.debug("asking for the lock failed: %s", exc)
                continue
            if got:
                log.info("this replica %s now (the one that did stopped)", self._what)
                await self._lead()

    async def close(self) -> None:
        """Stop the work if this process does it, and let go of the lock."""
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.leading:
            self.leading = False
            await self._stop()
        await self._lock.release()
