"""Versioned SQL migrations: discovery of storage/migrations/NNNN_name.sql and the SQLite runner.

A migration file holds DDL/DML only (no BEGIN/COMMIT of its own): the runner wraps each file, together
with its schema_migrations row, in one transaction. Files are in SQLite's dialect.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from storage.base import MigrationError

__all__ = [
    "Migration",
    "applied_versions",
    "current_version",
    "load_migrations",
    "migrate",
    "pending",
]

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Long enough for another process to finish its own migration or transaction.
BUSY_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration file: version from the NNNN prefix, name from the rest."""

    version: int
    name: str
    sql: str


def load_migrations() -> list[Migration]:
    """Returns: every migration shipped with the package, in version order. Raises MigrationError when two files
    share a version. A number may be missing: numbers are reserved for work that lands in its own time, and each
    database records which versions it has, so a late one is applied when it arrives."""
    found: list[Migration] = []
    for entry in resources.files("storage").joinpath("migrations").iterdir():
        match = _NAME.match(entry.name)
        if entry.name.endswith(".sql") and not match:
            raise MigrationError(f"migration file {entry.name!r} is not named NNNN_name.sql")
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    for before, migration in itertools.pairwise(found):
        if migration.version == before.version:
            raise MigrationError(f"two migrations are numbered {migration.version:04d}")
    if found and found[0].version != 1:
        raise MigrationError(f"the first migration must be 0001; found {found[0].version:04d}")
    return found


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _wal(conn: sqlite3.Connection) -> None:
    """Switch the file to WAL. Switching needs the file to itself and SQLite answers "database is locked" at
    once, without its busy handler, while another process opens the same new file: wait for it as the busy
    timeout would."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _ensure_table(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )


def _applied(conn: sqlite3.Connection) -> set[int]:
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    if not has_table:
        return set()
    return {int(row[0]) for row in conn.execute("SELECT version FROM schema_migrations")}


def applied_versions(path: str | Path) -> set[int]:
    """Args: database file. Returns: the versions recorded in schema_migrations (empty if none/no file)."""
    if not Path(path).exists():
        return set()
    conn = _connect(Path(path))
    try:
        return _applied(conn)
    finally:
        conn.close()


def current_version(path: str | Path) -> int:
    """Args: database file. Returns: highest applied migration version, 0 for a new database."""
    return max(applied_versions(path), default=0)


def pending(path: str | Path) -> list[Migration]:
    """Args: database file. Returns: the shipped migrations not yet applied there, in order."""
    done = applied_versions(path)
    return [m for m in load_migrations() if m.version not in done]


def migrate(path: str | Path, *, target: int | None = None) -> list[Migration]:
    """Apply pending migrations up to target (default: all), each in its own transaction.

    Args: path of the database file (parent directory created), target version or None.
    Returns: the migrations this call applied (another process may have applied some of them first).
    Raises: MigrationError if a migration fails (that migration is rolled back) or the database is newer.
    """
    db = Path(path)
    db.parent.mkdir(parents=True, exist_ok=True)
    migrations = load_migrations()
    known = max((m.version for m in migrations), default=0)
    conn = _connect(db)
    try:
        _wal(conn)
        _ensure_table(conn)
        newest = max(_applied(conn), default=0)
        if newest > known:
            raise MigrationError(f"database schema is at version {newest}, newer than this code ({known})")
        applied: list[Migration] = []
        for migration in migrations:
            if target is not None and migration.version > target:
                break
            if migration.version in _applied(conn):
                continue
            if _apply_one(conn, migration):
                applied.append(migration)
        return applied
    finally:
        conn.close()


def _apply_one(conn: sqlite3.Connection, migration: Migration) -> bool:
    """Apply one migration atomically; False if another process recorded it first."""
    stamp = datetime.now(UTC).isoformat(timespec="microseconds")
    # The version row goes in first, inside the same transaction: a concurrent runner that applied it
    # already makes this INSERT fail before any DDL runs. Name and version come from a validated file name.
    script = (
        "BEGIN IMMEDIATE;\n"
        f"INSERT INTO schema_migrations (version, name, applied_at) "
        f"VALUES ({migration.version}, '{migration.name}', '{stamp}');\n"
        f"{migration.sql}\n;\nCOMMIT;"
    )
    try:
        conn.executescript(script)
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if migration.version in _applied(conn):
            return False
        raise MigrationError(f"migration {migration.version:04d}_{migration.name} failed: {exc}") from exc
    return True
