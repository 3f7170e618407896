"""The SQLite backend beyond the shared contract suite (tests/storage/test_contract.py runs that on every backend):
WAL, locking, restarts, triggers, backup, secrets at rest."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import storage
from storage import InvalidValue, StoreError, open_store
from storage import migrate as mig
from storage.base import Store
from storage.records import CredentialKind
from storage.secrets import SecretBox, generate_key
from storage.sqlite import SqliteStore, SqliteTx
from tests.storage.contract_support import T0, StoreFactory, at, create_ticket, seed

_ROOT = Path(__file__).resolve().parents[2]
LATEST = max(m.version for m in mig.load_migrations())


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "var" / "supportbot.db"


@pytest.fixture
def box_keys() -> list[str]:
    return [generate_key()]


@pytest.fixture
def box(box_keys: list[str]) -> SecretBox:
    return SecretBox(box_keys)


@pytest.fixture
async def store_factory(db_path: Path) -> AsyncIterator[StoreFactory]:
    opened: list[SqliteStore] = []

    async def factory(box: SecretBox) -> Store:
        store = await SqliteStore.open(db_path, box)
        opened.append(store)
        return store

    yield factory
    for store in opened:
        await store.close()


@pytest.fixture
async def store(store_factory: StoreFactory, box: SecretBox) -> Store:
    return await store_factory(box)


def _raw(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    return conn


# --- connection settings -------------------------------------------------------------------------------
async def test_open_creates_parent_dir_wal_and_foreign_keys(db_path: Path, box: SecretBox) -> None:
    assert not db_path.parent.exists()
    store = await SqliteStore.open(db_path, box)
    try:
        assert db_path.exists() and store.path == db_path  # noqa: ASYNC240 - a test, nothing else waits
        async with store.transaction() as tx:
            assert (await tx._one("PRAGMA journal_mode"))[0] == "wal"  # type: ignore[index]
            assert (await tx._one("PRAGMA foreign_keys"))[0] == 1  # type: ignore[index]
            assert (await tx._one("PRAGMA busy_timeout"))[0] == 30000  # type: ignore[index]
    finally:
        await store.close()


async def test_closed_store_refuses_transactions(db_path: Path, box: SecretBox) -> None:
    store = await SqliteStore.open(db_path, box)
    await store.close()
    await store.close()
    with pytest.raises(StoreError):
        async with store.transaction():
            pass


async def test_busy_database_raises_store_error_then_recovers(db_path: Path, box: SecretBox) -> None:
    store = await SqliteStore.open(db_path, box, busy_timeout=0.2)
    blocker = sqlite3.connect(db_path, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreError, match="locked"):
            async with store.transaction() as tx:
                await tx.add_client("Bloqueado", at=T0)
        blocker.execute("ROLLBACK")
        async with store.transaction() as tx:
            await tx.add_client("Libre", at=T0)
            assert [c.name for c in await tx.list_clients()] == ["Libre"]
    finally:
        blocker.close()
        await store.close()


async def test_state_survives_a_restart(db_path: Path, box: SecretBox) -> None:
    """python-telegram-bot #1864/#3522: a draft and its timeout timer are still there after a restart."""
    first = await SqliteStore.open(db_path, box)
    async with first.transaction() as tx:
        await tx.save_draft(42, user_id=4, step="screenshots", data={"desc": "sin red"}, language="es", at=T0)
        timer = await tx.schedule_timer("draft_timeout", at(30), payload={"chat_id": 42})
    await first.close()
    second = await SqliteStore.open(db_path, box)
    try:
        async with second.transaction() as tx:
            draft = await tx.get_draft(42)
            due = await tx.claim_due_timers(at(30), "after-restart", 10, 60)
        assert draft is not None and draft.step == "screenshots" and draft.data == {"desc": "sin red"}
        assert [t.id for t in due] == [timer] and due[0].payload == {"chat_id": 42}
    finally:
        await second.close()


