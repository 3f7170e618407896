"""The PostgreSQL backend: an asyncpg pool, one READ COMMITTED transaction per use case, several replicas on one
database.

Why asyncpg: it is asyncio-native with its own pool, speaks the binary protocol, is the fastest PostgreSQL driver
for Python and is well kept; its `$n` placeholders are the one thing to adapt (storage/pg_txbase.py). Nothing here
holds a process-wide lock: replicas meet in the database, where claims skip locked rows, compare-and-set decides
between two writers, and a session advisory lock on a dedicated connection elects the one that polls Telegram.

A location is postgresql://user:password@host:port/database, optionally with ?schema=NAME (a schema of its own in
a shared database; created by the first migration). Other query parameters go to the driver (sslmode=...).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from storage.base import InvalidValue, StoreError
from storage.pg_schema import advisory_key, applied_versions_pg, migrate_pg
from storage.pg_tx import PgTx
from storage.pg_txbase import translate_pg
from storage.secrets import SecretBox

__all__ = ["PgLocation", "PgStore", "is_postgres_url"]

log = logging.getLogger(__name__)

DEFAULT_POOL_SIZE = 10
CONNECT_TIMEOUT_S = 10.0
_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def is_postgres_url(location: object) -> bool:
    return isinstance(location, str) and location.strip().startswith(("postgres://", "postgresql://"))


@dataclass(frozen=True)
class PgLocation:
    """A PostgreSQL URL taken apart: what the driver gets, the schema, and a form safe to print."""

    dsn: str  # without the schema parameter
    schema: str | None

    @classmethod
    def parse(cls, url: str) -> PgLocation:
        """Raises InvalidValue for a URL that is not postgresql:// or a schema name PostgreSQL would need quoted."""
        if not is_postgres_url(url):
            raise InvalidValue("a PostgreSQL location starts with postgresql://")
        parts = urlsplit(url.strip())
        query = parse_qsl(parts.query, keep_blank_values=True)
        schema = next((v for k, v in query if k == "schema"), None)
        if schema is not None and not _SCHEMA.match(schema):
            raise InvalidValue(f"schema {schema!r}: lower-case letters, digits and _ (starting with a letter or _)")
        rest = urlencode([(k, v) for k, v in query if k != "schema"])
        return cls(urlunsplit(parts._replace(query=rest)), schema)

    @property
    def shown(self) -> str:
        """The URL with the password hidden (for messages and logs)."""
        parts = urlsplit(self.dsn)
        netloc = parts.netloc
        if "@" in netloc:
            user, host = netloc.rsplit("@", 1)
            if ":" in user:
                user = user.split(":", 1)[0] + ":***"
            netloc = f"{user}@{host}"
        shown = urlunsplit(parts._replace(netloc=netloc))
        return shown + (("&" if parts.query else "?") + f"schema={self.schema}" if self.schema else "")

    def libpq(self) -> tuple[str, dict[str, str]]:
        """The URL for the PostgreSQL client programs without its password, and their environment with it."""
        parts = urlsplit(self.dsn)
        env = dict(os.environ)
        netloc = parts.netloc
        if "@" in netloc:
            user, host = netloc.rsplit("@", 1)
            if ":" in user:
                user, password = user.split(":", 1)
                from urllib.parse import unquote

                env["PGPASSWORD"] = unquote(password)
            netloc = f"{user}@{host}"
        return urlunsplit(parts._replace(netloc=netloc)), env

    def server_settings(self) -> dict[str, str]:
        settings = {"application_name": "supportbot"}
        if self.schema:
            settings["search_path"] = self.schema
        return settings


async def connect(location: PgLocation) -> asyncpg.Connection:
    """One connection of its own (migrations, the polling lock, copies). Raises StoreError when unreachable."""
    try:
        return await asyncpg.connect(
            location.dsn, timeout=CONNECT_TIMEOUT_S, server_settings=location.server_settings()
        )
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise StoreError(f"cannot reach PostgreSQL at {location.shown}: {exc}") from None


class PgLeadership:
    """A session advisory lock on a connection of its own: held while that connection lives (a killed process's
    connection closes, and with it the lock, at once)."""

    def __init__(self, location: PgLocation, key: int) -> None:
        self._location = location
        self._key = key
        self._conn: asyncpg.Connection | None = None

    async def try_acquire(self) -> bool:
        """Returns: True when this process holds the lock now."""
        if self._conn is None or self._conn.is_closed():
            self._conn = await connect(self._location)
        try:
            return bool(await self._conn.fetchval("SELECT pg_try_advisory_lock($1)", self._key))
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            await self.release()
            raise StoreError(f"the lock could not be asked for: {exc}") from None

    async def still_held(self) -> bool:
        """Whether the lock's connection is still alive (the database would have let go of a dead one)."""
        if self._conn is None or self._conn.is_closed():
            return False
        try:
            await asyncio.wait_for(self._conn.fetchval("SELECT 1"), 5.0)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError):
            return False
        return True

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            try:
                await asyncio.wait_for(conn.close(), 5.0)  # closing the session lets go of its locks
            except Exception:
                conn.terminate()


