"""Bot API methods for the bot's profile (name, descriptions), bulk deletion and close."""

from __future__ import annotations

from sandbox.telegram import errors
from sandbox.telegram.errors import bad_request
from sandbox.telegram.limits import as_int, decode_json_field, require
from sandbox.telegram.methods import Params, method
from sandbox.telegram.models import JSON
from sandbox.telegram.state import StandInState

# field, Bot API key, maximum length, Telegram's error
_PROFILE = {
    "name": ("name", 64, "BOT_TITLE_INVALID"),
    "description": ("description", 512, "BOT_DESCRIPTION_INVALID"),
    "short_description": ("short_description", 120, "BOT_ABOUT_INVALID"),
}


def _language(p: Params) -> str:
    language = str(p.get("language_code") or "")
    if language and (len(language) != 2 or not language.isalpha()):
        raise bad_request("invalid language code specified")
    return language


def _setter(field: str) -> None:
    key, limit, error = _PROFILE[field]

    async def set_text(st: StandInState, p: Params) -> bool:
        text = str(p.get(key) or "")
        if len(text) > limit:
            raise bad_request(error)
        language = _language(p)
        if text:
            st.profile_texts[(field, language)] = text
        else:
            st.profile_texts.pop((field, language), None)
        return True

    async def get_text(st: StandInState, p: Params) -> JSON:
        language = _language(p)
        texts = st.profile_texts
        value = texts.get((field, language)) or texts.get((field, ""))
        if field == "name" and value is None:
            value = st.bot_name
        return {key: value or ""}

    camel = "".join(part.capitalize() for part in field.split("_"))
    method(f"setMy{camel}")(set_text)
    method(f"getMy{camel}")(get_text)


for _field in _PROFILE:
    _setter(_field)


@method("deleteMessages")
async def delete_messages(st: StandInState, p: Params) -> bool:
    """Delete 1–100 messages at once; missing ones are skipped, as on Telegram."""
    chat = st.chat_for_bot(require(p.values, "chat_id"))
    ids = decode_json_field(require(p.values, "message_ids"), "can't parse message identifiers JSON object")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message identifiers are invalid")
    found = [st.find_message(chat.id, as_int(i, "message_ids")) for i in ids]
    live = [m for m in found if m is not None]
    if not live:
        raise bad_request(errors.DELETE_NOT_FOUND)
    for stored in live:
        stored.deleted = True
        st.publish({"type": "deleted", "chat_id": stored.chat_id, "message_id": stored.message_id})
    return True


@method("close")
async def close(st: StandInState, p: Params) -> bool:
    """Accepted and ignored: there is no cloud instance to close."""
    return True
