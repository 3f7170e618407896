"""`supportbot sandbox`: both stand-ins, the page and the real bot on one local port, on its own database."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web

from bot.app import SupportBot
from bot.cli.text import say
from bot.clock import Clock, utcnow
from bot.settings import Settings
from bot.wiring import open_store, tier_rules
from sandbox.demo import SLACK_PEOPLE, TELEGRAM_PEOPLE, Demo, RealData, seed_demo
from sandbox.mail import MailStandIn
from sandbox.mail.demo import give_addresses
from sandbox.mail.web import make_mail_app
from sandbox.page import PageInfo, make_page_app
from sandbox.slack import SlackStandIn, StandInConfig
from sandbox.slack import make_app as make_slack_app
from sandbox.telegram import StandIn, StandInUrls
from sandbox.telegram.server import make_app as make_telegram_app

# Prefixes of the stand-ins on the bot's server; the bot itself owns /slack/events, /healthz, /telegram/webhook.
TELEGRAM_PREFIX = "/tg"
SLACK_PREFIX = "/slack-api"
MAIL_PREFIX = "/mail"
# Short long polls: Ctrl-C waits for the bot's open getUpdates, which the stand-in holds this long.
SANDBOX_POLL_TIMEOUT = 2.0
# Libraries that log every start-up step at INFO; the sandbox promises one line on the terminal.
_CHATTY_LOGGERS = ("telegram", "slack_bolt", "slack_sdk", "aiohttp", "apscheduler")


class PortTaken(Exception):
    """HTTP_HOST:HTTP_PORT is already in use; the message is the one line shown to the operator."""


@dataclass
class SandboxApp:
    """A running sandbox: the page's address, the bot and both stand-ins (tests drive them directly)."""

    url: str
    settings: Settings
    bot: SupportBot
    telegram: StandIn
    slack: SlackStandIn
    demo: Demo
    mail: MailStandIn | None = None  # the support mailbox and outgoing server (the page's third pane)


def banner(url: str) -> str:
    """The one line `supportbot sandbox` prints, in the command's language."""
    return f"supportbot sandbox: {say('sandbox.open', url=url)}"


def _port_taken(host: str, port: int) -> PortTaken:
    return PortTaken(f"supportbot sandbox: {say('sandbox.port_taken', host=host, port=port, other=port + 1)}")


def reserve_port(host: str, port: int) -> int:
    """The port to serve on: the configured one if free (PortTaken otherwise), or a free one for port 0."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # aiohttp binds with SO_REUSEADDR too: a port in TIME_WAIT is free, a listening one is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise _port_taken(host, port) from None
            raise
        bound: int = probe.getsockname()[1]
    return bound


def sandbox_settings(settings: Settings, url: str, telegram: StandIn, slack: StandInConfig) -> Settings:
    """The operator's settings with the bot pointed at the stand-ins mounted on its own server at `url`."""
    assert telegram.urls is not None
    return settings.model_copy(
        update={
            "telegram_bot_token": telegram.token,
            "telegram_api_base_url": telegram.urls.base_url,
            "telegram_api_file_url": telegram.urls.base_file_url,
            "telegram_webhook_url": "",
            "slack_bot_token": slack.bot_token,
            "slack_signing_secret": slack.signing_secret,
            "slack_app_token": "",
            "slack_api_base_url": f"{url}{SLACK_PREFIX}/api/",
            "slack_support_channel": slack.channel_id,
        }
    )


async def seed(settings: Settings, clock: Clock) -> Demo:
    """Seed the demo company (only the first time: seed_demo finds it again afterwards). Opening the store
    makes the key file (mode 0600) on the first start."""
    store = await open_store(settings)
    try:
        now = clock()
        async with store.transaction() as tx:
            demo = await seed_demo(
                tx,
                today=now.astimezone(settings.zone).date(),
                now=now,
                rules=tier_rules(settings),
                invite_ttl=timedelta(hours=settings.invite_code_ttl_hours),
            )
        if settings.mail_enabled:
            await give_addresses(store)  # the mail pane writes as these contacts
        return demo
    finally:
        await store.close()


