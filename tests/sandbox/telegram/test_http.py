"""The wire format: GET query, form, JSON and multipart bodies; token and method errors with real statuses."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import Bot
from telegram.error import EndPointNotFound

from sandbox.telegram import StandIn, User
from sandbox.telegram.models import tiny_png


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def api(standin: StandIn, method: str) -> str:
    assert standin.urls is not None
    return f"{standin.urls.base_url}{standin.token}/{method}"


async def test_get_with_query_parameters(standin: StandIn, http: aiohttp.ClientSession, user: User) -> None:
    async with http.get(api(standin, "sendMessage"), params={"chat_id": str(user.id), "text": "por GET"}) as r:
        body = await r.json()
    assert r.status == 200 and body["ok"] is True and body["result"]["text"] == "por GET"


async def test_form_body_with_json_encoded_markup(standin: StandIn, http: aiohttp.ClientSession, user: User) -> None:
    markup = json.dumps({"inline_keyboard": [[{"text": "Sí", "callback_data": "yes"}]]})
    form = {"chat_id": str(user.id), "text": "¿Confirmas?", "reply_markup": markup}
    async with http.post(api(standin, "sendMessage"), data=form) as r:
        body = await r.json()
    assert body["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "yes"


async def test_json_body_with_objects(standin: StandIn, http: aiohttp.ClientSession, user: User) -> None:
    payload = {
        "chat_id": user.id,
        "text": "x",
        "reply_markup": {"inline_keyboard": [[{"text": "a", "url": "https://a.mx"}]]},
    }
    async with http.post(api(standin, "sendMessage"), json=payload) as r:
        body = await r.json()
    assert body["result"]["reply_markup"]["inline_keyboard"][0][0]["url"] == "https://a.mx"


async def test_multipart_with_attach_reference(standin: StandIn, http: aiohttp.ClientSession, user: User) -> None:
    form = aiohttp.FormData()
    form.add_field("chat_id", str(user.id))
    form.add_field("photo", "attach://pic")
    form.add_field("pic", tiny_png(), filename="pic.png", content_type="image/png")
    async with http.post(api(standin, "sendPhoto"), data=form) as r:
        body = await r.json()
    assert r.status == 200 and body["result"]["photo"][-1]["width"] == 2


async def test_error_body_and_status(standin: StandIn, http: aiohttp.ClientSession, user: User) -> None:
    async with http.post(api(standin, "sendMessage"), json={"chat_id": user.id, "text": ""}) as r:
        body = await r.json()
    assert r.status == 400
    assert body == {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"}


async def test_bad_markup_json(standin: StandIn, http: aiohttp.ClientSession, user: User) -> None:
    form = {"chat_id": str(user.id), "text": "x", "reply_markup": "{not json"}
    async with http.post(api(standin, "sendMessage"), data=form) as r:
        body = await r.json()
    assert body["description"] == "Bad Request: can't parse reply keyboard markup JSON object"


async def test_unknown_method_is_404(standin: StandIn, http: aiohttp.ClientSession, bot: Bot) -> None:
    async with http.post(api(standin, "sendTelepathy"), json={}) as r:
        body = await r.json()
    assert r.status == 404 and body == {"ok": False, "error_code": 404, "description": "Not Found"}
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", {})


async def test_method_names_are_case_insensitive(standin: StandIn, http: aiohttp.ClientSession) -> None:
    async with http.get(api(standin, "GETME")) as r:
        body = await r.json()
    assert body["result"]["username"] == standin.state.bot_username


@pytest.mark.parametrize(
    ("token", "status", "description"),
    [("123:" + "A" * 35, 401, "Unauthorized"), ("not-a-token", 404, "Not Found"), ("", 404, "Not Found")],
)
async def test_wrong_tokens(
    standin: StandIn, http: aiohttp.ClientSession, token: str, status: int, description: str
) -> None:
    assert standin.urls is not None
    async with http.get(f"{standin.urls.base_url}{token}/getMe") as r:
        body = await r.json()
    assert r.status == status and body == {"ok": False, "error_code": status, "description": description}


async def test_every_rejection_is_logged_with_a_parameter_summary(
    standin: StandIn, http: aiohttp.ClientSession, user: User
) -> None:
    async with http.post(api(standin, "sendMessage"), json={"chat_id": user.id, "text": "y" * 5000}):
        pass
    violation = standin.violations[-1]
    assert violation.method == "sendMessage" and violation.error_code == 400
    assert len(violation.params["text"]) == 120 and violation.params["text"].endswith("...")


async def test_commands_per_scope_and_language(standin: StandIn, bot: Bot, user: User) -> None:
    from telegram import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat

    await bot.set_my_commands([BotCommand("reportar", "Reportar un problema")])
    await bot.set_my_commands([BotCommand("report", "Report a problem")], language_code="en")
    await bot.set_my_commands(
        [BotCommand("poliza", "Mi póliza")], scope=BotCommandScopeAllPrivateChats(), language_code="es"
    )
    assert [c.command for c in await bot.get_my_commands()] == ["reportar"]
    assert [c.command for c in await bot.get_my_commands(language_code="en")] == ["report"]
    assert standin.commands(user) == [{"command": "poliza", "description": "Mi póliza"}]
    english = standin.create_user("John", language_code="en")
    assert [c["command"] for c in standin.commands(english)] == ["report"]
    await bot.set_my_commands([BotCommand("solo", "Solo tú")], scope=BotCommandScopeChat(user.id))
    assert [c["command"] for c in standin.commands(user)] == ["solo"]
    await bot.delete_my_commands(scope=BotCommandScopeChat(user.id))
    assert [c["command"] for c in standin.commands(user)] == ["poliza"]


@pytest.mark.parametrize("name", ["Start", "con espacio", "x" * 33, ""])
async def test_invalid_command_names_are_refused(standin: StandIn, http: aiohttp.ClientSession, name: str) -> None:
    payload = {"commands": [{"command": name, "description": "d"}]}
    async with http.post(api(standin, "setMyCommands"), json=payload) as r:
        body = await r.json()
    assert body["description"] == "Bad Request: BOT_COMMAND_INVALID"


async def test_get_chat_and_menu_button(bot: Bot, user: User) -> None:
    from telegram import MenuButtonCommands

    chat = await bot.get_chat(user.id)
    assert chat.first_name == "Laura" and chat.type == "private"
    assert await bot.set_chat_menu_button(user.id, MenuButtonCommands())
    assert isinstance(await bot.get_chat_menu_button(user.id), MenuButtonCommands)


async def test_chat_action_is_validated(standin: StandIn, bot: Bot, user: User) -> None:
    from telegram.error import BadRequest

    assert await bot.send_chat_action(user.id, "typing")
    assert standin.state.chat_actions[user.id] == "typing"
    with pytest.raises(BadRequest):
        await bot.send_chat_action(user.id, "dancing")
    assert standin.violations[-1].description == "Bad Request: wrong parameter action in request"


async def test_reply_parameters_and_link_preview(standin: StandIn, bot: Bot, user: User) -> None:
    from telegram import LinkPreviewOptions, ReplyParameters
    from telegram.error import BadRequest

    first = await bot.send_message(user.id, "pregunta")
    reply = await bot.send_message(
        user.id,
        "respuesta https://intecnia.mx",
        reply_parameters=ReplyParameters(first.message_id),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    assert reply.reply_to_message is not None and reply.reply_to_message.message_id == first.message_id
    assert reply.link_preview_options is not None and reply.link_preview_options.is_disabled
    with pytest.raises(BadRequest):
        await bot.send_message(user.id, "x", reply_parameters=ReplyParameters(9999))
    assert standin.violations[-1].description == "Bad Request: message to be replied not found"
    loose = await bot.send_message(
        user.id, "x", reply_parameters=ReplyParameters(9999, allow_sending_without_reply=True)
    )
    assert loose.reply_to_message is None


async def test_profile_texts_per_language(standin: StandIn, bot: Bot) -> None:
    from telegram.error import BadRequest

    assert await bot.set_my_description("Soporte técnico de Intecnia")
    assert await bot.set_my_description("Intecnia technical support", language_code="en")
    assert (await bot.get_my_description()).description == "Soporte técnico de Intecnia"
    assert (await bot.get_my_description(language_code="en")).description == "Intecnia technical support"
    assert (await bot.get_my_description(language_code="pt")).description == "Soporte técnico de Intecnia"
    assert await bot.set_my_short_description("s" * 120)
    with pytest.raises(BadRequest):
        await bot.set_my_short_description("s" * 121)
    assert (await bot.get_my_name()).name == standin.state.bot_name
    with pytest.raises(BadRequest):
        await bot.set_my_name("n" * 65)


async def test_delete_messages_skips_missing_ones(standin: StandIn, bot: Bot, user: User) -> None:
    from telegram.error import BadRequest

    first = await bot.send_message(user.id, "uno")
    second = await bot.send_message(user.id, "dos")
    assert await bot.delete_messages(user.id, [first.message_id, second.message_id, 9999])
    assert [m["deleted"] for m in standin.history(user) if m["from"] == "bot"] == [True, True]
    with pytest.raises(BadRequest):
        await bot.delete_messages(user.id, [9999])
    assert standin.violations[-1].description == "Bad Request: message to delete not found"


CHAT = "<the user's chat id>"
BAD_INPUTS = [
    ("sendMessage", {"text": "x"}, "Bad Request: chat_id is empty"),
    ("sendMessage", {"chat_id": "@nadie", "text": "x"}, "Bad Request: chat not found"),
    (
        "sendMessage",
        {"chat_id": CHAT, "text": "x", "reply_markup": '{"foo": 1}'},
        "Bad Request: can't parse reply keyboard markup JSON object",
    ),
    (
        "sendMessage",
        {"chat_id": CHAT, "text": "x", "reply_markup": "[1]"},
        "Bad Request: object expected as reply markup",
    ),
    (
        "sendMessage",
        {"chat_id": CHAT, "text": "x", "reply_markup": '{"inline_keyboard": [[{"text": "solo texto"}]]}'},
        "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
    ),
    (
        "sendMessage",
        {"chat_id": CHAT, "text": "x", "reply_markup": '{"inline_keyboard": {"a": 1}}'},
        'Bad Request: Field "inline_keyboard" of the InlineKeyboardMarkup must be an Array',
    ),
    (
        "sendMessage",
        {"chat_id": CHAT, "text": "x", "reply_parameters": "{bad"},
        "Bad Request: can't parse reply parameters JSON object",
    ),
    ("sendPhoto", {"chat_id": CHAT}, "Bad Request: there is no photo in the request"),
    ("sendPhoto", {"chat_id": CHAT, "photo": "attach://nada"}, "Bad Request: there is no photo in the request"),
    ("sendDocument", {"chat_id": CHAT}, "Bad Request: there is no document in the request"),
    (
        "sendPhoto",
        {"chat_id": CHAT, "photo": "https://example.com/a.png"},
        "Bad Request: failed to get HTTP URL content",
    ),
    ("getFile", {}, "Bad Request: invalid file_id"),
    ("sendChatAction", {"action": "typing", "chat_id": ""}, "Bad Request: chat_id is empty"),
    (
        "setWebhook",
        {"url": "http://127.0.0.1:9/h", "max_connections": "0"},
        "Bad Request: bad webhook: max_connections must be between 1 and 100",
    ),
    ("setWebhook", {"url": "nota-url"}, "Bad Request: bad webhook: Failed to resolve host: Name or service not known"),
    ("getUpdates", {"allowed_updates": '"message"'}, "Bad Request: can't parse allowed updates JSON object"),
    (
        "setMyCommands",
        {"commands": '[{"command": "ok", "description": ""}]'},
        "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID",
    ),
    ("setMyCommands", {"commands": "[]", "language_code": "esp"}, "Bad Request: invalid language code specified"),
    ("getMyCommands", {"scope": '{"type": "nope"}'}, "Bad Request: can't parse BotCommandScope JSON object"),
    ("answerCallbackQuery", {}, "Bad Request: QUERY_ID_INVALID"),
    (
        "editMessageText",
        {"chat_id": CHAT, "text": "x", "message_id": "1", "inline_message_id": "abc"},
        "Bad Request: message to edit not found",
    ),
]


@pytest.mark.parametrize(("method", "params", "description"), BAD_INPUTS)
async def test_bad_inputs_get_telegrams_errors(
    standin: StandIn, http: aiohttp.ClientSession, user: User, method: str, params: dict[str, str], description: str
) -> None:
    form = {k: str(user.id) if v == CHAT else v for k, v in params.items()}
    async with http.post(api(standin, method), data=form) as r:
        body = await r.json()
    assert r.status == 400
    assert body["description"] == description
