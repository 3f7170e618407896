"""The `supportbot` command: every subcommand, its one-line errors and exit codes."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet, InvalidToken

from bot.cli import build_parser, main
from bot.keys import read_key_file
from bot.settings import Settings
from storage import SecretBox
from storage.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _workdir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    # The command speaks Spanish unless LANG says English; these tests read its English sentences.
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_sla_deadline_worked_example(capsys: pytest.CaptureFixture[str]) -> None:
    """P-SLA-1/P-SLA-5: opened Mon 10:00 with 8 business hours -> Tue 10:00 (LIMITS.md)."""
    assert run(capsys, "sla", "deadline", "--severity", "1", "--opened", "2026-11-23T10:00-06:00") == (
        0,
        "2026-11-24T10:00:00-06:00\n",
        "",
    )


@pytest.mark.parametrize(
    ("severity", "opened", "expected"),
    [
        ("1", "2026-11-25T14:30-06:00", "2026-11-26T14:00:00-06:00"),  # lunch gap
        ("4", "2026-11-23T10:00-06:00", "2026-11-26T10:00:00-06:00"),  # P-SLA-4: 24 h = three 8-hour days
        ("2", "2026-11-13T18:00-06:00", "2026-11-18T10:00:00-06:00"),  # Fri 1 h; Mon 16 Nov holiday; Tue 8; Wed 1
        ("3", "2026-11-23T16:00Z", "2026-11-24T14:00:00-06:00"),  # UTC input, shown in TIMEZONE
        ("1", "2026-11-23T10:00", "2026-11-24T10:00:00-06:00"),  # no offset: TIMEZONE
    ],
)
def test_sla_deadline_cases(capsys: pytest.CaptureFixture[str], severity: str, opened: str, expected: str) -> None:
    code, out, _ = run(capsys, "sla", "deadline", "--severity", severity, "--opened", opened)
    assert (code, out.strip()) == (0, expected)


def test_sla_deadline_honours_configured_targets(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLA_HOURS_SEV1", "2")
    code, out, _ = run(capsys, "sla", "deadline", "--severity", "1", "--opened", "2026-11-23T13:00-06:00")
    assert (code, out.strip()) == (0, "2026-11-23T17:00:00-06:00")


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["sla", "deadline", "--severity", "5", "--opened", "2026-11-23T10:00-06:00"], "invalid choice: 5"),
        (["sla", "deadline", "--severity", "1", "--opened", "ayer"], "not an ISO-8601 instant"),
        (["contracts", "add", "--client", "1", "--number", "X", "--tier", "oro", "--starts", "2026-01-01"], "oro"),
        (
            ["contracts", "add", "--client", "1", "--number", "X", "--tier", "basica", "--starts", "1/1/26"],
            "not a date",
        ),
        (["agents", "add", "--name", "A", "--slack-id", "U1", "--role", "boss"], "invalid choice: 'boss'"),
        (["clients"], "required"),
        (["nonsense"], "invalid choice"),
    ],
)
def test_usage_mistake_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert err.count("\n") == 1 and fragment in err and "--help" in err


def test_every_subcommand_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    seen = 0
    for name, command in sub.choices.items():  # type: ignore[union-attr]
        actions = [a for a in command._actions if a.dest == "action"]
        paths = [[name, action] for action in actions[0].choices] if actions else [[name]]  # type: ignore[union-attr]
        for path in paths:
            with pytest.raises(SystemExit) as info:
                main([*path, "--help"])
            assert info.value.code == 0
            assert "usage: supportbot" in capsys.readouterr().out
            seen += 1
    assert seen >= 20


def test_bad_setting_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLA_HOURS_SEV2", "diez")
    code, out, err = run(capsys, "clients", "list")
    assert code == 2 and out == ""
    assert (
        err == "supportbot: setting SLA_HOURS_SEV2 (got 'diez'): expected a valid number, "
        "unable to parse string as a number\n"
    )


def test_admin_flow(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "clients", "add", "Comercializadora del Valle", "--phone", "222 123 4567")[1] == (
        "client 1: Comercializadora del Valle\n"
    )
    code, out, _ = run(
        capsys,
        "contracts",
        "add",
        "--client",
        "1",
        "--number",
        "POL-1",
        "--tier",
        "empresarial",
        "--starts",
        "2026-03-15",
    )
    assert (code, out) == (0, "contract 1: POL-1 empresarial 2026-03-15..2027-03-14, 20 h\n")  # P-POL-1/2
    code, out, _ = run(capsys, "contracts", "show", "POL-1")
    assert "0 used, 20 left of 20 (100% left)" in out
    code, out, _ = run(
        capsys,
        "contracts",
        "add",
        "--client",
        "1",
        "--number",
        "POL-2",
        "--tier",
        "corporativo",
        "--starts",
        "2026-01-01",
    )
    code, out, _ = run(capsys, "contracts", "show", "POL-2")
    assert "0 used, 5 left of 5 (P-POL-6)" in out  # corporativo includes 5 on-site hours
    assert (
        run(
            capsys,
            "products",
            "add",
            "--client",
            "1",
            "--name",
            "FortiGate 60F",
            "--area",
            "firewall",
            "--warranty-until",
            "2027-01-31",
        )[1]
        == "product 1: FortiGate 60F [firewall]\n"
    )
    assert "discontinued" in run(capsys, "products", "discontinue", "1")[1]
    assert "warranty none" in run(capsys, "products", "warranty", "1", "--none")[1]
    out = run(capsys, "products", "list", "--client", "1")[1]
    assert "FortiGate 60F" in out and "yes" in out
    assert run(capsys, "agents", "add", "--name", "Marco", "--slack-id", "U0MARCO", "--role", "agent")[0] == 0
    assert "U0MARCO" in run(capsys, "agents", "list", "--role", "agent")[1]
    assert run(capsys, "agents", "list", "--role", "quality_manager")[1] == "(none)\n"
    code, out, _ = run(capsys, "invites", "create", "--client", "1", "--name", "Laura")
    assert code == 0 and "/start " in out
    assert "open" in run(capsys, "invites", "list")[1]
    assert run(capsys, "tickets", "list")[1] == "(none)\n"
    code, out, _ = run(capsys, "contracts", "expiring", "--within-days", "400")
    assert "POL-1" in out and "POL-2" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["contracts", "add", "--client", "9", "--number", "P", "--tier", "basica", "--starts", "2026-01-01"],
            "supportbot contracts: no client with id 9 (see `supportbot clients list`)\n",
        ),
        (
            ["contracts", "add", "--client", "1", "--number", "P", "--tier", "por_evento", "--starts", "2026-01-01"],
            "supportbot contracts: a por_evento contract needs --purchase-order (P-POL-1)\n",
        ),
        (
            ["contracts", "show", "NOPE"],
            "supportbot contracts: no contract numbered 'NOPE' (see `supportbot contracts list`)\n",
        ),
        (
            ["tickets", "show", "SOP-2026-000001"],
            "supportbot tickets: no ticket numbered 'SOP-2026-000001' (see `supportbot tickets list`)\n",
        ),
        (
            ["agents", "add", "--name", "X", "--slack-id", "marco", "--role", "agent"],
            "supportbot agents: 'marco' is not a Slack user id (they look like U0123ABCD)\n",
        ),
        (["products", "discontinue", "42"], None),
    ],
)
def test_operation_error_is_one_line_exit_1(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str | None
) -> None:
    run(capsys, "clients", "add", "Cliente")
    code, out, err = run(capsys, *argv)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"supportbot {argv[0]}: ")
    if message is not None:
        assert err == message


def test_duplicate_agent_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "agents", "add", "--name", "A", "--slack-id", "U1", "--role", "agent")[0] == 0
    code, _, err = run(capsys, "agents", "add", "--name", "B", "--slack-id", "U1", "--role", "agent")
    assert code == 1 and err.startswith("supportbot agents: ") and err.count("\n") == 1


def test_db_migrate_and_backup(capsys: pytest.CaptureFixture[str], _workdir: Path) -> None:
    assert run(capsys, "db", "migrate")[1] == "created var/supportbot.db with the current schema\n"
    assert run(capsys, "db", "migrate")[1] == "var/supportbot.db is up to date\n"
    run(capsys, "clients", "add", "Respaldada")
    code, out, _ = run(capsys, "db", "backup", "copy.db")
    assert code == 0 and "backed up" in out
    with sqlite3.connect(_workdir / "copy.db") as conn:
        assert conn.execute("SELECT name FROM clients").fetchall() == [("Respaldada",)]
    code, _, err = run(capsys, "db", "backup", "copy.db")
    assert code == 1 and "exists" in err
    code, _, err = run(capsys, "db", "backup", "missing/dir/copy.db")
    assert code == 1 and "does not exist" in err


async def _store_secret(path: Path, keys: list[str]) -> None:
    store = await SqliteStore.open(path, SecretBox(keys))
    try:
        async with store.transaction() as tx:
            client = await tx.add_client("C", at=datetime.now(UTC))
            from bot.domain.types import ServiceArea, Severity
            from storage.records import NewTicket

            ticket = await tx.create_ticket(
                NewTicket(client.id, None, ServiceArea.SOFTWARE, Severity.LOW, "d", datetime.now(UTC))
            )
            from storage.records import CredentialKind

            await tx.put_credential(ticket.id, CredentialKind.TEAMVIEWER_PASSWORD, "tv", "k9#Lm2", at=datetime.now(UTC))
    finally:
        await store.close()


async def test_keys_generate_and_rotate(capsys: pytest.CaptureFixture[str], _workdir: Path) -> None:
    key_file = _workdir / "var" / "secrets.key"
    assert (await _async_main(capsys, "keys", "generate"))[0] == 0
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert (await _async_main(capsys, "keys", "generate"))[0] == 1  # never overwrites keys
    old = read_key_file(key_file)
    await _store_secret(_workdir / "var" / "supportbot.db", old)

    code, out, _ = await _async_main(capsys, "keys", "rotate")
    assert code == 0 and "re-encrypted 1 stored secrets" in out
    new = read_key_file(key_file)
    assert len(new) == 2 and new[1:] == old and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    with sqlite3.connect(_workdir / "var" / "supportbot.db") as conn:
        (token,) = conn.execute("SELECT ciphertext FROM credentials").fetchone()
    assert "k9#Lm2" not in token
    with pytest.raises(InvalidToken):
        Fernet(old[0].encode()).decrypt(token.encode())
    assert Fernet(new[0].encode()).decrypt(token.encode()) == b"k9#Lm2"


async def _async_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    # main() runs its own event loop: call it from a worker thread when the test itself is async.
    import asyncio

    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_bad_key_is_one_line(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRETS_KEYS", "not-a-key")
    code, _, err = run(capsys, "clients", "list")
    assert code == 1 and "is not a Fernet key" in err and "not-a-key" not in err and err.count("\n") == 1


def test_console_script_and_module_are_the_same_command(_workdir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLA_", "TIMEZONE"))}
    argv = ["sla", "deadline", "--severity", "1", "--opened", "2026-11-23T10:00-06:00"]
    script = Path(sys.executable).with_name("supportbot")
    for cmd in ([str(script), *argv], [sys.executable, "-m", "bot", *argv]):
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=_workdir, check=False)  # noqa: S603
        assert (done.returncode, done.stdout) == (0, "2026-11-24T10:00:00-06:00\n"), done.stderr


async def test_tickets_list_and_show_with_the_audit_trail(capsys: pytest.CaptureFixture[str], _workdir: Path) -> None:
    from bot.domain.types import ServiceArea, Severity
    from storage.records import NewTicket

    assert (await _async_main(capsys, "keys", "generate"))[0] == 0
    keys = read_key_file(_workdir / "var" / "secrets.key")
    store = await SqliteStore.open(_workdir / "var" / "supportbot.db", SecretBox(keys))
    try:
        async with store.transaction() as tx:
            client = await tx.add_client("Comercializadora del Valle", at=datetime(2026, 11, 24, 16, 15, tzinfo=UTC))
            ticket = await tx.create_ticket(
                NewTicket(
                    client.id,
                    None,
                    ServiceArea.FIREWALL,
                    Severity.CRITICAL,
                    "No hay internet en toda la oficina",
                    datetime(2026, 11, 24, 16, 15, tzinfo=UTC),
                    response_due_at=datetime(2026, 11, 25, 16, 15, tzinfo=UTC),
                )
            )
            at = datetime(2026, 11, 24, 16, 15, tzinfo=UTC)
            await tx.append_audit(ticket.id, at=at, actor_kind="client", actor_id="5550001", action="opened")
            await tx.append_audit(
                ticket.id, at=at, actor_kind="agent", actor_id="U0MARCO", action="claimed", data={"met": True}
            )
    finally:
        await store.close()
    code, out, _ = await _async_main(capsys, "tickets", "list", "--status", "new")
    assert code == 0 and "SOP-2026-000001" in out and "sev 1" in out and "2026-11-25 10:15" in out
    code, out, _ = await _async_main(capsys, "tickets", "show", "sop-2026-000001")
    assert code == 0
    assert "ticket:      SOP-2026-000001  [new]  level 1" in out
    assert "client:      Comercializadora del Valle" in out
    trail = out.split("audit trail:\n")[1].splitlines()
    # Readable lines: when (in TIMEZONE, no microseconds), who, what.
    assert trail == [
        "  2026-11-24 10:15  5550001  opened the ticket (severity ?, by telegram)",
        "  2026-11-24 10:15  U0MARCO  took the ticket",
    ]


async def test_outbox_dead_letters_are_listed_and_sent_again(
    capsys: pytest.CaptureFixture[str], _workdir: Path
) -> None:
    """Issue "every event exactly once": a row that really failed is visible and can be retried by its id,
    and the listing never shows what the message says (it may quote a client, P-IN-3)."""
    from storage.records import OutboxStatus

    assert (await _async_main(capsys, "keys", "generate"))[0] == 0
    keys = read_key_file(_workdir / "var" / "secrets.key")
    path = _workdir / "var" / "supportbot.db"
    at = datetime(2026, 11, 24, 16, 15, tzinfo=UTC)
    store = await SqliteStore.open(path, SecretBox(keys))
    try:
        async with store.transaction() as tx:
            dead = await tx.enqueue("telegram", "chat:1", "message", {"chat_id": 1, "text": "k9#Lm2"}, at=at)
            waiting = await tx.enqueue("telegram", "chat:2", "message", {"chat_id": 2, "text": "hola"}, at=at)
            assert dead is not None and waiting is not None
            await tx.mark_dead(dead, "Forbidden: bot was blocked by the user")
    finally:
        await store.close()

    code, out, _ = await _async_main(capsys, "outbox", "list", "--dead")
    assert code == 0 and "bot was blocked by the user" in out and "k9#Lm2" not in out
    assert [line.split()[0] for line in out.splitlines()[1:-1]] == [str(dead)]
    code, out, _ = await _async_main(capsys, "outbox", "list")
    assert code == 0 and [line.split()[0] for line in out.splitlines()[1:]] == [str(waiting)]

    code, out, _ = await _async_main(capsys, "outbox", "retry", str(dead))
    assert code == 0 and "queued again" in out
    code, out, _ = await _async_main(capsys, "outbox", "list", "--dead")
    assert (code, out) == (0, "no dead messages\n")
    code, _, err = await _async_main(capsys, "outbox", "retry", str(dead))  # pressed twice: nothing to retry
    assert code == 1 and "is pending, not dead" in err and err.count("\n") == 1
    code, _, err = await _async_main(capsys, "outbox", "retry", "999")
    assert code == 1 and "no outbox message 999" in err

    store = await SqliteStore.open(path, SecretBox(keys))
    try:
        async with store.transaction() as tx:
            row = await tx.get_outbox(dead)
    finally:
        await store.close()
    assert row is not None and row.status is OutboxStatus.PENDING and row.attempts == 0 and row.last_error is None


@pytest.mark.parametrize(
    "argv", [["outbox", "retry", "x"], ["outbox", "retry", "0"], ["outbox", "list", "--limit", "-1"]]
)
def test_outbox_bad_ids_are_one_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    _, err = capsys.readouterr()
    assert exit_.value.code == 2 and ("not a whole number" in err or "must be 1 or more" in err)


async def test_inbox_failed_events_are_listed_without_their_content(
    capsys: pytest.CaptureFixture[str], _workdir: Path
) -> None:
    assert (await _async_main(capsys, "keys", "generate"))[0] == 0
    keys = read_key_file(_workdir / "var" / "secrets.key")
    at = datetime(2026, 11, 24, 16, 15, tzinfo=UTC)
    store = await SqliteStore.open(_workdir / "var" / "supportbot.db", SecretBox(keys))
    try:
        async with store.transaction() as tx:
            entry = await tx.add_inbox(
                "telegram", "77", "chat:5", "update", {"text": "k9#Lm2"}, at=at, unparsed="no update_id"
            )
    finally:
        await store.close()
    code, out, _ = await _async_main(capsys, "inbox", "list", "--failed")
    assert code == 0 and "unparsed: no update_id" in out and "telegram:update" in out and "k9#Lm2" not in out
    assert str(entry) in out.splitlines()[1].split()[0]
    code, out, _ = await _async_main(capsys, "inbox", "list")
    assert (code, out) == (0, "nothing waiting to be handled\n")


# --- contacts: who may act for the company (P-ESC-2, P-CLOSE-2), deactivation, erasure (LFPDPPP) -----------
_AT = datetime(2026, 11, 24, 16, 15, tzinfo=UTC)


async def _people(capsys: pytest.CaptureFixture[str], workdir: Path) -> tuple[SqliteStore, str]:
    """Two clients; Laura (Telegram 5550001) and Kevin of the first, Jorge of the second. Returns: an open
    store on the command's database (close it before running a command) and Laura's ticket number."""
    from bot.domain.types import ServiceArea, Severity
    from storage.records import CredentialKind, NewTicket

    assert (await _async_main(capsys, "keys", "generate"))[0] == 0
    keys = read_key_file(workdir / "var" / "secrets.key")
    store = await SqliteStore.open(workdir / "var" / "supportbot.db", SecretBox(keys))
    async with store.transaction() as tx:
        client = await tx.add_client("Comercializadora del Valle", at=_AT)
        other = await tx.add_client("Ferretería del Norte", at=_AT)
        laura = await tx.add_contact(
            client.id, "Laura Pérez", phone="+52 222 123 4567", telegram_user_id=5550001, at=_AT
        )
        await tx.add_contact(client.id, "Kevin Smith", language="en", telegram_user_id=5550002, at=_AT)
        await tx.add_contact(other.id, "Jorge Treviño", at=_AT)
        ticket = await tx.create_ticket(
            NewTicket(client.id, laura.id, ServiceArea.FIREWALL, Severity.HIGH, "Sin internet", _AT,
                      telegram_chat_id=5550001, slack_channel="C0SOPORTE")
        )  # fmt: skip
        await tx.put_credential(ticket.id, CredentialKind.TEAMVIEWER_PASSWORD, "tv", "k9#Lm2", at=_AT)
        await tx.save_draft(5550001, user_id=5550001, step="severity", data={"kind": "intake"}, language="es", at=_AT)
        await tx.append_audit(ticket.id, at=_AT, actor_kind="client", actor_id="5550001", action="opened")
    await store.close()
    return store, ticket.number


async def _read(workdir: Path, what: Any) -> Any:
    """Run `what(tx)` against the command's database and return its result."""
    keys = read_key_file(workdir / "var" / "secrets.key")
    store = await SqliteStore.open(workdir / "var" / "supportbot.db", SecretBox(keys))
    try:
        async with store.transaction() as tx:
            return await what(tx)
    finally:
        await store.close()


