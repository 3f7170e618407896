"""chat.* and reactions.add: posting, editing, ephemerals, deleting, permalinks, with Slack's checks."""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any

from sandbox.slack.api import ApiError, Params, channel_or_fail, method
from sandbox.slack.blockkit import MAX_TOTAL_BLOCK_TEXT, validate_message_blocks, with_ids
from sandbox.slack.model import Channel, Ephemeral, Message

if TYPE_CHECKING:
    from sandbox.slack.standin import SlackStandIn

MAX_MESSAGE_TEXT = 40_000
_TS = re.compile(r"^\d{1,12}\.\d{1,6}$")


def content(s: SlackStandIn, name: str, p: Params) -> tuple[str, list[dict[str, Any]]]:
    """The text and blocks of a post or an update, refused the way Slack refuses them."""
    text = p.text("text")
    raw = p.get("blocks")
    blocks: list[dict[str, Any]] = []
    if raw not in (None, "", []):
        parsed = p.json("blocks", error="invalid_blocks_format")
        if not isinstance(parsed, list):
            raise ApiError("invalid_blocks_format")
        blocks = parsed
    if not text and not blocks and not p.get("attachments"):
        raise ApiError("no_text")
    if len(text) > MAX_MESSAGE_TEXT:
        raise ApiError("msg_too_long")
    if blocks:
        checker = validate_message_blocks(blocks)
        if checker.errors:
            raise ApiError("invalid_blocks", messages=checker.errors)
        if checker.text_total > MAX_TOTAL_BLOCK_TEXT:
            raise ApiError("msg_blocks_too_long")
    # Checked even with mrkdwn=false: angle-bracket control sequences are not mrkdwn styling.
    s.check_mrkdwn(name, text, blocks)
    return text, with_ids(blocks)


def _member_channel(s: SlackStandIn, p: Params, key: str = "channel") -> Channel:
    channel: Channel = channel_or_fail(s, p.text(key))
    if s.config.bot_user_id not in channel.members:
        raise ApiError("not_in_channel")
    return channel


def _message(s: SlackStandIn, channel: Channel, ts: str) -> Message:
    message = s.messages.get((channel.id, ts))
    if message is None or message.deleted:
        raise ApiError("message_not_found")
    return message


def _thread_root(s: SlackStandIn, channel: Channel, thread_ts: str) -> str:
    if not _TS.match(thread_ts):
        raise ApiError("invalid_thread_ts")
    parent = s.messages.get((channel.id, thread_ts))
    if parent is None or parent.deleted:
        raise ApiError("thread_not_found")
    # Replying to a reply lands in the parent's thread, as in the Slack client.
    return parent.thread_ts or parent.ts


@method("chat.postMessage")
async def post_message(s: SlackStandIn, p: Params) -> dict[str, Any]:
    channel = _member_channel(s, p)
    thread_ts = p.text("thread_ts") or None
    if thread_ts:
        thread_ts = _thread_root(s, channel, thread_ts)
    text, blocks = content(s, "chat.postMessage", p)
    cfg = s.config
    message = Message(
        channel.id,
        s.new_ts(),
        cfg.bot_user_id,
        text,
        blocks,
        thread_ts,
        cfg.bot_id,
        cfg.app_id,
        cfg.team_id,
        reply_broadcast=p.flag("reply_broadcast"),
    )
    metadata = p.json("metadata") if p.get("metadata") else None
    message.metadata = metadata if isinstance(metadata, dict) else None
    message.rendered = s.render(text, blocks)
    s.messages[(channel.id, message.ts)] = message
    s.emit("message", {"channel": channel.id, "message": message.to_api(), "rendered": message.rendered})
    return {"channel": channel.id, "ts": message.ts, "message": message.to_api()}


@method("chat.update")
async def update(s: SlackStandIn, p: Params) -> dict[str, Any]:
    channel = channel_or_fail(s, p.text("channel"))
    message = _message(s, channel, p.required("ts", "message_not_found"))
    if message.user != s.config.bot_user_id:
        raise ApiError("cant_update_message")
    text, blocks = content(s, "chat.update", p)
    if p.get("blocks") is None:
        # Slack: without a blocks field the previous blocks are retained; `[]` removes them.
        blocks = message.blocks
    message.edits.append(
        {"text": message.text, "blocks": copy.deepcopy(message.blocks), "edited_ts": message.edited_ts}
    )
    message.text, message.blocks = text, blocks
    message.edited_ts = s.new_ts()
    message.rendered = s.render(text, blocks)
    s.emit("message_changed", {"channel": channel.id, "message": message.to_api(), "rendered": message.rendered})
    return {"channel": channel.id, "ts": message.ts, "text": text, "message": message.to_api()}


@method("chat.postEphemeral")
async def post_ephemeral(s: SlackStandIn, p: Params) -> dict[str, Any]:
    channel = _member_channel(s, p)
    user = p.required("user", "user_not_found")
    if user not in s.users:
        raise ApiError("user_not_found")
    if user not in channel.members:
        raise ApiError("user_not_in_channel")
    thread_ts = p.text("thread_ts") or None
    text, blocks = content(s, "chat.postEphemeral", p)
    ephemeral = Ephemeral(channel.id, user, s.new_ts(), text, blocks, thread_ts, s.render(text, blocks))
    s.ephemerals.append(ephemeral)
    s.emit(
        "ephemeral",
        {
            "channel": channel.id,
            "user": user,
            "ts": ephemeral.ts,
            "text": text,
            "blocks": blocks,
            "rendered": ephemeral.rendered,
        },
    )
    return {"message_ts": ephemeral.ts}


@method("chat.delete")
async def delete(s: SlackStandIn, p: Params) -> dict[str, Any]:
    channel = channel_or_fail(s, p.text("channel"))
    message = _message(s, channel, p.required("ts", "message_not_found"))
    if message.user != s.config.bot_user_id:
        raise ApiError("cant_delete_message")
    message.deleted = True
    s.emit("message_deleted", {"channel": channel.id, "ts": message.ts})
    return {"channel": channel.id, "ts": message.ts}


@method("chat.getPermalink")
async def permalink(s: SlackStandIn, p: Params) -> dict[str, Any]:
    channel = channel_or_fail(s, p.text("channel"))
    message = _message(s, channel, p.required("message_ts", "message_not_found"))
    link = f"https://{s.config.team_domain}.slack.com/archives/{channel.id}/p{message.ts.replace('.', '')}"
    if message.is_reply:
        link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
    return {"channel": channel.id, "permalink": link}


@method("reactions.add")
async def react(s: SlackStandIn, p: Params) -> dict[str, Any]:
    channel = channel_or_fail(s, p.text("channel"))
    message = _message(s, channel, p.required("timestamp", "message_not_found"))
    name = p.required("name", "invalid_name").strip(":")
    if not re.fullmatch(r"[a-z0-9_+'-]+", name):
        raise ApiError("invalid_name")
    users = message.reactions.setdefault(name, [])
    if s.config.bot_user_id in users:
        raise ApiError("already_reacted")
    users.append(s.config.bot_user_id)
    s.emit("reaction_added", {"channel": channel.id, "ts": message.ts, "name": name})
    return {}