def _people(telegram: StandIn, slack: SlackStandIn) -> None:
    for slack_id, name, _role in SLACK_PEOPLE:
        slack.add_user(slack_id, name)
    for user_id, name, language in TELEGRAM_PEOPLE:
        telegram.create_user(name, user_id=user_id, language_code=language)


@contextlib.asynccontextmanager
async def sandbox_running(
    settings: Settings,
    *,
    clock: Clock = utcnow,
    poll_timeout: float = SANDBOX_POLL_TIMEOUT,
    telegram: StandIn | None = None,
) -> AsyncIterator[SandboxApp]:
    """Start stand-ins, page and bot on HTTP_HOST:HTTP_PORT (0 = a free port); stop them all afterwards."""
    host = settings.http_host
    port = reserve_port(host, settings.http_port)
    url = f"http://{host}:{port}"
    telegram = telegram or StandIn()
    telegram.urls = StandInUrls(
        f"{url}{TELEGRAM_PREFIX}", f"{url}{TELEGRAM_PREFIX}/bot", f"{url}{TELEGRAM_PREFIX}/file/bot"
    )
    slack = SlackStandIn(StandInConfig(request_url=f"{url}/slack/events"))
    slack.public_url = f"{url}{SLACK_PREFIX}"  # where response_url and upload URLs point
    _people(telegram, slack)
    mail = MailStandIn(clock=clock)
    await mail.start(host)
    # P-IN-6: the bot reads the stand-in mailbox over IMAP and answers over SMTP, as it would a real one.
    bot_settings = sandbox_settings(settings, url, telegram, slack.config).model_copy(
        update={**mail.settings(), "telegram_bot_username": telegram.state.bot_username}
    )
    try:
        demo = await seed(bot_settings, clock)
    except BaseException:
        await mail.stop()
        raise

    telegram_app = make_telegram_app(telegram)

    async def end_telegram_streams(_: web.Application) -> None:
        # Open event streams of the page would otherwise hold the server's shutdown for its whole timeout.
        telegram.state.close()

    telegram_app.on_shutdown.append(end_telegram_streams)
    page_app = make_page_app(PageInfo(telegram, slack, TELEGRAM_PREFIX, SLACK_PREFIX))
    bot = SupportBot(
        bot_settings.model_copy(update={"http_port": port}),
        clock=clock,
        poll_timeout=poll_timeout,
        extra_apps=[
            (TELEGRAM_PREFIX, telegram_app),
            (SLACK_PREFIX, make_slack_app(slack)),
            (MAIL_PREFIX, make_mail_app(mail)),
            ("/", page_app),
        ],
    )
    try:
        try:
            await bot.start()
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise _port_taken(host, port) from None
            raise
        yield SandboxApp(url, bot.settings, bot, telegram, slack, demo, mail)
    finally:
        await bot.stop()
        await mail.stop()
        telegram.state.close()
        await telegram.webhooks.stop()
        await slack.close()


async def run_sandbox(settings: Settings) -> int:
    """`supportbot sandbox`: serve until Ctrl-C on the sandbox's own database; returns the exit status.

    Tokens in the settings are ignored (the stand-ins replace Telegram and Slack), and the database and key
    file are SANDBOX_DATABASE_PATH and SANDBOX_KEY_FILE, never the real ones."""
    settings = settings.for_sandbox()
    if settings.log_level == "INFO":
        for name in _CHATTY_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
    try:
        async with sandbox_running(settings) as app:
            print(banner(app.url), flush=True)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            try:
                await stop.wait()
            finally:
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(sig)
    except (PortTaken, RealData) as exc:
        said = f"supportbot sandbox: {say('sandbox.real_data', names=exc.names)}" if isinstance(exc, RealData) else exc
        print(said, file=sys.stderr)
        return 1
    return 0
