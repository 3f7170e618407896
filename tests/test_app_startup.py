"""`supportbot run` with tokens: a start-up problem is one line and exit 1, and the process does not hang."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import pytest

from bot.app import _serve
from bot.settings import Settings
from sandbox.telegram.testing import running_standin
from storage import generate_key


def _settings(tmp_path: Path, **values: Any) -> Settings:
    base: dict[str, Any] = {
        "database_path": tmp_path / "bot.db",
        "secrets_keys": [generate_key()],
        "slack_bot_token": "xoxb-1",
        "slack_signing_secret": "secret",
        "slack_api_base_url": "http://127.0.0.1:9/api/",
        "http_port": 0,
    }
    base.update(values)
    return Settings(_env_file=None, **base)  # type: ignore[call-arg]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _run(settings: Settings, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = await asyncio.wait_for(_serve(settings), 30)  # a hang fails here instead of blocking the suite
    return code, capsys.readouterr().err


async def test_unreachable_telegram_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = f"http://127.0.0.1:{_closed_port()}/bot"
    settings = _settings(tmp_path, telegram_bot_token="123:" + "a" * 35, telegram_api_base_url=base)
    code, err = await _run(settings, capsys)
    assert code == 1
    assert err.startswith(f"supportbot: no se puede llegar a la Bot API de Telegram en {base} (")
    assert err.count("\n") == 1 and "Traceback" not in err


async def test_a_refused_token_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async with running_standin() as standin:
        assert standin.urls is not None
        wrong = standin.token.split(":")[0] + ":" + "b" * 35
        settings = _settings(tmp_path, telegram_bot_token=wrong, telegram_api_base_url=standin.urls.base_url)
        code, err = await _run(settings, capsys)
    assert (code, err) == (
        1,
        "supportbot: Telegram rechazó TELEGRAM_BOT_TOKEN (Unauthorized): revisa el token con @BotFather\n",
    )


async def test_a_taken_port_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANG", "en_US.UTF-8")  # the operator's locale says English
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        async with running_standin() as standin:
            assert standin.urls is not None
            settings = _settings(
                tmp_path,
                telegram_bot_token=standin.token,
                telegram_api_base_url=standin.urls.base_url,
                http_port=port,
            )
            code, err = await _run(settings, capsys)
    assert (code, err) == (1, f"supportbot: HTTP_PORT {port} on 127.0.0.1 is taken; choose another HTTP_PORT\n")
