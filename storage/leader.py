"""A lock only one process of an installation holds at a time, for work that must run once (Telegram's long
polling: two processes asking getUpdates with one token get 409 Conflict). On PostgreSQL it is a session advisory
lock on a connection of its own (storage/pg.py); an SQLite file serves one process, which always holds it."""

from __future__ import annotations

from typing import Protocol

__all__ = ["Leadership", "leadership"]


class Leadership(Protocol):
    async def try_acquire(self) -> bool:
        """Returns: True when this process holds the lock now."""
        ...

    async def still_held(self) -> bool:
        """Whether the lock is still this process's (False once its database connection is gone)."""
        ...

    async def release(self) -> None: ...


class Alone:
    """The only process there is: the lock is always held."""

    async def try_acquire(self) -> bool:
        return True

    async def still_held(self) -> bool:
        return True

    async def release(self) -> None:
        return None


def leadership(store: object, name: str) -> Leadership:
    """Args: an open store, the job's name. Returns: the store's lock for that job (Alone for a backend that serves
    a single process)."""
    factory = getattr(store, "leadership", None)
    if factory is None:
        return Alone()
    lock: Leadership = factory(name)
    return lock
