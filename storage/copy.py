"""Moving an installation from one database to another (`supportbot db copy`): every row of every table, as stored.

Both databases are first brought to the current schema (as the bot does when it starts), so their tables agree;
the target must hold no row yet. Rows go over as they are stored, ids included, in an order that satisfies the
foreign keys, in one transaction on the target: the copy is whole or nothing. Encrypted values (credentials, sealed
inbox payloads, passwords in drafts) are copied as ciphertext and never decrypted: the same keys open them. Then
each table is read back from both sides and compared by row count and by a SHA-256 over its rows in key order.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import asyncpg

from storage import migrate as sqlite_migrations
from storage.base import StoreError
from storage.pg import PgLocation, connect, is_postgres_url
from storage.pg_schema import migrate_pg, reset_identities

__all__ = ["CopyRefused", "TableCheck", "copy_database"]


class CopyRefused(StoreError):
    """The copy cannot start (nothing was written): `key` and `params` name the sentence for the command
    (cli.copy.*); str() is the English line."""

    def __init__(self, key: str, message: str, **params: object) -> None:
        super().__init__(message)
        self.key = key
        self.params = params


Row = tuple[Any, ...]


@dataclass(frozen=True)
class TableCheck:
    """One table after the copy: rows on each side and whether their checksums agree."""

    table: str
    source_rows: int
    target_rows: int
    source_sum: str
    target_sum: str

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.source_sum == self.target_sum


@dataclass(frozen=True)
class _Table:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]  # the order rows are compared in: the primary key, or every column
    parents: frozenset[str]  # tables its foreign keys point to


class _Side(Protocol):
    shown: str

    async def tables(self) -> dict[str, _Table]: ...

    async def versions(self) -> set[int]: ...

    async def rows(self, table: _Table) -> list[Row]: ...

    async def snapshot(self, tables: Sequence[_Table]) -> dict[str, list[Row]]:
        """Every table's rows as of one moment (a bot still writing cannot tear the copy)."""
        ...

    async def write(self, tables: Sequence[_Table], rows: dict[str, list[Row]]) -> None: ...

    async def close(self) -> None: ...


def checksum(rows: Sequence[Row]) -> str:
    """SHA-256 of the rows in the order given, each value in a form both backends give alike."""
    digest = hashlib.sha256()
    for row in rows:
        values = [v.hex() if isinstance(v, bytes | bytearray | memoryview) else v for v in row]
        digest.update(json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode())
        digest.update(b"\n")
    return digest.hexdigest()


class _Sqlite:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.shown = str(path)

    @classmethod
    async def open(cls, path: Path, *, must_exist: bool) -> _Sqlite:
        if must_exist and not await asyncio.to_thread(path.exists):
            raise CopyRefused("no_database", f"there is no database at {path}", path=path)
        await asyncio.to_thread(sqlite_migrations.migrate, path)
        return cls(path)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=sqlite_migrations.BUSY_TIMEOUT_S, isolation_level=None)
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _tables(self) -> dict[str, _Table]:
        conn = self._connect()
        try:
            names = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                " AND name != 'schema_migrations' ORDER BY name"
            )]  # fmt: skip
            found = {}
            for name in names:
                info = conn.execute(f'PRAGMA table_info("{name}")').fetchall()
                columns = tuple(r[1] for r in info)
                key = tuple(r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])) or columns
                parents = frozenset(r[2] for r in conn.execute(f'PRAGMA foreign_key_list("{name}")')) - {name}
                found[name] = _Table(name, columns, key, parents)
            return found
        finally:
            conn.close()

    async def tables(self) -> dict[str, _Table]:
        return await asyncio.to_thread(self._tables)

    async def versions(self) -> set[int]:
        return await asyncio.to_thread(sqlite_migrations.applied_versions, self.path)

    def _read(self, tables: Sequence[_Table]) -> dict[str, list[Row]]:
        conn = self._connect()
        try:
            conn.execute("BEGIN")  # one read transaction: one snapshot of the WAL for every table
            found = {t.name: [tuple(r) for r in conn.execute(_select(t))] for t in tables}
            conn.execute("COMMIT")
            return found
        finally:
            conn.close()

    async def rows(self, table: _Table) -> list[Row]:
        return (await asyncio.to_thread(self._read, [table]))[table.name]

    async def snapshot(self, tables: Sequence[_Table]) -> dict[str, list[Row]]:
        return await asyncio.to_thread(self._read, tables)

    def _write(self, tables: Sequence[_Table], rows: dict[str, list[Row]]) -> None:
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for table in tables:
                    cols = ", ".join(f'"{c}"' for c in table.columns)
                    marks = ", ".join("?" for _ in table.columns)
                    conn.executemany(f'INSERT INTO "{table.name}" ({cols}) VALUES ({marks})', rows[table.name])
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StoreError(f"writing {self.shown} failed: {exc}") from exc
        finally:
            conn.close()

    async def write(self, tables: Sequence[_Table], rows: dict[str, list[Row]]) -> None:
        await asyncio.to_thread(self._write, tables, rows)

    async def close(self) -> None:
        return None


