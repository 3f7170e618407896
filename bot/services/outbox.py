"""The messages services owe to people, as outbox rows: one helper per kind, shared by every use case.

Services never call Telegram or Slack. They queue these rows in their transaction; the dispatcher
(bot.delivery) hands each to the sender the channel adapter registered for its kind. Ordering keys
keep what must stay in order in order: everything to one Telegram chat; a ticket's card before the
thread messages that hang under it. Pace keys name the platform limit a row counts against (bot.pacing),
so the dispatcher leaves alone the rows of a lane that is busy for a while.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from storage import Tx
from storage.records import Ticket

TELEGRAM = "telegram"
SLACK = "slack"

# --- Telegram kinds (senders in handlers/telegram) --------------------------------------------------
# {chat_id, text (HTML), keyboard?: [[{text, data}|{text, url}]], contact_button?, remove_keyboard?,
#  ticket_id?, ticket?, thread_note?}
TG_SEND = "send"
TG_EDIT = "edit"  # {chat_id, message_id, text, keyboard?}
TG_DELETE = "delete"  # {chat_id, message_id}
TG_ANSWER = "answer"  # {query_id, text?}: answerCallbackQuery, so a tapped button stops spinning
# A file an agent shared in a card's thread, fetched from Slack at send time (nothing but its address rests here):
# {chat_id, caption (HTML), file: {url, name, mimetype, size}, ticket_id, ticket, relayed?}
TG_PHOTO = "photo"
TG_DOCUMENT = "document"
TG_MARKUP = "markup"  # {chat_id, message_id, keyboard?}: editMessageReplyMarkup (a question's buttons, once answered)

# --- Slack kinds (senders in handlers/slack) ---------------------------------------------------------
# A row about a ticket names it by id, and by number ("ticket") for the log lines of its delivery.
SLACK_CARD = "card"  # {ticket_id, ticket}: post the ticket's card, or update it in place once posted
SLACK_THREAD = "thread"  # {ticket_id, ticket, text (mrkdwn, already escaped)}
SLACK_THREAD_FILE = "thread_file"  # {ticket_id, ticket, attachment_id}
SLACK_EPHEMERAL = "ephemeral"  # {channel, user, text, blocks?}
SLACK_DM = "dm"  # {user, text, blocks?}
SLACK_CHANNEL = "channel"  # {channel, text, blocks?}: a notice in a channel (SLA warnings, sales)
SLACK_MODAL = "modal"  # {trigger_id, view, ...}: open a modal (the trigger lives 3 s: nothing waits before it)
SLACK_HOME = "home"  # {user}: publish the user's App Home from the store
SLACK_UPDATE = "update"  # {channel, ts, text}: replace a message we posted (a decided escalation's buttons)
SLACK_REACTION = "reaction"  # {channel, ts, name}: reactions.add (a relayed reply's mark once Telegram took it)
# A chart of the weekly digest, drawn at send time from that week's figures: {channel, monday, chart}
SLACK_CHANNEL_FILE = "channel_file"


def ticket_key(ticket_id: int) -> str:
    """Ordering key of a ticket's Slack messages: the card first, then its thread, in order."""
    return f"ticket:{ticket_id}"


# --- lanes (bot.pacing.platform_limits knows their limits) -----------------------------------------------
def chat_lane(chat_id: int) -> str:
    """Telegram: about 1 message a second per private chat, 20 a minute per group (negative ids)."""
    return f"tg:group:{chat_id}" if chat_id < 0 else f"tg:chat:{chat_id}"


TELEGRAM_BOT_LANE = "tg:bot"  # 30 messages a second per bot


def post_lane(channel: str) -> str:
    """Slack chat.postMessage: about 1 a second per channel."""
    return f"slack:post:{channel}"


def dm_lane(user: str) -> str:
    """A direct message is a post in the user's DM channel (named by the user until it is opened)."""
    return post_lane(f"dm:{user}")


def method_lane(method: str) -> str:
    """Slack's other methods by their tier (per workspace, per method)."""
    tier = METHOD_TIERS.get(method, 3)
    return f"slack:tier{tier}:{method}"


