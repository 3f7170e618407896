"""The composition root: settings -> store -> services -> Telegram + Slack -> one loop, and `supportbot run`."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import sys
from collections.abc import Sequence
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from telegram import Bot
from telegram.error import InvalidToken
from telegram.error import NetworkError as TelegramNetworkError

import handlers.email
import handlers.slack
import handlers.telegram
from bot.cli.text import say
from bot.clock import Clock, utcnow
from bot.delivery import Dispatcher, Scheduler, process_name
from bot.health import problems
from bot.i18n import Catalogue
from bot.inbox import InboxWorker
from bot.keys import KeysUnavailable, configured_keys, secret_box
from bot.leader import OneReplica
from bot.logs import configure_logging
from bot.metrics import Metrics
from bot.pacing import Limit, Pacer, platform_limits
from bot.services import delivered, digest, mail_retention, retention
from bot.services.context import Services
from bot.services.intake import register_timers as register_intake_timers
from bot.services.sla import register_timers as register_desk_timers
from bot.settings import Settings
from bot.wiring import build_calendar, open_store, response_targets, tier_rules
from handlers.slack.files import SlackFileFetcher, slack_file_fetcher
from handlers.slack.gate import slack_request_problem
from handlers.slack.uploads import FileFetcher
from handlers.telegram.edge import Poller, webhook_handler
from handlers.telegram.request import AiohttpRequest
from handlers.telegram.senders import file_fetcher
from handlers.telegram.translate import ALLOWED_UPDATES
from storage import Store
from storage.leader import leadership

log = logging.getLogger("supportbot")

TELEGRAM_WEBHOOK_PATH = "/telegram/webhook"


class SupportBot:
    """One running bot: store, inbox worker, delivery workers, the Telegram bot, the Slack app, the HTTP server.

    `extra_apps` (prefix, aiohttp app) lets the sandbox mount its page and stand-ins on the same server.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock = utcnow,
        poll_timeout: float = 10.0,
        extra_apps: Sequence[tuple[str, web.Application]] = (),
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._poll_timeout = poll_timeout
        self._extra_apps = extra_apps
        self.name = process_name(settings.replica_name)
        self.store: Store | None = None
        self.services: Services | None = None
        self.inbox: InboxWorker | None = None
        self.dispatcher: Dispatcher | None = None
        self.scheduler: Scheduler | None = None
        self.metrics: Metrics | None = None
        self.telegram: Bot | None = None
        self.poller: Poller | None = None
        self._polling: OneReplica | None = None
        self._mail_polling: OneReplica | None = None
        self.mail_poller: handlers.email.MailPoller | None = None
        self.slack: AsyncApp | None = None
        self._slack_session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._socket_mode: Any = None
        # Ours to close even when python-telegram-bot never finished initializing (a failed start).
        self._tg_requests = (AiohttpRequest(), AiohttpRequest(pool_size=1))
        self.http_url = ""

    async def start(self) -> None:
        """Open the store, build the core (inbox, delivery, timers, services), wire each configured channel to
        it, serve HTTP, then start the loops and connect to the platforms. The order matters: nothing is
        received before the worker that handles it exists, and the HTTP server answers /healthz before the
        platforms are asked to deliver."""
        store = await self._open_store()
        services = await self._build_core(store)
        web_app = self._web_app()
        fetch_file = self._wire_telegram(web_app, services)
        fetch_file = await self._wire_mail(services, fetch_file)
        self._wire_slack(web_app, services, fetch_file)
        await self._serve_http(web_app)
        await self._start_loops(store)
        await self._connect_telegram(store, services)
        await self._connect_socket_mode()

    async def _open_store(self) -> Store:
        self.store = store = await open_store(self.settings)
        async with store.transaction() as tx:
            # The process this one replaces (same replica, now dead) held these: take them over at once.
            released = await tx.release_leases(self.name.split("/", 1)[0] + "/", self.name)
        if released:
            log.info("took over %d rows leased by this replica's previous process", released)
        return store

    async def _build_core(self, store: Store) -> Services:
        """The inbox worker, the outbox dispatcher, the timers and the services every channel shares."""
        s = self.settings
        pacer = Pacer(platform_limits(slack_post_burst=s.slack_post_burst) if s.delivery_pacing else _unpaced)
        box = secret_box(s, configured_keys(s))
        self.inbox = InboxWorker(store, clock=self.clock, name=self.name, box=box)
        self.dispatcher = Dispatcher(store, clock=self.clock, pacer=pacer, name=self.name)
        self.scheduler = Scheduler(store, clock=self.clock, name=self.name)
        self.services = services = Services(
            settings=s,
            store=store,
            calendar=build_calendar(s),
            tiers=tier_rules(s),
            targets=response_targets(s),
            catalogue=Catalogue.load(),
            box=box,
            clock=self.clock,
            wake_delivery=self._wake,
        )
        register_desk_timers(self.scheduler, services)
        register_intake_timers(self.scheduler, services)
        delivered.register(self.dispatcher, services)
        retention.register_timers(self.scheduler, services)
        digest.register_timers(self.scheduler, services)
        async with store.transaction() as tx:
            await retention.arm(tx, self.clock())  # today's prune: at once, unless it ran today already
            await digest.arm(tx, services, self.clock())  # the next Monday's digest, when a channel is set
        self.metrics = Metrics(store, self, clock=self.clock)
        return services

    def _web_app(self) -> web.Application:
        assert self.metrics is not None
        web_app = web.Application()
        web_app.on_response_prepare.append(_plain_server_header)
        web_app.router.add_get("/healthz", self._healthz)
        web_app.router.add_get("/metrics", self.metrics.handle)
        return web_app

    def _slack_files(self) -> SlackFileFetcher | None:
        """What an agent shares in a thread is downloaded with the bot token, from Slack's hosts only."""
        s = self.settings
        return slack_file_fetcher(s.slack_bot_token, s.slack_api_base_url) if s.slack_bot_token else None

    def _wire_telegram(self, web_app: web.Application, services: Services) -> FileFetcher | None:
        """The client side; returns how files a client sent are read back for the card's thread."""
        s = self.settings
        if not s.telegram_bot_token:
            return None
        assert self.inbox is not None and self.dispatcher is not None
        self.telegram = self._build_telegram()
        handlers.telegram.register(
            self.inbox, self.dispatcher, services, self.telegram, fetch_slack_file=self._slack_files()
        )
        if s.telegram_webhook_url:
            web_app.router.add_post(TELEGRAM_WEBHOOK_PATH, webhook_handler(self.inbox, s.telegram_webhook_secret))
        return file_fetcher(self.telegram)

    async def _wire_mail(self, services: Services, fetch_file: FileFetcher | None) -> FileFetcher | None:
        """P-IN-6: the support mailbox into the inbox, replies out by SMTP; files that came by e-mail are read
        from the store for the card's thread, the others as before."""
        if not self.settings.mail_enabled:
            return fetch_file
        assert self.inbox is not None and self.dispatcher is not None and self.scheduler is not None
        self.mail_poller = handlers.email.poller(services, self.inbox)
        handlers.email.register(
            self.inbox, self.dispatcher, services, poller=self.mail_poller, fetch_slack_file=self._slack_files()
        )
        mail_retention.register_timers(self.scheduler, services)
        async with services.store.transaction() as tx:
            await mail_retention.arm(tx, self.clock())
        return handlers.email.with_mail_files(services, fetch_file)

    def _wire_slack(self, web_app: web.Application, services: Services, fetch_file: FileFetcher | None) -> None:
        """The desk; over HTTP unless Socket Mode is configured."""
        s = self.settings
        if not s.slack_bot_token:
            return
        assert self.inbox is not None and self.dispatcher is not None
        self.slack = self._build_slack()
        handlers.slack.register(self.slack, self.inbox, self.dispatcher, services, fetch_file=fetch_file)
        if not s.slack_app_token:
            web_app.router.add_post("/slack/events", self._slack_events)

    async def _serve_http(self, web_app: web.Application) -> None:
        s = self.settings
        for prefix, sub_app in self._extra_apps:
            # The sandbox (page + stand-ins) shares this server: one address for a newcomer to open.
            # aiohttp refuses "/" as a sub-app prefix, so an app for the root (the page) lends its routes.
            if prefix.strip("/"):
                web_app.add_subapp(prefix, sub_app)
            else:
                for resource in sub_app.router.resources():
                    web_app.router.register_resource(resource)
        self._runner = web.AppRunner(web_app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, s.http_host, s.http_port)
        await site.start()
        port = self._runner.addresses[0][1]
        self.http_url = f"http://{s.http_host}:{port}"

    async def _start_loops(self, store: Store) -> None:
        assert self.inbox is not None and self.dispatcher is not None and self.scheduler is not None
        self.inbox.start()
        if self.mail_poller is not None:
            # Like Telegram's long polling: one replica reads the mailbox, another takes over if it stops.
            mail = self.mail_poller

            async def read_mail() -> None:
                mail.start()

            self._mail_polling = OneReplica(
                leadership(store, "mail-poller"), "reads the support mailbox", start=read_mail, stop=mail.stop
            )
            await self._mail_polling.begin()
        self.dispatcher.start()
        self.scheduler.start()

    async def _connect_telegram(self, store: Store, services: Services) -> None:
        """Commands, then the webhook registered (and its state logged), or long polling on one replica."""
        s = self.settings
        if self.telegram is None:
            return
        await self.telegram.initialize()
        await handlers.telegram.set_commands(self.telegram, services.catalogue)
        if not s.telegram_webhook_url:
            await self.telegram.delete_webhook(drop_pending_updates=False)
            # One replica polls (two getUpdates with one token conflict); the others take over if it stops.
            self._polling = OneReplica(
                leadership(store, "telegram-poller"), "polls Telegram", start=self._start_poller,
                stop=self._stop_poller,
            )  # fmt: skip
            await self._polling.begin()
            return
        await self.telegram.set_webhook(
            s.telegram_webhook_url, secret_token=s.telegram_webhook_secret or None,
            allowed_updates=list(ALLOWED_UPDATES),
        )  # fmt: skip
        info = await self.telegram.get_webhook_info()
        error = f"; last error: {info.last_error_message}" if info.last_error_message else ""
        log.info("Telegram webhook set to %s: %d update(s) pending%s", info.url, info.pending_update_count, error)

    async def _connect_socket_mode(self) -> None:
        s = self.settings
        if self.slack is None or not s.slack_app_token:
            return
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        self._socket_mode = AsyncSocketModeHandler(self.slack, s.slack_app_token, web_client=self.slack.client)
        await self._socket_mode.connect_async()

    async def _start_poller(self) -> None:
        assert self.telegram is not None and self.inbox is not None
        self.poller = Poller(self.telegram, self.inbox, timeout=int(self._poll_timeout))
        self.poller.start()

    async def _stop_poller(self) -> None:
        poller, self.poller = self.poller, None
        if poller is not None:
            await poller.stop()

    async def stop(self) -> None:
        # No new events first; then the workers finish what they hold (what they do not is released at once
        # by the next process of this replica).
        if self._polling is not None:
            await self._polling.close()
        if self.poller is not None:
            await self.poller.stop()
        if self._mail_polling is not None:
            await self._mail_polling.close()
        if self.mail_poller is not None:
            await self.mail_poller.stop()
        if self._socket_mode is not None:
            with contextlib.suppress(Exception):
                await self._socket_mode.close_async()
        for worker in (self.inbox, self.dispatcher, self.scheduler):
            if worker is not None:
                await worker.stop()
        if self.telegram is not None:
            with contextlib.suppress(Exception):
                await self.telegram.shutdown()
        for request in self._tg_requests:
            await request.shutdown()
        if self._slack_session is not None:
            await self._slack_session.close()
        if self._runner is not None:
            await self._runner.cleanup()
        if self.store is not None:
            await self.store.close()

    def _wake(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.wake()
        if self.scheduler is not None:
            self.scheduler.wake()

    async def settle(self) -> int:
        """Handle every event received and deliver everything due (tests use it).
        Returns: how many inbox entries and outbox rows it took."""
        assert self.inbox is not None and self.dispatcher is not None
        total = 0
        for _ in range(50):
            took = await self.inbox.drain() + await self.dispatcher.drain()
            total += took
            if not took:
                break
        return total

    def received(self, update_id: int) -> bool:
        """Whether a Telegram update is committed to the inbox (a webhook commits before it answers)."""
        return self.poller is None or self.poller.committed_through >= update_id

    # --- channels ------------------------------------------------------------------------------------
    def _build_telegram(self) -> Bot:
        s = self.settings
        # aiohttp instead of PTB's default HTTPX: about twice the sends per second (handlers/telegram/request.py).
        # No AIORateLimiter: the dispatcher paces every send itself (bot.pacing).
        kwargs: dict[str, Any] = {}
        if s.telegram_api_base_url:
            kwargs = {"base_url": s.telegram_api_base_url, "base_file_url": s.telegram_file_url}
        return Bot(
            s.telegram_bot_token, request=self._tg_requests[0], get_updates_request=self._tg_requests[1], **kwargs
        )

    def _build_slack(self) -> AsyncApp:
        s = self.settings
        # One HTTP session for every Web API call (slack_sdk otherwise opens a connection per call).
        self._slack_session = aiohttp.ClientSession()
        client = AsyncWebClient(
            token=s.slack_bot_token,
            base_url=s.slack_api_base_url or AsyncWebClient.BASE_URL,
            session=self._slack_session,
        )
        return AsyncApp(
            client=client,
            signing_secret=s.slack_signing_secret or None,
            # Commit to the inbox, then ack: Slack's 3 s are never at risk and nothing is lost in between.
            process_before_response=True,
            request_verification_enabled=not s.slack_app_token,
        )

    # --- HTTP ----------------------------------------------------------------------------------------
    async def _healthz(self, request: web.Request) -> web.Response:
        """200 {"ok": true}, or 503 with the reasons: the database, a worker loop, the poller (bot.health)."""
        loops = {"inbox": self.inbox, "delivery": self.dispatcher, "timer": self.scheduler}
        found = await problems(self.store, loops, self.poller)
        reads_mail = self._mail_polling is None or self._mail_polling.leading  # another replica may read it
        if self.mail_poller is not None and reads_mail and not self.mail_poller.running:
            found.append("mail poller is not running")
        if found:
            return web.json_response({"ok": False, "reason": "; ".join(found)}, status=503)
        return web.json_response({"ok": True})

    async def _slack_events(self, request: web.Request) -> web.Response:
        """The signature and its timestamp are checked on the raw bytes before anything parses them; a body
        that is not what Slack sends is a 400, never a 500 (issue "safe by default")."""
        assert self.slack is not None
        body = await request.read()  # over client_max_size: aiohttp answers 413 itself
        refused = slack_request_problem(self.settings.slack_signing_secret, request.headers, body)
        if refused is not None:
            status, reason = refused
            log.info("refused a request to /slack/events (%s): %s", status, reason)
            return web.Response(status=status, text=reason)
        bolt_request = await to_bolt_request(request)
        bolt_response = await self.slack.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)


