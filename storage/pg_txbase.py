"""Shared plumbing of the PostgreSQL Tx: the repositories' SQL in PostgreSQL's placeholders, statement-level
atomicity, and PostgreSQL errors as the store's named errors.

The repository methods are the SQLite ones (storage/sqlite_*.py), written in a portable subset of SQL: this base
runs them on asyncpg, with these rewrites of the statement text:
- `?` and `:name` placeholders become `$n`; `LIMIT ?` becomes `LIMIT NULLIF($n, -1)` (SQLite's "-1: no limit");
- in an upsert, `SET n = n + 1` names the table (`n = t.n + 1`: PostgreSQL finds a bare `n` ambiguous);
- `INSERT OR IGNORE` becomes `INSERT ... ON CONFLICT DO NOTHING`;
- `rowid` (insertion order, in a table whose rows are never updated) becomes `ctid`.
Not rewritten, so written again in storage/pg_tx.py: SQLite's functions (printf, json_each, two-argument MAX/MIN)
and a parameter no context gives a type (`? IS NULL`: write `CAST(? AS text) IS NULL`).

A failed statement in SQLite undoes only itself and the transaction goes on (a service may catch DuplicateError
and carry on); on PostgreSQL a failed statement aborts the whole transaction, so every write runs behind a
savepoint of its own (reads and the hot queue statements, which cannot break a constraint, do not pay for one).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from functools import lru_cache
from typing import Any, cast

import asyncpg

from storage.base import DuplicateError, InvalidValue, NotFound, StoreError
from storage.secrets import SecretBox
from storage.sqlite_txbase import Params, TxBase

__all__ = ["PgTxBase", "Row", "pg_sql", "translate_pg"]

# An asyncpg Record answers row["name"] and row[0] as sqlite3.Row does: the codec reads both alike.
Row = sqlite3.Row

_OR_IGNORE = re.compile(r"^(\s*)INSERT\s+OR\s+IGNORE\s+INTO\b", re.IGNORECASE)
_UPSERT = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)\b.*?\bDO\s+UPDATE\s+SET\b", re.IGNORECASE | re.DOTALL)
_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|WITH)\b", re.IGNORECASE)
_GUARD = "sb_stmt"


_KEY = re.compile(r"Key \((?P<columns>[^)]*)\)=")


def translate_pg(exc: BaseException) -> StoreError:
    """Map a PostgreSQL (or asyncpg) error onto the store's named errors, as storage.sqlite_txbase does, with
    SQLite's wording for a violated constraint ("UNIQUE constraint failed: contracts.number"), so whoever words
    it for a person (the command's one-line errors) reads one form from both backends."""
    text = str(exc)
    table = getattr(exc, "table_name", None) or "?"
    if isinstance(exc, asyncpg.UniqueViolationError):
        found = _KEY.search(getattr(exc, "detail", None) or "")
        columns = [c.strip() for c in found.group("columns").split(",")] if found else ["?"]
        return DuplicateError(f"UNIQUE constraint failed: {', '.join(f'{table}.{c}' for c in columns)} ({text})")
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        return NotFound(f"a referenced row does not exist (FOREIGN KEY constraint failed: {text})")
    if isinstance(exc, asyncpg.NotNullViolationError):
        return InvalidValue(f"NOT NULL constraint failed: {table}.{getattr(exc, 'column_name', None) or '?'}")
    if isinstance(exc, asyncpg.CheckViolationError):
        return InvalidValue(f"CHECK constraint failed: {getattr(exc, 'constraint_name', None) or text}")
    if isinstance(exc, asyncpg.IntegrityConstraintViolationError | asyncpg.DataError):
        return InvalidValue(text)
    if isinstance(exc, OverflowError | TypeError | ValueError):
        return InvalidValue(text)  # asyncpg refuses a Python value for the column's type before sending it
    return StoreError(f"{type(exc).__name__}: {text}")


@lru_cache(maxsize=2048)
def pg_sql(sql: str) -> tuple[str, tuple[str, ...]]:
    """The SQL with `?` and `:name` placeholders as `$n`. Returns: the text and, for named placeholders, the name
    of each `$n` in order (empty for positional ones)."""
    out: list[str] = []
    names: list[str] = []
    positional = 0
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in "'\"":
            end = sql.find(ch, i + 1)
            while end >= 0 and sql.startswith(ch * 2, end):
                end = sql.find(ch, end + 2)
            end = n - 1 if end < 0 else end
            out.append(sql[i : end + 1])
            i = end + 1
            continue
        if ch == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(sql[i:end])
            i = end
            continue
        if ch == "?":
            positional += 1
            out.append(f"${positional}")
            i += 1
            continue
        if ch == ":" and i + 1 < n and (sql[i + 1].isalpha() or sql[i + 1] == "_") and sql[i - 1 : i] != ":":
            j = i + 1
            while j < n and (sql[j].isalnum() or sql[j] == "_"):
                j += 1
            name = sql[i + 1 : j]
            if name not in names:
                names.append(name)
            out.append(f"${names.index(name) + 1}")
            i = j
            continue
        out.append(ch)
        i += 1
    if positional and names:
        raise StoreError("a statement mixes ? and :name placeholders")
    text = re.sub(r"\bLIMIT\s+(\$\d+)", r"LIMIT NULLIF(\1, -1)", "".join(out), flags=re.IGNORECASE)
    text = re.sub(r"\browid\b", "ctid", text)
    upsert = _UPSERT.search(text)
    if upsert is not None:
        # `SET n = n + 1` in an upsert: PostgreSQL wants the existing row's column named by its table.
        table, head = upsert.group(1), text[: upsert.end()]
        text = head + re.sub(r"\b(\w+)(\s*=\s*)\1\b(?!\s*\.)", rf"\1\2{table}.\1", text[upsert.end() :])
    if _OR_IGNORE.match(text):
        # SQLite's INSERT OR IGNORE is ON CONFLICT DO NOTHING (it goes before RETURNING).
        text = _OR_IGNORE.sub(r"\1INSERT INTO", text, count=1)
        at = re.search(r"\bRETURNING\b", text, flags=re.IGNORECASE)
        text = (
            text + " ON CONFLICT DO NOTHING"
            if at is None
            else f"{text[: at.start()]}ON CONFLICT DO NOTHING {text[at.start() :]}"
        )
    return text, tuple(names)


def _args(names: tuple[str, ...], params: Params) -> list[Any]:
    if isinstance(params, Mapping):
        return [params[name] for name in names]
    return list(params)


class PgTxBase(TxBase):
    """Holds the connection of the open transaction and runs the repositories' statements on it."""

    def __init__(self, conn: asyncpg.Connection, box: SecretBox) -> None:
        self._conn = conn
        self._box = box
        self._open = True
        self._savepoints = 0
        self._guard_open = False  # a statement savepoint is established and not yet released
        self._guarding = True  # writes run behind a statement savepoint (see _unguarded)
        # A statement failed outside any savepoint: PostgreSQL ignores everything until the transaction ends, and
        # its COMMIT would quietly roll back. The store refuses to call that a commit.
        self.aborted = False

    @contextmanager
    def _unguarded(self) -> Iterator[None]:
        """Writes inside run without a statement savepoint: for statements that cannot fail on a constraint,
        run many times in one transaction (a savepoint each would be a round trip and a subtransaction each)."""
        self._guarding = False
        try:
            yield
        finally:
            self._guarding = True

    async def _simple(self, sql: str) -> None:
        """Savepoint bookkeeping: no parameters, so several statements go in one round trip."""
        try:
            await self._conn.execute(sql)
        except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            self.aborted = True
            raise translate_pg(exc) from exc

    async def _run(self, sql: str, params: Params, *, fetch: bool, guard: bool | None) -> Any:
        self._check_open()
        text, names = pg_sql(sql)
        args = _args(names, params)
        if guard is None:
            guard = self._guarding and _WRITE.match(sql) is not None
        if guard:
            # The previous statement's savepoint is released and a new one taken in one round trip.
            await self._simple(
                f"RELEASE SAVEPOINT {_GUARD}; SAVEPOINT {_GUARD}" if self._guard_open else f"SAVEPOINT {_GUARD}"
            )
            self._guard_open = True
        try:
            if fetch:
                return await self._conn.fetch(text, *args)
            return await self._conn.execute(text, *args)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OverflowError, TypeError, ValueError) as exc:
            if guard and isinstance(exc, asyncpg.PostgresError):
                self._guard_open = False
                await self._simple(f"ROLLBACK TO SAVEPOINT {_GUARD}; RELEASE SAVEPOINT {_GUARD}")
            elif isinstance(exc, asyncpg.PostgresError):
                self.aborted = True
            raise translate_pg(exc) from exc

    async def _all(self, sql: str, params: Params = (), *, guard: bool | None = None) -> list[sqlite3.Row]:
        """Run one statement and fetch every row (a write runs behind its own savepoint unless guard=False)."""
        rows = await self._run(sql, params, fetch=True, guard=guard)
        return cast(list[sqlite3.Row], rows)

    async def _one(self, sql: str, params: Params = (), *, guard: bool | None = None) -> sqlite3.Row | None:
        rows = await self._all(sql, params, guard=guard)
        return rows[0] if rows else None

    async def _exec(self, sql: str, params: Params = (), *, guard: bool | None = None) -> int:
        """Run one statement. Returns: the number of rows it changed."""
        status = await self._run(sql, params, fetch=False, guard=guard)
        tail = str(status).rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    async def _many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._check_open()
        text, _ = pg_sql(sql)
        try:
            await self._conn.executemany(text, [list(r) for r in rows])
        except (asyncpg.PostgresError, OverflowError, TypeError, ValueError) as exc:
            self.aborted = self.aborted or isinstance(exc, asyncpg.PostgresError)
            raise translate_pg(exc) from exc

    @asynccontextmanager
    async def _atomic(self, name: str) -> AsyncIterator[None]:
        """Make a multi-statement method all-or-nothing inside the caller's transaction (a savepoint)."""
        self._check_open()
        # A statement savepoint still open would swallow this one when the next statement releases it.
        await self._simple(f"RELEASE SAVEPOINT {_GUARD}; SAVEPOINT {name}" if self._guard_open else f"SAVEPOINT {name}")
        self._guard_open = False
        try:
            yield
        except BaseException:
            self._guard_open = False
            if self._open:
                await self._simple(f"ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}")
                self.aborted = False  # back to before the failure
            raise
        self._guard_open = False
        await self._simple(f"RELEASE SAVEPOINT {name}")
