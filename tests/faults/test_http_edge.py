"""Issue "safe by default": every attack on the HTTP edge, sent to the real `supportbot run` process.

Each attack carries a payload whose effect would be visible if it were processed (a forged /start would be
answered in Laura's chat; a forged Home-tab event would make the bot call views.publish), so "nothing
processed" is checked against a control request that does have the effect, never assumed.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sandbox.demo import AGENT_MARCO, LAURA_ID
from sandbox.slack.payloads import app_home_opened, event_callback
from sandbox.slack.signing import signed_headers
from tests.faults.process import Outside, running_outside

SECRET = "webhook_S3cret"


@pytest.fixture
async def outside(tmp_path: Path) -> AsyncIterator[Outside]:
    async with running_outside(tmp_path, webhook_secret=SECRET) as world:
        world.telegram.create_user("Laura", user_id=LAURA_ID).started = True  # she has talked to the bot before
        yield world


def _url(outside: Outside, path: str) -> str:
    return f"http://127.0.0.1:{outside.bot.env['HTTP_PORT']}{path}"


async def _post(outside: Outside, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(_url(outside, path), data=body, headers=headers) as resp,
    ):
        return resp.status, await resp.text(), resp.headers.get("Server", "")


def _start_update(update_id: int) -> bytes:
    return json.dumps(
        {
            "update_id": update_id,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": LAURA_ID, "type": "private"},
                "from": {"id": LAURA_ID, "is_bot": False, "first_name": "Mallory"},
                "text": "/start",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }
    ).encode()


def _publishes(outside: Outside) -> int:
    return sum(1 for call in outside.slack.api_log if call["method"] == "views.publish")


def _home_event(outside: Outside) -> bytes:
    user = outside.slack.users[AGENT_MARCO]
    return json.dumps(event_callback(outside.slack, app_home_opened(outside.slack, user))).encode()


async def test_forged_telegram_updates_are_refused_and_never_processed(outside: Outside) -> None:
    json_type = {"Content-Type": "application/json"}
    for n, headers in enumerate(
        [json_type, {**json_type, "X-Telegram-Bot-Api-Secret-Token": "wrong"}, {"X-Telegram-Bot-Api-Secret-Token": ""}]
    ):
        status, _, _ = await _post(outside, "/telegram/webhook", _start_update(900 + n), headers)
        assert status == 403
    good = {**json_type, "X-Telegram-Bot-Api-Secret-Token": SECRET}
    for body in (b"{not json", b"[1, 2]", b'{"update_id": "x"}'):
        status, _, _ = await _post(outside, "/telegram/webhook", body, good)
        assert status == 400
    status, _, _ = await _post(outside, "/telegram/webhook", b"x" * (2 * 1024 * 1024), good)
    assert status == 413
    await asyncio.sleep(1.0)
    assert outside.telegram.history(LAURA_ID) == []  # none of them reached the bot's handlers

    # The control: the same update with the secret is answered in Laura's chat.
    status, _, _ = await _post(outside, "/telegram/webhook", _start_update(999), good)
    assert status == 200
    await outside.until(lambda: outside.telegram.history(LAURA_ID), "the answer to the genuine update")
    assert "Traceback" not in outside.bot.tail(100_000)


def _slack_attacks(outside: Outside) -> list[tuple[str, bytes, dict[str, str], int]]:
    secret = outside.slack.config.signing_secret
    now = int(time.time())
    event = _home_event(outside)

    def signed(body: bytes, content_type: str = "application/json", at: int = now) -> dict[str, str]:
        return {**signed_headers(secret, at, body), "Content-Type": content_type}

    form = "application/x-www-form-urlencoded"
    return [
        ("unsigned", event, {"Content-Type": "application/json"}, 401),
        ("signed with another secret", event, {**signed_headers("nope", now, event)}, 401),
        ("stale timestamp", event, signed(event, at=now - 600), 401),
        ("non-numeric timestamp", event, {**signed(event), "X-Slack-Request-Timestamp": "ayer"}, 401),
        ("unsigned malformed JSON", b"{not json", {"Content-Type": "application/json"}, 401),
        ("unsigned JSON array", b"[1]", {"Content-Type": "application/json"}, 401),
        ("signed malformed JSON", b"{not json", signed(b"{not json"), 400),
        ("signed JSON array", b"[1]", signed(b"[1]"), 400),
        ("signed form with a payload that is not JSON", b"payload=%7Bnope", signed(b"payload=%7Bnope", form), 400),
        ("signed form with a JSON array payload", b"payload=%5B1%5D", signed(b"payload=%5B1%5D", form), 400),
        ("signed body of another type", event, signed(event, "text/plain"), 415),
        ("oversized", b"x" * (2 * 1024 * 1024), {"Content-Type": "application/json"}, 413),
    ]


async def test_forged_or_malformed_slack_requests_get_4xx_never_a_500_and_do_nothing(outside: Outside) -> None:
    # Let the start-up Home publishes (if any) settle before counting.
    await outside.quiescent(limit=30, quiet=0.5)
    before = _publishes(outside)
    for name, body, headers, expected in _slack_attacks(outside):
        status, _, server = await _post(outside, "/slack/events", body, headers)
        assert status == expected, name
        assert "aiohttp" not in server and "Python" not in server, name
    await asyncio.sleep(1.0)
    assert _publishes(outside) == before  # none of them was processed

    # The control: the same Home-tab event, properly signed, makes the bot publish the Home view.
    body = _home_event(outside)
    headers = {**signed_headers(outside.slack.config.signing_secret, int(time.time()), body)}
    headers["Content-Type"] = "application/json"
    status, _, _ = await _post(outside, "/slack/events", body, headers)
    assert status == 200
    await outside.until(lambda: _publishes(outside) > before, "views.publish for the genuine event")
    log = outside.bot.tail(100_000)
    assert "Traceback" not in log and " ERROR " not in log


@pytest.mark.parametrize(
    "path", ["/", "/sandbox/page/config", "/tg/sandbox/telegram/state", "/slack-api/sandbox/slack/state"]
)
async def test_run_never_serves_the_sandbox_page_or_control_apis(outside: Outside, path: str) -> None:
    async with aiohttp.ClientSession() as http, http.get(_url(outside, path)) as resp:
        assert resp.status == 404
        assert "aiohttp" not in resp.headers.get("Server", "")


async def test_the_bot_registers_its_own_webhook_with_the_secret_and_update_types(outside: Outside) -> None:
    calls: list[dict[str, Any]] = [p for m, p in outside.telegram.requests if m == "setWebhook"]
    assert calls, "setWebhook was never called"
    last = calls[-1]
    assert last.get("secret_token") == SECRET and last.get("url", "").endswith("/telegram/webhook")
    allowed = last.get("allowed_updates")
    allowed = json.loads(allowed) if isinstance(allowed, str) else allowed
    assert {"message", "callback_query", "my_chat_member"} <= set(allowed)
    assert any(m == "getWebhookInfo" for m, _ in outside.telegram.requests)  # and reports what Telegram says
    assert "webhook" in outside.bot.tail(100_000).lower()
