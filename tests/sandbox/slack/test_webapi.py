"""The Web API through the real slack_sdk client: auth, errors by name, messages, threads, conversations, users."""

from __future__ import annotations

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack.harness import Running


async def error_of(call: object) -> str:
    with pytest.raises(SlackApiError) as refused:
        await call  # type: ignore[misc]
    return str(refused.value.response["error"])


async def test_auth_test_identifies_the_bot(slack: Running) -> None:
    resp = await slack.client.auth_test()
    assert (resp["user_id"], resp["bot_id"], resp["team_id"]) == ("U0SUPPORTBOT", "B0SANDBOX", "T0SANDBOX")


async def test_wrong_token_is_invalid_auth(slack: Running) -> None:
    client = AsyncWebClient(token="xoxb-wrong", base_url=slack.api_url)
    assert await error_of(client.auth_test()) == "invalid_auth"


async def test_missing_token_is_not_authed(slack: Running) -> None:
    client = AsyncWebClient(base_url=slack.api_url)
    assert await error_of(client.chat_postMessage(channel="C0SUPPORT", text="x")) == "not_authed"


async def test_token_inside_a_json_body_is_not_accepted(slack: Running) -> None:
    async with aiohttp.ClientSession() as http:
        body = {"token": slack.standin.config.bot_token, "channel": "C0SUPPORT", "text": "x"}
        async with http.post(f"{slack.api_url}chat.postMessage", json=body) as resp:
            assert resp.status == 200
            assert (await resp.json())["error"] == "not_authed"


async def test_token_as_form_field_is_accepted(slack: Running) -> None:
    async with aiohttp.ClientSession() as http:
        form = {"token": slack.standin.config.bot_token, "channel": "C0SUPPORT", "text": "hola"}
        async with http.post(f"{slack.api_url}chat.postMessage", data=form) as resp:
            assert (await resp.json())["ok"] is True


async def test_unknown_method(slack: Running) -> None:
    assert await error_of(slack.client.api_call("chat.postMessages")) == "unknown_method"


async def test_unknown_channel(slack: Running) -> None:
    assert await error_of(slack.client.chat_postMessage(channel="C0NOPE", text="x")) == "channel_not_found"


async def test_channel_the_bot_is_not_in(slack: Running) -> None:
    slack.standin.add_channel("C0OTHER", "otro")
    assert await error_of(slack.client.chat_postMessage(channel="C0OTHER", text="x")) == "not_in_channel"


async def test_post_by_channel_name_and_to_a_user_id_dm(slack: Running) -> None:
    slack.standin.add_user("U0AGENT", "ana")
    assert (await slack.client.chat_postMessage(channel="#soporte", text="x"))["channel"] == "C0SUPPORT"
    dm = await slack.client.chat_postMessage(channel="U0AGENT", text="hola")
    assert dm["channel"].startswith("D")


async def test_update_of_missing_message(slack: Running) -> None:
    assert await error_of(slack.client.chat_update(channel="C0SUPPORT", ts="1.000001", text="x")) == "message_not_found"


async def test_update_keeps_edit_history(slack: Running) -> None:
    ts = (await slack.client.chat_postMessage(channel="C0SUPPORT", text="v1"))["ts"]
    await slack.client.chat_update(channel="C0SUPPORT", ts=ts, text="v2")
    resp = await slack.client.chat_update(channel="C0SUPPORT", ts=ts, text="v3")
    assert resp["message"]["edited"]["user"] == "U0SUPPORTBOT"
    message = slack.standin.messages[("C0SUPPORT", ts)]
    assert [e["text"] for e in message.edits] == ["v1", "v2"] and message.text == "v3"


async def test_bot_cannot_edit_a_person_message(slack: Running, bolt: object) -> None:
    slack.standin.add_user("U0AGENT", "ana")
    message, _ = await slack.standin.actions.post("U0AGENT", "C0SUPPORT", "mío")
    assert await error_of(slack.client.chat_update(channel="C0SUPPORT", ts=message.ts, text="x")) == (
        "cant_update_message"
    )


async def test_ephemeral_to_member_and_to_outsider(slack: Running) -> None:
    slack.standin.add_user("U0AGENT", "ana")
    slack.standin.add_user("U0OUT", "fuera", join_support_channel=False)
    resp = await slack.client.chat_postEphemeral(channel="C0SUPPORT", user="U0AGENT", text="solo tú")
    assert resp["message_ts"]
    assert [e.text for e in slack.standin.ephemerals if e.user == "U0AGENT"] == ["solo tú"]
    refused = slack.client.chat_postEphemeral(channel="C0SUPPORT", user="U0OUT", text="x")
    assert await error_of(refused) == "user_not_in_channel"
    assert await error_of(slack.client.chat_postEphemeral(channel="C0SUPPORT", user="U0NOBODY", text="x")) == (
        "user_not_found"
    )


