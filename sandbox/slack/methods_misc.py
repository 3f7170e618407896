"""auth.test, conversations.*, users.info, the external file upload flow, and apps.connections.open."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.slack.api import ApiError, Params, channel_or_fail, method
from sandbox.slack.model import Channel, File, Message

if TYPE_CHECKING:
    from sandbox.slack.standin import SlackStandIn


@method("auth.test")
async def auth_test(s: SlackStandIn, p: Params) -> dict[str, Any]:
    cfg = s.config
    return {
        "url": f"https://{cfg.team_domain}.slack.com/",
        "team": cfg.team_name,
        "user": cfg.bot_name,
        "team_id": cfg.team_id,
        "user_id": cfg.bot_user_id,
        "bot_id": cfg.bot_id,
        "is_enterprise_install": False,
    }


@method("users.info")
async def users_info(s: SlackStandIn, p: Params) -> dict[str, Any]:
    user = s.users.get(p.text("user"))
    if user is None:
        raise ApiError("user_not_found")
    return {"user": user.to_api()}


@method("conversations.open")
async def conversations_open(s: SlackStandIn, p: Params) -> dict[str, Any]:
    users = [u for u in (p.text("users") or "").split(",") if u]
    if not users and p.text("channel"):
        return {"channel": channel_or_fail(s, p.text("channel")).to_api(s.config.bot_user_id)}
    if not users:
        raise ApiError("users_list_not_supplied")
    if len(users) > 1:
        # Multi-person DMs are not part of the support flow; refuse rather than pretend.
        raise ApiError("method_not_supported_for_channel_type")
    if users[0] not in s.users:
        raise ApiError("user_not_found")
    channel = s.dm_with(users[0])
    if p.flag("return_im"):
        return {"channel": channel.to_api(s.config.bot_user_id), "already_open": True}
    return {"channel": {"id": channel.id}}


@method("conversations.info")
async def conversations_info(s: SlackStandIn, p: Params) -> dict[str, Any]:
    channel: Channel = channel_or_fail(s, p.text("channel"))
    return {"channel": channel.to_api(s.config.bot_user_id)}


def _page(items: list[dict[str, Any]], p: Params) -> dict[str, Any]:
    limit = int(p.text("limit") or 100)
    start = int(p.text("cursor") or 0)
    chunk = items[start : start + limit]
    more = start + limit < len(items)
    return {
        "messages": chunk,
        "has_more": more,
        "response_metadata": {"next_cursor": str(start + limit) if more else ""},
    }


def _readable(s: SlackStandIn, p: Params) -> Channel:
    channel: Channel = channel_or_fail(s, p.text("channel"))
    if s.config.bot_user_id not in channel.members:
        raise ApiError("not_in_channel")
    return channel


def _in_range(m: Message, p: Params) -> bool:
    oldest, latest = p.text("oldest"), p.text("latest")
    inclusive = p.flag("inclusive")
    if oldest and (float(m.ts) < float(oldest) or (float(m.ts) == float(oldest) and not inclusive)):
        return False
    return not (latest and (float(m.ts) > float(latest) or (float(m.ts) == float(latest) and not inclusive)))


@method("conversations.history")
async def conversations_history(s: SlackStandIn, p: Params) -> dict[str, Any]:
    channel = _readable(s, p)
    shown = [
        m
        for m in s.messages.values()
        if m.channel == channel.id and not m.deleted and (not m.is_reply or m.reply_broadcast) and _in_range(m, p)
    ]
    shown.sort(key=lambda m: float(m.ts), reverse=True)
    items = [m.to_api(s.replies(channel.id, m.ts) if not m.is_reply else None) for m in shown]
    return {**_page(items, p), "pin_count": 0}


@method("conversations.replies")
async def conversations_replies(s: SlackStandIn, p: Params) -> dict[str, Any]:
    channel = _readable(s, p)
    ts = p.required("ts", "thread_not_found")
    parent = s.messages.get((channel.id, ts))
    if parent is None or parent.deleted:
        raise ApiError("thread_not_found")
    root = parent.thread_ts or parent.ts
    head = s.messages[(channel.id, root)]
    replies = s.replies(channel.id, root)
    items = [head.to_api(replies)] + [r.to_api() for r in replies if _in_range(r, p)]
    return _page(items, p)


@method("files.getUploadURLExternal")
async def get_upload_url(s: SlackStandIn, p: Params) -> dict[str, Any]:
    filename = p.required("filename")
    try:
        length = int(p.required("length"))
    except ValueError:
        raise ApiError("invalid_arguments", messages=["[ERROR] length must be an integer"]) from None
    if length < 1:
        raise ApiError("invalid_arguments", messages=["[ERROR] length must be greater than 0"])
    file = File(
        s.new_id("F"), filename, length, alt_txt=p.text("alt_txt"), created=int(s.clock()), user=s.config.bot_user_id
    )
    s.files[file.id] = file
    return {"upload_url": f"{p.origin}/sandbox/slack/upload/{file.id}", "file_id": file.id}


@method("files.completeUploadExternal")
async def complete_upload(s: SlackStandIn, p: Params) -> dict[str, Any]:
    raw = p.json("files")
    if not isinstance(raw, list) or not raw:
        raise ApiError("invalid_arguments", messages=["[ERROR] files must be a non-empty array"])
    files: list[File] = []
    for item in raw:
        file = s.files.get(str(item.get("id") if isinstance(item, dict) else ""))
        if file is None or file.content is None:
            raise ApiError("file_not_found")
        file.title = str(item.get("title") or file.name)
        files.append(file)
    channel_ref = p.text("channel_id") or (p.text("channels").split(",")[0] if p.text("channels") else "")
    if channel_ref:
        channel = channel_or_fail(s, channel_ref)
        if s.config.bot_user_id not in channel.members:
            raise ApiError("not_in_channel")
        thread_ts = p.text("thread_ts") or None
        if thread_ts and (channel.id, thread_ts) not in s.messages:
            raise ApiError("thread_not_found")
        comment = p.text("initial_comment")
        s.check_mrkdwn("files.completeUploadExternal", comment, [])
        cfg = s.config
        for file in files:
            file.shared_in.append((channel.id, thread_ts))
        message = Message(
            channel.id,
            s.new_ts(),
            cfg.bot_user_id,
            comment,
            [],
            thread_ts,
            cfg.bot_id,
            cfg.app_id,
            cfg.team_id,
            files=[f.to_api() for f in files],
        )
        message.rendered = s.render(comment, [])
        s.messages[(channel.id, message.ts)] = message
        s.emit("message", {"channel": channel.id, "message": message.to_api(), "rendered": message.rendered})
    return {"files": [{"id": f.id, "title": f.title} for f in files]}


@method("apps.connections.open")
async def connections_open(s: SlackStandIn, p: Params) -> dict[str, Any]:
    ws_origin = p.origin.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
    return {"url": f"{ws_origin}/sandbox/slack/socket?ticket={s.new_id('W')}"}
