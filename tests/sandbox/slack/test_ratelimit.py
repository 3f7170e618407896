"""Rate limits (off by default): chat.postMessage 1/s per channel, other methods by tier, 429 + Retry-After."""

from __future__ import annotations

import time

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import StandInConfig
from sandbox.slack.harness import Running, running_standin


async def test_off_by_default(slack: Running) -> None:
    for n in range(5):
        assert (await slack.client.chat_postMessage(channel="C0SUPPORT", text=str(n)))["ok"]


async def test_post_message_one_per_second_per_channel(slack: Running) -> None:
    slack.standin.rate_limits = True
    slack.standin.add_user("U0AGENT", "ana")
    assert (await slack.client.chat_postMessage(channel="C0SUPPORT", text="1"))["ok"]
    with pytest.raises(SlackApiError) as limited:
        await slack.client.chat_postMessage(channel="C0SUPPORT", text="2")
    assert limited.value.response.status_code == 429
    assert limited.value.response["error"] == "ratelimited"
    assert int(limited.value.response.headers["Retry-After"]) >= 1
    # Another conversation has its own allowance.
    assert (await slack.client.chat_postMessage(channel="U0AGENT", text="dm"))["ok"]


async def test_slack_sdk_retry_handler_honours_retry_after(slack: Running) -> None:
    slack.standin.rate_limits = True
    client = AsyncWebClient(
        token=slack.standin.config.bot_token,
        base_url=slack.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    await client.chat_postMessage(channel="C0SUPPORT", text="1")
    started = time.monotonic()
    assert (await client.chat_postMessage(channel="C0SUPPORT", text="2"))["ok"]
    assert time.monotonic() - started >= 0.9  # it waited for Retry-After, then succeeded
    assert [c["error"] for c in slack.standin.api_log if c["method"] == "chat.postMessage"] == [
        None,
        "ratelimited",
        None,
    ]


async def test_tier_four_allows_100_a_minute(slack: Running) -> None:
    slack.standin.rate_limits = True
    slack.standin.add_user("U0AGENT", "ana")
    for _ in range(100):
        await slack.client.users_info(user="U0AGENT")
    with pytest.raises(SlackApiError) as limited:
        await slack.client.users_info(user="U0AGENT")
    assert limited.value.response.status_code == 429
    assert int(limited.value.response.headers["Retry-After"]) <= 60


async def test_tier_three_allows_50_a_minute(slack: Running) -> None:
    slack.standin.rate_limits = True
    for _ in range(50):
        await slack.client.conversations_info(channel="C0SUPPORT")
    with pytest.raises(SlackApiError) as limited:
        await slack.client.conversations_info(channel="C0SUPPORT")
    assert limited.value.response["error"] == "ratelimited"


async def test_post_message_burst_is_configurable(slack: Running) -> None:
    slack.standin.rate_limits = True
    slack.standin.limiter.post_message_burst = 2
    for text in ("card", "first reply"):
        assert (await slack.client.chat_postMessage(channel="C0SUPPORT", text=text))["ok"]
    with pytest.raises(SlackApiError) as limited:
        await slack.client.chat_postMessage(channel="C0SUPPORT", text="third")
    assert limited.value.response["error"] == "ratelimited"


async def test_rate_limits_from_config() -> None:
    async with running_standin(StandInConfig(rate_limits=True)) as running:
        await running.client.chat_postMessage(channel="C0SUPPORT", text="1")
        with pytest.raises(SlackApiError):
            await running.client.chat_postMessage(channel="C0SUPPORT", text="2")
