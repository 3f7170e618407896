"""The stand-in's workspace objects: users, conversations, messages, views, files, violations."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any


@dataclass
class User:
    """A workspace member (agents, managers and the bot user itself)."""

    id: str
    name: str
    real_name: str = ""
    is_bot: bool = False
    deleted: bool = False
    team_id: str = ""

    def to_api(self) -> dict[str, Any]:
        real = self.real_name or self.name
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": real,
            "tz": "America/Mexico_City",
            "tz_offset": -21600,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "profile": {"real_name": real, "display_name": self.name, "team": self.team_id},
        }


@dataclass
class Channel:
    """A public channel or a direct-message conversation (`is_im`)."""

    id: str
    name: str
    members: set[str] = field(default_factory=set)
    is_im: bool = False
    im_user: str | None = None
    created: int = 0

    def to_api(self, viewer: str) -> dict[str, Any]:
        if self.is_im:
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": self.im_user,
                "is_user_deleted": False,
                "priority": 0,
            }
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_private": False,
            "is_archived": False,
            "is_general": False,
            "created": self.created,
            "is_member": viewer in self.members,
            "num_members": len(self.members),
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }


@dataclass
class Message:
    """A message in a conversation; `edits` keeps every earlier version for tests and the page."""

    channel: str
    ts: str
    user: str
    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    bot_id: str | None = None
    app_id: str | None = None
    team: str = ""
    files: list[dict[str, Any]] = field(default_factory=list)
    reactions: dict[str, list[str]] = field(default_factory=dict)
    edits: list[dict[str, Any]] = field(default_factory=list)
    reply_broadcast: bool = False
    deleted: bool = False
    edited_ts: str | None = None
    rendered: str = ""
    metadata: dict[str, Any] | None = None

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def to_api(self, replies: list[Message] | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"type": "message", "ts": self.ts, "text": self.text, "team": self.team}
        if self.bot_id:
            data.update(bot_id=self.bot_id, app_id=self.app_id, user=self.user)
        else:
            data["user"] = self.user
        if self.blocks:
            data["blocks"] = copy.deepcopy(self.blocks)
        if self.thread_ts:
            data["thread_ts"] = self.thread_ts
        if self.is_reply and self.reply_broadcast:
            data["subtype"] = "thread_broadcast"
        if self.files:
            data["files"] = copy.deepcopy(self.files)
            data["upload"] = False
        if self.edited_ts:
            data["edited"] = {"user": self.user, "ts": self.edited_ts}
        if self.reactions:
            data["reactions"] = [
                {"name": name, "users": list(users), "count": len(users)} for name, users in self.reactions.items()
            ]
        if self.metadata:
            data["metadata"] = copy.deepcopy(self.metadata)
        if replies:
            data["reply_count"] = len(replies)
            data["reply_users"] = sorted({r.user for r in replies})
            data["latest_reply"] = replies[-1].ts
        return data


@dataclass
class Ephemeral:
    """A message only one user sees; Slack never stores it, the stand-in keeps it for tests."""

    channel: str
    user: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    rendered: str = ""
    replaced: bool = False


@dataclass
class View:
    """A modal (in a user's stack) or an App Home tab, with what the user has typed into it."""

    id: str
    user: str
    payload: dict[str, Any]
    hash: str
    team_id: str
    app_id: str
    bot_id: str
    root_view_id: str = ""
    previous_view_id: str | None = None
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    closed: bool = False

    @property
    def type(self) -> str:
        return str(self.payload.get("type", "modal"))

    @property
    def blocks(self) -> list[dict[str, Any]]:
        blocks = self.payload.get("blocks") or []
        return list(blocks)

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "team_id": self.team_id,
            "type": self.type,
            "blocks": copy.deepcopy(self.blocks),
            "private_metadata": self.payload.get("private_metadata", ""),
            "callback_id": self.payload.get("callback_id", ""),
            "state": {"values": copy.deepcopy(self.values)},
            "hash": self.hash,
            "clear_on_close": bool(self.payload.get("clear_on_close", False)),
            "notify_on_close": bool(self.payload.get("notify_on_close", False)),
            "root_view_id": self.root_view_id or self.id,
            "previous_view_id": self.previous_view_id,
            "app_id": self.app_id,
            "external_id": self.payload.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        for key in ("title", "submit", "close"):
            if key in self.payload:
                data[key] = copy.deepcopy(self.payload[key])
        return data


@dataclass
class File:
    """A file announced with files.getUploadURLExternal, then uploaded, then shared."""

    id: str
    name: str
    length: int
    title: str = ""
    alt_txt: str = ""
    content: bytes | None = None
    shared_in: list[tuple[str, str | None]] = field(default_factory=list)
    created: int = 0
    user: str = ""
    mimetype: str = ""
    # Where the stand-in serves the file's bytes (url_private, with the bot token, as Slack does); "" for a
    # file nobody can download here (the address then names files.slack.com, which tests never reach).
    url_base: str = ""

    @property
    def url_private(self) -> str:
        if self.url_base:
            return f"{self.url_base}/sandbox/slack/files-pri/{self.id}/{self.name}"
        return f"https://files.slack.com/files-pri/{self.id}/{self.name}"

    def to_api(self) -> dict[str, Any]:
        mimetype = self.mimetype or ("image/png" if self.name.lower().endswith(".png") else "application/octet-stream")
        return {
            "id": self.id,
            "created": self.created,
            "timestamp": self.created,
            "name": self.name,
            "title": self.title or self.name,
            "mimetype": mimetype,
            "filetype": self.name.rsplit(".", 1)[-1].lower() if "." in self.name else "binary",
            "user": self.user,
            "size": len(self.content) if self.content is not None else self.length,
            "url_private": self.url_private,
            "url_private_download": f"{self.url_private}?download=1",
            "alt_txt": self.alt_txt,
            "channels": [c for c, _ in self.shared_in],
        }


@dataclass(frozen=True)
class Violation:
    """A call real Slack would refuse, or a rule the bot broke (unsafe mrkdwn, unacked interaction)."""

    kind: str
    method: str
    error: str
    details: dict[str, Any]
    at: float

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "method": self.method, "error": self.error, "details": self.details, "at": self.at}


@dataclass
class Trigger:
    """A trigger_id handed to the app with an interaction: usable once, for 3 seconds."""

    id: str
    user: str
    issued: float
    used: bool = False