METHOD_TIERS = {
    "chat.update": 3,
    "reactions.add": 3,
    "conversations.open": 3,
    "conversations.history": 3,
    "chat.postEphemeral": 4,
    "views.open": 4,
    "views.publish": 4,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
}

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
    """Queue an HTML message to a chat (a client's private chat id is their user id). `ticket_id` in extra
    names the ticket the message is about: if it cannot be delivered, that ticket's thread is told."""
    payload: dict[str, Any] = {"chat_id": chat_id, "text": text, **extra}
    if keyboard is not None:
        payload["keyboard"] = [[dict(button) for button in row] for row in keyboard]
    return await tx.enqueue(
        TELEGRAM, str(chat_id), TG_SEND, payload, at=at, dedupe_key=dedupe_key, pace_key=chat_lane(chat_id)
    )


async def telegram_file(
    tx: Tx,
    chat_id: int,
    kind: str,
    caption: str,
    file: Mapping[str, Any],
    *,
    at: datetime,
    dedupe_key: str | None = None,
    **extra: Any,
) -> int | None:
    """Queue a photo or a document (TG_PHOTO / TG_DOCUMENT) that the sender fetches from Slack at send time."""
    if kind not in (TG_PHOTO, TG_DOCUMENT):
        raise ValueError(f"not a file kind: {kind}")
    payload: dict[str, Any] = {"chat_id": chat_id, "caption": caption, "file": dict(file), **extra}
    return await tx.enqueue(
        TELEGRAM, str(chat_id), kind, payload, at=at, dedupe_key=dedupe_key, pace_key=chat_lane(chat_id)
    )


async def telegram_edit(
    tx: Tx, chat_id: int, message_id: int, text: str, keyboard: Keyboard | None, *, at: datetime
) -> int | None:
    """Queue the replacement of a message's text (HTML) and inline keyboard (None: no buttons left)."""
    payload: dict[str, Any] = {"chat_id": chat_id, "message_id": message_id, "text": text}
    if keyboard:
        payload["keyboard"] = [[dict(button) for button in row] for row in keyboard]
    return await tx.enqueue(TELEGRAM, str(chat_id), TG_EDIT, payload, at=at, pace_key=chat_lane(chat_id))


async def telegram_markup(
    tx: Tx, chat_id: int, message_id: int, keyboard: Keyboard | None, *, at: datetime
) -> int | None:
    """Queue the replacement of a message's inline keyboard (None: no buttons left)."""
    payload: dict[str, Any] = {"chat_id": chat_id, "message_id": message_id}
    if keyboard:
        payload["keyboard"] = [[dict(button) for button in row] for row in keyboard]
    return await tx.enqueue(TELEGRAM, str(chat_id), TG_MARKUP, payload, at=at, pace_key=chat_lane(chat_id))


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


async def telegram_answer(tx: Tx, query_id: str, text: str | None, *, at: datetime) -> int | None:
    """Queue the answer to a tapped button (answerCallbackQuery, with a short notice or none). Its own
    ordering key: the spinner stops at once, whatever the chat's messages are waiting for."""
    payload: dict[str, Any] = {"query_id": query_id}
    if text:
        payload["text"] = text[:200]
    return await tx.enqueue(
        TELEGRAM, f"query:{query_id}", TG_ANSWER, payload, at=at, dedupe_key=f"tg-answer:{query_id}"
    )


async def slack_card(tx: Tx, ticket: Ticket, *, at: datetime) -> int | None:
    """Queue a post-or-update of the ticket's card (rendered from the store when sent)."""
    return await tx.enqueue(
        SLACK,
        ticket_key(ticket.id),
        SLACK_CARD,
        {"ticket_id": ticket.id, "ticket": ticket.number},
        at=at,
        pace_key=post_lane(ticket.slack_channel or ""),
    )


async def slack_thread(
    tx: Tx,
    ticket: Ticket,
    text: str,
    *,
    at: datetime,
    dedupe_key: str | None = None,
    **extra: Any,
) -> int | None:
    """Queue a message in the ticket's thread (text already escaped for mrkdwn)."""
    return await tx.enqueue(
        SLACK,
        ticket_key(ticket.id),
        SLACK_THREAD,
        {"ticket_id": ticket.id, "ticket": ticket.number, "text": text, **extra},
        at=at,
        dedupe_key=dedupe_key,
        pace_key=post_lane(ticket.slack_channel or ""),
    )


async def slack_thread_file(tx: Tx, ticket: Ticket, attachment_id: int, *, at: datetime) -> int | None:
    """Queue the upload of a client's file into the ticket's thread."""
    return await tx.enqueue(
        SLACK,
        ticket_key(ticket.id),
        SLACK_THREAD_FILE,
        {"ticket_id": ticket.id, "ticket": ticket.number, "attachment_id": attachment_id},
        at=at,
        dedupe_key=f"slack-file:{attachment_id}",
        pace_key=method_lane("files.getUploadURLExternal"),
    )