async def _plain_server_header(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Server"] = "supportbot"  # aiohttp's default names its version


def _unpaced(key: str) -> Limit | None:
    return None


def startup_problem(exc: BaseException, settings: Settings) -> str:
    """One line telling the operator what stopped the bot from starting and what to check, in the command's
    language (cli.start.*)."""
    if isinstance(exc, KeysUnavailable):
        return say(f"keys.{exc.key}", **exc.params)
    if isinstance(exc, InvalidToken):
        return say("start.refused_token")
    if isinstance(exc, TelegramNetworkError):
        return say("start.no_telegram", where=settings.telegram_api_base_url or "https://api.telegram.org", why=exc)
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return say("start.port_taken", port=settings.http_port, host=settings.http_host)
    if isinstance(exc, OSError):
        return say("start.failed", why=exc)
    return say("start.failed", why=f"{type(exc).__name__}: {exc}")


async def _serve(settings: Settings) -> int:
    missing = settings.missing_tokens()
    if missing:
        # Never the sandbox as a fallback: it would seed demo rows and serve control APIs in production.
        print(f"supportbot run: {say('start.missing', names=', '.join(missing))}", file=sys.stderr)
        return 1
    # The handlers come first: a SIGTERM during start-up still stops the bot cleanly, and "running" is
    # printed only when a signal can no longer kill it without its cleanup.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    bot = SupportBot(settings)
    try:
        await bot.start()
    except Exception as exc:
        log.debug("start-up failed", exc_info=exc)
        await bot.stop()  # what did start (the store, the HTTP server) must close, or the process hangs
        print(f"supportbot: {startup_problem(exc, settings)}", file=sys.stderr)
        return 1
    try:
        if not stop.is_set():
            print(f"supportbot: {say('start.running', url=bot.http_url)}", file=sys.stderr, flush=True)
            await stop.wait()
    finally:
        await bot.stop()
    return 0


def run(settings: Settings) -> int:
    """`supportbot run`: returns the exit status."""
    configure_logging(settings.log_level, settings.log_format)
    return asyncio.run(_serve(settings))


def run_sandbox(settings: Settings) -> int:
    """`supportbot sandbox`: the stand-ins, the page and the bot on the sandbox's own database."""
    from sandbox.run import run_sandbox as serve_sandbox

    configure_logging(settings.log_level, settings.log_format)
    return asyncio.run(serve_sandbox(settings))
