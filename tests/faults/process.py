"""The real bot as its own process (`python -m bot run`) between the stand-ins, which run in the test process.

Shared by the fault tests and the kill -9 end-to-end test: `running_outside` starts both stand-ins, seeds the
demo company (and whatever a test adds) in a fresh database, and starts the bot with its settings in its
environment, as an operator would; `BotProcess` kills it with SIGKILL and starts it again on the same
database. `Outside` reads the shared database the way a person with a shell would.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from bot.clock import utcnow
from bot.settings import Settings
from bot.wiring import open_store, tier_rules
from sandbox.demo import SLACK_PEOPLE, Demo, seed_demo
from sandbox.slack.server import start as start_slack
from sandbox.slack.standin import SlackStandIn, StandInConfig
from sandbox.telegram.standin import StandIn
from sandbox.testing import world_settings
from storage import Tx
from storage.records import Draft, InboxStatus, OutboxMessage, OutboxStatus, Ticket

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")
Seed = Callable[[Tx, Demo], Awaitable[None]]
# What the bot process may inherit from the environment of whoever runs the tests: nothing that configures it.
_OWN_PREFIXES = ("TELEGRAM_", "SLACK_", "DATABASE_", "SECRETS_", "HTTP_", "DELIVERY_", "REPLICA_", "LOG_")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BotProcess:
    """`python -m bot run` with the settings in its environment, as an operator would start it."""

    def __init__(self, env: dict[str, str], log: Path, cwd: Path) -> None:
        self.env = env
        self.log = log
        self.cwd = cwd
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0
        self.kills = 0
        self.start_seconds: list[float] = []  # from exec to /healthz answering (200 unless not waited for)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def start(self, *, healthy: bool = True) -> None:
        """Start a new process and return once it answers /healthz with 200 (it is up and running), or with
        anything at all when not `healthy` (it listens: its HTTP server is up, the rest may still be starting)."""
        began = asyncio.get_running_loop().time()
        with self.log.open("ab") as out:
            out.write(f"--- start {self.starts + 1} ---\n".encode())
            out.flush()
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", env=self.env, cwd=self.cwd, stdout=out, stderr=out
            )
        self.starts += 1
        url = f"http://127.0.0.1:{self.env['HTTP_PORT']}/healthz"
        timeout = aiohttp.ClientTimeout(total=2)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            for _ in range(400):
                assert self.proc.returncode is None, self.tail()
                try:
                    async with http.get(url) as resp:
                        if resp.status == 200 or not healthy:
                            self.start_seconds.append(asyncio.get_running_loop().time() - began)
                            return
                except (aiohttp.ClientError, TimeoutError):
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError(f"the bot did not start:\n{self.tail()}")

    def kill9_now(self) -> None:
        """SIGKILL, synchronously: nothing else runs in between (for hooks called at an exact moment)."""
        assert self.proc is not None and self.proc.returncode is None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.kills += 1

    async def kill9(self) -> None:
        """SIGKILL and wait until the process is gone: no shutdown, no flush, no goodbye."""
        self.kill9_now()
        await self.reap()

    async def reap(self) -> None:
        assert self.proc is not None
        assert await asyncio.wait_for(self.proc.wait(), 10) == -signal.SIGKILL

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 15)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else "(no log)"


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
        store = await open_store(self.settings, migrate=False)
        try:
            async with store.transaction() as tx:
                return await query(tx)
        finally:
            await store.close()

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


def bot_env(settings: Settings, port: int, **extra: str) -> dict[str, str]:
    """The environment of `supportbot run`: the settings of the test world, nothing inherited that configures it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
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
    env.update(extra)
    return env


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
        store = await open_store(settings)
        try:
            async with store.transaction() as tx:
                now = utcnow()
                demo = await seed_demo(
                    tx,
                    today=now.astimezone(settings.zone).date(),
                    now=now,
                    rules=tier_rules(settings),
                    invite_ttl=timedelta(hours=72),
                )
                if seed is not None:
                    await seed(tx, demo)
        finally:
            await store.close()
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
