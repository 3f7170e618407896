"""`supportbot doctor` against the Telegram and Slack stand-ins: one line per item, exit 1 on any failure.

The report speaks Spanish unless LANG says English; these tests read its English sentences, and one its Spanish."""

from __future__ import annotations

import socket
from pathlib import Path

import asyncpg
import pytest
from cryptography.fernet import Fernet

from bot import doctor
from bot.cli import main
from bot.doctor import Checkup, Line, fail, run_doctor
from bot.settings import Settings
from handlers.slack.scopes import BOT_SCOPES
from sandbox.demo import AGENT_ANA
from sandbox.slack.standin import StandInConfig
from sandbox.testing import running_world
from storage import generate_key
from storage.migrate import load_migrations, migrate
from storage.pg import PgLocation
from storage.pg_schema import migrate_pg
from tests.e2e.slack.helpers import open_ticket
from tests.pg import fresh_schema

SECRET = "doctor_Secret-1"
LANGUAGE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")
# The items' English names: none may reach a Spanish report.
ENGLISH_ITEMS = {"settings", "slack mode", "telegram mode", "telegram getMe", "telegram groups", "telegram webhook",
                 "slack auth.test", "slack scopes", "slack channel", "database", "secret keys", "agents",
                 "agent"}  # fmt: skip


