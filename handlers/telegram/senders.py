"""The outbox senders for Telegram (send / edit / delete) and how python-telegram-bot errors map to retries."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    LinkPreviewOptions,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.delivery import Dispatcher, FileTooBig, Outgoing, PermanentFailure, RetryLater, Sender, Unavailable
from bot.services import outbox
from bot.services.delivered import BLOCKED_MARK
from handlers.slack.files import SlackFileFetcher

__all__ = [
    "MAX_DOCUMENT_UPLOAD",
    "MAX_PHOTO_UPLOAD",
    "SlackFileFetcher",
    "file_fetcher",
    "inline_keyboard",
    "register_senders",
    "retry_seconds",
]

log = logging.getLogger(__name__)

_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# What the Bot API takes as an upload (multipart): photos up to 10 MB, other files up to 50 MB.
MAX_PHOTO_UPLOAD = 10 * 1024 * 1024
MAX_DOCUMENT_UPLOAD = 50 * 1024 * 1024
# SlackFileFetcher downloads a file an agent shared in Slack (its url_private, at most `limit` bytes): the
# composition root hands the Slack side's fetcher to these senders, as it hands the Telegram one to the Slack
# senders.


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


def _guard(exc: Exception, lane: str, *ok_phrases: str) -> None:
    """Map a PTB error: RetryAfter → RetryLater (a wait), Forbidden → PermanentFailure (a blocked bot is
    named so, see bot.services.delivered), harmless 400s → success, other 400s → permanent, network → outage."""
    if isinstance(exc, RetryAfter):
        raise RetryLater(retry_seconds(exc), str(exc), lane=lane) from exc
    if isinstance(exc, Forbidden):
        blocked = "blocked" in exc.message.lower() or "deactivated" in exc.message.lower()
        raise PermanentFailure(f"{BLOCKED_MARK if blocked else 'forbidden: '}{exc.message}") from exc
    if isinstance(exc, BadRequest):
        if _bad_request_is_success(exc, *ok_phrases):
            return
        # A 400 will be refused the same way next time: retrying would only block the chat's queue.
        raise PermanentFailure(f"bad request: {exc.message}") from exc
    if isinstance(exc, NetworkError):  # timeouts, connection errors, 5xx
        raise Unavailable(f"{type(exc).__name__}: {exc}") from exc
    raise exc


def register_senders(dispatcher: Dispatcher, bot: Bot, fetch_slack_file: SlackFileFetcher | None = None) -> None:
    """Register the Telegram kinds of outbox rows; each send takes its turn in the chat's lane and the bot's.
    `fetch_slack_file` downloads what an agent shared in a thread (None: no Slack side, files cannot go)."""

    async def send(out: Outgoing) -> Mapping[str, Any] | None:
        payload = out.payload
        chat = int(payload["chat_id"])
        lane = outbox.chat_lane(chat)
        async with out.turn(lane, outbox.TELEGRAM_BOT_LANE):
            try:
                message = await bot.send_message(
                    chat_id=chat,
                    text=str(payload["text"]),
                    parse_mode=ParseMode.HTML,
                    reply_markup=_markup(payload),
                    link_preview_options=_NO_PREVIEW,
                )
            except (RetryAfter, Forbidden, NetworkError) as exc:
                _guard(exc, lane)
                return None
        return {"message_id": message.message_id}

    async def edit(out: Outgoing) -> Mapping[str, Any] | None:
        payload = out.payload
        chat = int(payload["chat_id"])
        lane = outbox.chat_lane(chat)
        async with out.turn(lane, outbox.TELEGRAM_BOT_LANE):
            try:
                await bot.edit_message_text(
                    chat_id=chat,
                    message_id=int(payload["message_id"]),
                    text=str(payload["text"]),
                    parse_mode=ParseMode.HTML,
                    reply_markup=inline_keyboard(payload.get("keyboard")),
                    link_preview_options=_NO_PREVIEW,
                )
            except (RetryAfter, Forbidden, NetworkError) as exc:
                # An identical edit is answered "message is not modified": done, never re-sent as new.
                _guard(exc, lane, "message is not modified")
        return None

    async def delete(out: Outgoing) -> Mapping[str, Any] | None:
        payload = out.payload
        try:
            await bot.delete_message(chat_id=int(payload["chat_id"]), message_id=int(payload["message_id"]))
        except (RetryAfter, Forbidden, NetworkError) as exc:
            _guard(exc, outbox.chat_lane(int(payload["chat_id"])), "message to delete not found")
        return None

    async def answer(out: Outgoing) -> Mapping[str, Any] | None:
        """answerCallbackQuery: a query too old or already answered is no failure anyone should hear of."""
        payload = out.payload
        try:
            await bot.answer_callback_query(str(payload["query_id"]), text=payload.get("text") or None)
        except BadRequest as exc:
            log.debug("answerCallbackQuery refused (%s): nothing to tell anyone", exc.message)
        except (RetryAfter, Forbidden, NetworkError) as exc:
            _guard(exc, outbox.TELEGRAM_BOT_LANE)
        return None

    async def send_file(out: Outgoing) -> Mapping[str, Any] | None:
        """A photo or a document an agent shared: fetched from Slack now, uploaded to the client's chat. A photo
        Telegram will not take as a photo (too big, odd dimensions) goes as a document instead."""
        payload = out.payload
        chat = int(payload["chat_id"])
        lane = outbox.chat_lane(chat)
        file = payload["file"]
        if fetch_slack_file is None:
            raise PermanentFailure("no Slack side to download files from")
        as_photo = out.row.kind == outbox.TG_PHOTO and int(file.get("size") or 0) <= MAX_PHOTO_UPLOAD
        try:
            content = await fetch_slack_file(str(file["url"]), MAX_DOCUMENT_UPLOAD)
        except FileTooBig as exc:
            raise PermanentFailure(f"too big for Telegram: {exc}") from exc
        name = str(file.get("name") or "archivo")
        caption = str(payload.get("caption") or "") or None
        async with out.turn(lane, outbox.TELEGRAM_BOT_LANE):
            try:
                if as_photo and len(content) <= MAX_PHOTO_UPLOAD:
                    try:
                        message = await bot.send_photo(
                            chat_id=chat, photo=InputFile(content, filename=name), caption=caption,
                            parse_mode=ParseMode.HTML,
                        )  # fmt: skip
                        return {"message_id": message.message_id}
                    except BadRequest as exc:
                        log.info("photo %s refused as a photo (%s): sending it as a document", name, exc.message)
                message = await bot.send_document(
                    chat_id=chat, document=InputFile(content, filename=name), caption=caption,
                    parse_mode=ParseMode.HTML,
                )  # fmt: skip
            except (RetryAfter, Forbidden, NetworkError) as exc:
                _guard(exc, lane)
                return None
        return {"message_id": message.message_id}

    async def markup(out: Outgoing) -> Mapping[str, Any] | None:
        """editMessageReplyMarkup: an answered question loses its buttons; a message already like that is fine."""
        payload = out.payload
        chat = int(payload["chat_id"])
        lane = outbox.chat_lane(chat)
        async with out.turn(lane, outbox.TELEGRAM_BOT_LANE):
            try:
                await bot.edit_message_reply_markup(
                    chat_id=chat,
                    message_id=int(payload["message_id"]),
                    reply_markup=inline_keyboard(payload.get("keyboard")),
                )
            except (RetryAfter, Forbidden, NetworkError) as exc:
                _guard(exc, lane, "message is not modified", "message to edit not found")
        return None

    senders: dict[str, Sender] = {
        outbox.TG_SEND: send,
        outbox.TG_EDIT: edit,
        outbox.TG_DELETE: delete,
        outbox.TG_ANSWER: answer,
        outbox.TG_PHOTO: send_file,
        outbox.TG_DOCUMENT: send_file,
        outbox.TG_MARKUP: markup,
    }
    for kind, sender in senders.items():
        dispatcher.register(outbox.TELEGRAM, kind, sender)


def file_fetcher(bot: Bot) -> Callable[[str], Awaitable[bytes]]:
    """Downloads a client's file by its Telegram file id, for its upload to the card's thread."""

    async def fetch(file_id: str) -> bytes:
        try:
            tg_file = await bot.get_file(file_id)
            return bytes(await tg_file.download_as_bytearray())
        except BadRequest as exc:
            if "too big" in exc.message.lower():
                raise FileTooBig(exc.message) from exc
            raise PermanentFailure(f"bad request: {exc.message}") from exc
        except (RetryAfter, Forbidden, NetworkError) as exc:
            _guard(exc, outbox.TELEGRAM_BOT_LANE)
            raise

    return fetch