def _audit_rows(workdir: Path, action: str) -> list[tuple[str, dict[str, Any]]]:
    """(actor, data) of every audit row with that action, tied to a ticket or not."""
    with sqlite3.connect(workdir / "var" / "supportbot.db") as conn:
        rows = conn.execute(
            "SELECT actor_kind || ':' || actor_id, data FROM audit_log WHERE action = ? ORDER BY id", (action,)
        ).fetchall()
    conn.close()
    return [(actor, json.loads(data)) for actor, data in rows]


async def test_contacts_list_and_show(capsys: pytest.CaptureFixture[str], _workdir: Path) -> None:
    await _people(capsys, _workdir)
    code, out, _ = await _async_main(capsys, "contacts", "list")
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:3] == ["ID", "CLIENT", "NAME"] and len(lines) == 4
    assert "Laura Pérez" in lines[1] and "5550001" in lines[1] and lines[1].split()[-2:] == ["no", "active"]
    code, out, _ = await _async_main(capsys, "contacts", "list", "--client", "2")
    assert code == 0 and "Jorge Treviño" in out and "Laura" not in out
    code, out, _ = await _async_main(capsys, "contacts", "list", "--client", "1", "--json")
    rows = json.loads(out)
    assert [r["name"] for r in rows] == ["Laura Pérez", "Kevin Smith"]
    assert rows[0] == {
        "id": 1,
        "client_id": 1,
        "client": "Comercializadora del Valle",
        "name": "Laura Pérez",
        "email": None,
        "state": "active",
        "phone": "+52 222 123 4567",
        "language": "es",
        "telegram_user_id": 5550001,
        "acts_for_company": False,
        "active": True,
        "forgotten_at": None,
        "created_at": "2026-11-24T16:15:00+00:00",
    }
    code, out, _ = await _async_main(capsys, "contacts", "show", "1")
    assert code == 0
    assert "contact:          1  Laura Pérez" in out and "client:           1  Comercializadora del Valle" in out
    assert "acts for company: no" in out and "status:           active" in out
    assert "tickets:          1 reported, 1 open" in out
    code, out, err = await _async_main(capsys, "contacts", "show", "9")
    assert (code, out) == (1, "")
    assert err == "supportbot contacts: no contact with id 9 (see `supportbot contacts list`)\n"
    code, out, err = await _async_main(capsys, "contacts", "list", "--client", "9")
    assert code == 1 and err == "supportbot contacts: no client with id 9 (see `supportbot clients list`)\n"


