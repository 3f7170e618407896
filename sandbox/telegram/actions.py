"""What a user can do in their Telegram app: type, send photos/files/contacts/stickers/voice, tap, block."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sandbox.telegram.html_entities import find_bot_commands
from sandbox.telegram.models import JSON, CallbackQuery, StoredMessage, tiny_png
from sandbox.telegram.state import StandInState


class ActionError(ValueError):
    """The user cannot do that in a real Telegram app (e.g. tap a button that is not there)."""


@dataclass(frozen=True)
class Sent:
    """The result of a user action: the update created (None if filtered out) and the message, if any."""

    update_id: int | None
    message: StoredMessage | None = None
    query_id: str | None = None


def _sender(st: StandInState, user_id: int) -> int:
    user = st.user(user_id)
    if user.blocked:
        raise ActionError("the user blocked the bot: unblock it first (Telegram offers 'Restart')")
    return user.id


async def _send(st: StandInState, user_id: int, content: JSON) -> Sent:
    chat_id = _sender(st, user_id)
    st.users[chat_id].started = True
    keyboard = st.reply_keyboards.get(chat_id)
    if keyboard and keyboard.get("one_time_keyboard"):
        st.reply_keyboards[chat_id] = None  # the app hides a one-time keyboard once anything is sent
    stored = st.store_message(chat_id, False, content)
    update_id = await st.push_update("message", stored.payload)
    return Sent(update_id, stored)


async def send_text(st: StandInState, user_id: int, text: str) -> Sent:
    """Type and send text; commands (`/start ABC123`) carry bot_command entities like the real app adds."""
    if not text.strip():
        raise ActionError("Telegram does not send an empty message")
    if len(text) > 4096:
        raise ActionError("the app splits text over 4096 characters; send shorter pieces")
    content: JSON = {"text": text}
    entities = find_bot_commands(text)
    if entities:
        content["entities"] = entities
    return await _send(st, user_id, content)


async def send_photo(
    st: StandInState,
    user_id: int,
    *,
    caption: str | None = None,
    width: int = 1280,
    height: int = 960,
    content: bytes | None = None,
) -> Sent:
    """Send a photo: Telegram gives the bot several sizes, each a downloadable file."""
    from sandbox.telegram.media import photo_entries

    data = content if content is not None else tiny_png()
    message: JSON = {"photo": photo_entries(st, width, height, data, max(len(data), width * height // 8))}
    if caption:
        message["caption"] = caption
    return await _send(st, user_id, message)


async def send_document(
    st: StandInState,
    user_id: int,
    file_name: str = "reporte.pdf",
    size: int = 2048,
    *,
    mime_type: str = "application/pdf",
    content: bytes | None = None,
    caption: str | None = None,
) -> Sent:
    """Send a file; without content it is virtual (any size, even over 20 MB, nothing allocated)."""
    if size <= 0 and content is None:
        raise ActionError("a document has at least one byte")
    stored = st.add_file(
        "document",
        len(content) if content is not None else size,
        content,
        mime_type=mime_type,
        file_name=file_name,
    )
    message: JSON = {
        "document": {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": stored.size,
        }
    }
    if caption:
        message["caption"] = caption
    return await _send(st, user_id, message)


async def share_contact(
    st: StandInState,
    user_id: int,
    phone_number: str | None = None,
    *,
    own: bool = True,
    contact_user_id: int | None = None,
    first_name: str | None = None,
) -> Sent:
    """Share a contact: their own (user_id = sender, as the request_contact button sends) or someone's."""
    user = st.user(user_id)
    if own:
        phone = phone_number or user.phone
        if not phone:
            raise ActionError("the user has no phone number: give one")
        contact: JSON = {"phone_number": phone, "first_name": user.first_name, "user_id": user.id}
        if user.last_name:
            contact["last_name"] = user.last_name
    else:
        if not phone_number:
            raise ActionError("a shared contact needs a phone number")
        contact = {"phone_number": phone_number, "first_name": first_name or "Contacto"}
        if contact_user_id is not None:
            contact["user_id"] = contact_user_id
    return await _send(st, user_id, {"contact": contact})


async def send_sticker(st: StandInState, user_id: int, emoji: str = "👍") -> Sent:
    """Send a sticker (a static .webp of 512×512)."""
    stored = st.add_file("sticker", 15_000, None)
    sticker = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": emoji,
        "file_size": stored.size,
    }
    return await _send(st, user_id, {"sticker": sticker})


async def send_voice(st: StandInState, user_id: int, duration: int = 3) -> Sent:
    """Send a voice note (OGG/Opus)."""
    if duration <= 0:
        raise ActionError("a voice note lasts at least one second")
    stored = st.add_file("voice", duration * 4_000, None)
    voice = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "duration": duration,
        "mime_type": "audio/ogg",
        "file_size": stored.size,
    }
    return await _send(st, user_id, {"voice": voice})


async def tap(st: StandInState, user_id: int, message_id: int, data: str, *, forge: bool = False) -> Sent:
    """Tap an inline button; `forge=True` sends data that is not on the message (tampering tests only)."""
    chat_id = _sender(st, user_id)
    stored = st.find_message(chat_id, message_id)
    if stored is None:
        raise ActionError(f"message {message_id} is not in the chat (deleted or never sent)")
    if not forge and data not in stored.callback_data():
        raise ActionError(f"message {message_id} has no button with callback_data {data!r}")
    query = CallbackQuery(secrets.token_hex(8), user_id, chat_id, message_id, data, st.clock())
    st.queries[query.id] = query
    body: JSON = {
        "id": query.id,
        "from": st.users[user_id].to_api(),
        "message": stored.payload,
        "chat_instance": str(chat_id * 7 + st.bot_id),
        "data": data,
    }
    update_id = await st.push_update("callback_query", body)

    def check() -> None:
        if not query.answered and not query.violation_recorded:
            query.violation_recorded = True
            st.record_violation(
                "unanswered_callback_query",
                "answerCallbackQuery",
                f"callback query {query.id} (data {data!r}) not answered within {st.callback_answer_timeout:g} s",
                {"callback_query_id": query.id, "data": data, "message_id": message_id},
            )

    st.call_later(st.callback_answer_timeout, check)
    return Sent(update_id, stored, query.id)


async def set_blocked(st: StandInState, user_id: int, blocked: bool) -> Sent:
    """Block (or restart) the bot: sends the my_chat_member update Telegram sends."""
    user = st.user(user_id)
    if user.blocked == blocked:
        return Sent(None)
    user.blocked = blocked
    old, new = ("member", "kicked") if blocked else ("kicked", "member")
    bot = st.bot_user_short()
    body: JSON = {
        "chat": user.chat_api(),
        "from": user.to_api(),
        "date": int(st.clock()),
        "old_chat_member": _member(bot, old, st.clock()),
        "new_chat_member": _member(bot, new, st.clock()),
    }
    return Sent(await st.push_update("my_chat_member", body))


def _member(bot: JSON, status: str, now: float) -> JSON:
    return {"user": bot, "status": status, "until_date": 0} if status == "kicked" else {"user": bot, "status": status}
