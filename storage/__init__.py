"""The storage layer: the Store protocol, its records and errors, and open_store() to get a backend."""

from __future__ import annotations

from pathlib import Path

from storage.base import (
    DuplicateError,
    InvalidValue,
    MigrationError,
    NotFound,
    StaleVersion,
    Store,
    StoreError,
    Tx,
)
from storage.secrets import SecretBox, SecretError, generate_key

__all__ = [
    "DuplicateError",
    "InvalidValue",
    "MigrationError",
    "NotFound",
    "SecretBox",
    "SecretError",
    "StaleVersion",
    "Store",
    "StoreError",
    "Tx",
    "generate_key",
    "open_store",
    "sqlite_path",
]

_SQLITE_SCHEMES = ("sqlite:///", "sqlite://", "sqlite:")


def sqlite_path(url_or_path: str | Path) -> Path:
    """Args: a path or a sqlite URL (sqlite:///relative.db, sqlite:////absolute.db, sqlite:path).
    Returns: the file path. Raises InvalidValue for other schemes or an empty/in-memory path."""
    if isinstance(url_or_path, Path):
        return url_or_path
    text = url_or_path.strip()
    if "://" in text and not text.startswith("sqlite:"):
        raise InvalidValue(f"not a SQLite location: {text.split('://', 1)[0]}://...")
    for scheme in _SQLITE_SCHEMES:
        if text.startswith(scheme):
            text = text[len(scheme) :]
            break
    if not text or text == ":memory:":
        # The store is shared by tasks, processes and backups: it has to be a file.
        raise InvalidValue("the SQLite store needs a file path")
    return Path(text)


async def open_store(url_or_path: str | Path, box: SecretBox, *, migrate: bool = True) -> Store:
    """Args: a file path, a sqlite:/// URL or a postgresql:// URL (storage/pg.py), the key box, whether to migrate
    now. Returns: an open Store. Raises StoreError when PostgreSQL cannot be reached."""
    location = url_or_path if isinstance(url_or_path, str) else ""
    if location.lstrip().startswith(("postgres://", "postgresql://")):
        from storage.pg import PgStore

        return await PgStore.open(location, box, migrate=migrate)
    from storage.sqlite import SqliteStore

    return await SqliteStore.open(sqlite_path(url_or_path), box, migrate=migrate)
