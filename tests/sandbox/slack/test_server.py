"""The stand-in as a server: mountable under a prefix, the public surface, URL verification, http_error retries."""

from __future__ import annotations

import aiohttp
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

import sandbox.slack
from sandbox.slack import SlackStandIn, User, make_app
from sandbox.slack.harness import Running, serve
from sandbox.slack.signing import verify
from tests.sandbox.slack.conftest import TinyBolt

PUBLIC = {
    "ActionError",
    "Card",
    "Delivery",
    "DeliveryError",
    "DriverTimeout",
    "NotAcknowledged",
    "SlackStandIn",
    "SlackTeam",
    "StandInConfig",
    "SubmitRefused",
    "User",
    "View",
    "Violation",
    "make_app",
    "start",
}


def test_public_surface() -> None:
    assert set(sandbox.slack.__all__) == PUBLIC
    assert all(hasattr(sandbox.slack, name) for name in PUBLIC)


async def test_mounted_under_a_prefix_uploads_still_work() -> None:
    standin = SlackStandIn()
    parent = web.Application()
    parent.add_subapp("/slack", make_app(standin))
    async with serve(parent) as base:
        client = AsyncWebClient(token=standin.config.bot_token, base_url=f"{base}/slack/api/")
        parent_ts = (await client.chat_postMessage(channel="C0SUPPORT", text="card"))["ts"]
        url = await client.files_getUploadURLExternal(filename="a.txt", length=1)
        assert url["upload_url"].startswith(f"{base}/slack/sandbox/slack/upload/")
        await client.files_upload_v2(channel="C0SUPPORT", thread_ts=parent_ts, content=b"z", filename="z.txt")
        assert standin.replies("C0SUPPORT", parent_ts)[0].files[0]["name"] == "z.txt"
    await standin.close()


async def test_url_verification_with_bolt(slack: Running, bolt: TinyBolt) -> None:
    assert await slack.standin.deliverer.url_verification()


async def test_url_verification_failure_is_recorded(slack: Running) -> None:
    async def wrong(_: web.Request) -> web.Response:
        return web.Response(text="hello")

    app = web.Application()
    app.router.add_post("/slack/events", wrong)
    async with serve(app) as base:
        slack.standin.config.request_url = f"{base}/slack/events"
        assert not await slack.standin.deliverer.url_verification()
    assert slack.standin.violations[-1].kind == "url_verification_failed"


async def test_error_answers_are_retried_as_http_error(slack: Running, bolt: TinyBolt, agent: User) -> None:
    seen: list[tuple[str | None, str | None]] = []

    async def failing(request: web.Request) -> web.Response:
        seen.append((request.headers.get("X-Slack-Retry-Num"), request.headers.get("X-Slack-Retry-Reason")))
        return web.Response(status=500 if len(seen) < 3 else 200)

    app = web.Application()
    app.router.add_post("/events", failing)
    async with serve(app) as base:
        slack.standin.config.request_url = f"{base}/events"
        _, delivery = await slack.standin.actions.post(agent, "C0SUPPORT", "hola")
    assert seen == [(None, None), ("1", "http_error"), ("2", "http_error")]
    assert delivery.acked and delivery.retries == 2
    assert not any(v.kind == "unacked_event" for v in slack.standin.violations)


async def test_no_retry_header_stops_retries(slack: Running, agent: User) -> None:
    calls: list[int] = []

    async def refuse(_: web.Request) -> web.Response:
        calls.append(1)
        return web.Response(status=503, headers={"X-Slack-No-Retry": "1"})

    app = web.Application()
    app.router.add_post("/events", refuse)
    async with serve(app) as base:
        slack.standin.config.request_url = f"{base}/events"
        _, delivery = await slack.standin.actions.post(agent, "C0SUPPORT", "hola")
    assert calls == [1] and not delivery.acked


async def test_signed_headers_on_the_wire(slack: Running, agent: User) -> None:
    captured: list[tuple[dict[str, str], str]] = []

    async def record(request: web.Request) -> web.Response:
        captured.append((dict(request.headers), await request.text()))
        return web.Response()

    app = web.Application()
    app.router.add_post("/events", record)
    async with serve(app) as base:
        slack.standin.config.request_url = f"{base}/events"
        await slack.standin.actions.post(agent, "C0SUPPORT", "hola")
    headers, body = captured[0]
    now = float(headers["X-Slack-Request-Timestamp"])
    assert verify(
        slack.standin.config.signing_secret,
        headers["X-Slack-Request-Timestamp"],
        body,
        headers["X-Slack-Signature"],
        now=now,
    )
    assert headers["Content-Type"] == "application/json"
    assert '"type":"event_callback"' in body


async def test_no_request_url_is_a_clear_error(slack: Running, agent: User) -> None:
    slack.standin.config.request_url = None
    try:
        await slack.standin.actions.open_home(agent)
    except sandbox.slack.DeliveryError as exc:
        assert "request URL" in str(exc)
    else:
        raise AssertionError("delivered to nowhere")


async def test_get_with_query_params(slack: Running) -> None:
    async with aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {slack.standin.config.bot_token}"}
        async with http.get(f"{slack.api_url}users.info?user=U0SUPPORTBOT", headers=headers) as resp:
            assert (await resp.json())["user"]["is_bot"] is True
