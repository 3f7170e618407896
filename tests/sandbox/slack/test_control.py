"""The JSON control API the page uses, its Server-Sent Events stream, and interaction response_urls."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from sandbox.slack import User
from sandbox.slack.harness import Running
from tests.sandbox.slack.conftest import TinyBolt, card_blocks


async def control(slack: Running, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{slack.base_url}/sandbox/slack/{path}", json=body) as resp:
            return resp.status, await resp.json()


async def test_add_user_post_and_click_over_http(slack: Running, bolt: TinyBolt) -> None:
    status, added = await control(slack, "users", {"id": "U0AGENT", "name": "ana", "real_name": "Ana"})
    assert status == 200 and added["user"]["id"] == "U0AGENT"
    ts = (await slack.client.chat_postMessage(channel="C0SUPPORT", text="SOP-1", blocks=card_blocks("SOP-1")))["ts"]
    status, clicked = await control(
        slack, "actions/click", {"user": "U0AGENT", "channel": "C0SUPPORT", "ts": ts, "action_id": "claim"}
    )
    assert status == 200 and clicked["delivery"]["acked"] is True
    assert bolt.actions[0]["user"]["id"] == "U0AGENT"
    status, posted = await control(slack, "actions/post", {"user": "U0AGENT", "text": "hola", "thread_ts": ts})
    assert status == 200 and posted["delivery"]["acked"]


async def test_bad_action_is_a_400_with_the_reason(slack: Running, bolt: TinyBolt, agent: User) -> None:
    ts = (await slack.client.chat_postMessage(channel="C0SUPPORT", text="x", blocks=card_blocks("SOP-1")))["ts"]
    status, answer = await control(
        slack, "actions/click", {"user": "U0AGENT", "channel": "C0SUPPORT", "ts": ts, "action_id": "nope"}
    )
    assert status == 400 and "claim" in answer["error"]
    status, answer = await control(slack, "actions/click", {"user": "U0AGENT"})
    assert status == 400 and "missing field" in answer["error"]


async def test_state_and_violations(slack: Running) -> None:
    await slack.client.chat_postMessage(channel="C0SUPPORT", text="<!channel> hola")
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{slack.base_url}/sandbox/slack/state") as resp:
            state = await resp.json()
        async with http.get(f"{slack.base_url}/sandbox/slack/violations") as resp:
            violations = (await resp.json())["violations"]
    assert state["messages"][0]["rendered"] == "📣@channel hola"
    assert [v["error"] for v in violations] == ["broadcast"]


async def test_config_switches_rate_limits(slack: Running) -> None:
    status, answer = await control(slack, "config", {"rate_limits": True})
    assert status == 200 and slack.standin.rate_limits is True and answer["rate_limits"] is True


async def test_server_sent_events_stream(slack: Running) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{slack.base_url}/sandbox/slack/events") as resp:
            assert resp.headers["Content-Type"].startswith("text/event-stream")
            assert await resp.content.readline() == b": connected\n"
            await resp.content.readline()
            await slack.client.chat_postMessage(channel="C0SUPPORT", text="en vivo")
            events: list[dict[str, Any]] = []
            while not any(e["type"] == "message" for e in events):
                line = await asyncio.wait_for(resp.content.readline(), 2)
                if line.startswith(b"data: "):
                    events.append(json.loads(line[6:]))
    message = next(e for e in events if e["type"] == "message")
    assert message["message"]["text"] == "en vivo"


async def test_response_url_replace_and_ephemeral(slack: Running, bolt: TinyBolt, agent: User) -> None:
    ts = (await slack.client.chat_postMessage(channel="C0SUPPORT", text="x", blocks=card_blocks("SOP-1")))["ts"]
    delivery = await slack.standin.actions.click(agent, "C0SUPPORT", ts, "slow")
    url = delivery.payload["response_url"]
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"text": "Solo para ti"}) as resp:
            assert (await resp.json())["ok"]
        async with http.post(url, json={"replace_original": True, "text": "Reemplazado"}) as resp:
            assert (await resp.json())["ok"]
        for _ in range(3):
            await http.post(url, json={"text": "otra"})
        async with http.post(url, json={"text": "sexta"}) as resp:
            assert resp.status == 404 and (await resp.json())["error"] == "used_url"
    assert [e.text for e in slack.standin.ephemerals][:1] == ["Solo para ti"]
    assert slack.standin.messages[("C0SUPPORT", ts)].text == "Reemplazado"
