"""The real bot as its own process (`python -m bot run`) between the stand-ins, which run in the test process.

Shared by the fault tests and the kill -9 end-to-end tests: `running_outside` starts both stand-ins, seeds the
demo company (and whatever a test adds) in a fresh database, and starts the bot with its settings in its
environment, as an operator would; its `BotProcess` (sandbox/processes.py, shared with the benchmarks) kills it
with SIGKILL and starts it again on the same database. `Outside` reads the shared database the way a person with
a shell would, and waits for it the way a test does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from bot.settings import Settings
from sandbox.demo import SLACK_PEOPLE, Demo
from sandbox.processes import BotProcess, Seed, bot_env, free_port, read_store, seed_demo_now
from sandbox.slack.server import start as start_slack
from sandbox.slack.standin import SlackStandIn, StandInConfig
from sandbox.telegram.standin import StandIn
from sandbox.testing import world_settings
from storage import Tx
from storage.records import Draft, InboxStatus, OutboxMessage, OutboxStatus, Ticket

__all__ = ["Outside", "Seed", "running_outside"]

T = TypeVar("T")


class Outside:
    """The stand-ins in the test process, the bot in another one, and a look into the shared database."""

    def __init__(self, telegram: StandIn, slack: SlackStandIn, settings: Settings, bot: BotProcess, demo: Demo) -> None:
        self.telegram = telegram
        self.slack = slack
        self.settings = settings
        self.bot = bot
        self.demo = demo

    async def read(self, query: Callable[[Tx], Awaitable[T]]) -> T:
        """Run a read in its own transaction on a connection of our own (the bot may be dead or alive)."""
        return await read_store(self.settings, query)

    async def draft(self, chat_id: int) -> Draft | None:
        return await self.read(lambda tx: tx.get_draft(chat_id))

    async def tickets(self) -> list[Ticket]:
        return await self.read(lambda tx: tx.list_tickets())

    async def outbox(self, status: OutboxStatus) -> list[OutboxMessage]:
        return await self.read(lambda tx: tx.list_outbox(status, limit=10_000))

    async def open_work(self) -> int:
        """Inbox entries not handled yet plus outbox rows not delivered yet (timers due later are not work)."""

        async def count(tx: Tx) -> int:
            entries = await tx.list_inbox((InboxStatus.PENDING, InboxStatus.WORKING), limit=10_000)
            rows = await tx.list_outbox(OutboxStatus.PENDING, limit=10_000)
            rows += await tx.list_outbox(OutboxStatus.SENDING, limit=10_000)
            return len(entries) + len(rows)

        return await self.read(count)

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
                raise AssertionError(f"waited {limit}s for {what}; bot log:\n{self.bot.tail()}")
            await asyncio.sleep(0.05)

    async def quiescent(self, limit: float = 120.0, quiet: float = 1.0) -> None:
        """Wait until everything received is handled and everything owed is delivered, and nothing has moved
        for `quiet` seconds: no update waiting at Telegram, no open inbox entry or outbox row, no API call."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        calls = (-1, -1)
        since = loop.time()
        while True:
            now_calls = (len(self.telegram.requests), len(self.slack.api_log))
            busy = (
                bool(self.telegram.state.pending)
                or self.telegram.state.in_flight > 0
                or await self.open_work() > 0
                or now_calls != calls
            )
            if busy:
                calls, since = now_calls, loop.time()
            elif loop.time() - since >= quiet:
                return
            if loop.time() > deadline:
                raise AssertionError(
                    f"not quiescent after {limit:g} s: {len(self.telegram.state.pending)} update(s) at Telegram, "
                    f"{await self.open_work()} open inbox entries / outbox rows; bot log:\n{self.bot.tail()}"
                )
            await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def running_outside(
    tmp: Path,
    *,
    telegram: StandIn | None = None,
    slack_config: StandInConfig | None = None,
    seed: Seed | None = None,
    webhook_secret: str | None = None,
    **env: str,
) -> AsyncIterator[Outside]:
    """Both stand-ins here, the demo company (plus `seed`'s additions) in a fresh database, and the bot in its
    own process on a free port (Telegram by webhook when webhook_secret is given, else long polling).
    `env` adds settings (e.g. DELIVERY_PACING="true"). The process is stopped afterwards."""
    telegram = telegram or StandIn(callback_answer_timeout=5.0)
    await telegram.start()
    slack = SlackStandIn(slack_config or StandInConfig())
    bot: BotProcess | None = None
    try:
        slack_base = await start_slack(slack)
        for slack_id, name, _role in SLACK_PEOPLE:
            slack.add_user(slack_id, name)
        port = free_port()
        settings = world_settings(tmp, telegram, f"{slack_base}/api/", slack.config, http_port=port)
        slack.config.request_url = f"http://127.0.0.1:{port}/slack/events"
        demo = await seed_demo_now(settings, seed)
        if webhook_secret is not None:
            env = {
                "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/webhook",
                "TELEGRAM_WEBHOOK_SECRET": webhook_secret,
                **env,
            }
        workdir = tmp / "bot"
        workdir.mkdir(exist_ok=True)
        bot = BotProcess(bot_env(settings, port, **env), tmp / "bot.log", workdir)
        await bot.start()
        yield Outside(telegram, slack, settings, bot, demo)
    finally:
        if bot is not None:
            await bot.stop()
        await slack.close()
        await telegram.stop()
