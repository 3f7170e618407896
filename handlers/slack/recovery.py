"""Crash recovery for the Slack senders: was this already posted before the process died?

A row taken again (Outgoing.tried_before) may have reached Slack from a process that died before recording it.
Its sender looks for it here first and never posts twice: a card and a thread post carry our message metadata
(CARD_EVENT / POST_EVENT, written by handlers.slack.senders), a file carries none, so it is known by its name.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery import Outgoing
from bot.services import outbox
from handlers.slack.webapi import call_slack

__all__ = ["CARD_EVENT", "POST_EVENT", "find_card", "find_channel_file", "find_post", "find_upload"]

CARD_EVENT = "supportbot_ticket"  # message metadata event_type naming a card's ticket
POST_EVENT = "supportbot_post"  # message metadata event_type naming the outbox row a thread post came from
_HISTORY_PAGES = 5


async def find_card(client: AsyncWebClient, out: Outgoing, channel: str, ticket_id: int, since: float) -> str | None:
    """The ts of the card already posted for ticket_id (message metadata), looked up in the channel's
    history since the ticket opened; None when there is none."""
    pages = _pages(
        out, "conversations.history", client.conversations_history,
        channel=channel, oldest=f"{since - 60:.6f}", include_all_metadata=True,
    )  # fmt: skip
    async for message in pages:
        if _marked(message, CARD_EVENT, "ticket_id", ticket_id):
            return str(message["ts"])
    return None


async def find_post(client: AsyncWebClient, out: Outgoing, channel: str, thread_ts: str, row_id: int) -> str | None:
    """The ts of the reply in the thread that outbox row row_id posted (message metadata); None if none."""
    pages = _pages(
        out, "conversations.replies", client.conversations_replies,
        channel=channel, ts=thread_ts, include_all_metadata=True,
    )  # fmt: skip
    async for message in pages:
        if _marked(message, POST_EVENT, "outbox_id", row_id):
            return str(message["ts"])
    return None


async def find_upload(
    client: AsyncWebClient, out: Outgoing, channel: str, thread_ts: str, name: str, recorded: set[str]
) -> str | None:
    """The id of a file named `name` the bot shared in the thread and no attachment has recorded yet (files
    carry no metadata: the one not recorded is the one a dead process uploaded); None if none."""
    pages = _pages(out, "conversations.replies", client.conversations_replies, channel=channel, ts=thread_ts)
    async for message in pages:
        if not message.get("bot_id"):
            continue
        for file in message.get("files") or []:
            if file.get("name") == name and file.get("id") and str(file["id"]) not in recorded:
                return str(file["id"])
    return None


async def find_channel_file(client: AsyncWebClient, out: Outgoing, channel: str, name: str) -> bool:
    """Whether the bot already shared a file named `name` in the channel (the latest 200 messages)."""
    response = await call_slack(
        out, outbox.method_lane("conversations.history"), client.conversations_history,
        channel=channel, limit=200,
    )  # fmt: skip
    return any(
        f.get("name") == name
        for message in response.get("messages") or []
        if message.get("bot_id")
        for f in message.get("files") or []
    )


async def _pages(
    out: Outgoing, method: str, call: Callable[..., Awaitable[Any]], **params: Any
) -> AsyncIterator[Mapping[str, Any]]:
    """The messages of a paged history call (conversations.history / .replies), at most _HISTORY_PAGES
    pages of 200: how an earlier try's post is found again after a crash."""
    cursor: str | None = None
    for _ in range(_HISTORY_PAGES):
        response = await call_slack(out, outbox.method_lane(method), call, limit=200, cursor=cursor, **params)
        for message in response.get("messages") or []:
            yield message
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return


def _marked(message: Mapping[str, Any], event_type: str, key: str, value: int) -> bool:
    """Whether a Slack message carries our metadata of event_type with payload[key] == value."""
    meta = message.get("metadata") or {}
    payload = meta.get("event_payload") or {}
    return bool(meta.get("event_type") == event_type and str(payload.get(key)) == str(value))
