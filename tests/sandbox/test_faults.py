"""The stand-ins' outages (sandbox.faults) and the hooks fault tests kill the bot in, through real clients."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from telegram.error import NetworkError, RetryAfter

from handlers.telegram.senders import retry_seconds
from sandbox.faults import Fault
from sandbox.slack.harness import running_standin as running_slack
from sandbox.slack.standin import SlackStandIn
from sandbox.telegram.standin import StandIn
from sandbox.telegram.testing import ptb_bot, running_standin


def test_no_fault_by_default() -> None:
    assert StandIn().faults is None and SlackStandIn().faults is None
    assert StandIn().on_delivered is None and SlackStandIn().on_accepted is None


def test_a_fault_names_a_known_mode() -> None:
    with pytest.raises(ValueError, match="one of"):
        Fault("503", 0.0)  # type: ignore[arg-type]


@pytest.mark.filterwarnings("ignore:Deprecated since version v22.2")  # PTB's own retry_after, read by PTB itself
async def test_telegram_answers_500_then_429_and_handles_nothing_meanwhile() -> None:
    async with running_standin() as telegram, ptb_bot(telegram) as bot:
        user = telegram.create_user("Laura")
        await telegram.send_text(user, "/start")
        telegram.faults = fault = Fault.until_ended("500")
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_message(user.id, "hola")
        telegram.faults = Fault.until_ended("429", retry_after=3)
        with pytest.raises(RetryAfter) as limited:
            await bot.send_message(user.id, "hola")
        assert retry_seconds(limited.value) == 3
        assert [m for m in telegram.history(user) if m["from"] == "bot"] == []  # nothing was handled
        assert fault.hits == 1 and telegram.violations == []  # the platform failed, not the bot
        telegram.faults = None
        await bot.send_message(user.id, "hola")
        assert [m["text"] for m in telegram.history(user) if m["from"] == "bot"] == ["hola"]


async def test_telegram_hangs_until_the_fault_ends_then_answers_502() -> None:
    async with running_standin() as telegram, aiohttp.ClientSession() as http:
        assert telegram.urls is not None
        telegram.faults = fault = Fault.until_ended("hang")
        call = asyncio.ensure_future(http.get(f"{telegram.urls.base_url}{telegram.token}/getMe"))
        while not fault.hits:  # noqa: ASYNC110 - polls a plain counter
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        assert not call.done()  # accepted, not answered
        fault.end()
        async with await call as response:
            assert response.status == 502
        assert telegram.requests == []


async def test_telegram_calls_back_when_an_update_is_confirmed() -> None:
    async with running_standin() as telegram, ptb_bot(telegram) as bot:
        confirmed: list[int] = []
        telegram.on_delivered = confirmed.append
        sent = await telegram.send_text(telegram.create_user("Laura"), "hola")
        [update] = await bot.get_updates(timeout=0)
        assert confirmed == []  # fetched, not yet confirmed: Telegram would send it again
        await bot.get_updates(offset=update.update_id + 1, timeout=0)
        assert confirmed == [sent.update_id]


async def test_slack_answers_500_429_and_hangs_and_posts_nothing_meanwhile() -> None:
    async with running_slack() as slack:
        slack.standin.faults = Fault.until_ended("500")
        with pytest.raises(SlackApiError) as failed:
            await slack.client.chat_postMessage(channel="C0SUPPORT", text="hola")
        assert failed.value.response.status_code == 500
        slack.standin.faults = Fault.until_ended("429", retry_after=4)
        with pytest.raises(SlackApiError) as limited:
            await slack.client.chat_postMessage(channel="C0SUPPORT", text="hola")
        assert limited.value.response.status_code == 429 and limited.value.response.headers["Retry-After"] == "4"
        slack.standin.faults = fault = Fault.until_ended("hang")
        call = asyncio.ensure_future(slack.client.chat_postMessage(channel="C0SUPPORT", text="hola"))
        while not fault.hits:  # noqa: ASYNC110 - polls a plain counter
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        assert not call.done()
        fault.end()
        with pytest.raises(SlackApiError) as gave_up:
            await call
        assert gave_up.value.response.status_code == 502
        assert slack.standin.top_level("C0SUPPORT") == [] and slack.standin.violations == []
        slack.standin.faults = None
        await slack.client.chat_postMessage(channel="C0SUPPORT", text="hola")
        assert [m.text for m in slack.standin.top_level("C0SUPPORT")] == ["hola"]


async def test_slack_calls_back_once_a_call_is_carried_out() -> None:
    async with running_slack() as slack:
        seen: list[tuple[str, dict[str, Any]]] = []

        def accepted(method: str, args: dict[str, Any]) -> None:
            seen.append((method, args))
            assert slack.standin.top_level("C0SUPPORT")  # the post is done before the bot hears of it

        slack.standin.on_accepted = accepted
        await slack.client.chat_postMessage(channel="C0SUPPORT", text="hola")
        assert [(m, a["text"]) for m, a in seen] == [("chat.postMessage", "hola")]
