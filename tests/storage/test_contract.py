"""The backend-independent store contract, run on every backend: SQLite (a file) and PostgreSQL (a fresh schema
per test). Both run in every `make test`; an unreachable PostgreSQL fails the run (tests/pg.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import open_store
from storage.base import Store
from storage.secrets import SecretBox, generate_key
from tests.pg import fresh_schema
from tests.storage.contract import StoreContract
from tests.storage.contract_support import StoreFactory

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def location(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """Where the store under test lives: a new SQLite file, or a new PostgreSQL schema."""
    if backend == "sqlite":
        yield str(tmp_path / "var" / "supportbot.db")
        return
    async with fresh_schema() as url:
        yield url


@pytest.fixture
def box_keys() -> list[str]:
    return [generate_key()]


@pytest.fixture
def box(box_keys: list[str]) -> SecretBox:
    return SecretBox(box_keys)


@pytest.fixture
async def store_factory(location: str) -> AsyncIterator[StoreFactory]:
    opened: list[Store] = []

    async def factory(box: SecretBox) -> Store:
        store = await open_store(location, box)
        opened.append(store)
        return store

    yield factory
    for store in opened:
        await store.close()


@pytest.fixture
async def store(store_factory: StoreFactory, box: SecretBox) -> Store:
    return await store_factory(box)


class TestStoreContract(StoreContract):
    """The whole backend-independent suite, once per backend."""
