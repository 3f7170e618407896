"""End-to-end harness: both stand-ins and the real SupportBot on free ports, a demo company, a settable clock.

A product test reads like the conversation it checks:

    async with running_world(tmp_path) as world:
        laura = world.client(LAURA_ID)
        await laura.send("/start")
        card = await world.team.card_for("SOP-2026-000001")
        await world.team.click(card, "claim", as_user=AGENT_MARCO)

Every client action and every Slack action returns only after the bot's outbox has been delivered and both
stand-ins have gone quiet, so what the test reads next is what a person would see.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.app import SupportBot
from bot.settings import Settings
from bot.wiring import tier_rules
from sandbox.demo import SLACK_PEOPLE, TELEGRAM_PEOPLE, Demo, seed_demo
from sandbox.slack.driver import SlackTeam
from sandbox.slack.server import start as start_slack
from sandbox.slack.standin import SlackStandIn, StandInConfig
from sandbox.telegram.actions import Sent
from sandbox.telegram.driver import TelegramClient
from sandbox.telegram.models import User
from sandbox.telegram.standin import StandIn
from storage import generate_key

MEXICO = ZoneInfo("America/Mexico_City")
# Tuesday 24 Nov 2026, 10:15 in Mexico City: inside business hours (CONVERSATION.md's morning).
DEFAULT_NOW = datetime(2026, 11, 24, 10, 15, tzinfo=MEXICO)
POLL_TIMEOUT = 1  # seconds of Telegram long polling: short, so stopping the bot does not wait long


class FakeClock:
    """The bot's clock; tests move it to reach deadlines, reminders and expiries."""

    def __init__(self, now: datetime) -> None:
        self.now = now.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        self.now = now.astimezone(UTC)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class World:
    """Everything an end-to-end test touches."""

    tmp: Path
    telegram: StandIn
    slack: SlackStandIn
    settings: Settings
    clock: FakeClock
    bot: SupportBot
    demo: Demo
    team: SlackTeam = field(init=False)
    _users: dict[int, User] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.team = _WorldTeam(self)

    # --- people ------------------------------------------------------------------------------------
    def client(self, user_id: int, *, timeout: float = 5.0) -> TelegramClient:
        """The Telegram app of a demo person (see sandbox.demo), or of a new person with this id."""
        user = self._users.get(user_id)
        if user is None:
            user = self.telegram.create_user(f"Persona {user_id}", user_id=user_id)
            self._users[user_id] = user
        return _WorldClient(self, user, timeout=timeout)

    # --- time and delivery -------------------------------------------------------------------------
    async def settle(self) -> None:
        """Handle every event received and deliver everything due, then wait until both stand-ins are quiet."""
        for _ in range(5):
            await self.bot.settle()
            await self.telegram.settle(None, timeout=5.0, quiet=0.03)
            await self.slack.wait_quiet(0.03, 5.0)
            if not await self.bot.settle():
                return

    async def received(self, update_id: int, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until the bot has committed a Telegram update to its inbox."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.bot.received(update_id):
            if loop.time() > deadline:
                raise AssertionError(f"update {update_id} was not committed to the inbox within {timeout:g} s")
            await asyncio.sleep(0.002)

    async def fire_timers(self) -> None:
        """Run every timer due at the clock's current time, then deliver what they queued."""
        assert self.bot.scheduler is not None
        await self.bot.scheduler.drain()
        await self.settle()

    async def restart_bot(self) -> None:
        """Stop the bot and start a new one on the same database (state must survive, ARCHITECTURE.md)."""
        await self.bot.stop()
        # The stopped bot's abandoned long poll is ended by the new bot's first getUpdates with 409, as on
        # Telegram; nobody receives that answer, so the stand-in does not count it against the bot.
        self.bot = await _start_bot(self.settings, self.clock)
        self.slack.config.request_url = f"{self.bot.http_url}/slack/events"

    def assert_no_violations(self) -> None:
        """Neither stand-in saw anything real Telegram or Slack would have refused."""
        problems = [f"telegram: {v}" for v in self.telegram.violations]
        problems += [f"slack: {v}" for v in self.slack.violations]
        assert not problems, "stand-ins recorded violations:\n" + "\n".join(problems)


class _WorldClient(TelegramClient):
    def __init__(self, world: World, user: User, **kwargs: Any) -> None:
        super().__init__(world.telegram, user, **kwargs)
        self._world = world

    async def _settled(self, sent: Sent) -> Sent:
        await self.standin.settle(sent.update_id, timeout=self.timeout, quiet=0.0)
        if sent.update_id is not None:
            await self._world.received(sent.update_id)
        await self._world.settle()
        return sent


class _WorldTeam(SlackTeam):
    def __init__(self, world: World) -> None:
        super().__init__(world.slack)
        self._world = world

    async def settle(self) -> None:
        await self._world.settle()
        await super().settle()


def world_settings(
    tmp: Path, telegram: StandIn, slack_api_url: str, config: StandInConfig, **overrides: Any
) -> Settings:
    """Settings pointing the bot at the stand-ins (no .env is read: tests are hermetic)."""
    assert telegram.urls is not None
    values: dict[str, Any] = {
        "database_path": tmp / "supportbot.db",
        "secrets_keys": [generate_key()],
        "telegram_bot_token": telegram.token,
        "telegram_api_base_url": telegram.urls.base_url,
        "telegram_api_file_url": telegram.urls.base_file_url,
        "slack_bot_token": config.bot_token,
        "slack_signing_secret": config.signing_secret,
        "slack_api_base_url": slack_api_url,
        "slack_support_channel": config.channel_id,
        "http_host": "127.0.0.1",
        "http_port": 0,
        # The stand-ins enforce no rate limits unless a test turns them on, and the tests' clock stands
        # still: pacing (real seconds) is turned on together with the stand-ins' limits.
        "delivery_pacing": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def _start_bot(settings: Settings, clock: FakeClock) -> SupportBot:
    bot = SupportBot(settings, clock=clock, poll_timeout=POLL_TIMEOUT)
    await bot.start()
    return bot


@contextlib.asynccontextmanager
async def running_world(
    tmp: Path,
    *,
    now: datetime = DEFAULT_NOW,
    telegram_options: dict[str, Any] | None = None,
    slack_config: StandInConfig | None = None,
    **settings_overrides: Any,
) -> AsyncIterator[World]:
    """Start the stand-ins, seed the demo company, start the bot; stop everything afterwards."""
    telegram = StandIn(**(telegram_options or {"callback_answer_timeout": 2.0}))
    await telegram.start()
    slack = SlackStandIn(slack_config or StandInConfig())
    slack_base = await start_slack(slack)
    bot: SupportBot | None = None
    try:
        for slack_id, name, _role in SLACK_PEOPLE:
            slack.add_user(slack_id, name)
        users = {
            uid: telegram.create_user(name, user_id=uid, language_code=lang) for uid, name, lang in TELEGRAM_PEOPLE
        }
        settings = world_settings(tmp, telegram, f"{slack_base}/api/", slack.config, **settings_overrides)
        clock = FakeClock(now)
        from bot.wiring import open_store

        store = await open_store(settings)
        try:
            async with store.transaction() as tx:
                demo = await seed_demo(
                    tx,
                    today=now.astimezone(settings.zone).date(),
                    now=clock(),
                    rules=tier_rules(settings),
                    invite_ttl=timedelta(hours=settings.invite_code_ttl_hours),
                )
        finally:
            await store.close()
        bot = await _start_bot(settings, clock)
        slack.config.request_url = f"{bot.http_url}/slack/events"
        world = World(tmp, telegram, slack, settings, clock, bot, demo, _users=dict(users))
        yield world
        bot = world.bot
    finally:
        if bot is not None:
            await bot.stop()
        await slack.close()
        await telegram.stop()
