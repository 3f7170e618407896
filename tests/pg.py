"""PostgreSQL for the tests: a fresh schema of its own for each test, on the server CI and every machine have.

TEST_DATABASE_URL names the database (default: the local server, trust auth, database `test`). A test that needs
PostgreSQL and cannot reach it FAILS with the reason: the PostgreSQL store is part of the product, so its tests
never turn into skips.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest

__all__ = ["TEST_DATABASE_URL", "fresh_schema", "with_schema"]

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def with_schema(url: str, schema: str) -> str:
    return url + ("&" if "?" in url else "?") + f"schema={schema}"


async def _connect() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(TEST_DATABASE_URL, timeout=10)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {TEST_DATABASE_URL} ({type(exc).__name__}: {exc}). The PostgreSQL "
            "store's tests need it and fail without it: start the server or set TEST_DATABASE_URL.",
            pytrace=False,
        )


@asynccontextmanager
async def fresh_schema(prefix: str = "t") -> AsyncIterator[str]:
    """A new, empty schema (the store's migrations create its tables), dropped afterwards.
    Yields: the database URL with ?schema=NAME. Parallel runs never meet: every name is random."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    conn = await _connect()
    try:
        await conn.execute(f'CREATE SCHEMA "{name}"')
    finally:
        await conn.close()
    try:
        yield with_schema(TEST_DATABASE_URL, name)
    finally:
        conn = await _connect()
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        finally:
            await conn.close()