async def test_cancel_while_waiting_for_begin_leaves_store_usable(db_path: Path, box: SecretBox) -> None:
    """A task cancelled while its BEGIN waits on another process's lock must not leave a transaction open."""
    store = await SqliteStore.open(db_path, box, busy_timeout=5)
    blocker = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    try:
        blocker.execute("BEGIN IMMEDIATE")

        async def use_case() -> None:
            async with store.transaction() as tx:
                await tx.add_client("Nunca", at=T0)

        task = asyncio.create_task(use_case())
        await asyncio.sleep(0.1)
        task.cancel()
        blocker.execute("ROLLBACK")
        with pytest.raises(asyncio.CancelledError):
            await task
        async with store.transaction() as tx:
            await tx.add_client("Después", at=T0)
        async with store.transaction() as tx:
            assert [c.name for c in await tx.list_clients()] == ["Después"]
    finally:
        blocker.close()
        await store.close()


_CHILD = """
import asyncio, dataclasses, sys
from storage.secrets import SecretBox
from storage.sqlite import SqliteStore, SqliteTx
from tests.storage.contract_support import Seed, new_ticket

async def main() -> None:
    store = await SqliteStore.open(sys.argv[1], SecretBox([sys.argv[2]]))
    seed = Seed(*map(int, sys.argv[3].split(",")))
    print("ready", flush=True)
    for _ in range(100):
        async with store.transaction() as tx:
            await tx.create_ticket(new_ticket(seed, telegram_chat_id=7007))
    await store.close()

asyncio.run(main())
"""


