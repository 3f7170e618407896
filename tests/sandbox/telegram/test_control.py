"""The control API the sandbox page uses (JSON under /sandbox/telegram/) and its live event stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from sandbox.telegram import StandIn


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def url(standin: StandIn, path: str) -> str:
    assert standin.urls is not None
    return f"{standin.urls.root}/sandbox/telegram{path}"


async def post(http: aiohttp.ClientSession, address: str, body: Any = None) -> tuple[int, Any]:
    async with http.post(address, json=body) as r:
        return r.status, await r.json()


async def make_user(standin: StandIn, http: aiohttp.ClientSession, **fields: Any) -> int:
    status, body = await post(http, url(standin, "/users"), {"first_name": "Laura", **fields})
    assert status == 200, body
    return int(body["result"]["id"])


async def test_create_user_and_read_state(standin: StandIn, http: aiohttp.ClientSession) -> None:
    uid = await make_user(standin, http, language_code="en", phone="+521555")
    async with http.get(url(standin, "/state")) as r:
        state = (await r.json())["result"]
    assert state["users"][0]["id"] == uid and state["users"][0]["language_code"] == "en"
    assert state["bot"]["username"] == standin.state.bot_username


@pytest.mark.parametrize(
    "body",
    [{}, {"first_name": ""}, {"first_name": "A", "language_code": "fr"}, {"first_name": "A", "colour": "red"}],
)
async def test_bad_user_creation_is_refused(standin: StandIn, http: aiohttp.ClientSession, body: Any) -> None:
    status, answer = await post(http, url(standin, "/users"), body)
    assert status == 400 and answer["ok"] is False and answer["error"]


async def test_user_actions_reach_the_bot_and_the_chat_view(
    standin: StandIn, http: aiohttp.ClientSession, bot: Bot
) -> None:
    uid = await make_user(standin, http, phone="+5215512345678")
    for action, body in [
        ("send", {"text": "/start ABC123"}),
        ("photo", {"caption": "captura"}),
        ("document", {"file_name": "log.txt", "size": 30_000_000, "mime_type": "text/plain"}),
        ("contact", {"own": True}),
        ("sticker", {"emoji": "🔥"}),
        ("voice", {"duration": 4}),
    ]:
        status, answer = await post(http, url(standin, f"/users/{uid}/{action}"), body)
        assert status == 200, (action, answer)
    updates = await bot.get_updates(timeout=0)
    messages = [u.message for u in updates if u.message]
    assert messages[0].text == "/start ABC123" and messages[0].entities[0].type == "bot_command"
    assert messages[1].photo and messages[2].document and messages[2].document.file_size == 30_000_000
    assert messages[3].contact is not None and messages[3].contact.user_id == uid
    assert messages[4].sticker is not None and messages[4].sticker.emoji == "🔥"
    assert messages[5].voice is not None
    async with http.get(url(standin, f"/users/{uid}/chat")) as r:
        view = (await r.json())["result"]
    assert [m["from"] for m in view["messages"]] == ["user"] * 6


async def test_page_cannot_forge_a_tap(standin: StandIn, http: aiohttp.ClientSession, bot: Bot) -> None:
    uid = await make_user(standin, http)
    await post(http, url(standin, f"/users/{uid}/send"), {"text": "/start"})
    message = await bot.send_message(
        uid, "¿Severidad?", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("1", callback_data="sev:1")]])
    )
    status, answer = await post(
        http,
        url(standin, f"/users/{uid}/tap"),
        {"message_id": message.message_id, "callback_data": "admin:1", "forge": True},
    )
    assert status == 400 and "no button" in answer["error"]
    status, answer = await post(
        http, url(standin, f"/users/{uid}/tap"), {"message_id": message.message_id, "callback_data": "sev:1"}
    )
    assert status == 200 and answer["result"]["callback_query_id"]


async def test_unknown_user_and_action(standin: StandIn, http: aiohttp.ClientSession) -> None:
    status, _ = await post(http, url(standin, "/users/99/send"), {"text": "x"})
    assert status == 404
    uid = await make_user(standin, http)
    status, answer = await post(http, url(standin, f"/users/{uid}/teleport"), {})
    assert status == 404 and "send" in answer["error"]
    status, answer = await post(http, url(standin, f"/users/{uid}/send"), {"text": "   "})
    assert status == 400
    status, answer = await post(http, url(standin, f"/users/{uid}/voice"), {"duration": "long"})
    assert status == 400


async def test_chat_view_shows_rendered_text_buttons_keyboard_and_flags(
    standin: StandIn, http: aiohttp.ClientSession, bot: Bot
) -> None:
    from telegram import KeyboardButton, ReplyKeyboardMarkup

    uid = await make_user(standin, http)
    await post(http, url(standin, f"/users/{uid}/send"), {"text": "/start"})
    kb = ReplyKeyboardMarkup([[KeyboardButton("Compartir", request_contact=True)]])
    await bot.send_message(uid, "<b>Hola</b> &lt;tú&gt;", parse_mode="HTML", reply_markup=kb)
    edited = await bot.send_message(
        uid, "antes", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
    )
    await bot.edit_message_text("después", uid, edited.message_id)
    gone = await bot.send_message(uid, "borrado")
    await bot.delete_message(uid, gone.message_id)
    async with http.get(url(standin, f"/users/{uid}/chat")) as r:
        view = (await r.json())["result"]
    bot_msgs = [m for m in view["messages"] if m["from"] == "bot"]
    assert bot_msgs[0]["html"] == "<b>Hola</b> &lt;tú&gt;"
    assert bot_msgs[1]["text"] == "después" and bot_msgs[1]["edited"] and bot_msgs[1]["buttons"] == []
    assert bot_msgs[2]["deleted"] is True
    assert view["reply_keyboard"]["keyboard"][0][0]["request_contact"] is True


async def test_violations_endpoint(standin: StandIn, http: aiohttp.ClientSession, bot: Bot) -> None:
    from telegram.error import BadRequest

    with pytest.raises(BadRequest):
        await bot.send_message(31337, "x")
    async with http.get(url(standin, "/violations")) as r:
        violations = (await r.json())["result"]
    assert violations[-1]["description"] == "Bad Request: chat not found"
    assert violations[-1]["method"] == "sendMessage" and violations[-1]["params"]["chat_id"] == "31337"


async def test_event_stream_over_sse(standin: StandIn, http: aiohttp.ClientSession, bot: Bot) -> None:
    uid = await make_user(standin, http)
    await post(http, url(standin, f"/users/{uid}/send"), {"text": "/start"})
    events: list[tuple[str, dict[str, Any]]] = []

    async def listen() -> None:
        async with http.get(url(standin, "/events")) as r:
            assert r.headers["Content-Type"].startswith("text/event-stream")
            kind = ""
            async for raw in r.content:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    kind = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    events.append((kind, json.loads(line.removeprefix("data: "))))
                    if len(events) == 3:
                        return

    task = asyncio.create_task(listen())
    await asyncio.sleep(0.1)
    message = await bot.send_message(uid, "nuevo")
    await bot.edit_message_text("editado", uid, message.message_id)
    await bot.delete_message(uid, message.message_id)
    await asyncio.wait_for(task, 3)
    assert [k for k, _ in events] == ["message", "edited", "deleted"]
    assert events[1][1]["message"]["text"] == "editado"


async def test_in_process_subscription_sees_violations(standin: StandIn, bot: Bot) -> None:
    from telegram.error import BadRequest

    async with standin.state.subscribe() as queue:
        with pytest.raises(BadRequest):
            await bot.send_message(4242, "x")
        event = await asyncio.wait_for(queue.get(), 1)
    assert event["type"] == "violation" and event["violation"]["description"] == "Bad Request: chat not found"
