"""The real bot as its own processes (`python -m bot run`, as an operator starts it) between the stand-ins, which
run in the calling process. Shared by the fault tests (tests/faults) and the benchmarks (bench/):

- `bot_env`: the environment of one process: the settings of the stand-ins' world, nothing inherited from whoever
  runs it that configures the bot;
- `BotProcess`: starts a process and waits until it answers /healthz, stops it, or kills it with SIGKILL and
  starts it again on the same database;
- `Balancer`: round-robin HTTP in front of several replicas, where the Slack stand-in delivers its events and
  clicks (a replica that refuses or drops the connection is skipped: the request goes to the next);
- `seed_demo_now` and `read_store`: the demo company in the processes' database, on the real clock they run on,
  and a look into that database on a connection of the caller's own.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import aiohttp
from aiohttp import web

from bot.clock import utcnow
from bot.settings import Settings
from bot.wiring import open_store, tier_rules
from sandbox.demo import Demo, seed_demo
from storage import Tx

__all__ = [
    "Balancer",
    "BotProcess",
    "BotProcessError",
    "Seed",
    "bot_env",
    "free_port",
    "read_store",
    "seed_demo_now",
]

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")
Seed = Callable[[Tx, Demo], Awaitable[None]]
# What a bot process may inherit from the environment of whoever starts it: nothing that configures it.
_OWN_PREFIXES = ("TELEGRAM_", "SLACK_", "DATABASE_", "SECRETS_", "HTTP_", "DELIVERY_", "REPLICA_", "LOG_")
_FORWARD_TIMEOUT = aiohttp.ClientTimeout(total=10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bot_env(settings: Settings, port: int, **extra: str) -> dict[str, str]:
    """The environment of `supportbot run`: the given settings on HTTP port `port`, then `extra` (e.g.
    DATABASE_URL, REPLICA_NAME, DELIVERY_PACING="false"); nothing inherited that configures the bot."""
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


class BotProcessError(AssertionError):
    """The process exited or never answered while starting, or did not die of the SIGKILL it was sent; the
    message carries the end of its log."""


class BotProcess:
    """`python -m bot run` with the settings in its environment, as an operator would start it. Its output goes
    to `log` (appended, each start marked `--- start N ---`); it runs in `cwd`."""

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

    async def start(self, *, healthy: bool = True, attempts: int = 400) -> None:
        """Start a new process and return once it answers /healthz with 200 (it is up and running), or with
        anything at all when not `healthy` (it listens: its HTTP server is up, the rest may still be starting).
        Asks up to `attempts` times, 0.05 s apart; raises BotProcessError if it exits or never answers."""
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
            for _ in range(attempts):
                if self.proc.returncode is not None:
                    raise BotProcessError(f"the bot exited with {self.proc.returncode}:\n{self.tail()}")
                try:
                    async with http.get(url) as resp:
                        if resp.status == 200 or not healthy:
                            self.start_seconds.append(asyncio.get_running_loop().time() - began)
                            return
                except (aiohttp.ClientError, TimeoutError):
                    pass
                await asyncio.sleep(0.05)
        raise BotProcessError(f"the bot did not start:\n{self.tail()}")

    def kill9_now(self) -> None:
        """SIGKILL, synchronously: nothing else runs in between (for hooks called at an exact moment)."""
        assert self.proc is not None
        if self.proc.returncode is not None:
            raise BotProcessError(f"the bot had already ended with {self.proc.returncode}:\n{self.tail()}")
        os.kill(self.proc.pid, signal.SIGKILL)
        self.kills += 1

    async def kill9(self) -> None:
        """SIGKILL and wait until the process is gone: no shutdown, no flush, no goodbye."""
        self.kill9_now()
        await self.reap()

    async def reap(self) -> None:
        """Wait (up to 10 s) for the process killed by kill9_now to be gone."""
        assert self.proc is not None
        code = await asyncio.wait_for(self.proc.wait(), 10)
        if code != -signal.SIGKILL:
            raise BotProcessError(f"the bot ended with {code}, not by the SIGKILL:\n{self.tail()}")

    async def stop(self) -> None:
        """SIGTERM and wait (up to 15 s, then SIGKILL); nothing happens when it is not running."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 15)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else "(no log)"


@dataclass
class Balancer:
    """Round-robin HTTP in front of the replicas on `ports`, as a load balancer would be: a replica that refuses
    the connection or drops it is skipped and the request goes to the next (Slack repeats the same event id, and
    the bot's inbox recognises a repetition). `served` counts the requests each port answered.

    `pooled`: one client session (kept-alive connections) for all requests, else a new one for each request.
    `serve()` listens on a free port; `close()` stops listening and closes the pooled session."""

    ports: list[int]
    pooled: bool = False
    served: dict[int, int] = field(default_factory=dict)
    _turn: itertools.count[int] = field(default_factory=itertools.count)
    _http: aiohttp.ClientSession | None = None
    _front: web.AppRunner | None = None

    async def serve(self) -> str:
        """Listen on a free port of 127.0.0.1. Returns: its base URL (Slack's request URL is base/slack/events)."""
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.handle)
        self._front = web.AppRunner(app, access_log=None)
        await self._front.setup()
        port = free_port()
        await web.TCPSite(self._front, "127.0.0.1", port).start()
        return f"http://127.0.0.1:{port}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        first = next(self._turn)
        if self.pooled:
            if self._http is None:
                self._http = aiohttp.ClientSession(timeout=_FORWARD_TIMEOUT)
            return await self._forward(self._http, first, request.path, body, headers)
        async with aiohttp.ClientSession(timeout=_FORWARD_TIMEOUT) as http:
            return await self._forward(http, first, request.path, body, headers)

    async def _forward(
        self, http: aiohttp.ClientSession, first: int, path: str, body: bytes, headers: dict[str, str]
    ) -> web.StreamResponse:
        for step in range(len(self.ports)):
            port = self.ports[(first + step) % len(self.ports)]
            try:
                async with http.post(f"http://127.0.0.1:{port}{path}", data=body, headers=headers) as r:
                    answer = await r.read()
                    kept = {k: v for k, v in r.headers.items() if k.lower().startswith(("x-slack", "content-type"))}
                    self.served[port] = self.served.get(port, 0) + 1
                    return web.Response(status=r.status, body=answer, headers=kept)
            except (aiohttp.ClientConnectionError, TimeoutError):
                continue
        return web.Response(status=502, text="no replica answered")

    async def close(self) -> None:
        if self._front is not None:
            await self._front.cleanup()
            self._front = None
        if self._http is not None:
            await self._http.close()
            self._http = None


async def seed_demo_now(settings: Settings, seed: Seed | None = None) -> Demo:
    """The demo company, and whatever `seed` adds in the same transaction, in the settings' database (created and
    migrated when new), on the real clock: the processes run on it."""
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
    return demo


async def read_store(settings: Settings, query: Callable[[Tx], Awaitable[T]]) -> T:
    """Run a read in its own transaction on a connection of the caller's own (the processes may be dead or
    alive)."""
    store = await open_store(settings, migrate=False)
    try:
        async with store.transaction() as tx:
            return await query(tx)
    finally:
        await store.close()