async def test_delete_and_permalink(slack: Running) -> None:
    ts = (await slack.client.chat_postMessage(channel="C0SUPPORT", text="x"))["ts"]
    link = await slack.client.chat_getPermalink(channel="C0SUPPORT", message_ts=ts)
    assert link["permalink"].endswith(f"/archives/C0SUPPORT/p{ts.replace('.', '')}")
    assert (await slack.client.chat_delete(channel="C0SUPPORT", ts=ts))["ok"]
    assert await error_of(slack.client.chat_delete(channel="C0SUPPORT", ts=ts)) == "message_not_found"
    assert await error_of(slack.client.chat_getPermalink(channel="C0SUPPORT", message_ts=ts)) == ("message_not_found")


async def test_threads_history_and_replies(slack: Running) -> None:
    parent = (await slack.client.chat_postMessage(channel="C0SUPPORT", text="card"))["ts"]
    await slack.client.chat_postMessage(channel="C0SUPPORT", text="r1", thread_ts=parent)
    await slack.client.chat_postMessage(channel="C0SUPPORT", text="r2", thread_ts=parent, reply_broadcast=True)
    history = await slack.client.conversations_history(channel="C0SUPPORT")
    assert [m["text"] for m in history["messages"]] == ["r2", "card"]  # newest first, broadcast shown
    assert history["messages"][1]["reply_count"] == 2
    replies = await slack.client.conversations_replies(channel="C0SUPPORT", ts=parent)
    assert [m["text"] for m in replies["messages"]] == ["card", "r1", "r2"]
    refused = slack.client.conversations_replies(channel="C0SUPPORT", ts="1.000001")
    assert await error_of(refused) == "thread_not_found"


async def test_reply_to_missing_thread(slack: Running) -> None:
    missing = slack.client.chat_postMessage(channel="C0SUPPORT", text="x", thread_ts="1700000000.000001")
    assert await error_of(missing) == "thread_not_found"
    assert await error_of(slack.client.chat_postMessage(channel="C0SUPPORT", text="x", thread_ts="abc")) == (
        "invalid_thread_ts"
    )


async def test_conversations_open_and_info(slack: Running) -> None:
    slack.standin.add_user("U0AGENT", "ana")
    dm = await slack.client.conversations_open(users="U0AGENT")
    info = await slack.client.conversations_info(channel=dm["channel"]["id"])
    assert info["channel"]["is_im"] and info["channel"]["user"] == "U0AGENT"
    support = await slack.client.conversations_info(channel="C0SUPPORT")
    assert support["channel"]["name"] == "soporte" and support["channel"]["is_member"]
    assert await error_of(slack.client.conversations_open(users="U0NOBODY")) == "user_not_found"
    assert await error_of(slack.client.conversations_info(channel="C0NOPE")) == "channel_not_found"


async def test_users_info(slack: Running) -> None:
    slack.standin.add_user("U0AGENT", "ana", real_name="Ana Agente")
    user = (await slack.client.users_info(user="U0AGENT"))["user"]
    assert (user["name"], user["real_name"], user["is_bot"]) == ("ana", "Ana Agente", False)
    assert await error_of(slack.client.users_info(user="U0NOBODY")) == "user_not_found"


async def test_reactions(slack: Running) -> None:
    ts = (await slack.client.chat_postMessage(channel="C0SUPPORT", text="x"))["ts"]
    assert (await slack.client.reactions_add(channel="C0SUPPORT", timestamp=ts, name="eyes"))["ok"]
    assert await error_of(slack.client.reactions_add(channel="C0SUPPORT", timestamp=ts, name="eyes")) == (
        "already_reacted"
    )
    assert await error_of(slack.client.reactions_add(channel="C0SUPPORT", timestamp=ts, name="Bad Name")) == (
        "invalid_name"
    )


async def test_every_refusal_is_in_the_violations_log(slack: Running) -> None:
    await error_of(slack.client.chat_postMessage(channel="C0NOPE", text="x"))
    violation = slack.standin.violations[-1]
    assert (violation.kind, violation.method, violation.error) == ("api_error", "chat.postMessage", "channel_not_found")
    assert violation.details["args"]["channel"] == "C0NOPE"


async def test_update_without_blocks_keeps_them_and_empty_list_removes_them(slack: Running) -> None:
    blocks = [{"type": "section", "block_id": "s", "text": {"type": "mrkdwn", "text": "card"}}]
    ts = (await slack.client.chat_postMessage(channel="C0SUPPORT", text="v1", blocks=blocks))["ts"]
    await slack.client.chat_update(channel="C0SUPPORT", ts=ts, text="v2")
    assert slack.standin.messages[("C0SUPPORT", ts)].blocks == blocks
    await slack.client.chat_update(channel="C0SUPPORT", ts=ts, text="v3", blocks=[])
    assert slack.standin.messages[("C0SUPPORT", ts)].blocks == []