class _Postgres:
    def __init__(self, conn: asyncpg.Connection, location: PgLocation) -> None:
        self._conn = conn
        self.shown = location.shown

    @classmethod
    async def open(cls, url: str) -> _Postgres:
        location = PgLocation.parse(url)
        conn = await connect(location)
        try:
            await migrate_pg(conn, location.schema)
        except BaseException:
            await conn.close()
            raise
        return cls(conn, location)

    async def tables(self) -> dict[str, _Table]:
        columns = await self._conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name != 'schema_migrations' ORDER BY table_name, ordinal_position"
        )
        constraints = await self._conn.fetch(
            "SELECT c.conrelid::regclass::text AS table_name, c.contype::text AS kind,"
            " c.confrelid::regclass::text AS parent,"
            " ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY AS k(n, o)"
            "       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o) AS cols"
            " FROM pg_constraint c WHERE c.connamespace = current_schema()::regnamespace AND c.contype IN ('p', 'f')"
        )
        by_table: dict[str, list[str]] = {}
        for r in columns:
            by_table.setdefault(r["table_name"], []).append(r["column_name"])
        found = {}
        for name, cols in by_table.items():
            key = next((tuple(r["cols"]) for r in constraints if r["table_name"] == name and r["kind"] == "p"), ())
            parents = {r["parent"] for r in constraints if r["table_name"] == name and r["kind"] == "f"} - {name}
            found[name] = _Table(name, tuple(cols), key or tuple(cols), frozenset(parents))
        return found

    async def versions(self) -> set[int]:
        return {int(r["version"]) for r in await self._conn.fetch("SELECT version FROM schema_migrations")}

    async def rows(self, table: _Table) -> list[Row]:
        return [tuple(r) for r in await self._conn.fetch(_select(table))]

    async def snapshot(self, tables: Sequence[_Table]) -> dict[str, list[Row]]:
        async with self._conn.transaction(isolation="repeatable_read", readonly=True):
            return {t.name: await self.rows(t) for t in tables}

    async def write(self, tables: Sequence[_Table], rows: dict[str, list[Row]]) -> None:
        try:
            async with self._conn.transaction():
                for table in tables:
                    if rows[table.name]:
                        await self._conn.copy_records_to_table(
                            table.name, records=rows[table.name], columns=list(table.columns)
                        )
                await reset_identities(self._conn)  # the next id the bot gives follows the copied ones
        except (asyncpg.PostgresError, asyncpg.InterfaceError, ValueError, TypeError) as exc:
            raise StoreError(f"writing {self.shown} failed: {exc}") from exc

    async def close(self) -> None:
        await self._conn.close()


def _select(table: _Table) -> str:
    cols = ", ".join(f'"{c}"' for c in table.columns)
    order = ", ".join(f'"{c}"' for c in table.key)
    return f'SELECT {cols} FROM "{table.name}" ORDER BY {order}'


async def _open(location: str | Path, *, source: bool) -> _Side:
    if is_postgres_url(location):
        return await _Postgres.open(str(location))
    from storage import sqlite_path

    return await _Sqlite.open(sqlite_path(location), must_exist=source)


def _in_key_order(tables: dict[str, _Table]) -> list[_Table]:
    """Parents before children (foreign keys are checked at every insert)."""
    ordered: list[_Table] = []
    done: set[str] = set()
    pending = dict(tables)
    while pending:
        ready = sorted(name for name, t in pending.items() if t.parents <= done | (t.parents - set(tables)))
        if not ready:
            raise StoreError(f"the foreign keys of {sorted(pending)} form a cycle")
        for name in ready:
            ordered.append(pending.pop(name))
            done.add(name)
    return ordered


async def copy_database(source: str | Path, target: str | Path) -> list[TableCheck]:
    """Copy every row of source (migrated first) into the empty target (migrated first), then compare both.
    Returns: one check per table, by name. Raises CopyRefused before writing anything, StoreError (nothing is
    left half-copied)."""
    if str(source).strip() == str(target).strip():
        raise CopyRefused("same", "--from and --to are the same database")
    src = await _open(source, source=True)
    try:
        dst = await _open(target, source=False)
        try:
            return await _copy(src, dst)
        finally:
            await dst.close()
    finally:
        await src.close()


async def _copy(src: _Side, dst: _Side) -> list[TableCheck]:
    if await src.versions() != await dst.versions():
        raise CopyRefused(
            "versions", f"{src.shown} and {dst.shown} are at different schema versions; upgrade the older one",
            source=src.shown, target=dst.shown,
        )  # fmt: skip
    tables, theirs = await src.tables(), await dst.tables()
    if sorted(tables) != sorted(theirs) or any(tables[n].columns != theirs[n].columns for n in tables):
        differ = sorted(n for n in set(tables) | set(theirs) if n not in tables or n not in theirs
                        or set(tables[n].columns) != set(theirs[n].columns))  # fmt: skip
        if differ:
            raise CopyRefused("schemas", f"the two schemas differ in {', '.join(differ)}", tables=", ".join(differ))
    held = {name: len(await dst.rows(theirs[name])) for name in sorted(theirs)}
    busy = {name: n for name, n in held.items() if n}
    if busy:
        shown = ", ".join(f"{n} in {name}" for name, n in busy.items())
        raise CopyRefused(
            "not_empty", f"{dst.shown} already holds rows ({shown}): copy into an empty database",
            target=dst.shown, rows=", ".join(f"{name}: {n}" for name, n in busy.items()),
        )  # fmt: skip
    # Columns go in the target's order of each table; the source is read in that order too.
    ordered = _in_key_order({n: _Table(n, theirs[n].columns, theirs[n].key, theirs[n].parents) for n in theirs})
    rows = await src.snapshot(ordered)
    await dst.write(ordered, rows)
    checks = []
    for table in sorted(ordered, key=lambda t: t.name):
        copied = await dst.rows(table)
        checks.append(TableCheck(table.name, len(rows[table.name]), len(copied), checksum(rows[table.name]),
                                 checksum(copied)))  # fmt: skip
    return checks