async def slack_dm(
    tx: Tx,
    user: str,
    text: str,
    *,
    at: datetime,
    blocks: Sequence[Mapping[str, Any]] | None = None,
    dedupe_key: str | None = None,
    **extra: Any,
) -> int | None:
    """Queue a direct message to a Slack user (e.g. an escalation waiting for their decision)."""
    payload: dict[str, Any] = {"user": user, "text": text, **extra}
    if blocks is not None:
        payload["blocks"] = [dict(b) for b in blocks]
    return await tx.enqueue(
        SLACK, f"user:{user}", SLACK_DM, payload, at=at, dedupe_key=dedupe_key, pace_key=dm_lane(user)
    )


async def slack_ephemeral(tx: Tx, channel: str, user: str, text: str, *, at: datetime, **extra: Any) -> int | None:
    """Queue a message only `user` sees in `channel`."""
    return await tx.enqueue(
        SLACK,
        f"user:{user}",
        SLACK_EPHEMERAL,
        {"channel": channel, "user": user, "text": text, **extra},
        at=at,
        pace_key=method_lane("chat.postEphemeral"),
    )


async def slack_channel(
    tx: Tx,
    channel: str,
    text: str,
    *,
    at: datetime,
    blocks: Sequence[Mapping[str, Any]] | None = None,
    dedupe_key: str | None = None,
) -> int | None:
    """Queue a notice in a channel (the support channel's SLA warnings, sales notices, low contract hours)."""
    payload: dict[str, Any] = {"channel": channel, "text": text}
    if blocks is not None:
        payload["blocks"] = [dict(b) for b in blocks]
    return await tx.enqueue(
        SLACK, f"channel:{channel}", SLACK_CHANNEL, payload, at=at, dedupe_key=dedupe_key, pace_key=post_lane(channel)
    )


async def slack_modal(tx: Tx, trigger_id: str, view: Mapping[str, Any], *, at: datetime) -> int | None:
    """Queue the opening of a modal: `view` names which one and what it is about (the sender renders it)."""
    return await tx.enqueue(
        SLACK,
        f"trigger:{trigger_id}",
        SLACK_MODAL,
        {"trigger_id": trigger_id, **view},
        at=at,
        dedupe_key=f"modal:{trigger_id}",
        pace_key=method_lane("views.open"),
    )


async def slack_home(tx: Tx, user: str, *, at: datetime) -> int | None:
    """Queue the publication of a user's App Home (rendered from the store when sent)."""
    return await tx.enqueue(
        SLACK, f"user:{user}", SLACK_HOME, {"user": user}, at=at, pace_key=method_lane("views.publish")
    )


async def slack_reaction(tx: Tx, channel: str, ts: str, name: str, *, at: datetime) -> int | None:
    """Queue an emoji reaction of the bot on a message (once per message and emoji)."""
    return await tx.enqueue(
        SLACK,
        f"msg:{channel}:{ts}",
        SLACK_REACTION,
        {"channel": channel, "ts": ts, "name": name},
        at=at,
        dedupe_key=f"reaction:{channel}:{ts}:{name}",
        pace_key=method_lane("reactions.add"),
    )


async def slack_update(tx: Tx, channel: str, ts: str, text: str, *, at: datetime, **extra: Any) -> int | None:
    """Queue the replacement of a message the bot posted."""
    return await tx.enqueue(
        SLACK,
        f"msg:{channel}:{ts}",
        SLACK_UPDATE,
        {"channel": channel, "ts": ts, "text": text, **extra},
        at=at,
        pace_key=method_lane("chat.update"),
    )


async def slack_channel_file(
    tx: Tx, channel: str, monday: str, chart: str, *, at: datetime, dedupe_key: str | None = None
) -> int | None:
    """Queue the upload of one chart of the weekly digest of the week before `monday` into `channel`."""
    return await tx.enqueue(
        SLACK,
        f"channel:{channel}",
        SLACK_CHANNEL_FILE,
        {"channel": channel, "monday": monday, "chart": chart},
        at=at,
        dedupe_key=dedupe_key,
        pace_key=method_lane("files.getUploadURLExternal"),
    )
