"""The composition root: settings -> store -> services -> Telegram + Slack -> one loop, and `supportbot run`."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import sys
from collections.abc import Sequence
from typing import Any, cast

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from telegram import Update
from telegram.error import InvalidToken
from telegram.error import NetworkError as TelegramNetworkError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

import handlers.slack
import handlers.telegram
from bot.clock import Clock, utcnow
from bot.delivery import Dispatcher, Scheduler
from bot.i18n import Catalogue
from bot.logs import configure_logging
from bot.services.context import Services
from bot.services.intake import register_timers as register_intake_timers
from bot.services.sla import register_timers as register_desk_timers
from bot.settings import Settings
from bot.wiring import build_calendar, open_store, response_targets, tier_rules
from handlers.telegram.request import AiohttpRequest
from storage import Store

log = logging.getLogger("supportbot")

TELEGRAM_WEBHOOK_PATH = "/telegram/webhook"


class SupportBot:
    """One running bot: store, delivery workers, the Telegram application, the Slack app, the HTTP server.

    `extra_apps` (prefix, aiohttp app) lets the sandbox mount its page and stand-ins on the same server.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock = utcnow,
        poll_timeout: float = 10.0,
        extra_apps: Sequence[tuple[str, web.Application]] = (),
        rate_limiter: bool = True,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._poll_timeout = poll_timeout
        self._extra_apps = extra_apps
        self._rate_limiter = rate_limiter
        self.store: Store | None = None
        self.services: Services | None = None
        self.dispatcher: Dispatcher | None = None
        self.scheduler: Scheduler | None = None
        self.telegram: Application[Any, Any, Any, Any, Any, Any] | None = None
        self.slack: AsyncApp | None = None
        self._runner: web.AppRunner | None = None
        self._socket_mode: Any = None
        # Ours to close even when python-telegram-bot never finished initializing (a failed start).
        self._tg_requests = (AiohttpRequest(), AiohttpRequest(pool_size=1))
        self.http_url = ""

    async def start(self) -> None:
        s = self.settings
        self.store = store = await open_store(s)
        self.dispatcher = Dispatcher(store, clock=self.clock)
        self.scheduler = Scheduler(store, clock=self.clock)
        self.services = Services(
            settings=s,
            store=store,
            calendar=build_calendar(s),
            tiers=tier_rules(s),
            targets=response_targets(s),
            catalogue=Catalogue.load(),
            clock=self.clock,
            wake_delivery=self._wake,
        )
        register_desk_timers(self.scheduler, self.services)
        register_intake_timers(self.scheduler, self.services)
        web_app = web.Application()
        web_app.router.add_get("/healthz", self._healthz)
        if s.telegram_bot_token:
            self.telegram = self._build_telegram()
            handlers.telegram.register(self.telegram, self.services, self.dispatcher)
            if s.telegram_webhook_url:
                web_app.router.add_post(TELEGRAM_WEBHOOK_PATH, self._telegram_webhook)
        if s.slack_bot_token:
            self.slack = self._build_slack()
            telegram_bot = self.telegram.bot if self.telegram is not None else None
            handlers.slack.register(self.slack, self.services, self.dispatcher, telegram_bot=telegram_bot)
            if not s.slack_app_token:
                web_app.router.add_post("/slack/events", self._slack_events)
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

        if self.telegram is not None:
            await self.telegram.initialize()
            await self.telegram.start()
            await handlers.telegram.set_commands(self.telegram.bot, self.services.catalogue)
            if s.telegram_webhook_url:
                await self.telegram.bot.set_webhook(
                    s.telegram_webhook_url, secret_token=s.telegram_webhook_secret or None
                )
            else:
                assert self.telegram.updater is not None
                await self.telegram.updater.start_polling(
                    timeout=int(self._poll_timeout), poll_interval=0, drop_pending_updates=False
                )
        if self.slack is not None and s.slack_app_token:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            self._socket_mode = AsyncSocketModeHandler(self.slack, s.slack_app_token, web_client=self.slack.client)
            await self._socket_mode.connect_async()
        self.dispatcher.start()
        self.scheduler.start()

    async def stop(self) -> None:
        for worker in (self.dispatcher, self.scheduler):
            if worker is not None:
                await worker.stop()
        if self._socket_mode is not None:
            with contextlib.suppress(Exception):
                await self._socket_mode.close_async()
        if self.telegram is not None:
            if self.telegram.updater is not None and self.telegram.updater.running:
                await self.telegram.updater.stop()
            if self.telegram.running:
                await self.telegram.stop()
            await self.telegram.shutdown()
        for request in self._tg_requests:
            await request.shutdown()
        if self._runner is not None:
            await self._runner.cleanup()
        if self.store is not None:
            await self.store.close()

    def _wake(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.wake()
        if self.scheduler is not None:
            self.scheduler.wake()

    # --- channels ------------------------------------------------------------------------------------
    def _build_telegram(self) -> Application[Any, Any, Any, Any, Any, Any]:
        s = self.settings
        # aiohttp instead of PTB's default HTTPX: about twice the sends per second (handlers/telegram/request.py).
        builder = (
            ApplicationBuilder()
            .token(s.telegram_bot_token)
            .request(self._tg_requests[0])
            .get_updates_request(self._tg_requests[1])
        )
        if s.telegram_api_base_url:
            builder = builder.base_url(s.telegram_api_base_url).base_file_url(s.telegram_file_url)
        if self._rate_limiter:
            # Paces sends to Telegram's limits (1/s per chat, 30/s per bot) and retries on RetryAfter.
            builder = builder.rate_limiter(cast(Any, AIORateLimiter(max_retries=0)))
        if s.telegram_webhook_url:
            builder = builder.updater(None)
        # Updates of one chat must be handled in order; different chats in parallel.
        return builder.concurrent_updates(False).build()

    def _build_slack(self) -> AsyncApp:
        s = self.settings
        client = AsyncWebClient(token=s.slack_bot_token, base_url=s.slack_api_base_url or AsyncWebClient.BASE_URL)
        return AsyncApp(
            client=client,
            signing_secret=s.slack_signing_secret or None,
            # Ack first, then only store work: Slack's 3 s limit is never at risk (ARCHITECTURE.md).
            process_before_response=True,
            request_verification_enabled=not s.slack_app_token,
        )

    # --- HTTP ----------------------------------------------------------------------------------------
    async def _healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def _slack_events(self, request: web.Request) -> web.Response:
        assert self.slack is not None
        bolt_request = await to_bolt_request(request)
        bolt_response = await self.slack.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def _telegram_webhook(self, request: web.Request) -> web.Response:
        import hmac

        assert self.telegram is not None
        secret = self.settings.telegram_webhook_secret
        if secret:
            given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
            if not hmac.compare_digest(given.encode(), secret.encode()):
                return web.Response(status=403)
        try:
            data = await request.json()
            update = Update.de_json(data, self.telegram.bot) if isinstance(data, dict) else None
        except (ValueError, TypeError, KeyError):
            update = None
        if update is None:
            # Telegram retries non-2xx answers: only a body that can never become an update gets a 400.
            return web.Response(status=400, text="not a Telegram update")
        await self.telegram.update_queue.put(update)
        return web.Response()


def startup_problem(exc: BaseException, settings: Settings) -> str:
    """One line telling the operator what stopped the bot from starting and what to check."""
    if isinstance(exc, InvalidToken):
        return "Telegram refused TELEGRAM_BOT_TOKEN (Unauthorized): check the token with @BotFather"
    if isinstance(exc, TelegramNetworkError):
        where = settings.telegram_api_base_url or "https://api.telegram.org"
        return f"cannot reach the Telegram Bot API at {where} ({exc}); check the network or TELEGRAM_API_BASE_URL"
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return f"HTTP_PORT {settings.http_port} on {settings.http_host} is taken; choose another HTTP_PORT"
    if isinstance(exc, OSError):
        return f"cannot start: {exc}"
    return f"cannot start: {type(exc).__name__}: {exc}"


async def _serve(settings: Settings) -> int:
    missing = settings.missing_tokens()
    if settings.sandbox_mode:
        from sandbox.run import run_sandbox

        return await run_sandbox(settings)
    if missing:
        print(f"supportbot: set {', '.join(missing)} (see .env.example)", file=sys.stderr)
        return 2
    bot = SupportBot(settings)
    try:
        await bot.start()
    except Exception as exc:
        log.debug("start-up failed", exc_info=exc)
        await bot.stop()  # what did start (the store, the HTTP server) must close, or the process hangs
        print(f"supportbot: {startup_problem(exc, settings)}", file=sys.stderr)
        return 1
    print(f"supportbot: running; HTTP on {bot.http_url}", file=sys.stderr)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await bot.stop()
    return 0


def run(settings: Settings) -> int:
    """`supportbot run`: returns the exit status."""
    configure_logging(settings.log_level)
    return asyncio.run(_serve(settings))
