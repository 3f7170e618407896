"""Payloads shaped exactly like Slack's: block_actions, view_submission, view_closed, event_callback."""

from __future__ import annotations

import copy
import secrets
import uuid
from typing import TYPE_CHECKING, Any

from sandbox.slack import mrkdwn
from sandbox.slack.model import Message, User, View

if TYPE_CHECKING:
    from sandbox.slack.standin import SlackStandIn


def _team(s: SlackStandIn) -> dict[str, Any]:
    return {"id": s.config.team_id, "domain": s.config.team_domain}


def _user(s: SlackStandIn, user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": s.config.team_id}


def _common(s: SlackStandIn, kind: str, user: User) -> dict[str, Any]:
    return {
        "type": kind,
        "user": _user(s, user),
        "api_app_id": s.config.app_id,
        "token": s.config.verification_token,
        "team": _team(s),
        "enterprise": None,
        "is_enterprise_install": False,
    }


def new_response_url(s: SlackStandIn, channel: str, user: str, message_ts: str | None) -> str:
    """A response_url pointing back at the stand-in; it works 5 times for 30 minutes, as Slack's does."""
    token = secrets.token_hex(12)
    s.response_urls[token] = {
        "channel": channel,
        "user": user,
        "message_ts": message_ts,
        "uses": 0,
        "issued": s.clock(),
    }
    return f"{s.public_url}/sandbox/slack/response/{token}"


def action(element: dict[str, Any], block_id: str, action_ts: str, value: Any = None) -> dict[str, Any]:
    """One entry of `actions`, shaped per element type."""
    data: dict[str, Any] = {
        "action_id": element.get("action_id", ""),
        "block_id": block_id,
        "type": element.get("type", "button"),
        "action_ts": action_ts,
    }
    if data["type"] == "button":
        data["text"] = copy.deepcopy(element.get("text", {}))
        if value is not None:
            data["value"] = value
        if "style" in element:
            data["style"] = element["style"]
    elif data["type"] in ("static_select", "overflow", "radio_buttons"):
        data["selected_option"] = value
    return data


def block_actions_message(
    s: SlackStandIn, user: User, message: Message | None, channel: str, message_ts: str, act: dict[str, Any]
) -> dict[str, Any]:
    """A click on a message's button."""
    payload = _common(s, "block_actions", user)
    container: dict[str, Any] = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel,
        "is_ephemeral": False,
    }
    if message is not None and message.thread_ts:
        container["thread_ts"] = message.thread_ts
    chan = s.channels.get(channel)
    payload.update(
        container=container,
        trigger_id=s.new_trigger(user.id),
        channel={"id": channel, "name": chan.name if chan and not chan.is_im else "directmessage"},
        message=message.to_api() if message is not None else {"type": "message", "ts": message_ts},
        state={"values": {}},
        response_url=new_response_url(s, channel, user.id, message_ts),
        actions=[act],
    )
    return payload


def block_actions_view(s: SlackStandIn, user: User, view: View, act: dict[str, Any]) -> dict[str, Any]:
    """A click on a button inside a modal or the App Home."""
    payload = _common(s, "block_actions", user)
    payload.update(
        container={"type": "view", "view_id": view.id},
        trigger_id=s.new_trigger(user.id),
        view=view.to_api(),
        actions=[act],
    )
    return payload


def view_submission(s: SlackStandIn, user: User, view: View) -> dict[str, Any]:
    payload = _common(s, "view_submission", user)
    payload.update(trigger_id=s.new_trigger(user.id), view=view.to_api(), response_urls=[])
    return payload


def view_closed(s: SlackStandIn, user: User, view: View, *, cleared: bool) -> dict[str, Any]:
    payload = _common(s, "view_closed", user)
    payload.update(view=view.to_api(), is_cleared=cleared)
    return payload


def event_callback(s: SlackStandIn, event: dict[str, Any]) -> dict[str, Any]:
    """Wrap an inner event in the Events API envelope."""
    return {
        "token": s.config.verification_token,
        "team_id": s.config.team_id,
        "context_team_id": s.config.team_id,
        "api_app_id": s.config.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev{secrets.token_hex(5).upper()}",
        "event_time": int(s.clock()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": s.config.team_id,
                "user_id": s.config.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }


def message_event(s: SlackStandIn, message: Message) -> dict[str, Any]:
    """The `message` event for something a person wrote (the bot's own posts are never sent back)."""
    chan = s.channels[message.channel]
    event: dict[str, Any] = {
        "type": "message",
        "client_msg_id": str(uuid.uuid4()),
        "text": message.text,
        "user": message.user,
        "ts": message.ts,
        "blocks": [
            {
                "type": "rich_text",
                "block_id": secrets.token_hex(3),
                "elements": [
                    {"type": "rich_text_section", "elements": [{"type": "text", "text": mrkdwn.unescape(message.text)}]}
                ],
            }
        ],
        "team": s.config.team_id,
        "channel": message.channel,
        "event_ts": message.ts,
        "channel_type": "im" if chan.is_im else "channel",
    }
    if message.thread_ts:
        event["thread_ts"] = message.thread_ts
        parent = s.messages.get((message.channel, message.thread_ts))
        if parent is not None:
            event["parent_user_id"] = parent.user
    if message.files:
        event["subtype"] = "file_share"
        event["files"] = copy.deepcopy(message.files)
    return event


def app_home_opened(s: SlackStandIn, user: User) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user.id,
        "channel": s.dm_with(user.id).id,
        "tab": "home",
        "event_ts": s.new_ts(),
    }
    home = s.homes.get(user.id)
    if home is not None:
        event["view"] = home.to_api()
    return event
