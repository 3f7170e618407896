"""SQLite schema migrations: numbering, fresh install, the 0001 -> latest upgrade with data, failures, indexes."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.domain.types import ServiceArea, Severity, TicketStatus
from storage import MigrationError
from storage import migrate as mig
from storage.secrets import SecretBox, generate_key
from storage.sqlite import SqliteStore
from tests.storage.contract_support import T0, at, create_ticket, seed

LATEST = max(m.version for m in mig.load_migrations())


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "var" / "supportbot.db"


@pytest.fixture
def box() -> SecretBox:
    return SecretBox([generate_key()])


def _raw(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    return conn


SHIPPED = [m.version for m in mig.load_migrations()]


def test_migration_files_are_numbered_and_at_least_two() -> None:
    migrations = mig.load_migrations()
    # Increasing and unique; a reserved number may be missing until its work lands.
    assert [m.version for m in migrations] == sorted(set(SHIPPED)) and SHIPPED[0] == 1
    assert len(migrations) >= 2 and migrations[0].name == "core"


def test_fresh_database_reports_everything_pending(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    assert mig.current_version(path) == 0
    assert [m.version for m in mig.pending(path)] == SHIPPED
    assert not path.exists(), "asking must not create the database"
    applied = mig.migrate(path)
    assert [m.version for m in applied] == SHIPPED
    assert mig.current_version(path) == LATEST and mig.pending(path) == []
    assert mig.migrate(path) == []


async def test_store_migrate_is_idempotent(db_path: Path, box: SecretBox) -> None:
    store = await SqliteStore.open(db_path, box)
    try:
        assert await store.migrate() == []
        assert mig.current_version(db_path) == LATEST
    finally:
        await store.close()


def test_upgrade_from_0001_keeps_data_and_works(db_path: Path, box: SecretBox) -> None:
    """A database at 0001 with real rows is upgraded and the new schema uses the old data."""
    assert [m.version for m in mig.migrate(db_path, target=1)] == [1]
    assert mig.current_version(db_path) == 1
    with _raw(db_path) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(
            "INSERT INTO clients (id, name, created_at) VALUES (1, 'Viejo SA', '2026-01-05T10:00:00.000000+00:00')"
        )
        conn.execute(
            "INSERT INTO tickets (id, number, client_id, service_area, severity, status, description, opened_at,"
            " response_due_at, version) VALUES (1, 'SOP-2026-000007', 1, 'routing', 2, 'new', 'router caído',"
            " '2026-01-05T10:00:00.000000+00:00', '2026-01-06T12:00:00.000000+00:00', 1)"
        )
        conn.execute("INSERT INTO ticket_counters (prefix, year, last) VALUES ('SOP', 2026, 7)")
        conn.execute(
            "INSERT INTO drafts (chat_id, user_id, step, data, updated_at) VALUES"
            " (9, 9, 'severity', '{\"desc\": \"x\"}', '2026-01-05T10:00:00.000000+00:00')"
        )
    conn.close()
    with _raw(db_path) as conn:
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'outbox'").fetchone() is None
    conn.close()

    async def upgrade_and_use() -> None:
        store = await SqliteStore.open(db_path, box)
        try:
            assert mig.current_version(db_path) == LATEST
            async with store.transaction() as tx:
                old = await tx.get_ticket_by_number("SOP-2026-000007")
                assert old is not None and old.severity is Severity.HIGH and old.service_area is ServiceArea.ROUTING
                assert [t.id for t in await tx.list_response_due(at(0))] == [1]
                draft = await tx.get_draft(9)
                assert draft is not None and draft.data == {"desc": "x"}
                moved = await tx.update_ticket(1, 1, status=TicketStatus.ASSIGNED)
                assert moved.version == 2
                assert await tx.enqueue("telegram", "9", "text", {"t": "hola"}, at=T0) is not None
                assert await tx.schedule_timer("remind", at(1), ticket_id=1) is not None
                client = await tx.get_client(1)
                assert client is not None and client.name == "Viejo SA"
            s = await seed(store)
            assert (await create_ticket(store, s)).number == "SOP-2026-000008"
        finally:
            await store.close()

    asyncio.run(upgrade_and_use())


def test_failed_migration_is_rolled_back(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = mig.load_migrations()
    broken = mig.Migration(LATEST + 1, "broken", "CREATE TABLE half_done (x INTEGER);\nSELECT * FROM no_such_table;")
    monkeypatch.setattr(mig, "load_migrations", lambda: [*shipped, broken])
    with pytest.raises(MigrationError, match="broken"):
        mig.migrate(db_path)
    assert mig.current_version(db_path) == LATEST
    with _raw(db_path) as conn:
        assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'half_done'").fetchone() is None
    conn.close()


def test_database_newer_than_code_is_refused(db_path: Path) -> None:
    mig.migrate(db_path)
    with _raw(db_path) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', '2030-01-01T00:00:00+00:00')")
    conn.close()
    with pytest.raises(MigrationError, match="newer"):
        mig.migrate(db_path)


def test_concurrent_migrators_apply_each_migration_once(tmp_path: Path) -> None:
    """Replicas starting together on a new file: each migration applied once, and none of them refused with
    "database is locked" (switching a new file to WAL does not wait on SQLite's busy handler; it failed about
    one start in thirty under load before the wait was added)."""

    async def together(path: Path) -> list[list[mig.Migration]]:
        return list(await asyncio.gather(*(asyncio.to_thread(mig.migrate, path) for _ in range(6))))

    for round_ in range(40):
        results = asyncio.run(together(tmp_path / str(round_) / "supportbot.db"))
        applied = sorted(m.version for result in results for m in result)
        assert applied == SHIPPED, round_


def test_hot_queries_use_their_indexes(db_path: Path) -> None:
    mig.migrate(db_path)
    queries = {
        "timers_due": "SELECT id FROM timers WHERE status IN ('pending','running') AND due_at <= ? ORDER BY due_at",
        "tickets_response_due": "SELECT * FROM tickets WHERE first_response_at IS NULL AND response_due_at <= ?"
        " ORDER BY response_due_at",
        "outbox_due": "SELECT id FROM outbox WHERE status IN ('pending','sending') AND available_at <= ?",
        "tickets_assignee": "SELECT * FROM tickets WHERE assignee_id = ?",
        "tickets_card": "SELECT * FROM tickets WHERE slack_channel = ? AND slack_ts = ?",
    }
    with _raw(db_path) as conn:
        for index, sql in queries.items():
            params = ("x",) * sql.count("?")
            plan = " ".join(str(row["detail"]) for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
            assert index in plan, (index, plan)
    conn.close()


def test_0006_splits_the_shared_advice_pool_by_the_ledger(db_path: Path, box: SecretBox) -> None:
    """R-POOLS: a contract whose one advice pool held both kinds gets two pools, each with the tier's hours, each
    used by what the ledger charged to its kind; the old tickets carry no warranty mark and no purchase order."""
    mig.migrate(db_path, target=5)
    with _raw(db_path) as conn:
        conn.execute(
            "INSERT INTO clients (id, name, created_at) VALUES (1, 'Corp', '2026-01-05T10:00:00.000000+00:00')"
        )
        conn.execute(
            "INSERT INTO contracts (id, number, client_id, tier, starts_on, ends_on, minutes_total, minutes_used,"
            " onsite_minutes_total, onsite_minutes_used) VALUES (1, 'POL-C', 1, 'corporativo', '2026-01-01',"
            " '2026-12-31', 4200, 0, 300, 300)"
        )
        for minutes, kind, charged in ((120, "in_office", 1), (180, "on_site", 1), (60, "on_site", 0)):
            conn.execute(
                "INSERT INTO contract_hours (contract_id, minutes, kind, charged, at) VALUES (1, ?, ?, ?,"
                " '2026-02-01T10:00:00.000000+00:00')",
                (minutes, kind, charged),
            )
        conn.execute(
            "INSERT INTO tickets (id, number, client_id, service_area, severity, status, description, opened_at,"
            " version) VALUES (1, 'SOP-2026-000001', 1, 'routing', 2, 'new', 'x',"
            " '2026-01-05T10:00:00.000000+00:00', 1)"
        )
    conn.close()
    assert [m.version for m in mig.migrate(db_path, target=6)] == [6]

    async def read() -> None:
        store = await SqliteStore.open(db_path, box)
        try:
            async with store.transaction() as tx:
                contract = await tx.get_contract(1)
                ticket = await tx.get_ticket(1)
            assert contract is not None and ticket is not None
            assert (contract.office_minutes_total, contract.office_minutes_used) == (300, 120)
            assert (contract.onsite_minutes_total, contract.onsite_minutes_used) == (300, 180)
            assert ticket.warranty is False and ticket.purchase_order is None
        finally:
            await store.close()

    asyncio.run(read())
