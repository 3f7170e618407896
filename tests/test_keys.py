"""Issue "safe by default", keys: a lost key file, a key file others can read, `keys rotate` beside a running bot,
and `keys check`. Each case once failed silently: a new key was made and every stored password became unreadable.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.domain.types import ServiceArea, Severity
from bot.keys import KeysUnavailable, read_key_file, write_key_file
from bot.settings import Settings
from bot.wiring import open_store
from storage import generate_key
from storage.records import CredentialKind, NewTicket

ROOT = Path(__file__).resolve().parents[1]
AT = datetime(2026, 11, 24, 16, 15, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _workdir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    return tmp_path


def settings(tmp: Path) -> Settings:
    """The defaults (var/supportbot.db, var/secrets.key) in the test's own directory: the CLI finds the same."""
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert Path.cwd() == tmp and not s.database_path.is_absolute()
    return s


async def _store_password(s: Settings, secret: str = "k9#Lm2") -> int:  # noqa: S107
    store = await open_store(s)
    try:
        async with store.transaction() as tx:
            client = await tx.add_client("C", at=AT)
            ticket = await tx.create_ticket(NewTicket(client.id, None, ServiceArea.SOFTWARE, Severity.LOW, "d", AT))
            await tx.put_credential(ticket.id, CredentialKind.TEAMVIEWER_PASSWORD, "tv", secret, at=AT)
        return ticket.id
    finally:
        await store.close()


async def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_first_start_makes_a_key_file_only_readable_by_its_owner(tmp_path: Path) -> None:
    s = settings(tmp_path)
    await (await open_store(s)).close()
    assert (s.secrets_key_file.stat().st_mode & 0o777) == 0o600 and len(read_key_file(s.secrets_key_file)) == 1


async def test_a_lost_key_file_with_secrets_stored_refuses_instead_of_making_a_new_key(tmp_path: Path) -> None:
    s = settings(tmp_path)
    await _store_password(s)
    s.secrets_key_file.unlink()
    with pytest.raises(KeysUnavailable, match="is missing, but the database holds 1 encrypted") as refused:
        await open_store(s)
    assert "restore the key file" in str(refused.value)
    assert not s.secrets_key_file.exists()  # no new key was written over the loss


def test_supportbot_run_with_a_lost_key_file_is_one_line_and_exit_1(tmp_path: Path) -> None:
    s = settings(tmp_path)
    asyncio.run(_store_password(s))
    s.secrets_key_file.unlink()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_", "SECRETS_", "DATABASE_"))}
    env.update(
        DATABASE_PATH=str(s.database_path),
        SECRETS_KEY_FILE=str(s.secrets_key_file),
        TELEGRAM_BOT_TOKEN="1:x",
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="s",
        TELEGRAM_API_BASE_URL="http://127.0.0.1:9/bot",  # never reached: the keys are checked first
        HTTP_PORT="0",
        PYTHONPATH=str(ROOT),
    )
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert (
        len(lines) == 1
        and "falta el archivo de llaves" in lines[0]
        and "restaura el archivo desde tu respaldo" in lines[0]
    )


async def test_a_key_file_others_can_read_is_refused_as_ssh_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s = settings(tmp_path)
    write_key_file(s.secrets_key_file, [generate_key()])
    s.secrets_key_file.chmod(0o644)
    with pytest.raises(KeysUnavailable, match=r"can be read by others \(mode 0644\); run `chmod 600"):
        await open_store(s)
    code, _, err = await _cli(capsys, "keys", "check")
    assert code == 1 and "otros usuarios pueden leer" in err and "chmod 600" in err and err.count("\n") == 1
    s.secrets_key_file.chmod(0o640)  # group-readable is refused too
    with pytest.raises(KeysUnavailable, match="0640"):
        await open_store(s)


async def test_keys_rotate_beside_a_running_bot_keeps_every_secret_readable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The running bot's store was opened before the rotation; it reads the new key from the file by itself."""
    s = settings(tmp_path)
    ticket_id = await _store_password(s)
    running = await open_store(s)  # the bot, running
    try:
        code, out, _ = await _cli(capsys, "keys", "rotate")
        assert code == 0 and "lee la llave nueva del archivo por sí solo" in out
        async with running.transaction() as tx:
            [credential] = await tx.get_credentials(ticket_id)
        assert credential.secret == "k9#Lm2"
    finally:
        await running.close()


async def test_keys_rotate_with_keys_in_the_environment_says_the_bot_must_restart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = generate_key()
    monkeypatch.setenv("SECRETS_KEYS", key)
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "db.sqlite"))
    await _store_password(Settings(_env_file=None))  # type: ignore[call-arg]
    monkeypatch.setenv("SECRETS_KEYS", f"{generate_key()},{key}")
    code, out, _ = await _cli(capsys, "keys", "rotate")
    assert code == 0 and "reinícialo ahora" in out


async def test_keys_check_says_whether_every_stored_secret_can_be_decrypted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s = settings(tmp_path)
    await _store_password(s)
    await _store_password(s, "otra")
    code, out, _ = await _cli(capsys, "keys", "check")
    assert (code, out) == (0, "los 2 secretos guardados se pueden descifrar con las llaves vigentes (1)\n")

    write_key_file(s.secrets_key_file, [generate_key()])  # the right key replaced by a stranger
    code, _, err = await _cli(capsys, "keys", "check")
    assert code == 1 and err.count("\n") == 1
    assert "2 de 2 secretos guardados no se pueden descifrar" in err and "credencial 1" in err and "k9#Lm2" not in err