async def test_two_processes_allocate_unique_numbers(store: Store, db_path: Path, box_keys: list[str]) -> None:
    """A second OS process on the same file (busy_timeout + BEGIN IMMEDIATE) never duplicates a number."""
    s = await seed(store)
    fields = ",".join(str(v) for v in dataclasses.astuple(s))
    child = await asyncio.create_subprocess_exec(
        *(sys.executable, "-c", _CHILD, str(db_path), box_keys[0], fields),
        cwd=_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None
    assert await asyncio.wait_for(child.stdout.readline(), timeout=30) == b"ready\n"
    for _ in range(100):
        await create_ticket(store, s)
    _, err = await asyncio.wait_for(child.communicate(), timeout=60)
    assert child.returncode == 0, err.decode()
    async with store.transaction() as tx:
        numbers = sorted(t.number for t in await tx.list_tickets())
    assert numbers == [f"SOP-2026-{n:06d}" for n in range(1, 201)]


# --- audit log is append-only --------------------------------------------------------------------------
async def test_audit_log_refuses_update_and_delete(store: Store, db_path: Path) -> None:
    s = await seed(store)
    ticket = await create_ticket(store, s)
    async with store.transaction() as tx:
        await tx.append_audit(ticket.id, at=T0, actor_kind="agent", actor_id="U0", action="claimed")
    with _raw(db_path) as conn:
        for sql in ("UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(sql)
        assert [r["action"] for r in conn.execute("SELECT action FROM audit_log")] == ["claimed"]
    conn.close()


# --- secrets at rest -----------------------------------------------------------------------------------
async def test_plaintext_never_reaches_the_database_file(store: Store, db_path: Path, box_keys: list[str]) -> None:
    plaintext = "TeamViewer-Pa55-únicó"
    s = await seed(store)
    ticket = await create_ticket(store, s)
    async with store.transaction() as tx:
        await tx.put_credential(ticket.id, CredentialKind.TEAMVIEWER_PASSWORD, "TV", plaintext, at=T0)
    files = [p for p in db_path.parent.iterdir() if p.name.startswith(db_path.name)]
    assert files
    for path in files:
        data = path.read_bytes()
        assert plaintext.encode() not in data and plaintext.encode("utf-16-le") not in data, path.name
    with _raw(db_path) as conn:
        (token,) = conn.execute("SELECT ciphertext FROM credentials").fetchone()
        row_text = " ".join(str(v) for v in conn.execute("SELECT * FROM credentials").fetchone())
    conn.close()
    assert plaintext not in row_text and token.startswith("gAAAAA")
    assert SecretBox(box_keys).decrypt(token) == plaintext


async def test_rotation_rewrites_raw_tokens(store: Store, db_path: Path, box_keys: list[str]) -> None:
    s = await seed(store)
    ticket = await create_ticket(store, s)
    async with store.transaction() as tx:
        await tx.put_credential(ticket.id, CredentialKind.OTHER, "c", "rotate-me", at=T0)
    new_key = generate_key()
    assert await store.rotate_secrets(SecretBox([new_key, *box_keys])) == 1
    with _raw(db_path) as conn:
        (token,) = conn.execute("SELECT ciphertext FROM credentials").fetchone()
    conn.close()
    assert SecretBox([new_key]).decrypt(token) == "rotate-me"
    with pytest.raises(storage.SecretError):
        SecretBox(box_keys).decrypt(token)


# --- backup --------------------------------------------------------------------------------------------
async def test_online_backup_has_the_data(store: Store, tmp_path: Path, box: SecretBox) -> None:
    s = await seed(store)
    await create_ticket(store, s)
    target = tmp_path / "backups" / "copy.db"
    async with store.transaction() as tx:
        # A write in flight on the live store: the copy must still be consistent (committed data only).
        await tx.add_client("Uncommitted", at=T0)
        await asyncio.wait_for(store.backup(target), timeout=10)
    copy = await SqliteStore.open(target, box)
    try:
        async with copy.transaction() as tx:
            assert [t.number for t in await tx.list_tickets()] == ["SOP-2026-000001"]
            assert [c.name for c in await tx.list_clients()] == ["Acme SA de CV", "Beta SC"]
        assert mig.current_version(target) == LATEST
    finally:
        await copy.close()


async def test_backup_onto_the_live_file_is_refused(store: SqliteStore) -> None:
    with pytest.raises(StoreError):
        await store.backup(store.path)


# --- open_store factory --------------------------------------------------------------------------------
@pytest.mark.parametrize("form", ["plain", "path", "url"])
async def test_open_store_accepts_paths_and_sqlite_urls(tmp_path: Path, box: SecretBox, form: str) -> None:
    path = tmp_path / "x" / "s.db"
    forms: dict[str, str | Path] = {"plain": str(path), "path": path, "url": f"sqlite:///{path}"}
    location = forms[form]
    opened = await open_store(location, box)
    try:
        assert isinstance(opened, SqliteStore) and opened.path == path
    finally:
        await opened.close()


@pytest.mark.parametrize(
    ("location", "error"),
    [
        ("postgresql://u@localhost/db", StoreError),
        ("postgres://u@localhost/db", StoreError),
        ("mysql://u@localhost/db", InvalidValue),
        (":memory:", InvalidValue),
        ("sqlite://", InvalidValue),
        ("", InvalidValue),
    ],
)
async def test_open_store_refuses_other_locations(location: str, error: type[Exception], box: SecretBox) -> None:
    with pytest.raises(error):
        await open_store(location, box)


def test_public_surface() -> None:
    """The names other layers import from storage; changing them is a breaking change."""
    assert sorted(storage.__all__) == [
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
    tx_methods = {name for name in dir(storage.Tx) if not name.startswith("_")}
    assert tx_methods <= set(dir(SqliteTx))
    assert {"add_client", "create_ticket", "update_ticket", "claim_outbox", "claim_due_timers"} <= tx_methods
    assert len(tx_methods) == 113


def test_sqlite_url_forms() -> None:
    assert storage.sqlite_path("sqlite:///var/x.db") == Path("var/x.db")
    assert storage.sqlite_path("sqlite:////abs/x.db") == Path("/abs/x.db")
    assert storage.sqlite_path("sqlite:var/x.db") == Path("var/x.db")