async def test_contacts_edit_names_who_acts_for_the_company(capsys: pytest.CaptureFixture[str], _workdir: Path) -> None:
    """P-ESC-2, P-CLOSE-2: the company names a contact who may escalate, reopen and rate all its tickets."""
    await _people(capsys, _workdir)
    code, out, _ = await _async_main(capsys, "contacts", "edit", "2", "--acts-for-company", "yes")
    assert (code, out) == (0, "contact 2: Kevin Smith of client 1, acts for the company: yes\n")
    code, out, err = await _async_main(capsys, "contacts", "edit", "2", "--name", "Kevin J. Smith", "--phone", "222 1")
    assert (code, out) == (1, "")  # a phone that is no phone is refused on edit as on add, and nothing changes
    assert err.startswith("supportbot contacts: '222 1' is not a valid phone number") and err.count("\n") == 1
    code, out, _ = await _async_main(
        capsys, "contacts", "edit", "2", "--name", "Kevin J. Smith", "--phone", "(222) 765 4321"
    )
    assert (code, out) == (0, "contact 2: Kevin J. Smith of client 1, acts for the company: yes\n")
    code, out, _ = await _async_main(capsys, "contacts", "edit", "2", "--acts-for-company", "no")
    assert out.endswith("acts for the company: no\n")

    async def check(tx: Any) -> Any:
        return await tx.get_contact(2)

    contact = await _read(_workdir, check)
    assert (
        contact.name == "Kevin J. Smith" and contact.phone == "+52 222 765 4321" and contact.acts_for_company is False
    )
    # The audit says what changed, never the personal data itself (it outlives an erasure).
    edits = _audit_rows(_workdir, "contact_edited")
    assert [data for _, data in edits] == [
        {"contact_id": 2, "fields": ["acts_for_company"], "acts_for_company": True},
        {"contact_id": 2, "fields": ["name", "phone"]},
        {"contact_id": 2, "fields": ["acts_for_company"], "acts_for_company": False},
    ]
    assert all(actor == "cli:cli" and "Kevin" not in str(data) for actor, data in edits)
    code, out, err = await _async_main(capsys, "contacts", "edit", "2")
    assert (code, out) == (1, "")
    assert err == "supportbot contacts: nothing to change: give --name, --phone or --acts-for-company\n"
    code, _, err = await _async_main(capsys, "contacts", "edit", "9", "--name", "X")
    assert code == 1 and "no contact with id 9" in err and err.count("\n") == 1
    code, _, err = await _async_main(capsys, "contacts", "edit", "2", "--name", "  ")
    assert code == 1 and err.count("\n") == 1
    with pytest.raises(SystemExit) as info:
        main(["contacts", "edit", "2", "--acts-for-company", "maybe"])
    assert info.value.code == 2 and "invalid choice: 'maybe'" in capsys.readouterr().err


