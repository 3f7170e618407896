"""Telegram's limits as checks that raise the real errors: text, captions, keyboards, tokens, send rates."""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.telegram import errors
from sandbox.telegram.errors import ApiError, bad_request
from sandbox.telegram.html_entities import (
    Entity,
    EntityParseError,
    finish_entities,
    parse_html,
    strip_text,
)
from sandbox.telegram.markdown import parse_markdown_legacy, parse_markdown_v2

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_BUTTONS_PER_ROW = 8
MAX_BUTTONS = 100
MAX_CALLBACK_ANSWER = 200
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


def parse_formatted(
    text: str, parse_mode: str | None, entities: Any, *, caption: bool = False
) -> tuple[str, list[Entity]]:
    """Apply parse_mode (or explicit entities) and the length rules; return what the user will see."""
    mode = (parse_mode or "").strip()
    try:
        if mode.lower() == "html":
            plain, ents = parse_html(text)
            ents = finish_entities(ents)
        elif mode.lower() == "markdownv2":
            plain, ents = parse_markdown_v2(text)
        elif mode.lower() == "markdown":
            plain, ents = parse_markdown_legacy(text)
        elif mode == "":
            plain, ents = text, _explicit_entities(entities)
        else:
            raise bad_request("unsupported parse_mode")
    except EntityParseError as exc:
        raise bad_request(f"can't parse entities: {exc}") from exc
    plain, ents = strip_text(plain, ents)
    if caption:
        if len(plain) > MAX_CAPTION:
            raise bad_request(errors.CAPTION_TOO_LONG)
    else:
        if not plain:
            raise bad_request(errors.TEXT_EMPTY)
        if len(plain) > MAX_TEXT:
            raise bad_request(errors.MESSAGE_TOO_LONG)
    return plain, ents


def _explicit_entities(raw: Any) -> list[Entity]:
    """Entities passed by the bot itself, checked only for shape."""
    if raw is None:
        return []
    value = decode_json_field(raw, "can't parse entities JSON object")
    if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
        raise bad_request("can't parse entities JSON object")
    return [dict(e) for e in value]


def decode_json_field(raw: Any, error: str) -> Any:
    """Form and query parameters carry objects as JSON text; a JSON body carries them as objects."""
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise bad_request(error) from exc
    return raw


def check_reply_markup(raw: Any) -> dict[str, Any] | None:
    """Validate reply_markup (inline keyboard, reply keyboard, remove, force reply) as Telegram does."""
    if raw is None or raw == "":
        return None
    markup = decode_json_field(raw, "can't parse reply keyboard markup JSON object")
    if not isinstance(markup, dict):
        raise bad_request("object expected as reply markup")
    if "inline_keyboard" in markup:
        check_inline_keyboard(markup["inline_keyboard"])
    elif "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request('Field "keyboard" of the ReplyKeyboardMarkup must be an Array')
        for row in rows:
            for button in row:
                text = button if isinstance(button, str) else button.get("text") if isinstance(button, dict) else None
                if not isinstance(text, str) or not text:
                    raise bad_request('can\'t parse keyboard button: Field "text" must be of type String')
    elif not (markup.get("remove_keyboard") or markup.get("force_reply")):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return markup


def check_inline_keyboard(rows: Any) -> None:
    """≤ 8 buttons a row, ≤ 100 in all, callback_data 1–64 bytes of UTF-8."""
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request('Field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    total = 0
    for row in rows:
        if len(row) > MAX_BUTTONS_PER_ROW:
            raise bad_request(errors.BUTTONS_TOO_MUCH)
        total += len(row)
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
            kinds = [
                k
                for k in (
                    "callback_data",
                    "url",
                    "switch_inline_query",
                    "web_app",
                    "login_url",
                    "switch_inline_query_current_chat",
                    "copy_text",
                    "pay",
                )
                if k in button
            ]
            if not kinds:
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
                    raise bad_request(errors.BUTTON_DATA_INVALID)
    if total > MAX_BUTTONS:
        raise bad_request(errors.BUTTONS_TOO_MUCH)


def check_secret_token(token: str) -> None:
    """Webhook secret: 1–256 characters of A-Z a-z 0-9 _ -."""
    if not SECRET_TOKEN_RE.match(token):
        raise bad_request("secret token contains unallowed characters")


def check_commands(raw: Any) -> list[dict[str, str]]:
    """setMyCommands: ≤ 100 commands, names 1–32 of a-z 0-9 _, descriptions 1–256 characters."""
    commands = decode_json_field(raw, "can't parse commands JSON object")
    if not isinstance(commands, list) or not all(isinstance(c, dict) for c in commands):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad_request("too many commands specified")
    result: list[dict[str, str]] = []
    for command in commands:
        name = str(command.get("command", "")).removeprefix("/")
        description = str(command.get("description", ""))
        if not COMMAND_RE.match(name):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        result.append({"command": name, "description": description})
    return result


@dataclass
class _Bucket:
    """A token bucket: `capacity` sends at once, refilled at `rate` per second."""

    capacity: float
    rate: float
    tokens: float
    stamp: float

    def take(self, now: float) -> float:
        """Take one token; return 0 on success or the seconds until one is available."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class RateLimiter:
    """About 1 message/s per chat (small burst), 30/s per bot, 20/min per group, as Telegram paces bots."""

    per_chat_rate: float = 1.0
    per_chat_burst: float = 3.0
    per_bot_rate: float = 30.0
    per_group_per_minute: float = 20.0
    clock: Callable[[], float] = time.monotonic
    _chats: dict[int, _Bucket] = field(default_factory=dict)
    _bot: _Bucket | None = None

    def check(self, chat_id: int) -> None:
        """Count one message to chat_id; raise 429 with retry_after when over a limit."""
        now = self.clock()
        if self._bot is None:
            self._bot = _Bucket(self.per_bot_rate, self.per_bot_rate, self.per_bot_rate, now)
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if chat_id < 0:
                rate = self.per_group_per_minute / 60
                bucket = _Bucket(self.per_group_per_minute, rate, self.per_group_per_minute, now)
            else:
                bucket = _Bucket(self.per_chat_burst, self.per_chat_rate, self.per_chat_burst, now)
            self._chats[chat_id] = bucket
        wait = max(bucket.take(now), 0.0)
        if wait:
            raise errors.too_many_requests(max(1, math.ceil(wait)))
        bot_wait = self._bot.take(now)
        if bot_wait:
            bucket.tokens += 1  # the chat's token was not spent on a message that was refused
            raise errors.too_many_requests(max(1, math.ceil(bot_wait)))


def as_int(value: Any, name: str) -> int:
    """Integer parameters arrive as text in forms and queries."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError as exc:
        raise bad_request(f"invalid {name} specified") from exc


def as_bool(value: Any) -> bool:
    """Booleans arrive as true/false/1/0 text in forms and queries."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes")


def require(params: dict[str, Any], name: str, error: str | None = None) -> Any:
    """A required parameter, or Telegram's `<name> is empty` error."""
    value = params.get(name)
    if value is None or value == "":
        raise bad_request(error or f"{name} is empty")
    return value


__all__ = ["ApiError", "RateLimiter", "check_inline_keyboard", "check_reply_markup", "parse_formatted"]
