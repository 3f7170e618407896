"""`supportbot run` with no tokens: one port for bot, stand-ins and page; seeding once; the port error; tokens win."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

import bot.app
import sandbox.run
from bot.settings import Settings
from bot.wiring import open_store
from sandbox.demo import AGENT_MARCO, DEMO_CLIENT, LAURA_ID
from sandbox.run import SandboxApp, banner, run_sandbox, sandbox_running
from sandbox.testing import DEFAULT_NOW, FakeClock
from storage import generate_key

ROOT = Path(__file__).parents[2]


def make_settings(tmp: Path, **values: Any) -> Settings:
    base: dict[str, Any] = {
        "database_path": tmp / "supportbot.db",
        "secrets_key_file": tmp / "secrets.key",
        # `supportbot sandbox` swaps these in for the two above: the same files, so tests can look at them.
        "sandbox_database_path": tmp / "supportbot.db",
        "sandbox_key_file": tmp / "secrets.key",
        "http_host": "127.0.0.1",
        "http_port": 0,
    }
    return Settings(_env_file=None, **{**base, **values})  # type: ignore[call-arg]


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[SandboxApp]:
    settings = make_settings(tmp_path, secrets_keys=[generate_key()])
    async with sandbox_running(settings, clock=FakeClock(DEFAULT_NOW), poll_timeout=1) as app:
        yield app


def listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


# --- wiring ----------------------------------------------------------------------------------------------


async def test_bot_settings_point_at_the_standins_mounted_on_its_own_port(running: SandboxApp) -> None:
    url, s = running.url, running.settings
    assert url.startswith("http://127.0.0.1:") and running.bot.http_url == url
    assert s.telegram_api_base_url == f"{url}/tg/bot"
    assert s.telegram_file_url == f"{url}/tg/file/bot"
    assert s.telegram_bot_token == running.telegram.token
    assert s.slack_api_base_url == f"{url}/slack-api/api/"
    assert s.slack_bot_token == running.slack.config.bot_token
    assert s.slack_signing_secret == running.slack.config.signing_secret
    assert s.slack_support_channel == running.slack.config.channel_id
    assert running.slack.config.request_url == f"{url}/slack/events"
    assert running.slack.public_url == f"{url}/slack-api"


async def test_one_port_serves_the_page_the_bot_and_both_standins(running: SandboxApp) -> None:
    async with httpx.AsyncClient(base_url=running.url) as http:
        assert (await http.get("/healthz")).json() == {"ok": True}
        page = await http.get("/")
        assert page.status_code == 200 and '<html lang="es">' in page.text
        assert (await http.get("/static/app.js")).status_code == 200
        assert (await http.get("/static/../run.py")).status_code == 404
        assert (await http.get("/static/secret.txt")).status_code == 404
        tg = (await http.get("/tg/sandbox/telegram/state")).json()
        assert {u["id"] for u in tg["result"]["users"]} >= {LAURA_ID}
        slack = (await http.get("/slack-api/sandbox/slack/state")).json()
        assert AGENT_MARCO in {u["id"] for u in slack["users"]}
    # The real bot reached the Telegram stand-in through the mounted prefix (getMe on start, then polling).
    assert "getMe" in [method for method, _ in running.telegram.requests]


async def test_slack_deliveries_reach_the_bot_signed_with_the_standins_secret(running: SandboxApp) -> None:
    _, delivery = await running.slack.actions.post(AGENT_MARCO, running.slack.config.channel_id, "hola equipo")
    status = delivery.attempts[-1].status
    assert status is not None and status != 401  # 401 would mean the signature did not verify
    assert not [v for v in running.slack.violations if "signature" in v.error]


async def test_page_config_lists_the_demo_people_and_roles(running: SandboxApp) -> None:
    async with httpx.AsyncClient(base_url=running.url) as http:
        config = (await http.get("/sandbox/page/config")).json()["result"]
    assert [p["name"] for p in config["telegram"]["people"]] == ["Laura", "Kevin", "Jorge", "Paty", "Desconocido"]
    roles = {p["name"]: p["role"] for p in config["slack"]["people"]}
    assert roles == {
        "Marco": "agent",
        "Ana": "agent",
        "Sofía": "quality_manager",
        "Ricardo": "operations_manager",
        "Visitante": None,
    }
    assert config["telegram"]["prefix"] == "/tg" and config["slack"]["prefix"] == "/slack-api"


# --- the page's own endpoints and their bad inputs ----------------------------------------------------------


async def test_upload_sends_an_image_as_photo_and_anything_else_as_document(running: SandboxApp) -> None:
    from sandbox.telegram.models import tiny_png

    async with httpx.AsyncClient(base_url=running.url) as http:
        path = f"/sandbox/page/telegram/{LAURA_ID}/upload"
        photo = await http.post(path, data={"as": "photo"}, files={"file": ("foto.png", tiny_png(), "image/png")})
        assert photo.json()["ok"], photo.text
        doc = await http.post(
            path, data={"as": "document"}, files={"file": ("log.txt", b"x" * 2_000_000, "text/plain")}
        )
        assert doc.json()["ok"], doc.text
    sent = [m for m in running.telegram.history(LAURA_ID) if m["from"] == "user"]
    assert "photo" in sent[0]
    assert sent[1]["document"]["file_name"] == "log.txt" and sent[1]["document"]["file_size"] == 2_000_000


@pytest.mark.parametrize(
    ("path", "kwargs", "status", "error"),
    [
        ("/sandbox/page/telegram/1/upload", {"files": {"file": ("a.txt", b"a")}}, 404, "no user 1"),
        (f"/sandbox/page/telegram/{LAURA_ID}/upload", {"json": {"file": "a"}}, 400, "multipart"),
        (f"/sandbox/page/telegram/{LAURA_ID}/upload", {"files": {"x": (None, "solo texto")}}, 400, "no file"),
        ("/sandbox/page/slack/click_ephemeral", {"json": {"user": AGENT_MARCO}}, 400, "user, ts and action_id"),
        ("/sandbox/page/slack/click_ephemeral", {"content": b"{no json"}, 400, "user, ts and action_id"),
        (
            "/sandbox/page/slack/click_ephemeral",
            {"json": {"user": AGENT_MARCO, "ts": "1.2", "action_id": "a"}},
            404,
            "no ephemeral message",
        ),
    ],
)
async def test_page_endpoints_refuse_bad_input(
    running: SandboxApp, path: str, kwargs: dict[str, Any], status: int, error: str
) -> None:
    async with httpx.AsyncClient(base_url=running.url) as http:
        answer = await http.post(path, **kwargs)
    assert answer.status_code == status
    assert answer.json()["ok"] is False and error in answer.json()["error"]


async def test_upload_over_the_sandbox_limit_is_refused(running: SandboxApp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sandbox.page.MAX_UPLOAD", 1000)
    async with httpx.AsyncClient(base_url=running.url) as http:
        answer = await http.post(f"/sandbox/page/telegram/{LAURA_ID}/upload", files={"file": ("a.bin", b"a" * 5000)})
    assert answer.status_code == 400 and "up to" in answer.json()["error"]
    assert not [m for m in running.telegram.history(LAURA_ID) if m["from"] == "user"]


async def test_clicking_an_ephemeral_button_is_delivered_to_the_bot(running: SandboxApp) -> None:
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token=running.settings.slack_bot_token, base_url=running.settings.slack_api_base_url)
    button = {"type": "button", "action_id": "undo", "text": {"type": "plain_text", "text": "Deshacer"}}
    posted = await client.chat_postEphemeral(
        channel=running.slack.config.channel_id,
        user=AGENT_MARCO,
        text="Tomado",
        blocks=[{"type": "actions", "elements": [button]}],
    )
    async with httpx.AsyncClient(base_url=running.url) as http:
        body = {"user": AGENT_MARCO, "ts": posted["message_ts"], "action_id": "undo"}
        answer = (await http.post("/sandbox/page/slack/click_ephemeral", json=body)).json()
        wrong = (await http.post("/sandbox/page/slack/click_ephemeral", json={**body, "action_id": "nada"})).json()
    assert answer["ok"] and answer["delivery"]["type"] == "block_actions"
    assert running.slack.deliverer.log[-1].payload["container"]["is_ephemeral"] is True
    assert wrong["ok"] is False and "no element with action_id 'nada'" in wrong["error"]


# --- seeding and keys ---------------------------------------------------------------------------------------


async def test_demo_company_is_seeded_on_first_run_only(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    async with sandbox_running(settings, clock=FakeClock(DEFAULT_NOW), poll_timeout=1) as first:
        demo = first.demo
    async with sandbox_running(settings, clock=FakeClock(DEFAULT_NOW), poll_timeout=1) as second:
        assert second.demo == demo
    store = await open_store(settings, create_keys=False)
    try:
        async with store.transaction() as tx:
            names = [c.name for c in await tx.list_clients()]
    finally:
        await store.close()
    assert names.count(DEMO_CLIENT) == 1


async def test_key_file_is_generated_with_mode_0600_when_missing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    assert not settings.secrets_key_file.exists()
    async with sandbox_running(settings, clock=FakeClock(DEFAULT_NOW), poll_timeout=1):
        pass
    assert stat.S_IMODE(settings.secrets_key_file.stat().st_mode) == 0o600
    key = settings.secrets_key_file.read_text("utf-8")
    async with sandbox_running(settings, clock=FakeClock(DEFAULT_NOW), poll_timeout=1):
        pass
    assert settings.secrets_key_file.read_text("utf-8") == key  # kept, never regenerated


# --- the operator's view: one line, Ctrl-C, a taken port, tokens ------------------------------------------


async def test_taken_port_gives_one_line_naming_http_port_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with listening_socket() as taken:
        port = taken.getsockname()[1]
        status = await run_sandbox(make_settings(tmp_path, http_port=port))
    out, err = capsys.readouterr()
    assert status == 1
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "HTTP_PORT" in lines[0] and str(port) in lines[0]
    assert not (tmp_path / "supportbot.db").exists()  # refused before touching anything


async def test_make_run_without_tokens_prints_one_line_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    with listening_socket() as probe:
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_", "SECRETS_", "HTTP_"))}
    env.update(
        DATABASE_PATH=str(tmp_path / "real.db"),
        SANDBOX_DATABASE_PATH=str(tmp_path / "db.sqlite"),
        SANDBOX_KEY_FILE=str(tmp_path / "secrets.key"),
        HTTP_PORT=str(port),
        PYTHONPATH=str(ROOT),
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "start", cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert first.decode().rstrip("\n") == banner(f"http://127.0.0.1:{port}")
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"http://127.0.0.1:{port}/healthz")).json() == {"ok": True}
        proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), 15)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()
    assert out == b""  # the one line, and nothing else
    assert b"Traceback" not in err
    assert (tmp_path / "db.sqlite").exists() and not (tmp_path / "real.db").exists()  # its own database


def test_banner_is_the_documented_line(monkeypatch: pytest.MonkeyPatch) -> None:
    assert banner("http://127.0.0.1:8080") == (
        "supportbot sandbox: abre http://127.0.0.1:8080 (Telegram y Slack son simulaciones locales; solo datos de "
        "ejemplo)"
    )
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert banner("http://127.0.0.1:8080") == (
        "supportbot sandbox: open http://127.0.0.1:8080 (Telegram and Slack are local stand-ins; demo data only)"
    )


class _Started(Exception):
    """Raised by the fake bot: the real services would have been contacted here."""


class _FakeBot:
    made: ClassVar[list[_FakeBot]] = []

    def __init__(self, settings: Settings, **_: Any) -> None:
        self.settings = settings
        self.stopped = False
        _FakeBot.made.append(self)

    async def start(self) -> None:
        raise _Started(self.settings.telegram_bot_token)

    async def stop(self) -> None:
        self.stopped = True


def _no_sandbox(*_: Any, **__: Any) -> Any:
    raise AssertionError("the sandbox must not start when tokens are set")


async def test_with_tokens_set_no_standin_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox.run, "run_sandbox", _no_sandbox)
    monkeypatch.setattr(sandbox.run, "sandbox_running", _no_sandbox)
    monkeypatch.setattr(bot.app, "SupportBot", _FakeBot)
    settings = make_settings(
        tmp_path, telegram_bot_token="123:real", slack_bot_token="xoxb-real", slack_signing_secret="s"
    )
    _FakeBot.made.clear()
    assert await bot.app._serve(settings) == 1  # the real bot was started (and its failure reported)
    [fake] = _FakeBot.made
    assert fake.settings.telegram_bot_token == "123:real" and fake.stopped


async def test_with_one_token_missing_it_names_it_and_starts_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sandbox.run, "run_sandbox", _no_sandbox)
    monkeypatch.setattr(bot.app, "SupportBot", _FakeBot)
    _FakeBot.made.clear()
    status = await bot.app._serve(make_settings(tmp_path, telegram_bot_token="123:real"))
    assert status == 1
    err = capsys.readouterr().err
    assert "SLACK_BOT_TOKEN" in err and "supportbot sandbox" in err and err.count("\n") == 1
    assert _FakeBot.made == []  # nothing started


def test_supportbot_run_without_tokens_is_one_line_and_exit_1_never_the_sandbox(tmp_path: Path) -> None:
    """Issue "safe by default": `run` with both tokens missing once fell back to the sandbox on the production
    database (demo company, invite code DEMO2026, two demo managers, unauthenticated control APIs)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_", "SECRETS_", "HTTP_"))}
    env.update(DATABASE_PATH=str(tmp_path / "real.db"), PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "TELEGRAM_BOT_TOKEN" in done.stderr and "SLACK_BOT_TOKEN" in done.stderr
    assert not (tmp_path / "real.db").exists() and not (tmp_path / "var").exists()


async def test_demo_rows_are_never_written_into_a_database_with_real_clients(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(tmp_path, secrets_keys=[generate_key()])
    store = await open_store(settings)
    try:
        async with store.transaction() as tx:
            await tx.add_client("Ferretería López", at=DEFAULT_NOW)
    finally:
        await store.close()
    with listening_socket() as probe:
        port = probe.getsockname()[1]
    settings.sandbox_key_file.write_text(settings.secrets_keys[0] + "\n")
    settings.sandbox_key_file.chmod(0o600)
    assert await run_sandbox(settings.model_copy(update={"http_port": port})) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Ferretería López" in err and "nunca se escriben" in err
    store = await open_store(settings)
    try:
        async with store.transaction() as tx:
            assert [c.name for c in await tx.list_clients()] == ["Ferretería López"]
            assert await tx.list_invites(None) == []
    finally:
        await store.close()