async def test_contacts_deactivate(capsys: pytest.CaptureFixture[str], _workdir: Path) -> None:
    await _people(capsys, _workdir)
    code, out, _ = await _async_main(capsys, "contacts", "deactivate", "2")
    assert (code, out) == (0, "contact 2: Kevin Smith of client 1 deactivated: unlinked from Telegram\n")
    code, out, _ = await _async_main(capsys, "contacts", "show", "2")
    assert "status:           deactivated" in out and "telegram:         not linked" in out
    code, out, err = await _async_main(capsys, "contacts", "deactivate", "2")
    assert (code, out, err) == (1, "", "supportbot contacts: contact 2 is deactivated already\n")
    code, _, err = await _async_main(capsys, "contacts", "edit", "2", "--acts-for-company", "yes")
    assert (code, err) == (1, "supportbot contacts: contact 2 is deactivated: it cannot act for the company\n")
    code, _, err = await _async_main(capsys, "contacts", "deactivate", "9")
    assert code == 1 and "no contact with id 9" in err
    [(actor, data)] = _audit_rows(_workdir, "contact_deactivated")
    assert actor == "cli:cli" and data == {"contact_id": 2, "drafts_deleted": 0}


async def test_contacts_forget_erases_the_person_and_keeps_the_ticket(
    capsys: pytest.CaptureFixture[str], _workdir: Path
) -> None:
    """LFPDPPP: name, phone, Telegram id, the draft and the stored secrets go; the ticket, its number and the
    audit trail stay, the person shown as "contacto eliminado"."""
    _, number = await _people(capsys, _workdir)
    code, out, err = await _async_main(capsys, "contacts", "forget", "1")
    assert (code, err) == (0, "")
    assert out == (
        "contact 1 forgotten: name, phone and Telegram id erased, 1 draft and 1 stored secret deleted;"
        " 1 ticket, its hours and the audit trail kept\n"
    )

    async def check(tx: Any) -> Any:
        ticket = await tx.get_ticket_by_number(number)
        return (
            await tx.get_contact(1),
            ticket,
            await tx.get_credentials(ticket.id),
            await tx.get_draft(5550001),
            await tx.list_audit(ticket.id),
            await tx.list_outbox(OutboxStatus.PENDING),
        )

    from storage.records import OutboxStatus

    contact, ticket, secrets, draft, audit, outbox = await _read(_workdir, check)
    assert (contact.name, contact.phone, contact.telegram_user_id) == ("contacto eliminado", "", None)
    assert contact.forgotten_at is not None and not contact.active
    assert ticket.number == number and ticket.contact_id == 1 and ticket.telegram_chat_id is None
    assert secrets == [] and draft is None
    assert [(e.actor_kind, e.action) for e in audit] == [("client", "opened"), ("cli", "contact_forgotten")]
    assert "Laura" not in str(audit[-1].data) and "5550001" not in str(audit[-1].data)
    assert [data for _, data in _audit_rows(_workdir, "contact_forgotten")] == [
        {"contact_id": 1},
        {"contact_id": 1, "client_id": 1, "tickets": 1, "credentials_erased": 1, "drafts_deleted": 1},
    ]
    # The consultants of the still-open ticket learn that replies no longer reach the person.
    [note] = [m for m in outbox if m.kind == "thread"]
    assert note.payload["ticket_id"] == ticket.id and "contacto eliminado" in note.payload["text"]

    code, out, _ = await _async_main(capsys, "tickets", "show", number)
    assert "contact:     contacto eliminado" in out and "Laura" not in out
    trail = out.split("audit trail:\n")[1].splitlines()
    assert trail[0].split("  ")[2] == "contacto eliminado" and "5550001" not in out
    code, out, _ = await _async_main(capsys, "contacts", "list")
    assert "contacto eliminado" in out and "Laura" not in out and "forgotten" in out

    code, out, err = await _async_main(capsys, "contacts", "forget", "1")
    assert (code, out) == (1, "") and err.startswith("supportbot contacts: contact 1 was forgotten on ")
    assert err.count("\n") == 1
    code, _, err = await _async_main(capsys, "contacts", "edit", "1", "--name", "Laura")
    assert code == 1 and "was forgotten" in err
    code, _, err = await _async_main(capsys, "contacts", "forget", "9")
    assert code == 1 and "no contact with id 9" in err


async def test_tickets_show_names_the_reporting_contact(capsys: pytest.CaptureFixture[str], _workdir: Path) -> None:
    _, number = await _people(capsys, _workdir)
    code, out, _ = await _async_main(capsys, "tickets", "show", number)
    assert code == 0 and "contact:     Laura Pérez" in out
    assert out.split("audit trail:\n")[1].split("  ")[2] == "Laura Pérez"  # who, by name
