"""The outbox senders for Telegram (send / edit / delete) and how python-telegram-bot errors map to retries."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter

from bot.delivery import Dispatcher, PermanentFailure, RetryLater, Sender
from bot.services import outbox

__all__ = ["inline_keyboard", "register_senders", "retry_seconds"]

_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def retry_seconds(exc: RetryAfter) -> float:
    """Telegram's retry_after in seconds, whichever type this PTB version hands out."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB 22.2+ warns about the int form; we accept both
        value: int | timedelta = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def inline_keyboard(rows: Any) -> InlineKeyboardMarkup | None:
    """[[{text, data}|{text, url}]] → InlineKeyboardMarkup (None when empty)."""
    if not rows:
        return None
    built = [
        [
            InlineKeyboardButton(b["text"], url=b["url"])
            if "url" in b
            else InlineKeyboardButton(b["text"], callback_data=b["data"])
            for b in row
        ]
        for row in rows
    ]
    return InlineKeyboardMarkup(built)


def _markup(payload: Mapping[str, Any]) -> Any:
    keyboard = inline_keyboard(payload.get("keyboard"))
    if keyboard is not None:
        return keyboard
    if payload.get("contact_button"):
        button = KeyboardButton(str(payload["contact_button"]), request_contact=True)
        return ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)
    if payload.get("remove_keyboard"):
        return ReplyKeyboardRemove()
    return None


def _bad_request_is_success(exc: BadRequest, *phrases: str) -> bool:
    text = exc.message.lower()
    return any(phrase in text for phrase in phrases)


def _guard(exc: Exception, *ok_phrases: str) -> None:
    """Map a PTB error: RetryAfter → RetryLater, Forbidden → PermanentFailure, harmless 400s → success."""
    if isinstance(exc, RetryAfter):
        raise RetryLater(retry_seconds(exc), str(exc)) from exc
    if isinstance(exc, Forbidden):
        raise PermanentFailure(f"forbidden: {exc.message}") from exc
    if isinstance(exc, BadRequest):
        if _bad_request_is_success(exc, *ok_phrases):
            return
        # A 400 will be refused the same way next time: retrying would only block the chat's queue.
        raise PermanentFailure(f"bad request: {exc.message}") from exc
    raise exc


def register_senders(dispatcher: Dispatcher, bot: Bot) -> None:
    """Register the three Telegram kinds of outbox rows."""

    async def send(payload: Mapping[str, Any]) -> None:
        try:
            await bot.send_message(
                chat_id=int(payload["chat_id"]),
                text=str(payload["text"]),
                parse_mode=ParseMode.HTML,
                reply_markup=_markup(payload),
                link_preview_options=_NO_PREVIEW,
            )
        except (RetryAfter, Forbidden, BadRequest) as exc:
            _guard(exc)

    async def edit(payload: Mapping[str, Any]) -> None:
        try:
            await bot.edit_message_text(
                chat_id=int(payload["chat_id"]),
                message_id=int(payload["message_id"]),
                text=str(payload["text"]),
                parse_mode=ParseMode.HTML,
                reply_markup=inline_keyboard(payload.get("keyboard")),
                link_preview_options=_NO_PREVIEW,
            )
        except (RetryAfter, Forbidden, BadRequest) as exc:
            # An identical edit is answered "message is not modified": done, never re-sent as new.
            _guard(exc, "message is not modified")

    async def delete(payload: Mapping[str, Any]) -> None:
        try:
            await bot.delete_message(chat_id=int(payload["chat_id"]), message_id=int(payload["message_id"]))
        except (RetryAfter, Forbidden, BadRequest) as exc:
            _guard(exc, "message to delete not found")

    senders: dict[str, Sender] = {outbox.TG_SEND: send, outbox.TG_EDIT: edit, outbox.TG_DELETE: delete}
    for kind, sender in senders.items():
        dispatcher.register(outbox.TELEGRAM, kind, sender)
