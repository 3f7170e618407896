"""The stand-in's world: bot, users, chats, messages, files, pending updates, violations and live events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import string
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from sandbox.telegram import errors
from sandbox.telegram.errors import ApiError
from sandbox.telegram.limits import RateLimiter
from sandbox.telegram.models import (
    JSON,
    CallbackQuery,
    StoredFile,
    StoredMessage,
    User,
    Violation,
    new_file_ids,
    summarize,
)

DEFAULT_ALLOWED = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "purchased_paid_media",
        "chat_boost",
        "removed_chat_boost",
    }
)
UPDATE_RETENTION_S = 24 * 3600
QUIET_WEEK_S = 7 * 24 * 3600
_ALPHABET = string.ascii_letters + string.digits + "_-"


def make_token(bot_id: int) -> str:
    """A token shaped like a real one: `<bot id>:<35 characters>`."""
    return f"{bot_id}:" + "".join(secrets.choice(_ALPHABET) for _ in range(35))


@dataclass
class Webhook:
    """The webhook a bot registered with setWebhook."""

    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str] | None
    ip_address: str = "127.0.0.1"
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class PendingUpdate:
    """An update not yet confirmed by the bot."""

    update_id: int
    body: JSON
    created: float


class StandInState:
    """Everything the stand-in remembers; the Bot API methods and the client actions both change it."""

    def __init__(
        self,
        *,
        bot_id: int = 7_000_000_001,
        bot_username: str = "sandbox_support_bot",
        bot_name: str = "Soporte",
        token: str | None = None,
        callback_answer_timeout: float = 10.0,
        callback_expiry: float = 15 * 60.0,
        rate_limits: bool = False,
        webhook_retry_base: float = 1.0,
        webhook_retry_max: float = 60.0,
        strict_webhook_url: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.token = token or make_token(bot_id)
        self.callback_answer_timeout = callback_answer_timeout
        self.callback_expiry = callback_expiry
        self.rate_limits = rate_limits
        self.rate_limiter = RateLimiter()
        self.webhook_retry_base = webhook_retry_base
        self.webhook_retry_max = webhook_retry_max
        self.strict_webhook_url = strict_webhook_url
        self.clock = clock
        self.users: dict[int, User] = {}
        self.messages: dict[tuple[int, int], StoredMessage] = {}
        self.chat_order: dict[int, list[int]] = {}
        self._next_message_id: dict[int, int] = {}
        self.files: dict[str, StoredFile] = {}
        self._file_counter = 0
        self.queries: dict[str, CallbackQuery] = {}
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.menu_buttons: dict[int | None, JSON] = {}
        self.reply_keyboards: dict[int, JSON | None] = {}
        self.chat_actions: dict[int, str] = {}
        self.profile_texts: dict[tuple[str, str], str] = {}
        self.violations: list[Violation] = []
        self.requests: list[tuple[str, JSON]] = []
        self.pending: list[PendingUpdate] = []
        self.delivered: set[int] = set()
        # Called with an update's id the moment the bot confirms it (fault tests kill the bot right there).
        self.on_delivered: Callable[[int], None] | None = None
        self._next_update_id = secrets.randbelow(500_000_000) + 100_000_000
        self._last_update_at: float | None = None
        self.allowed_updates: frozenset[str] = DEFAULT_ALLOWED
        self.webhook: Webhook | None = None
        self.updates_changed = asyncio.Condition()
        self.poll_generation = 0
        self.closed = False  # the stand-in is stopping: waiting long polls end at once
        self.in_flight = 0
        self.last_activity = 0.0
        self._subscribers: set[asyncio.Queue[JSON]] = set()
        self._timers: set[asyncio.TimerHandle] = set()
        self._next_user_id = 5_100_000_001

    # --- the bot -------------------------------------------------------------------------------
    def bot_user(self) -> JSON:
        """The bot's own `User` (getMe answer, `from` of its messages)."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    # --- users and chats -----------------------------------------------------------------------
    def create_user(
        self,
        first_name: str = "Laura",
        *,
        user_id: int | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str = "es",
        phone: str | None = None,
    ) -> User:
        """Add a person who can talk to the bot (their private chat id is their user id)."""
        if language_code not in ("es", "en"):
            raise ValueError(f"language_code must be 'es' or 'en', not {language_code!r}")
        if user_id is None:
            user_id = self._next_user_id
            self._next_user_id += 1
        if user_id in self.users or user_id <= 0:
            raise ValueError(f"user id {user_id} is taken or not positive")
        user = User(user_id, first_name, last_name, username, language_code, phone)
        self.users[user_id] = user
        return user

    def user(self, user_id: int) -> User:
        """A user by id, or ValueError for the control API."""
        try:
            return self.users[user_id]
        except KeyError:
            raise ValueError(f"no user {user_id}") from None

    def chat_for_bot(self, chat_id: Any) -> User:
        """The chat the bot addresses, with Telegram's errors for unknown, unstarted or blocking users."""
        try:
            key = int(chat_id)
        except (TypeError, ValueError):
            raise errors.bad_request(errors.CHAT_NOT_FOUND) from None
        user = self.users.get(key)
        if user is None:
            raise errors.bad_request(errors.CHAT_NOT_FOUND)
        if user.blocked:
            raise errors.forbidden(errors.BLOCKED)
        if not user.started:
            raise errors.forbidden(errors.CANT_INITIATE)
        return user

    # --- messages -------------------------------------------------------------------------------
    def store_message(self, chat_id: int, from_bot: bool, content: JSON) -> StoredMessage:
        """Give the message the chat's next id and date, keep it and announce it."""
        message_id = self._next_message_id.get(chat_id, 0) + 1
        self._next_message_id[chat_id] = message_id
        user = self.users[chat_id]
        payload: JSON = {
            "message_id": message_id,
            "from": self.bot_user_short() if from_bot else user.to_api(),
            "chat": user.chat_api(),
            "date": int(self.clock()),
            **content,
        }
        stored = StoredMessage(chat_id, message_id, from_bot, payload)
        self.messages[(chat_id, message_id)] = stored
        self.chat_order.setdefault(chat_id, []).append(message_id)
        if self.has_subscribers:  # rendering the view costs more than the rest of a send
            self.publish({"type": "message", "chat_id": chat_id, "message": self.view_message(stored)})
        return stored

    def bot_user_short(self) -> JSON:
        """The bot as `from` of a message (no capability flags)."""
        return {"id": self.bot_id, "is_bot": True, "first_name": self.bot_name, "username": self.bot_username}

    def find_message(self, chat_id: Any, message_id: Any) -> StoredMessage | None:
        """A live (not deleted) message, or None."""
        try:
            key = (int(chat_id), int(message_id))
        except (TypeError, ValueError):
            return None
        stored = self.messages.get(key)
        return None if stored is None or stored.deleted else stored

    def add_file(
        self,
        kind: str,
        size: int,
        content: bytes | None,
        *,
        mime_type: str | None = None,
        file_name: str | None = None,
        file_ids: tuple[str, str] | None = None,
    ) -> StoredFile:
        """Register a file so getFile and the download route can find it."""
        self._file_counter += 1
        file_id, unique = file_ids or new_file_ids(kind)
        folder = {"photo": "photos", "document": "documents", "voice": "voice", "sticker": "stickers"}[kind]
        ext = {"photo": ".jpg", "voice": ".oga", "sticker": ".webp"}.get(kind, "")
        if kind == "document" and file_name and "." in file_name:
            ext = "." + file_name.rsplit(".", 1)[1]
        stored = StoredFile(
            file_id,
            unique,
            kind,
            size,
            f"{folder}/file_{self._file_counter}{ext}",
            content,
            mime_type,
            file_name,
        )
        self.files[file_id] = stored
        return stored

    # --- updates --------------------------------------------------------------------------------
    async def push_update(self, kind: str, obj: JSON) -> int | None:
        """Queue an update for the bot; None when the bot's allowed_updates filters it out."""
        if kind not in self.allowed_updates:
            return None
        now = self.clock()
        if self._last_update_at is not None and now - self._last_update_at >= QUIET_WEEK_S:
            # After a week without updates Telegram picks the next id at random (it may even be lower),
            # so bots must de-duplicate by remembering ids, not by "<= last seen".
            self._next_update_id = secrets.randbelow(2**31 - 2)
        self._last_update_at = now
        self._next_update_id += 1
        update_id = self._next_update_id
        self.pending.append(PendingUpdate(update_id, {"update_id": update_id, kind: obj}, now))
        async with self.updates_changed:
            self.updates_changed.notify_all()
        return update_id

    def confirm_before(self, offset: int) -> None:
        """getUpdates with `offset` confirms every update with a smaller id."""
        for update in [u for u in self.pending if u.update_id < offset]:
            self.mark_delivered(update)

    def mark_delivered(self, update: PendingUpdate) -> None:
        """The bot has the update (confirmed offset or a 2xx webhook answer)."""
        if update in self.pending:
            self.pending.remove(update)
        if update.update_id in self.delivered:
            return
        self.delivered.add(update.update_id)
        if self.on_delivered is not None:
            self.on_delivered(update.update_id)

    def drop_expired_updates(self) -> None:
        """Telegram keeps undelivered updates for 24 hours."""
        limit = self.clock() - UPDATE_RETENTION_S
        self.pending = [u for u in self.pending if u.created >= limit]

    # --- violations and events ------------------------------------------------------------------
    def record_violation(
        self, kind: str, method: str, description: str, params: JSON, error_code: int | None = None
    ) -> Violation:
        """Log a rejected request or a silently broken rule, and show it on the live page."""
        violation = Violation(kind, method, description, summarize(params), self.clock(), error_code)
        self.violations.append(violation)
        self.publish({"type": "violation", "violation": violation.to_json()})
        return violation

    def record_rejection(self, method: str, params: JSON, error: ApiError) -> None:
        """Every request answered with an error is a violation the tests can see."""
        self.record_violation("rejected", method, error.description, params, error.code)

    @property
    def has_subscribers(self) -> bool:
        """Someone (a test or the page) is watching the event stream."""
        return bool(self._subscribers)

    def publish(self, event: JSON) -> None:
        """Send an event to every live subscriber (tests and the page's SSE stream)."""
        for queue in list(self._subscribers):
            queue.put_nowait(event)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[JSON]]:
        """Receive every event from now on while the context is open."""
        queue: asyncio.Queue[JSON] = asyncio.Queue()
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        """Run a check later on the running loop (cancelled by `close`)."""
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle

        def run() -> None:
            self._timers.discard(handle)
            callback()

        handle = loop.call_later(delay, run)
        self._timers.add(handle)

    def close(self) -> None:
        """Cancel pending timers (unanswered-callback checks), end live event streams and waiting long polls."""
        self.closed = True
        self.publish({"type": "closed"})
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()

    # --- views for tests and the page ----------------------------------------------------------
    def view_message(self, stored: StoredMessage) -> JSON:
        """A message as the user's app shows it: text, rendered entities, buttons, media, flags."""
        from sandbox.telegram.html_entities import render_html

        p = stored.payload
        text = str(p.get("text", p.get("caption", "")))
        entities: list[JSON] = p.get("entities") or p.get("caption_entities") or []
        view: JSON = {
            "message_id": stored.message_id,
            "from": "bot" if stored.from_bot else "user",
            "date": p["date"],
            "text": text,
            "html": render_html(text, entities),
            "entities": entities,
            "buttons": [
                [{k: v for k, v in b.items() if k in ("text", "callback_data", "url")} for b in row]
                for row in stored.inline_keyboard
            ],
            "deleted": stored.deleted,
            "edited": stored.edited,
        }
        for key in ("photo", "document", "contact", "sticker", "voice"):
            if key in p:
                view[key] = p[key]
        if "reply_to_message" in p:
            view["reply_to"] = p["reply_to_message"]["message_id"]
        return view

    def history(self, chat_id: int, include_deleted: bool = True) -> list[JSON]:
        """The chat as the user sees it, oldest first (deleted ones flagged, or left out)."""
        views = [self.view_message(self.messages[(chat_id, m)]) for m in self.chat_order.get(chat_id, [])]
        return [v for v in views if include_deleted or not v["deleted"]]

    def visible_commands(self, chat_id: int, language_code: str) -> list[dict[str, str]]:
        """The command menu the user sees, resolved by Telegram's scope and language order."""
        scopes = [
            json.dumps({"type": "chat", "chat_id": chat_id}, sort_keys=True),
            json.dumps({"type": "all_private_chats"}, sort_keys=True),
            json.dumps({"type": "default"}, sort_keys=True),
        ]
        for scope in scopes:
            for lang in (language_code, ""):
                if (scope, lang) in self.commands:
                    return self.commands[(scope, lang)]
        return []
