"""Shared plumbing of the SQLite Tx: one-hop statement helpers and SQLite error translation."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite

from storage.base import DuplicateError, InvalidValue, NotFound, StoreError
from storage.secrets import SecretBox

Params = Sequence[Any] | dict[str, Any]


def translate(exc: sqlite3.Error) -> StoreError:
    """Map an SQLite error onto the store's named errors (the backend-independent contract)."""
    text = str(exc)
    if "UNIQUE constraint failed" in text:
        return DuplicateError(text)
    if "FOREIGN KEY constraint failed" in text:
        return NotFound(f"a referenced row does not exist ({text})")
    if isinstance(exc, sqlite3.IntegrityError):
        return InvalidValue(text)
    return StoreError(text)


class TxBase:
    """Holds the connection of the open transaction; every repository mixin builds on these helpers."""

    def __init__(self, db: aiosqlite.Connection, box: SecretBox) -> None:
        self._db = db
        self._box = box
        self._open = True
        self._savepoints = 0

    def _close(self) -> None:
        self._open = False

    def _check_open(self) -> None:
        if not self._open:
            raise StoreError("this transaction is finished; open a new one with store.transaction()")

    async def _all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Run one statement and fetch every row in a single thread hop (aiosqlite costs ~80 µs a hop)."""
        self._check_open()
        try:
            rows = await self._db.execute_fetchall(sql, params)
        except sqlite3.Error as exc:
            raise translate(exc) from exc
        return list(rows)

    async def _one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        rows = await self._all(sql, params)
        return rows[0] if rows else None

    async def _must(self, sql: str, params: Params, what: str) -> sqlite3.Row:
        row = await self._one(sql, params)
        if row is None:
            raise NotFound(what)
        return row

    async def _exec(self, sql: str, params: Params = ()) -> int:
        """Run one statement. Returns: the number of rows it changed."""
        self._check_open()
        try:
            cursor = await self._db.execute(sql, params)
        except sqlite3.Error as exc:
            raise translate(exc) from exc
        count = cursor.rowcount
        await cursor.close()
        return count

    @asynccontextmanager
    async def _atomic(self, name: str) -> AsyncIterator[None]:
        """Make a multi-statement method all-or-nothing inside the caller's transaction (a savepoint)."""
        await self._all(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            await self._db.execute(f"ROLLBACK TO {name}")
            await self._db.execute(f"RELEASE {name}")
            raise
        await self._all(f"RELEASE {name}")

    async def _many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._check_open()
        try:
            await self._db.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise translate(exc) from exc


def positive_int(value: Any, what: str) -> int:
    """An int > 0 (bool refused: True is not one minute)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidValue(f"{what} must be a positive integer, got {value!r}")
    return value


def non_negative_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidValue(f"{what} must be a non-negative integer, got {value!r}")
    return value
