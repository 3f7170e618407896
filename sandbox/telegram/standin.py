"""The Telegram stand-in as one object: Bot API dispatch, client actions, read-back views and settling."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.faults import Fault
from sandbox.telegram import actions, errors, media, profile, updates  # noqa: F401  (they register methods)
from sandbox.telegram.errors import ApiError
from sandbox.telegram.methods import METHODS, Params
from sandbox.telegram.models import JSON, User, Violation, summarize
from sandbox.telegram.state import StandInState


class SettleTimeout(AssertionError):
    """The bot did not take an update, or kept calling the API, within the driver's timeout."""


@dataclass(frozen=True)
class StandInUrls:
    """Where a started stand-in listens; give base_url / base_file_url to python-telegram-bot."""

    root: str
    base_url: str
    base_file_url: str


UserRef = User | int


def _uid(user: UserRef) -> int:
    return user.id if isinstance(user, User) else user


class StandIn:
    """A faithful local Telegram Bot API for one bot, plus the controls of the people talking to it."""

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_username: str = "sandbox_support_bot",
        bot_name: str = "Soporte",
        callback_answer_timeout: float = 10.0,
        callback_expiry: float = 15 * 60.0,
        rate_limits: bool = False,
        webhook_retry_base: float = 1.0,
        webhook_retry_max: float = 60.0,
        strict_webhook_url: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.state = StandInState(
            token=token,
            bot_username=bot_username,
            bot_name=bot_name,
            callback_answer_timeout=callback_answer_timeout,
            callback_expiry=callback_expiry,
            rate_limits=rate_limits,
            webhook_retry_base=webhook_retry_base,
            webhook_retry_max=webhook_retry_max,
            strict_webhook_url=strict_webhook_url,
            clock=clock,
        )
        self.webhooks = updates.WebhookDeliverer(self.state)
        # An outage every Bot API call meets while it lasts (sandbox.faults); None, the default, is none.
        self.faults: Fault | None = None
        self.urls: StandInUrls | None = None
        self._runner: Any = None
        self._delivered_at: dict[int, float] = {}

    # --- configuration -------------------------------------------------------------------------
    @property
    def token(self) -> str:
        """The bot token the stand-in accepts."""
        return self.state.token

    @property
    def rate_limits(self) -> bool:
        """Whether Telegram's send pacing is enforced (off by default)."""
        return self.state.rate_limits

    @rate_limits.setter
    def rate_limits(self, value: bool) -> None:
        self.state.rate_limits = value

    @property
    def on_delivered(self) -> Callable[[int], None] | None:
        """Called with an update's id the moment the bot confirms it: its webhook answered 2xx, or a
        getUpdates offset moved past it (Telegram forgets it then). None by default; fault tests use it."""
        return self.state.on_delivered

    @on_delivered.setter
    def on_delivered(self, callback: Callable[[int], None] | None) -> None:
        self.state.on_delivered = callback

    @property
    def violations(self) -> list[Violation]:
        """Every rejected request and every silently broken rule, oldest first."""
        return self.state.violations

    @property
    def requests(self) -> list[tuple[str, JSON]]:
        """Every Bot API call received (method, parameter summary), oldest first."""
        return self.state.requests

    # --- the Bot API ----------------------------------------------------------------------------
    async def call(self, method: str, params: Params) -> Any:
        """Run one Bot API method; errors are recorded as violations and raised as ApiError."""
        fn = METHODS.get(method.lower())
        st = self.state
        st.requests.append((method, summarize(params.values)))
        if fn is None:
            st.record_rejection(method, params.values, errors.NOT_FOUND)
            raise errors.NOT_FOUND
        polling = method.lower() == "getupdates"
        loop = asyncio.get_running_loop()
        if not polling:
            st.in_flight += 1
            st.last_activity = loop.time()
        try:
            return await fn(st, params)
        except ApiError as exc:
            if exc is errors.POLLING_CONFLICT and not params.connected():
                # A stopped bot's abandoned long poll: Telegram ends it with 409 but nobody hears it,
                # so it is not something the bot did wrong.
                raise
            st.record_rejection(method, {**params.values, **{k: "<upload>" for k in params.uploads}}, exc)
            raise
        finally:
            if not polling:
                st.in_flight -= 1
                st.last_activity = loop.time()

    # --- people and what they do ---------------------------------------------------------------
    def create_user(self, first_name: str = "Laura", **kwargs: Any) -> User:
        """Add a user (kwargs: user_id, last_name, username, language_code "es"/"en", phone)."""
        return self.state.create_user(first_name, **kwargs)

    async def send_text(self, user: UserRef, text: str) -> actions.Sent:
        """The user types and sends text."""
        return await actions.send_text(self.state, _uid(user), text)

    async def send_photo(self, user: UserRef, **kwargs: Any) -> actions.Sent:
        """The user sends a photo (kwargs: caption, width, height, content)."""
        return await actions.send_photo(self.state, _uid(user), **kwargs)

    async def send_document(
        self, user: UserRef, file_name: str = "reporte.pdf", size: int = 2048, **kwargs: Any
    ) -> actions.Sent:
        """The user sends a file (kwargs: mime_type, content, caption); no content means virtual."""
        return await actions.send_document(self.state, _uid(user), file_name, size, **kwargs)

    async def share_contact(self, user: UserRef, phone_number: str | None = None, **kwargs: Any) -> actions.Sent:
        """The user shares a contact (kwargs: own, contact_user_id, first_name)."""
        return await actions.share_contact(self.state, _uid(user), phone_number, **kwargs)

    async def send_sticker(self, user: UserRef, emoji: str = "👍") -> actions.Sent:
        """The user sends a sticker."""
        return await actions.send_sticker(self.state, _uid(user), emoji)

    async def send_voice(self, user: UserRef, duration: int = 3) -> actions.Sent:
        """The user sends a voice note."""
        return await actions.send_voice(self.state, _uid(user), duration)

    async def tap(self, user: UserRef, message_id: int, data: str, *, forge: bool = False) -> actions.Sent:
        """The user taps an inline button (forge only to test tampering)."""
        return await actions.tap(self.state, _uid(user), message_id, data, forge=forge)

    async def block(self, user: UserRef) -> actions.Sent:
        """The user blocks the bot (sends to them then fail with 403)."""
        return await actions.set_blocked(self.state, _uid(user), True)

    async def unblock(self, user: UserRef) -> actions.Sent:
        """The user restarts the bot after blocking it."""
        return await actions.set_blocked(self.state, _uid(user), False)

    # --- read back ------------------------------------------------------------------------------
    def history(self, user: UserRef, include_deleted: bool = True) -> list[JSON]:
        """The private chat as the user sees it, oldest first."""
        return self.state.history(_uid(user), include_deleted)

    def reply_keyboard(self, user: UserRef) -> JSON | None:
        """The reply keyboard the chat shows now (None when hidden or removed)."""
        return self.state.reply_keyboards.get(_uid(user))

    def commands(self, user: UserRef) -> list[dict[str, str]]:
        """The command menu this user sees (their chat and language first)."""
        u = self.state.user(_uid(user))
        return self.state.visible_commands(u.id, u.language_code)

    def callback_answer(self, query_id: str) -> JSON | None:
        """What the bot answered to a tap (None while unanswered)."""
        query = self.state.queries.get(query_id)
        return None if query is None else query.answer

    # --- settling -------------------------------------------------------------------------------
    def is_delivered(self, update_id: int) -> bool:
        """The bot confirmed the update (next getUpdates offset, or 2xx from its webhook)."""
        return update_id in self.state.delivered

    # The timeout is the assertion: its error lists what was seen.
    async def settle(
        self,
        update_id: int | None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
        quiet: float = 0.05,
    ) -> None:
        """Wait until the update is delivered and no Bot API call has been in flight for `quiet` s."""
        st = self.state
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if update_id is not None:
            while update_id not in st.delivered:
                if loop.time() > deadline:
                    raise SettleTimeout(
                        f"update {update_id} not delivered within {timeout:g} s "
                        f"(webhook={st.webhook.url if st.webhook else None}, pending={len(st.pending)}, "
                        f"last calls={[m for m, _ in st.requests[-5:]]})"
                    )
                await asyncio.sleep(0.005)
            self._delivered_at.setdefault(update_id, loop.time())
            since = self._delivered_at[update_id]
        else:
            since = loop.time()
        while True:
            now = loop.time()
            if st.in_flight == 0 and now - max(st.last_activity, since) >= quiet:
                return
            if now > deadline:
                raise SettleTimeout(
                    f"bot still busy after {timeout:g} s: {st.in_flight} call(s) in flight, "
                    f"last calls={[m for m, _ in st.requests[-5:]]}"
                )
            await asyncio.sleep(0.005)

    # --- serving --------------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> StandInUrls:
        """Serve the Bot API (and the control API) on host:port (0 = a free port); returns the URLs."""
        from aiohttp import web

        from sandbox.telegram.server import make_app

        runner = web.AppRunner(make_app(self), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        bound = sockets[0].getsockname()[1] if sockets else port
        root = f"http://{host}:{bound}"
        self._runner = runner
        self.urls = StandInUrls(root, f"{root}/bot", f"{root}/file/bot")
        return self.urls

    async def stop(self) -> None:
        """Stop serving, webhook delivery and timers."""
        self.state.close()  # first, so open event streams and long polls end and the server shuts down at once
        async with self.state.updates_changed:
            self.state.updates_changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.webhooks.stop()


async def start(host: str = "127.0.0.1", port: int = 0, **options: Any) -> StandIn:
    """Create and start a stand-in; its `urls` tell where it listens."""
    standin = StandIn(**options)
    await standin.start(host, port)
    return standin
