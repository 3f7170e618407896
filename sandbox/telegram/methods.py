"""Bot API methods that send, edit and delete messages, answer buttons, and manage commands and chats."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.telegram import errors
from sandbox.telegram.errors import bad_request
from sandbox.telegram.html_entities import html_unescaped_ampersands
from sandbox.telegram.limits import (
    CHAT_ACTIONS,
    MAX_CALLBACK_ANSWER,
    as_bool,
    as_int,
    check_commands,
    check_reply_markup,
    decode_json_field,
    parse_formatted,
    require,
)
from sandbox.telegram.models import JSON, StoredMessage
from sandbox.telegram.state import StandInState


@dataclass
class Upload:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class Params:
    """A request's parameters (text values from forms and queries, objects from JSON) and its uploads."""

    values: JSON
    uploads: dict[str, Upload] = field(default_factory=dict)
    # Whether the caller still listens; a long poll abandoned by a stopped bot gets its 409 unheard.
    connected: Callable[[], bool] = lambda: True

    def get(self, name: str, default: Any = None) -> Any:
        """One parameter, or the default."""
        return self.values.get(name, default)


Method = Callable[[StandInState, Params], Awaitable[Any]]
METHODS: dict[str, Method] = {}
SEND_METHODS = frozenset({"sendmessage", "sendphoto", "senddocument"})


def method(name: str) -> Callable[[Method], Method]:
    """Register a Bot API method (names are case-insensitive, as on api.telegram.org)."""

    def register(fn: Method) -> Method:
        METHODS[name.lower()] = fn
        return fn

    return register


def formatted(st: StandInState, p: Params, method_name: str, *, caption: bool = False) -> tuple[str, list[JSON]]:
    """Text or caption after its parse mode, with a silent violation for a literal `&` in HTML."""
    key = "caption" if caption else "text"
    raw = p.get(key)
    if raw is None:
        if caption:
            return "", []
        raise bad_request(errors.TEXT_EMPTY)
    raw = str(raw)
    text, entities = parse_formatted(
        raw, p.get("parse_mode"), p.get("caption_entities" if caption else "entities"), caption=caption
    )
    if str(p.get("parse_mode") or "").lower() == "html" and html_unescaped_ampersands(raw):
        st.record_violation(
            "unescaped_html",
            method_name,
            "'&' not escaped as &amp; in HTML text (user text not escaped?)",
            {key: raw},
        )
    return text, entities


def reply_fields(st: StandInState, p: Params, chat_id: int) -> JSON:
    """reply_parameters / reply_to_message_id and link preview options, as the message will carry them."""
    out: JSON = {}
    reply = decode_json_field(p.get("reply_parameters"), "can't parse reply parameters JSON object")
    if reply is None and p.get("reply_to_message_id") not in (None, ""):
        reply = {
            "message_id": p.get("reply_to_message_id"),
            "allow_sending_without_reply": p.get("allow_sending_without_reply", False),
        }
    if reply is not None:
        if not isinstance(reply, dict) or "message_id" not in reply:
            raise bad_request("can't parse reply parameters JSON object")
        target = st.find_message(reply.get("chat_id", chat_id), reply["message_id"])
        if target is None:
            if not as_bool(reply.get("allow_sending_without_reply", False)):
                raise bad_request("message to be replied not found")
        else:
            quoted = {k: v for k, v in target.payload.items() if k != "reply_to_message"}
            out["reply_to_message"] = quoted
    preview = decode_json_field(p.get("link_preview_options"), "can't parse link preview options JSON object")
    if preview is None and as_bool(p.get("disable_web_page_preview", False)):
        preview = {"is_disabled": True}
    if isinstance(preview, dict) and preview:
        out["link_preview_options"] = preview
    return out


