"""Moving an installation (`supportbot db copy`): a SQLite database with a row in every table goes to PostgreSQL
and back, nothing lost, checked by counts and checksums per table; encrypted secrets travel as ciphertext."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import asyncpg
import pytest

from bot.cli import main
from bot.domain.types import HoursKind, Role, ServiceArea, Tier
from bot.settings import Settings
from storage import StoreError, open_store
from storage.copy import copy_database
from storage.mail_records import MailDirection, UnmatchedReason
from storage.pg import PgLocation
from storage.records import AttachmentKind, CredentialKind
from storage.secrets import SecretBox, generate_key
from tests.pg import fresh_schema
from tests.storage.contract_support import T0, Seed, at, create_ticket, seed

pytestmark = pytest.mark.postgres

SECRET = "TeamViewer-k9#Lm2"


@pytest.fixture
def box() -> SecretBox:
    return SecretBox([generate_key()])


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    async with fresh_schema("copy") as url:
        yield url


async def fill(path: Path, box: SecretBox) -> Seed:
    """A SQLite installation with at least one row of every kind (the test below checks that none is empty)."""
    store = await open_store(str(path), box)
    try:
        s = await seed(store)
        ticket = await create_ticket(store, s, slack_channel="C0SUPPORT")
        async with store.transaction() as tx:
            await tx.update_ticket(ticket.id, ticket.version, slack_ts="1700000000.000100")
            await tx.record_hours(s.contract_id, ticket.id, 90, HoursKind.REMOTE, True, at(1))
            await tx.open_pause(ticket.id, at(2), "esperando al cliente")
            await tx.create_escalation(ticket.id, from_level=1, to_level=2, requested_by_kind="client",
                                       requested_by_id="1001", reason="Urge", at=at(3))  # fmt: skip
            await tx.add_attachment(ticket.id, AttachmentKind.PHOTO, "AgADBAAD", at=at(4), size=2048, mime="image/jpeg")
            await tx.put_credential(ticket.id, CredentialKind.TEAMVIEWER_PASSWORD, "TV", SECRET, at=at(5))
            await tx.append_audit(ticket.id, at=at(6), actor_kind="agent", actor_id="U0AGENT", action="claimed",
                                  data={"ñ": "sí"})  # fmt: skip
            await tx.create_invite("ABC123", s.client_id, "Beto", expires_at=at(600), at=T0)
            await tx.save_draft(1001, user_id=1001, step="severity", data={"pw": box.encrypt("sealed")},
                                language="es", at=at(7))  # fmt: skip
            await tx.mark_processed("telegram", "900", at(8))
            await tx.enqueue("telegram", "1001", "send", {"text": "Hola"}, at=at(9), dedupe_key="d:1", pace_key="tg:1")
            await tx.schedule_timer("remind", at(60), ticket_id=ticket.id, payload={"n": 1}, dedupe_key="r:1")
            await tx.add_inbox("telegram", "901", "tg:chat:1001", "update", {"sealed": box.encrypt("{}")}, at=at(10))
            await tx.set_contact_email(s.contact_id, "ana@acme.mx")
            await tx.add_mail_ticket(ticket.id, address="ana@acme.mx", subject="Sin red", message_id="<m1@acme.mx>",
                                     severity_pending=False, at=at(11))  # fmt: skip
            await tx.add_mail_message("<m2@acme.mx>", ticket.id, MailDirection.IN, at(12))
            await tx.add_mail_file("captura.png", "image/png", b"\x89PNG\r\n\x00\xff", at=at(13))
            unknown = UnmatchedReason.UNKNOWN_SENDER
            await tx.add_unmatched_mail(message_id="<u1@x.mx>", address="nadie@x.mx", name="Nadie", subject="Hola",
                                        body="¿Quién?", files=(), reason=unknown, at=at(14))  # fmt: skip
            await tx.add_product(s.other_client_id, "Switch", ServiceArea.SWITCHING, warranty_until=date(2027, 1, 1))
            await tx.add_agent("Ops", "U0OPS", Role.OPERATIONS_MANAGER)
            await tx.add_contract(number="POL-0002", client_id=s.other_client_id, tier=Tier.BASIC,
                                  starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31),
                                  minutes_total=300)  # fmt: skip
    finally:
        await store.close()
    return s


def _sqlite_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name != 'schema_migrations'"
        )]  # fmt: skip
        counts = {n: conn.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0] for n in names}
    conn.close()
    return counts


async def test_sqlite_to_postgres_and_back_loses_nothing(tmp_path: Path, pg_url: str, box: SecretBox) -> None:
    source = tmp_path / "var" / "supportbot.db"
    s = await fill(source, box)
    counts = _sqlite_counts(source)
    empty = sorted(name for name, n in counts.items() if n == 0)
    assert not empty, f"add a row of these tables to fill() so the copy is tested with them: {empty}"

    checks = await copy_database(f"sqlite:///{source}", pg_url)
    assert {c.table: c.target_rows for c in checks} == counts
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]

    # The secrets went over as ciphertext: the same token in both, opened by the same key only.
    location = PgLocation.parse(pg_url)
    conn = await asyncpg.connect(location.dsn, server_settings=location.server_settings())
    try:
        pg_token = await conn.fetchval("SELECT ciphertext FROM credentials")
    finally:
        await conn.close()
    with sqlite3.connect(source) as lite:
        (lite_token,) = lite.execute("SELECT ciphertext FROM credentials").fetchone()
    lite.close()
    assert pg_token == lite_token and SECRET not in pg_token and box.decrypt(pg_token) == SECRET

    # The bot works on the copy: same tickets, secrets open, the next number and ids follow the copied ones.
    moved = await open_store(pg_url, box)
    try:
        async with moved.transaction() as tx:
            [ticket] = await tx.list_tickets()
            assert ticket.number == "SOP-2026-000001" and ticket.slack_ts == "1700000000.000100"
            assert [c.secret for c in await tx.get_credentials(ticket.id)] == [SECRET]
            assert [e.data for e in await tx.list_audit(ticket.id)] == [{"ñ": "sí"}]
            assert await tx.get_mail_file(1) == b"\x89PNG\r\n\x00\xff"
            client = await tx.add_client("Nueva", at=at(20))
            assert client.id == max(c.id for c in await tx.list_clients())
            again = await tx.enqueue("telegram", "1001", "send", {}, at=at(21), dedupe_key="d:1")
            assert again is None  # the dedupe keys came along
        assert (await create_ticket(moved, s)).number == "SOP-2026-000002"  # ids kept: the seed's are valid
    finally:
        await moved.close()

    # And back to a new SQLite file: the same rows, the same checksums as the first copy's.
    back = tmp_path / "back" / "supportbot.db"
    await _delete_new_rows(pg_url)
    returned = await copy_database(pg_url, f"sqlite:///{back}")
    assert [(c.table, c.target_rows, c.target_sum) for c in returned] == [
        (c.table, c.source_rows, c.source_sum) for c in checks
    ]


async def _delete_new_rows(pg_url: str) -> None:
    """Take out what the bot wrote on the copy, so the way back can be compared with the first copy."""
    location = PgLocation.parse(pg_url)
    conn = await asyncpg.connect(location.dsn, server_settings=location.server_settings())
    try:
        await conn.execute("DELETE FROM tickets WHERE number = 'SOP-2026-000002'")
        await conn.execute("UPDATE ticket_counters SET last = 1")
        await conn.execute("DELETE FROM clients WHERE name = 'Nueva'")
        await conn.execute("DELETE FROM outbox WHERE created_at > $1", at(20).isoformat(timespec="microseconds"))
    finally:
        await conn.close()


async def test_copy_refuses_a_target_that_holds_rows(tmp_path: Path, pg_url: str, box: SecretBox) -> None:
    source = tmp_path / "a.db"
    await fill(source, box)
    await copy_database(str(source), pg_url)
    with pytest.raises(StoreError, match="already holds rows"):
        await copy_database(str(source), pg_url)
    with pytest.raises(StoreError, match="no database"):
        await copy_database(str(tmp_path / "missing.db"), str(tmp_path / "other.db"))
    assert not (tmp_path / "other.db").exists()


# --- the command -------------------------------------------------------------------------------------------
@pytest.fixture
def workdir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    return tmp_path


def test_db_commands_on_postgres(
    workdir: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`supportbot db copy` moves the SQLite installation; with DATABASE_URL the other db commands use PostgreSQL."""
    assert main(["clients", "add", "Comercializadora del Valle"]) == 0
    capsys.readouterr()
    assert main(["db", "copy", "--from", "sqlite:///var/supportbot.db", "--to", pg_url]) == 0
    out = capsys.readouterr().out
    assert "clients" in out and "cada conteo y cada suma coinciden" in out and "DISTINTA" not in out

    monkeypatch.setenv("DATABASE_URL", pg_url)
    assert main(["db", "migrate"]) == 0
    assert capsys.readouterr().out.startswith("postgresql://")
    assert main(["clients", "list"]) == 0
    assert "Comercializadora del Valle" in capsys.readouterr().out
    assert main(["db", "backup", "backups.dump"]) == 0
    out = capsys.readouterr().out
    assert "respaldo de postgresql://" in out and "pg_restore" in out and (workdir / "backups.dump").stat().st_size
    assert main(["db", "copy", "--from", "sqlite:///var/supportbot.db", "--to", pg_url]) == 1
    assert "ya tiene filas (clients: 1)" in capsys.readouterr().err
