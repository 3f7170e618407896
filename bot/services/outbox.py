"""The messages services owe to people, as outbox rows: one helper per kind, shared by every use case.

Services never call Telegram or Slack. They queue these rows in their transaction; the dispatcher
(bot.delivery) hands each to the sender the channel adapter registered for its kind. Ordering keys
keep what must stay in order in order: everything to one Telegram chat; a ticket's card before the
thread messages that hang under it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from storage import Tx

TELEGRAM = "telegram"
SLACK = "slack"

# --- Telegram kinds (senders in handlers/telegram) --------------------------------------------------
TG_SEND = "send"  # {chat_id, text (HTML), keyboard?: [[{text, data}|{text, url}]], contact_button?, remove_keyboard?}
TG_EDIT = "edit"  # {chat_id, message_id, text, keyboard?}
TG_DELETE = "delete"  # {chat_id, message_id}

# --- Slack kinds (senders in handlers/slack) ---------------------------------------------------------
SLACK_CARD = "card"  # {ticket_id}: post the ticket's card, or update it in place once posted
SLACK_THREAD = "thread"  # {ticket_id, text (mrkdwn, already escaped)}
SLACK_THREAD_FILE = "thread_file"  # {ticket_id, attachment_id}
SLACK_EPHEMERAL = "ephemeral"  # {channel, user, text, blocks?}
SLACK_DM = "dm"  # {user, text, blocks?}
SLACK_CHANNEL = "channel"  # {text, blocks?}: a notice in the support channel


def ticket_key(ticket_id: int) -> str:
    """Ordering key of a ticket's Slack messages: the card first, then its thread, in order."""
    return f"ticket:{ticket_id}"


Keyboard = Sequence[Sequence[Mapping[str, str]]]


async def telegram_send(
    tx: Tx,
    chat_id: int,
    text: str,
    *,
    at: datetime,
    keyboard: Keyboard | None = None,
    dedupe_key: str | None = None,
    **extra: Any,
) -> int | None:
    """Queue an HTML message to a chat (a client's private chat id is their user id)."""
    payload: dict[str, Any] = {"chat_id": chat_id, "text": text, **extra}
    if keyboard is not None:
        payload["keyboard"] = [[dict(button) for button in row] for row in keyboard]
    return await tx.enqueue(TELEGRAM, str(chat_id), TG_SEND, payload, at=at, dedupe_key=dedupe_key)


async def telegram_delete(tx: Tx, chat_id: int, message_id: int, *, at: datetime) -> int | None:
    """Queue the deletion of a message (e.g. the one that carried a password, P-IN-3)."""
    return await tx.enqueue(
        TELEGRAM,
        str(chat_id),
        TG_DELETE,
        {"chat_id": chat_id, "message_id": message_id},
        at=at,
        dedupe_key=f"tg-delete:{chat_id}:{message_id}",
    )


async def slack_card(tx: Tx, ticket_id: int, *, at: datetime) -> int | None:
    """Queue a post-or-update of the ticket's card (rendered from the store when sent)."""
    return await tx.enqueue(SLACK, ticket_key(ticket_id), SLACK_CARD, {"ticket_id": ticket_id}, at=at)


async def slack_thread(tx: Tx, ticket_id: int, text: str, *, at: datetime, dedupe_key: str | None = None) -> int | None:
    """Queue a message in the ticket's thread (text already escaped for mrkdwn)."""
    return await tx.enqueue(
        SLACK, ticket_key(ticket_id), SLACK_THREAD, {"ticket_id": ticket_id, "text": text}, at=at, dedupe_key=dedupe_key
    )


async def slack_thread_file(tx: Tx, ticket_id: int, attachment_id: int, *, at: datetime) -> int | None:
    """Queue the upload of a client's file into the ticket's thread."""
    return await tx.enqueue(
        SLACK,
        ticket_key(ticket_id),
        SLACK_THREAD_FILE,
        {"ticket_id": ticket_id, "attachment_id": attachment_id},
        at=at,
        dedupe_key=f"slack-file:{attachment_id}",
    )


async def slack_dm(
    tx: Tx, user: str, text: str, *, at: datetime, blocks: Sequence[Mapping[str, Any]] | None = None
) -> int | None:
    """Queue a direct message to a Slack user (e.g. an escalation waiting for their decision)."""
    payload: dict[str, Any] = {"user": user, "text": text}
    if blocks is not None:
        payload["blocks"] = [dict(b) for b in blocks]
    return await tx.enqueue(SLACK, f"user:{user}", SLACK_DM, payload, at=at)


async def slack_ephemeral(tx: Tx, channel: str, user: str, text: str, *, at: datetime) -> int | None:
    """Queue a message only `user` sees in `channel`."""
    return await tx.enqueue(
        SLACK, f"user:{user}", SLACK_EPHEMERAL, {"channel": channel, "user": user, "text": text}, at=at
    )


async def slack_channel(
    tx: Tx, text: str, *, at: datetime, blocks: Sequence[Mapping[str, Any]] | None = None, dedupe_key: str | None = None
) -> int | None:
    """Queue a notice in the support channel (SLA warnings, sales notices, low contract hours)."""
    payload: dict[str, Any] = {"text": text}
    if blocks is not None:
        payload["blocks"] = [dict(b) for b in blocks]
    return await tx.enqueue(SLACK, "channel", SLACK_CHANNEL, payload, at=at, dedupe_key=dedupe_key)
