"""Socket Mode: apps.connections.open hands out the stand-in's websocket; bolt's handler acks envelopes."""

from __future__ import annotations

from typing import Any

import pytest
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import SlackTeam
from sandbox.slack.harness import Running
from tests.sandbox.slack.conftest import card_blocks


async def test_connections_open_needs_the_app_token(slack: Running) -> None:
    with pytest.raises(SlackApiError) as refused:
        await slack.client.apps_connections_open(app_token=slack.standin.config.bot_token)
    assert refused.value.response["error"] == "not_allowed_token_type"
    resp = await slack.client.apps_connections_open(app_token=slack.standin.config.app_token)
    assert resp["url"].startswith("ws://127.0.0.1:")


async def test_bolt_socket_mode_receives_and_acks(slack: Running) -> None:
    client = AsyncWebClient(token=slack.standin.config.bot_token, base_url=slack.api_url)
    app = AsyncApp(client=client)
    seen: list[dict[str, Any]] = []

    @app.action("claim")
    async def claim(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        seen.append(body)

    @app.event("message")
    async def message(event: dict[str, Any]) -> None:
        seen.append(event)

    handler = AsyncSocketModeHandler(app, slack.standin.config.app_token)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    try:
        team = SlackTeam(slack.standin, quiet=0.05)
        agent = team.member("U0AGENT", "ana")
        await team.wait_for(lambda: slack.standin.socket is not None and slack.standin.socket.connected, 3.0)
        await slack.client.chat_postMessage(channel="C0SUPPORT", text="SOP-1", blocks=card_blocks("SOP-1"))
        card = await team.card_for("SOP-1")
        delivery = await team.click(card, "claim", as_user=agent)
        assert delivery.acked and seen[0]["actions"][0]["action_id"] == "claim"
        await team.reply_in_thread(card, "hola", as_user=agent)
        assert seen[1]["text"] == "hola"
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]


async def test_socket_mode_view_submission_answers_through_the_ack(slack: Running) -> None:
    """accepts_response_payload: the ack envelope's payload carries response_action, as over HTTP."""
    client = AsyncWebClient(token=slack.standin.config.bot_token, base_url=slack.api_url)
    app = AsyncApp(client=client)

    @app.view("form")
    async def form(ack: Any) -> None:
        await ack(response_action="errors", errors={"q": "Falta la pregunta"})

    handler = AsyncSocketModeHandler(app, slack.standin.config.app_token)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    try:
        team = SlackTeam(slack.standin, quiet=0.05)
        agent = team.member("U0AGENT", "ana")
        await team.wait_for(lambda: slack.standin.socket is not None and slack.standin.socket.connected, 3.0)
        view = {
            "type": "modal",
            "callback_id": "form",
            "title": {"type": "plain_text", "text": "T"},
            "submit": {"type": "plain_text", "text": "Ok"},
            "blocks": [
                {
                    "type": "input",
                    "block_id": "q",
                    "label": {"type": "plain_text", "text": "Q"},
                    "element": {"type": "plain_text_input", "action_id": "a"},
                }
            ],
        }
        await client.views_open(trigger_id=slack.standin.new_trigger("U0AGENT"), view=view)
        modal = await team.modal(agent)
        await team.submit(modal, {"q": {"a": "x"}}, as_user=agent)
        still = team.view(agent)
        assert still is not None and still.errors == {"q": "Falta la pregunta"}
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
