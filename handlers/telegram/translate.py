"""Telegram updates as the bot sees them: an inbox arrival at the door, a ClientEvent for the service entry.

python-telegram-bot parses the JSON (Update.de_json); nothing here decides anything: commands, messages,
taps, shared contacts and block/unblock become events, everything else is ignored (a group, a channel post).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from telegram import ChatMemberUpdated, Message, Update
from telegram.constants import MessageEntityType

from bot.conversation.model import Command, Document, Media, Photo, Text
from bot.i18n import language_for
from bot.inbox import Arrival
from bot.services.events import (
    BotBlocked,
    ButtonTapped,
    ClientAct,
    ClientEvent,
    CommandSent,
    ContactShared,
    MessageSent,
    Person,
)

__all__ = ["ALLOWED_UPDATES", "SOURCE", "UPDATE", "arrival", "to_event", "to_input", "who"]

log = logging.getLogger(__name__)

SOURCE = "telegram"
UPDATE = "update"  # the inbox kind of every Telegram update
# What the bot asks Telegram for (setWebhook / getUpdates allowed_updates); the rest is never sent.
ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")
_VOICE_KINDS = ("voice", "audio", "video_note")
_CONTENT = ("text", "photo", "document", "sticker", "voice", "audio", "video_note", "video", "animation",
            "location", "venue", "poll", "dice", "game")  # fmt: skip


def _parse(payload: Mapping[str, Any]) -> Update:
    return Update.de_json(dict(payload), None)


def arrival(payload: Mapping[str, Any]) -> Arrival:
    """The inbox arrival of one update (payload: Telegram's JSON with an integer update_id). An update
    python-telegram-bot cannot read is kept as unparsed, with the reason."""
    key = str(payload["update_id"])
    try:
        update = _parse(payload)
    except Exception as exc:  # the library raises whatever the malformed field provokes
        return Arrival(SOURCE, key, "tg:unparsed", UPDATE, payload, unparsed=f"{type(exc).__name__}: {exc}")
    chat = update.effective_chat
    user = update.effective_user
    scope = chat.id if chat is not None else (user.id if user is not None else 0)
    return Arrival(SOURCE, key, f"tg:chat:{scope}", UPDATE, payload)


def who(payload: Mapping[str, Any]) -> Person | None:
    """The private chat an update came from, or None (a group, a channel, no user)."""
    try:
        update = _parse(payload)
    except Exception:
        return None
    return _person(update)


def _person(update: Update) -> Person | None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.type != "private":
        return None  # the bot serves clients in private chats only
    return Person(chat.id, user.id, language_for(user.language_code), user.first_name)


def to_input(message: Message) -> Text | Photo | Document | Media:
    """The conversation's view of a message: text, the biggest photo size, a document, or another kind."""
    if message.text is not None:
        return Text(message.text, message.message_id)
    if message.photo:
        biggest = message.photo[-1]
        return Photo(biggest.file_id, biggest.file_size, message.caption)
    if message.document is not None:
        d = message.document
        return Document(d.file_id, d.file_name, d.file_size, d.mime_type, message.caption)
    if message.sticker is not None:
        return Media("sticker")
    if any(getattr(message, kind) is not None for kind in _VOICE_KINDS):
        return Media("voice")
    return Media("other")


def _command(message: Message) -> CommandSent | None:
    entities = message.entities or ()
    text = message.text or ""
    if not entities or entities[0].type != MessageEntityType.BOT_COMMAND or entities[0].offset != 0:
        return None
    word = text[: entities[0].length]
    name = word.lstrip("/").split("@", 1)[0].lower()[:32]
    argument = text[entities[0].length :].strip()
    return CommandSent(name, argument, Command(name, text, message.message_id))


def _act(update: Update) -> ClientAct | None:
    if update.callback_query is not None:
        q = update.callback_query
        message_id = q.message.message_id if q.message is not None else None
        html: str | None = None
        label: str | None = None
        rows: tuple[tuple[tuple[str, str], ...], ...] = ()
        if isinstance(q.message, Message):  # older than 48 h it may come back inaccessible: no text, no keyboard
            html = q.message.text_html if q.message.text else None
            markup = q.message.reply_markup
            rows = tuple(
                tuple((b.text, b.callback_data) for b in row if isinstance(b.callback_data, str))
                for row in (markup.inline_keyboard if markup is not None else ())
            )
            label = next((text for row in rows for text, data in row if data == q.data), None)
        return ButtonTapped(q.data or "", q.id, message_id, html, label, rows)
    if update.my_chat_member is not None:
        return _membership(update.my_chat_member)
    message = update.message  # an edited message is not a new answer (it would replay a step)
    if message is None:
        return None
    if message.contact is not None:
        return ContactShared(message.contact.phone_number, message.contact.user_id)
    if message.text is not None:
        command = _command(message)
        if command is not None:
            return command
    if not any(getattr(message, kind, None) for kind in _CONTENT):
        return None  # a service message (pinned, chat photo...): nothing a person said
    return MessageSent(to_input(message))


def _membership(change: ChatMemberUpdated) -> BotBlocked | None:
    status = change.new_chat_member.status
    if status == "kicked":
        return BotBlocked(True)
    if status == "member" and change.old_chat_member.status == "kicked":
        return BotBlocked(False)
    return None


def to_event(payload: Mapping[str, Any]) -> ClientEvent | None:
    """The client event an update carries, or None when it carries nothing the bot answers."""
    update = _parse(payload)
    person = _person(update)
    if person is None:
        return None
    act = _act(update)
    return None if act is None else ClientEvent(person, act)