@pytest.fixture(autouse=True)
def _english(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in LANGUAGE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")


async def _doctor(settings: Settings) -> tuple[int, list[str]]:
    lines: list[str] = []
    code = await run_doctor(settings, out=lines.append)
    print("\n".join(lines))  # shown when a test fails: the report as an operator reads it
    return code, lines


def _line(lines: list[str], start: str) -> str:
    found = [line for line in lines if line.startswith(start)]
    assert found, f"no line starting {start!r} in:\n" + "\n".join(lines)
    return found[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_ready_installation_passes_every_check(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        await open_ticket(world)  # a stored TeamViewer password the keys must open
        code, lines = await _doctor(world.settings)
    assert code == 0
    assert _line(lines, "ok    telegram getMe:").endswith(f"(id {world.telegram.state.bot_id})")
    assert "long polling" in _line(lines, "ok    telegram mode:")
    assert "HTTP mode" in _line(lines, "ok    slack mode:")
    assert "bot @supportbot (U0SUPPORTBOT) in Sandbox (T0SANDBOX)" in _line(lines, "ok    slack auth.test:")
    assert f"all {len(BOT_SCOPES)} the bot needs are granted" in _line(lines, "ok    slack scopes:")
    assert "#soporte found, the bot is a member" in _line(lines, "ok    slack channel C0SUPPORT:")
    assert "up to date" in _line(lines, "ok    database:")
    assert "all 1 stored secret(s) open with the 1 key(s) in SECRETS_KEYS" in _line(lines, "ok    secret keys:")
    assert "all 4 found in Slack" in _line(lines, "ok    agents:")
    # The stand-in's bot, like BotFather's default, may join groups: worth a warning, not a failure.
    assert "/setjoingroups" in _line(lines, "warn  telegram groups:")
    assert lines[-1] == "doctor: ready: 9 ok, 1 warning(s), 0 failure(s)"


async def test_without_lang_the_report_speaks_spanish(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LANG")
    async with running_world(tmp_path) as world:
        await open_ticket(world)
        code, lines = await _doctor(world.settings)
        bad = world.settings.model_copy(update={"slack_bot_token": "xoxb-wrong"})
        code_bad, refused = await _doctor(bad)
    version = load_migrations()[-1].version
    assert code == 0
    polling = "long polling (TELEGRAM_WEBHOOK_URL está vacía)"
    assert _line(lines, "ok    modo de Telegram:") == f"ok    modo de Telegram: {polling}"
    assert _line(lines, "ok    base de datos:") == (
        f"ok    base de datos: {world.settings.database_path} responde, esquema en la versión {version} (al día)"
    )
    assert _line(lines, "ok    llaves de cifrado:") == (
        "ok    llaves de cifrado: todos los secretos guardados (1) se descifran con las llaves de SECRETS_KEYS (1)"
    )
    assert "#soporte existe y el bot es miembro" in _line(lines, "ok    canal de Slack C0SUPPORT:")
    assert "todos existen en Slack (4: " in _line(lines, "ok    agentes:")
    assert lines[-1] == "doctor: listo: 9 ok, 1 advertencia(s), 0 falla(s)"
    assert code_bad == 1
    assert _line(refused, "FAIL  auth.test de Slack:") == (
        "FAIL  auth.test de Slack: invalid_auth; revisa SLACK_BOT_TOKEN (xoxb-...)"
    )
    assert _line(refused, "FAIL  permisos de Slack:") == "FAIL  permisos de Slack: se omitió: auth.test falló"
    assert refused[-1].startswith("doctor: NO está listo:")
    # The status column stays as scripts grep it; no item keeps its English name.
    report = [*lines[:-1], *refused[:-1]]
    assert all(line[:6] in ("ok    ", "warn  ", "FAIL  ") for line in report)
    items = {line[6:].split(": ", 1)[0] for line in report}
    assert not [i for i in items if any(i == e or i.startswith(f"{e} ") for e in ENGLISH_ITEMS)], items


async def test_webhook_mode_reports_the_registered_url_and_pending_updates(tmp_path: Path) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    async with running_world(
        tmp_path, http_port=port, telegram_webhook_url=url, telegram_webhook_secret=SECRET
    ) as world:
        code, lines = await _doctor(world.settings)
        assert code == 0
        assert _line(lines, "ok    telegram webhook:") == f"ok    telegram webhook: {url}, 0 update(s) pending"
        # Telegram keeps the last delivery error even once deliveries work again: with nothing pending, a warning.
        hook = world.telegram.state.webhook
        assert hook is not None
        hook.last_error_date, hook.last_error_message = 1_790_000_000, "Connection refused"
        code, lines = await _doctor(world.settings)
        assert code == 0
        assert "Connection refused" in _line(lines, "warn  telegram webhook errors:")
        # The bot registers its own webhook at start; one registered by something else is a failure.
        other = world.settings.model_copy(update={"telegram_webhook_url": "https://elsewhere.example/telegram/webhook"})
        code, lines = await _doctor(other)
    assert code == 1
    assert "another process uses this token?" in _line(lines, "FAIL  telegram webhook:")


async def test_a_scope_missing_from_the_install_fails(tmp_path: Path) -> None:
    granted = tuple(scope for scope in BOT_SCOPES if scope not in ("users:read", "files:write"))
    async with running_world(tmp_path, slack_config=StandInConfig(scopes=granted)) as world:
        code, lines = await _doctor(world.settings)
    assert code == 1
    assert "missing files:write, users:read" in _line(lines, "FAIL  slack scopes:")
    assert lines[-1].startswith("doctor: NOT ready:")


async def test_the_bot_outside_the_channel_and_a_vanished_agent_fail(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        world.slack.support_channel.members.discard(world.slack.config.bot_user_id)
        world.slack.users[AGENT_ANA].deleted = True
        code, lines = await _doctor(world.settings)
    assert code == 1
    assert "/invite @supportbot" in _line(lines, "FAIL  slack channel C0SUPPORT:")
    assert "U0ANA is deactivated in Slack" in _line(lines, "FAIL  agent Ana:")


async def test_an_unknown_channel_and_an_unknown_agent_fail(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        del world.slack.users[AGENT_ANA]
        settings = world.settings.model_copy(update={"slack_card_channels": {"sev1": "C0NOWHERE"}})
        code, lines = await _doctor(settings)
    assert code == 1
    assert "not found (SLACK_CARD_CHANNELS sev1)" in _line(lines, "FAIL  slack channel C0NOWHERE:")
    assert "Slack id U0ANA: user_not_found" in _line(lines, "FAIL  agent Ana:")


async def test_a_secret_the_keys_cannot_open_fails(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        assert world.bot.store is not None
        foreign = Fernet(Fernet.generate_key()).encrypt(b"k9#Lm2").decode()
        async with world.bot.store.transaction() as tx:
            await tx.save_draft(
                5550001, user_id=5550001, step="credentials", data={"password": foreign}, language="es",
                at=world.clock(),
            )  # fmt: skip
        code, lines = await _doctor(world.settings)
    assert code == 1
    assert "1 of 1 stored secrets do not open" in _line(lines, "FAIL  secret keys:")
    assert "draft of chat 5550001" in _line(lines, "FAIL  secret keys:")


async def test_wrong_tokens_fail_and_the_checks_that_need_them_say_skipped(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        bad = world.settings.model_copy(update={"telegram_bot_token": "123:wrong", "slack_bot_token": "xoxb-wrong"})
        code, lines = await _doctor(bad)
    assert code == 1
    assert "Telegram refused TELEGRAM_BOT_TOKEN" in _line(lines, "FAIL  telegram getMe:")
    assert "invalid_auth; check SLACK_BOT_TOKEN" in _line(lines, "FAIL  slack auth.test:")
    assert _line(lines, "FAIL  slack scopes:").endswith("skipped: auth.test failed")
    assert _line(lines, "FAIL  agents:").endswith("skipped: auth.test failed")


async def test_a_database_behind_the_code_fails_until_migrated(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        old = tmp_path / "old.db"
        last = load_migrations()[-1].version
        migrate(old, target=last - 1)
        code, lines = await _doctor(world.settings.model_copy(update={"database_path": old}))
        assert code == 1
        assert f"migrations {last:04d} not applied; run `supportbot db migrate`" in _line(lines, "FAIL  database:")
        code, lines = await _doctor(world.settings.model_copy(update={"database_path": tmp_path / "none.db"}))
    assert code == 1
    assert "no database at" in _line(lines, "FAIL  database:")
    assert not (tmp_path / "none.db").exists()  # the doctor creates nothing


async def test_a_check_that_raises_is_one_failure_and_the_others_still_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(c: Checkup) -> list[Line]:
        raise RuntimeError("boom")

    async def fine(c: Checkup) -> list[Line]:
        return [fail("mailbox", "an appended check reports like the rest")]

    monkeypatch.setattr(doctor, "CHECKS", [broken, fine])
    settings = Settings(_env_file=None, database_path=tmp_path / "x.db")  # type: ignore[call-arg]
    code, lines = await _doctor(settings)
    assert code == 1
    assert lines[:2] == [
        "FAIL  broken: the check itself failed: RuntimeError: boom",
        "FAIL  mailbox: an appended check reports like the rest",
    ]


def test_supportbot_doctor_without_tokens_names_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    code = main(["doctor"])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert "FAIL  settings: TELEGRAM_BOT_TOKEN is not set" in out
    assert "FAIL  settings: SLACK_BOT_TOKEN is not set" in out
    assert any(line.startswith("FAIL  slack mode: set SLACK_SIGNING_SECRET") for line in out)
    assert any(line.startswith("FAIL  database: no database at var/supportbot.db") for line in out)
    assert not (tmp_path / "var").exists()


@pytest.mark.postgres
async def test_doctor_on_postgresql_reads_the_schema_the_keys_and_the_agents(tmp_path: Path) -> None:
    """DATABASE_URL=postgresql://...: the database line asks PostgreSQL (reachable, every migration applied), the
    keys open what it stores, and the agents it lists are found in Slack."""
    async with fresh_schema("doctor") as url, running_world(tmp_path, database_url=url) as world:
        await open_ticket(world)  # a stored TeamViewer password, in PostgreSQL
        code, lines = await _doctor(world.settings)
        assert code == 0
        database = _line(lines, "ok    database:")
        assert f"schema={PgLocation.parse(url).schema}" in database and "up to date" in database
        assert f"schema at version {load_migrations()[-1].version}" in database
        assert "all 1 stored secret(s) open" in _line(lines, "ok    secret keys:")
        assert "all 4 found in Slack" in _line(lines, "ok    agents:")
        assert lines[-1] == "doctor: ready: 9 ok, 1 warning(s), 0 failure(s)"
        # A key that did not seal that password: the keys line fails on PostgreSQL as on SQLite.
        other = world.settings.model_copy(update={"secrets_keys": [generate_key()]})
        code, lines = await _doctor(other)
        assert code == 1
        assert "1 of 1 stored secrets do not open" in _line(lines, "FAIL  secret keys:")


@pytest.mark.postgres
async def test_doctor_on_postgresql_fails_an_empty_a_behind_and_an_unreachable_database(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        async with fresh_schema("doctor") as url:
            on_pg = world.settings.model_copy(update={"database_url": url})
            code, lines = await _doctor(on_pg)
            assert code == 1
            assert "holds no tables: run `supportbot db migrate`" in _line(lines, "FAIL  database:")
            assert _line(lines, "FAIL  secret keys:").endswith("skipped: the database has no tables yet")
            assert _line(lines, "FAIL  agents:").endswith("skipped: the database has no tables yet")
            last = load_migrations()[-1].version
            location = PgLocation.parse(url)
            conn = await asyncpg.connect(location.dsn, server_settings=location.server_settings())
            try:
                await migrate_pg(conn, location.schema, target=last - 1)
            finally:
                await conn.close()
            code, lines = await _doctor(on_pg)
            assert code == 1
            assert f"migrations {last:04d} not applied; run `supportbot db migrate`" in _line(lines, "FAIL  database:")
        nowhere = world.settings.model_copy(update={"database_url": f"postgresql://nobody@127.0.0.1:{_free_port()}/x"})
        code, lines = await _doctor(nowhere)
    assert code == 1
    assert "cannot reach PostgreSQL at postgresql://nobody@127.0.0.1:" in _line(lines, "FAIL  database:")
    assert _line(lines, "FAIL  agents:").endswith("skipped: the database is not reachable")
