"""The SQLite backend: one aiosqlite connection in WAL mode, one BEGIN IMMEDIATE transaction per use case."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import aiosqlite

from storage import migrate as migrations
from storage.base import StoreError
from storage.secrets import SecretBox
from storage.sqlite_inbox import InboxRepo
from storage.sqlite_mail import MailRepo
from storage.sqlite_office import OfficeRepo
from storage.sqlite_people import PeopleRepo
from storage.sqlite_queues import QueueRepo
from storage.sqlite_tickets import TicketRepo
from storage.sqlite_txbase import translate

__all__ = ["SqliteStore", "SqliteTx"]

log = logging.getLogger(__name__)

# How long a writer waits for another process's write lock before SQLITE_BUSY.
DEFAULT_BUSY_TIMEOUT_S = 30.0


class SqliteTx(PeopleRepo, TicketRepo, QueueRepo, InboxRepo, MailRepo, OfficeRepo):
    """Every repository method of the Tx protocol, bound to one open SQLite transaction."""

    def savepoint(self) -> AbstractAsyncContextManager[None]:
        self._savepoints += 1
        return self._atomic(f"sp{self._savepoints}")


def _backup_to(source: Path, target: Path, busy_timeout: float) -> None:
    if target.resolve() == source.resolve():
        raise StoreError("backup target is the live database")
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(source, timeout=busy_timeout)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


class SqliteStore:
    """The embedded default store: one file, safe for several tasks and for two processes on one file."""

    def __init__(self, db: aiosqlite.Connection, path: Path, box: SecretBox, busy_timeout: float) -> None:
        """Use SqliteStore.open(); this only wires an already configured connection."""
        self._db = db
        self._path = path
        self._box = box
        self._busy_timeout = busy_timeout
        # One connection can hold one transaction: tasks queue here instead of interleaving statements.
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[object] | None = None
        self._closed = False

    @classmethod
    async def open(
        cls,
        path: str | Path,
        box: SecretBox,
        *,
        migrate: bool = True,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT_S,
    ) -> SqliteStore:
        """Args: database file (parent directory created), key box, whether to migrate now, busy timeout (s).
        Returns: an open store."""
        db_path = Path(path)
        db_path.parent.mkdir(parents=True, exist_ok=True)
        if migrate:
            await asyncio.to_thread(migrations.migrate, db_path)
        db = await aiosqlite.connect(db_path, timeout=busy_timeout, isolation_level=None)
        try:
            db.row_factory = sqlite3.Row
            await db.executescript(
                "PRAGMA journal_mode = WAL;"
                " PRAGMA foreign_keys = ON;"
                # NORMAL is durable across application crashes in WAL mode; only power loss may drop
                # the last commits, which is what the sqlite docs recommend for WAL.
                " PRAGMA synchronous = NORMAL;"
                f" PRAGMA busy_timeout = {int(busy_timeout * 1000)};"
            )
        except BaseException:
            await db.close()
            raise
        return cls(db, db_path, box, busy_timeout)

    @property
    def path(self) -> Path:
        return self._path

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTx]:
        """Returns: a context giving a Tx; commits on normal exit, rolls back on exception."""
        if self._closed:
            raise StoreError("the store is closed")
        task = asyncio.current_task()
        if task is not None and task is self._owner:
            # Waiting on our own lock would hang forever: say so instead.
            raise StoreError("nested store.transaction() in the same task; pass the Tx down instead")
        async with self._lock:
            self._owner = task
            tx = SqliteTx(self._db, self._box)
            try:
                # IMMEDIATE takes the write lock now, so a second process waits here (busy_timeout)
                # rather than failing at its first write after having read stale data.
                try:
                    await self._run("BEGIN IMMEDIATE")
                except BaseException:
                    # A cancelled await does not stop the worker thread: the BEGIN may still run.
                    await self._rollback()
                    raise
                try:
                    yield tx
                except BaseException:
                    tx._close()
                    await self._rollback()
                    raise
                tx._close()
                try:
                    await self._run("COMMIT")
                except BaseException:
                    await self._rollback()
                    raise
            finally:
                self._owner = None

    async def _run(self, sql: str) -> None:
        try:
            await self._db.execute(sql)
        except sqlite3.Error as exc:
            raise translate(exc) from exc

    async def _rollback(self) -> None:
        """Roll back without hiding the exception that got us here."""
        try:
            # Unconditional: statements run in order on the connection's thread, so this also undoes a
            # BEGIN that was still queued when its awaiting task was cancelled.
            await self._db.execute("ROLLBACK")
        except sqlite3.OperationalError as exc:
            if "no transaction is active" not in str(exc):
                log.exception("rollback failed")
        except sqlite3.Error:
            log.exception("rollback failed")

    async def migrate(self) -> list[int]:
        """Apply pending schema migrations. Returns: the versions applied."""
        applied = await asyncio.to_thread(migrations.migrate, self._path)
        if applied:
            log.info("applied migrations %s", [m.version for m in applied])
        return [m.version for m in applied]

    async def close(self) -> None:
        """Release the connection (idempotent)."""
        if not self._closed:
            self._closed = True
            await self._db.close()

    async def backup(self, path: str | Path) -> None:
        """Write a consistent online copy of the database to path with SQLite's backup API."""
        # Its own connection: the copy reads a WAL snapshot and never waits for the store's lock.
        await asyncio.to_thread(_backup_to, self._path, Path(path), self._busy_timeout)

    async def rotate_secrets(self, box: SecretBox) -> int:
        """Re-encrypt every credential under box's first key in one transaction and keep box.
        Returns: how many credentials were re-encrypted."""
        async with self.transaction() as tx:
            rows = await tx._all("SELECT id, ciphertext FROM credentials ORDER BY id")
            # A row no key of the new box opens raises SecretError here: rollback, old box kept.
            updates = [(box.rotate(r["ciphertext"]), r["id"]) for r in rows]
            if updates:
                await tx._many("UPDATE credentials SET ciphertext = ? WHERE id = ?", updates)
        self._box = box
        return len(updates)
