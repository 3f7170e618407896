"""kill -9 for real: the bot runs as its own process (`python -m bot run`), is killed with SIGKILL in the middle
of an intake, and a new process on the same database takes the client's next answer at the same step.

The in-process restart tests (test_restart_e2e.py) stop the bot cleanly; this one gives it no chance to flush,
close or say goodbye, which is what a crash or an OOM kill does (python-telegram-bot #1864, #1825, #3522).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.clock import utcnow
from bot.wiring import open_store, tier_rules
from sandbox.demo import LAURA_ID, SLACK_PEOPLE, Demo, seed_demo
from sandbox.slack.server import start as start_slack
from sandbox.slack.standin import SlackStandIn, StandInConfig
from sandbox.telegram.driver import TelegramClient
from sandbox.telegram.standin import StandIn
from sandbox.testing import world_settings
from storage.records import Draft, Ticket
from tests.e2e.telegram.helpers import DESCRIPTION, TV_PASSWORD, intake_data

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BotProcess:
    """`python -m bot run` with the settings in its environment, as an operator would start it."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", env=self.env, cwd=ROOT, stdout=out, stderr=out
            )
        url = f"http://127.0.0.1:{self.env['HTTP_PORT']}/healthz"
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                assert self.proc.returncode is None, self.log.read_text()
                try:
                    async with http.get(url) as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError(f"the bot did not start:\n{self.log.read_text()}")

    async def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        assert await asyncio.wait_for(self.proc.wait(), 10) == -signal.SIGKILL

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 15)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


class Outside:
    """The stand-ins in the test process, the bot in another one, and a look into the shared database."""

    def __init__(self, telegram: StandIn, settings: Any, bot: BotProcess, demo: Demo) -> None:
        self.telegram = telegram
        self.demo = demo
        self.settings = settings
        self.bot = bot

    async def draft(self, chat_id: int) -> Draft | None:
        store = await open_store(self.settings, migrate=False)
        try:
            async with store.transaction() as tx:
                return await tx.get_draft(chat_id)
        finally:
            await store.close()

    async def tickets(self) -> list[Ticket]:
        store = await open_store(self.settings, migrate=False)
        try:
            async with store.transaction() as tx:
                return await tx.list_tickets()
        finally:
            await store.close()

    async def until(self, check: Callable[[], Any], what: str, limit: float = 20.0) -> Any:
        """Poll until check() (sync or async) returns something truthy; the other process answers on its own time."""
        deadline = asyncio.get_running_loop().time() + limit
        while True:
            value = check()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"waited {limit}s for {what}; bot log:\n{self.bot.log.read_text()[-3000:]}")
            await asyncio.sleep(0.05)


@pytest.fixture
async def outside(tmp_path: Path) -> AsyncIterator[Outside]:
    telegram = StandIn(callback_answer_timeout=5.0)
    await telegram.start()
    slack = SlackStandIn(StandInConfig())
    slack_base = await start_slack(slack)
    for slack_id, name, _role in SLACK_PEOPLE:
        slack.add_user(slack_id, name)
    port = _free_port()
    settings = world_settings(tmp_path, telegram, f"{slack_base}/api/", slack.config, http_port=port)
    slack.config.request_url = f"http://127.0.0.1:{port}/slack/events"
    store = await open_store(settings)
    async with store.transaction() as tx:
        now = utcnow()
        demo = await seed_demo(
            tx,
            today=now.astimezone(settings.zone).date(),
            now=now,
            rules=tier_rules(settings),
            invite_ttl=timedelta(hours=72),
        )
    await store.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_", "DATABASE_", "SECRETS_"))}
    env.update(
        DATABASE_PATH=str(settings.database_path),
        SECRETS_KEYS=",".join(settings.secrets_keys),
        TELEGRAM_BOT_TOKEN=settings.telegram_bot_token,
        TELEGRAM_API_BASE_URL=settings.telegram_api_base_url,
        TELEGRAM_API_FILE_URL=settings.telegram_api_file_url,
        SLACK_BOT_TOKEN=settings.slack_bot_token,
        SLACK_SIGNING_SECRET=settings.slack_signing_secret,
        SLACK_API_BASE_URL=settings.slack_api_base_url,
        SLACK_SUPPORT_CHANNEL=settings.slack_support_channel,
        HTTP_HOST="127.0.0.1",
        HTTP_PORT=str(port),
    )
    bot = BotProcess(env, tmp_path / "bot.log")
    try:
        await bot.start()
        yield Outside(telegram, settings, bot, demo)
        assert telegram.violations == [], telegram.violations
        assert slack.violations == [], slack.violations
    finally:
        await bot.stop()
        await slack.close()
        await telegram.stop()


async def test_sigkill_mid_intake_then_a_new_process_continues_at_the_same_step(outside: Outside) -> None:
    telegram = outside.telegram
    laura = TelegramClient(telegram, telegram.create_user("Laura", user_id=LAURA_ID), timeout=20.0)

    async def tap(action: str) -> None:
        await outside.until(lambda: _has(laura, action), f"the button {action}")
        await laura.tap(intake_data(laura, action))

    async def step_is(step: str) -> Draft:
        async def check() -> Draft | None:
            saved = await outside.draft(LAURA_ID)
            return saved if saved is not None and saved.step == step else None

        return await outside.until(check, f"the draft at step {step!r}")  # type: ignore[no-any-return]

    await laura.send("/reportar")
    await tap("a.firewall")
    await tap(f"p.{outside.demo.products['fortigate60']}")
    await tap("t.down")
    await tap("t.whole_company")
    before = await step_is("description")
    messages_before = len(laura.bot_messages())

    await outside.bot.kill9()  # no shutdown, no flush: the process is gone
    await outside.bot.start()

    await laura.send(DESCRIPTION)
    after = await step_is("since")  # the new process took the answer at the step the old one had reached
    moving = {"description", "seq", "step", "trail"}  # what answering the description itself changes
    kept = {k: v for k, v in before.data["intake"].items() if k not in moving}
    assert kept["area"] == "firewall" and kept["product_id"] == outside.demo.products["fortigate60"]
    assert {k: v for k, v in after.data["intake"].items() if k not in moving} == kept
    assert after.data["intake"]["description"] == DESCRIPTION
    await outside.until(lambda: len(laura.bot_messages()) > messages_before, "the question after the description")

    # ... and the intake goes on to a ticket in the new process.
    await laura.send("hace 2 horas")  # real clock here: "hoy a las 9" is in the future before 9:00
    await step_is("attachments")
    await laura.send_photo()
    await tap("ok")
    await tap("acc.remote")
    await laura.send("1 234 567 890")
    await step_is("tv_password")
    await laura.send(TV_PASSWORD)
    await tap("n")
    await tap("ok")
    [ticket] = await outside.until(outside.tickets, "the ticket")
    assert ticket.description == DESCRIPTION and ticket.severity == 1
    await outside.until(lambda: any(ticket.number in t for t in laura.texts()), "the ticket number told to Laura")


def _has(client: TelegramClient, action: str) -> bool:
    try:
        intake_data(client, action)
    except AssertionError:
        return False
    return True