def apply_markup(st: StandInState, chat_id: int, markup: JSON | None, content: JSON) -> None:
    """Inline keyboards travel with the message; reply keyboards change what the chat shows."""
    if markup is None:
        return
    if "inline_keyboard" in markup:
        content["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
    elif "keyboard" in markup:
        st.reply_keyboards[chat_id] = markup
    elif markup.get("remove_keyboard"):
        st.reply_keyboards[chat_id] = None


def rate_check(st: StandInState, chat_id: int) -> None:
    """Telegram's send pacing, only when the test switched rate limits on."""
    if st.rate_limits:
        st.rate_limiter.check(chat_id)


@method("getMe")
async def get_me(st: StandInState, p: Params) -> JSON:
    """The bot's own user."""
    return st.bot_user()


@method("sendMessage")
async def send_message(st: StandInState, p: Params) -> JSON:
    """A text message with optional parse mode, keyboard, reply and link preview options."""
    user = st.chat_for_bot(require(p.values, "chat_id"))
    text, entities = formatted(st, p, "sendMessage")
    markup = check_reply_markup(p.get("reply_markup"))
    content: JSON = {"text": text}
    if entities:
        content["entities"] = entities
    content.update(reply_fields(st, p, user.id))
    rate_check(st, user.id)
    apply_markup(st, user.id, markup, content)
    return st.store_message(user.id, True, content).payload


def editable(st: StandInState, p: Params, *, deleting: bool = False) -> StoredMessage:
    """The bot message an edit addresses, with Telegram's not-found errors."""
    not_found = errors.DELETE_NOT_FOUND if deleting else errors.EDIT_NOT_FOUND
    if p.get("inline_message_id"):
        raise bad_request(not_found)
    chat_id = require(p.values, "chat_id")
    message_id = require(p.values, "message_id")
    st.chat_for_bot(chat_id)
    stored = st.find_message(chat_id, message_id)
    if stored is None:
        raise bad_request(not_found)
    if not stored.from_bot and not deleting:
        raise bad_request("message can't be edited")
    return stored


def apply_edit(st: StandInState, stored: StoredMessage, changes: JSON, markup: JSON | None) -> JSON:
    """Replace content and inline keyboard (omitted markup removes it, as on Telegram)."""
    new_payload = {k: v for k, v in stored.payload.items() if k not in ("reply_markup", "edit_date")}
    for key, value in changes.items():
        if value in (None, []):
            new_payload.pop(key, None)
        else:
            new_payload[key] = value
    if markup is not None and "inline_keyboard" in markup:
        new_payload["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
    old = {k: v for k, v in stored.payload.items() if k != "edit_date"}
    if new_payload == old:
        raise bad_request(errors.NOT_MODIFIED)
    stored.versions.append(stored.payload)
    new_payload["edit_date"] = int(st.clock())
    stored.payload = new_payload
    stored.edited = True
    if st.has_subscribers:
        st.publish({"type": "edited", "chat_id": stored.chat_id, "message": st.view_message(stored)})
    return new_payload


def inline_only(raw: Any) -> JSON | None:
    """Edits accept only inline keyboards."""
    markup = check_reply_markup(raw)
    if markup is not None and "inline_keyboard" not in markup:
        raise bad_request("inline keyboard expected")
    return markup


@method("editMessageText")
async def edit_message_text(st: StandInState, p: Params) -> JSON:
    """Change a bot message's text (and its inline keyboard)."""
    stored = editable(st, p)
    if "text" not in stored.payload:
        raise bad_request("there is no text in the message to edit")
    text, entities = formatted(st, p, "editMessageText")
    markup = inline_only(p.get("reply_markup"))
    return apply_edit(st, stored, {"text": text, "entities": entities}, markup)


@method("editMessageCaption")
async def edit_message_caption(st: StandInState, p: Params) -> JSON:
    """Change a bot media message's caption."""
    stored = editable(st, p)
    if "text" in stored.payload:
        raise bad_request("there is no caption in the message to edit")
    caption, entities = formatted(st, p, "editMessageCaption", caption=True)
    markup = inline_only(p.get("reply_markup"))
    return apply_edit(st, stored, {"caption": caption or None, "caption_entities": entities}, markup)


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(st: StandInState, p: Params) -> JSON:
    """Change (or remove) a bot message's inline keyboard."""
    stored = editable(st, p)
    markup = inline_only(p.get("reply_markup"))
    return apply_edit(st, stored, {}, markup)


@method("deleteMessage")
async def delete_message(st: StandInState, p: Params) -> bool:
    """Delete a message from the chat (bots may delete both sides in private chats)."""
    stored = editable(st, p, deleting=True)
    stored.deleted = True
    st.publish({"type": "deleted", "chat_id": stored.chat_id, "message_id": stored.message_id})
    return True


@method("answerCallbackQuery")
async def answer_callback_query(st: StandInState, p: Params) -> bool:
    """Stop the button's spinner; each query can be answered once, before it expires."""
    query_id = str(require(p.values, "callback_query_id", "QUERY_ID_INVALID"))
    text = p.get("text")
    if text is not None and len(str(text)) > MAX_CALLBACK_ANSWER:
        raise bad_request("MESSAGE_TOO_LONG")
    query = st.queries.get(query_id)
    now = st.clock()
    if query is None or query.answered or now - query.created > st.callback_expiry:
        raise bad_request(errors.QUERY_TOO_OLD)
    query.answered = True
    query.answer = {"text": text, "show_alert": as_bool(p.get("show_alert", False)), "url": p.get("url")}
    st.publish({"type": "callback_answer", "chat_id": query.chat_id, "query_id": query_id, **query.answer})
    return True


@method("sendChatAction")
async def send_chat_action(st: StandInState, p: Params) -> bool:
    """Show "typing…" and similar in the chat."""
    user = st.chat_for_bot(require(p.values, "chat_id"))
    action = str(require(p.values, "action", "action is empty"))
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    st.chat_actions[user.id] = action
    st.publish({"type": "chat_action", "chat_id": user.id, "action": action})
    return True


def scope_key(p: Params) -> tuple[str, str]:
    """Commands are kept per (scope, language_code)."""
    scope = decode_json_field(p.get("scope"), "can't parse BotCommandScope JSON object") or {"type": "default"}
    if not isinstance(scope, dict) or scope.get("type") not in (
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    ):
        raise bad_request("can't parse BotCommandScope JSON object")
    if "chat_id" in scope:
        scope = {**scope, "chat_id": as_int(scope["chat_id"], "chat_id")}
    language = str(p.get("language_code") or "")
    if language and (len(language) != 2 or not language.isalpha()):
        raise bad_request("invalid language code specified")
    return json.dumps(scope, sort_keys=True), language


@method("setMyCommands")
async def set_my_commands(st: StandInState, p: Params) -> bool:
    """Set the command menu for a scope and language."""
    commands = check_commands(require(p.values, "commands", "can't parse commands JSON object"))
    key = scope_key(p)
    if commands:
        st.commands[key] = commands
    else:
        st.commands.pop(key, None)
    return True


@method("getMyCommands")
async def get_my_commands(st: StandInState, p: Params) -> list[dict[str, str]]:
    """The commands set for exactly this scope and language."""
    return st.commands.get(scope_key(p), [])


@method("deleteMyCommands")
async def delete_my_commands(st: StandInState, p: Params) -> bool:
    """Remove the commands of a scope and language."""
    st.commands.pop(scope_key(p), None)
    return True


@method("setChatMenuButton")
async def set_chat_menu_button(st: StandInState, p: Params) -> bool:
    """The menu button of one private chat, or the default one."""
    button = decode_json_field(p.get("menu_button"), "can't parse menu button JSON object") or {"type": "default"}
    if not isinstance(button, dict) or button.get("type") not in ("commands", "web_app", "default"):
        raise bad_request("can't parse menu button JSON object")
    chat_id = p.get("chat_id")
    key = None if chat_id in (None, "") else st.chat_for_bot(chat_id).id
    st.menu_buttons[key] = button
    return True


@method("getChatMenuButton")
async def get_chat_menu_button(st: StandInState, p: Params) -> JSON:
    """The menu button a chat shows."""
    chat_id = p.get("chat_id")
    key = None if chat_id in (None, "") else st.chat_for_bot(chat_id).id
    button = st.menu_buttons.get(key) or st.menu_buttons.get(None) or {"type": "commands"}
    return button if button.get("type") != "default" else {"type": "commands"}


@method("getChat")
async def get_chat(st: StandInState, p: Params) -> JSON:
    """Full information about a private chat (a ChatFullInfo)."""
    chat_id = require(p.values, "chat_id")
    try:
        user = st.users[int(chat_id)]
    except (KeyError, ValueError):
        raise bad_request(errors.CHAT_NOT_FOUND) from None
    gifts = {
        "unlimited_gifts": False,
        "limited_gifts": False,
        "unique_gifts": False,
        "premium_subscription": False,
        "gifts_from_channels": False,
    }
    return {**user.chat_api(), "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}
