"""Fixtures: the Slack stand-in on a free port, a real slack_sdk client, and a tiny real bolt app it delivers to."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import SlackTeam, StandInConfig, User
from sandbox.slack.harness import Running, bolt_over_http, running_standin

FORM_VIEW: dict[str, Any] = {
    "type": "modal",
    "callback_id": "form",
    "title": {"type": "plain_text", "text": "Pedir información"},
    "submit": {"type": "plain_text", "text": "Enviar"},
    "private_metadata": "SOP-2026-000001",
    "notify_on_close": True,
    "blocks": [
        {
            "type": "input",
            "block_id": "question",
            "label": {"type": "plain_text", "text": "Pregunta"},
            "element": {"type": "plain_text_input", "action_id": "text"},
        },
        {
            "type": "input",
            "block_id": "severity",
            "optional": True,
            "label": {"type": "plain_text", "text": "Severidad"},
            "element": {
                "type": "static_select",
                "action_id": "pick",
                "options": [
                    {"text": {"type": "plain_text", "text": f"Severidad {n}"}, "value": str(n)} for n in (1, 2, 3, 4)
                ],
            },
        },
    ],
}


def card_blocks(ticket: str) -> list[dict[str, Any]]:
    """A ticket card like the bot's: a section and two buttons."""
    return [
        {"type": "section", "block_id": "summary", "text": {"type": "mrkdwn", "text": f"*{ticket}* impresora"}},
        {
            "type": "actions",
            "block_id": "ticket_actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "claim",
                    "value": ticket,
                    "text": {"type": "plain_text", "text": "Tomar"},
                },
                {
                    "type": "button",
                    "action_id": "ask",
                    "value": ticket,
                    "text": {"type": "plain_text", "text": "Preguntar"},
                },
                {
                    "type": "button",
                    "action_id": "slow",
                    "value": ticket,
                    "text": {"type": "plain_text", "text": "Lento"},
                },
            ],
        },
    ]


@dataclass
class TinyBolt:
    """What the tiny bolt app received, so tests can check the stand-in delivered it."""

    app: AsyncApp
    url: str
    actions: list[dict[str, Any]] = field(default_factory=list)
    submissions: list[dict[str, Any]] = field(default_factory=list)
    closed: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    homes: list[dict[str, Any]] = field(default_factory=list)
    event_headers: list[dict[str, str]] = field(default_factory=list)
    event_delay: float = 0.0
    slow_ack: float = 0.0


def build_bolt(running: Running, signing_secret: str) -> TinyBolt:
    """A small real bolt app: claims cards, opens and answers modals, echoes thread replies, publishes Home."""
    client = AsyncWebClient(token=running.standin.config.bot_token, base_url=running.api_url)
    # process_before_response: the HTTP answer waits for the listener, so slow work delays the ack.
    app = AsyncApp(client=client, signing_secret=signing_secret, process_before_response=True)
    tiny = TinyBolt(app, "")

    @app.action("claim")
    async def claim(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        tiny.actions.append(body)
        await client.chat_update(
            channel=body["channel"]["id"],
            ts=body["message"]["ts"],
            text=f"Tomado por <@{body['user']['id']}>",
            blocks=[
                {
                    "type": "section",
                    "block_id": "summary",
                    "text": {"type": "mrkdwn", "text": f"Tomado por <@{body['user']['id']}>"},
                },
                {
                    "type": "actions",
                    "block_id": "ticket_actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "resolve",
                            "value": body["actions"][0]["value"],
                            "text": {"type": "plain_text", "text": "Resolver"},
                        }
                    ],
                },
            ],
        )

    @app.action("ask")
    async def ask(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        tiny.actions.append(body)
        await client.views_open(trigger_id=body["trigger_id"], view=FORM_VIEW)

    @app.action("slow")
    async def slow(ack: Any, body: dict[str, Any]) -> None:
        await asyncio.sleep(tiny.slow_ack)
        await ack()
        tiny.actions.append(body)

    @app.view("form")
    async def form(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        tiny.submissions.append(body)
        question = view["state"]["values"]["question"]["text"]["value"]
        if question == "bad":
            await ack(response_action="errors", errors={"question": "Escribe una pregunta"})
        elif question == "more":
            await ack(response_action="update", view={**FORM_VIEW, "title": {"type": "plain_text", "text": "Más"}})
        elif question == "push":
            await ack(response_action="push", view={**FORM_VIEW, "title": {"type": "plain_text", "text": "Segundo"}})
        elif question == "clear":
            await ack(response_action="clear")
        else:
            await ack()

    @app.view_closed("form")
    async def form_closed(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        tiny.closed.append(body)

    @app.event("message")
    async def message(event: dict[str, Any], client: AsyncWebClient, request: Any) -> None:
        tiny.event_headers.append({k: v[0] for k, v in request.headers.items()})
        await asyncio.sleep(tiny.event_delay)
        tiny.messages.append(event)
        if event.get("thread_ts") and not event.get("bot_id"):
            await client.chat_postMessage(channel=event["channel"], thread_ts=event["thread_ts"], text="recibido")

    @app.event("app_home_opened")
    async def home(event: dict[str, Any], client: AsyncWebClient) -> None:
        tiny.homes.append(event)
        await client.views_publish(
            user_id=event["user"],
            view={"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Tus tickets"}}]},
        )

    return tiny


@pytest.fixture
async def slack() -> AsyncIterator[Running]:
    """The stand-in, started on a free port with a real slack_sdk client."""
    async with running_standin(StandInConfig(ack_timeout=1.0, retry_delays=(0.0, 0.0, 0.0))) as running:
        yield running


@pytest.fixture
async def bolt(slack: Running) -> AsyncIterator[TinyBolt]:
    """The tiny bolt app, served over HTTP; the stand-in delivers signed requests to it."""
    tiny = build_bolt(slack, slack.standin.config.signing_secret)
    async with bolt_over_http(slack.standin, tiny.app) as url:
        tiny.url = url
        yield tiny


@pytest.fixture
def agent(slack: Running) -> User:
    return slack.standin.add_user("U0AGENT", "ana", real_name="Ana Agente")


@pytest.fixture
def team(slack: Running, bolt: TinyBolt) -> SlackTeam:
    return SlackTeam(slack.standin, quiet=0.05, timeout=3.0)