class PgStore:
    """Several replicas of the bot on one PostgreSQL database."""

    def __init__(self, pool: asyncpg.Pool, location: PgLocation, box: SecretBox) -> None:
        """Use PgStore.open(); this only wires an open pool."""
        self._pool = pool
        self._location = location
        self._box = box
        self._in_transaction: set[asyncio.Task[Any] | None] = set()
        self._closed = False
        self._audit_key = advisory_key("supportbot", location.schema or "", "audit")

    @classmethod
    async def open(
        cls, url: str, box: SecretBox, *, migrate: bool = True, pool_size: int = DEFAULT_POOL_SIZE
    ) -> PgStore:
        """Args: postgresql:// URL, key box, whether to migrate now, connections in the pool. Returns: an open
        store. Raises StoreError when the database cannot be reached, MigrationError."""
        location = PgLocation.parse(url)
        if migrate:
            conn = await connect(location)
            try:
                await migrate_pg(conn, location.schema)
            finally:
                await conn.close()
        try:
            pool = await asyncpg.create_pool(
                location.dsn,
                min_size=1,
                max_size=pool_size,
                timeout=CONNECT_TIMEOUT_S,
                server_settings=location.server_settings(),
            )
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StoreError(f"cannot reach PostgreSQL at {location.shown}: {exc}") from None
        return cls(pool, location, box)

    @property
    def location(self) -> PgLocation:
        return self._location

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgTx]:
        """Returns: a context giving a Tx; commits on normal exit, rolls back on exception."""
        if self._closed:
            raise StoreError("the store is closed")
        task = asyncio.current_task()
        if task is not None and task in self._in_transaction:
            # The same task holding two connections would wait on its own row locks: say so instead.
            raise StoreError("nested store.transaction() in the same task; pass the Tx down instead")
        self._in_transaction.add(task)
        try:
            try:
                conn = await self._pool.acquire()
            except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                raise StoreError(f"cannot reach PostgreSQL at {self._location.shown}: {exc}") from None
            try:
                async with self._begun(conn) as tx:
                    yield tx
            finally:
                await self._pool.release(conn)
        finally:
            self._in_transaction.discard(task)

    @asynccontextmanager
    async def _begun(self, conn: asyncpg.Connection) -> AsyncIterator[PgTx]:
        transaction = conn.transaction()
        try:
            await transaction.start()
        except BaseException as exc:
            conn.terminate()  # a cancelled BEGIN leaves the session in an unknown state: the pool replaces it
            if isinstance(exc, asyncpg.PostgresError | asyncpg.InterfaceError | OSError):
                raise translate_pg(exc) from exc
            raise
        tx = PgTx(conn, self._box, audit_lock=self._audit_key)
        try:
            yield tx
        except BaseException:
            tx._close()
            await _rollback(conn, transaction)
            raise
        tx._close()
        if tx.aborted:
            # PostgreSQL would answer COMMIT with a rollback: say so instead of returning as if committed.
            await _rollback(conn, transaction)
            raise StoreError("a statement failed inside this transaction, so none of it was committed")
        try:
            await transaction.commit()
        except BaseException as exc:
            await _rollback(conn, transaction)
            if isinstance(exc, asyncpg.PostgresError | asyncpg.InterfaceError | OSError):
                raise translate_pg(exc) from exc
            raise

    async def migrate(self) -> list[int]:
        """Apply pending schema migrations. Returns: the versions applied."""
        async with self._pool.acquire() as conn:
            applied = await migrate_pg(conn, self._location.schema)
        if applied:
            log.info("applied migrations %s", [m.version for m in applied])
        return [m.version for m in applied]

    async def applied_versions(self) -> set[int]:
        """Returns: the schema versions recorded in the database."""
        async with self._pool.acquire() as conn:
            return await applied_versions_pg(conn)

    async def close(self) -> None:
        """Release the connections (idempotent)."""
        if not self._closed:
            self._closed = True
            try:
                await asyncio.wait_for(self._pool.close(), 10.0)
            except (TimeoutError, asyncpg.InterfaceError):
                self._pool.terminate()

    async def backup(self, path: str | Path) -> None:
        """Write a consistent copy of the database (this installation's schema) to path with pg_dump, in its
        custom format (`pg_restore` reads it). Raises StoreError when pg_dump is missing or fails."""
        await pg_dump(self._location, Path(path))

    async def rotate_secrets(self, box: SecretBox) -> int:
        """Re-encrypt every credential under box's first key in one transaction and keep box.
        Returns: how many credentials were re-encrypted."""
        async with self.transaction() as tx:
            rows = await tx._all("SELECT id, ciphertext FROM credentials ORDER BY id FOR UPDATE")
            # A row no key of the new box opens raises SecretError here: rollback, old box kept.
            updates = [(box.rotate(r["ciphertext"]), r["id"]) for r in rows]
            if updates:
                await tx._many("UPDATE credentials SET ciphertext = ? WHERE id = ?", updates)
        self._box = box
        return len(updates)

    def leadership(self, name: str) -> PgLeadership:
        """A lock only one process of this installation holds at a time (Telegram's long polling)."""
        return PgLeadership(self._location, advisory_key("supportbot", self._location.schema or "", name))


async def _rollback(conn: asyncpg.Connection, transaction: Any) -> None:
    """Roll back without hiding the exception that got us here; a session that cannot is closed."""
    try:
        await asyncio.wait_for(transaction.rollback(), 10.0)
    except BaseException:
        conn.terminate()


async def pg_dump(location: PgLocation, target: Path) -> None:
    """Run pg_dump (custom format) of the installation's schema into target. Raises StoreError."""
    program = shutil.which("pg_dump")
    if program is None:
        raise StoreError(
            "pg_dump is not installed: install the PostgreSQL client (Debian: apt-get install postgresql-client)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    url, env = location.libpq()
    args = [program, "--format=custom", "--no-owner", f"--file={target}"]
    if location.schema:
        args.append(f"--schema={location.schema}")
    proc = await asyncio.create_subprocess_exec(
        *args, f"--dbname={url}", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        with_error = err.decode(errors="replace").strip().splitlines()
        raise StoreError(f"pg_dump failed: {with_error[-1] if with_error else f'exit {proc.returncode}'}")
