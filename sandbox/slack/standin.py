"""The Slack stand-in's state: workspace, conversations, views, violations, and the live event bus."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sandbox.faults import Fault
from sandbox.slack import mrkdwn
from sandbox.slack.actions import Actions
from sandbox.slack.delivery import Deliverer, SocketTransport
from sandbox.slack.model import Channel, Ephemeral, File, Message, Trigger, User, View, Violation
from sandbox.slack.ratelimit import RateLimiter

# The bot scopes deploy/slack-manifest.yml requests, as an install from it grants them.
MANIFEST_SCOPES = (
    "channels:history",
    "channels:read",
    "chat:write",
    "files:read",
    "files:write",
    "groups:history",
    "groups:read",
    "im:write",
    "reactions:write",
    "users:read",
)


@dataclass
class StandInConfig:
    """Identity of the fake workspace and app, and how strictly the stand-in behaves."""

    # Fake credentials of the sandbox workspace; they open nothing outside this process.
    bot_token: str = "xoxb-sandbox-0000-bot-token"  # noqa: S105
    app_token: str = "xapp-1-A0SANDBOX-0000-app-token"  # noqa: S105
    signing_secret: str = "sandbox-signing-secret-0123456789"  # noqa: S105
    verification_token: str = "sandbox-verification-token"  # noqa: S105
    team_id: str = "T0SANDBOX"
    team_domain: str = "sandbox"
    team_name: str = "Sandbox"
    app_id: str = "A0SANDBOX"
    bot_id: str = "B0SANDBOX"
    bot_user_id: str = "U0SUPPORTBOT"
    bot_name: str = "supportbot"
    channel_id: str = "C0SUPPORT"
    channel_name: str = "soporte"
    request_url: str | None = None
    # The bot scopes the workspace granted on install: Slack reports them in every Web API answer to a bot token
    # (header x-oauth-scopes). Default: what deploy/slack-manifest.yml requests (a test keeps the two equal).
    scopes: tuple[str, ...] = MANIFEST_SCOPES
    rate_limits: bool = False
    post_message_burst: int = 1
    ack_timeout: float = 3.0
    trigger_ttl: float = 3.0
    # Slack retries after ~0 s, 1 min and 5 min; tests want the same sequence, quicker.
    retry_delays: tuple[float, ...] = (0.0, 0.05, 0.1)


class SlackStandIn:
    """Everything the fake Slack knows; the Web API, the deliveries and the driver all work on this."""

    def __init__(self, config: StandInConfig | None = None, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config or StandInConfig()
        self.clock = clock
        self.rate_limits = self.config.rate_limits
        self.limiter = RateLimiter(clock, self.config.post_message_burst)
        # An outage every Web API call meets while it lasts (sandbox.faults); None, the default, is none.
        self.faults: Fault | None = None
        # Called with (method, arguments) once a Web API call is carried out, before the bot hears the answer
        # (fault tests kill the bot right there). None by default.
        self.on_accepted: Callable[[str, dict[str, Any]], None] | None = None
        self.public_url = ""  # set by start(); where response_url/upload URLs point
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.messages: dict[tuple[str, str], Message] = {}
        self.ephemerals: list[Ephemeral] = []
        self.views: dict[str, View] = {}
        self.stacks: dict[str, list[str]] = {}
        self.homes: dict[str, View] = {}
        self.files: dict[str, File] = {}
        self.triggers: dict[str, Trigger] = {}
        self.violations: list[Violation] = []
        self.api_log: list[dict[str, Any]] = []
        self.response_urls: dict[str, dict[str, Any]] = {}
        self.deliverer = Deliverer(self)
        self.actions = Actions(self)
        self.socket: SocketTransport | None = None
        self.cleanups: list[Callable[[], Awaitable[None]]] = []
        self._subscribers: list[asyncio.Queue[dict[str, Any]]] = []
        self._ids = itertools.count(1)
        self._last_ts = 0.0
        self._inflight = 0
        self._last_activity = time.monotonic()
        cfg = self.config
        self.add_user(cfg.bot_user_id, cfg.bot_name, real_name=cfg.bot_name, is_bot=True)
        self.add_channel(cfg.channel_id, cfg.channel_name, members=[cfg.bot_user_id])

    async def close(self) -> None:
        """Stop what start() started and release the outbound HTTP session."""
        while self.cleanups:
            await self.cleanups.pop()()
        await self.deliverer.close()

    # -- identities ---------------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08X}"

    def new_ts(self) -> str:
        # Slack ts are unique per channel and increase; microseconds keep them unique here.
        now = max(self.clock(), self._last_ts + 0.000001)
        self._last_ts = now
        return f"{now:.6f}"

    def new_trigger(self, user: str) -> str:
        trigger = Trigger(f"{next(self._ids)}.{self.config.team_id}.{secrets.token_hex(16)}", user, self.clock())
        self.triggers[trigger.id] = trigger
        return trigger.id

    # -- workspace ------------------------------------------------------------------------------

    def add_user(
        self, user_id: str, name: str, *, real_name: str = "", is_bot: bool = False, join_support_channel: bool = True
    ) -> User:
        """Add a workspace member; by default they are also in the support channel."""
        user = User(user_id, name, real_name or name, is_bot, team_id=self.config.team_id)
        self.users[user_id] = user
        support = self.channels.get(self.config.channel_id)
        if join_support_channel and support is not None:
            support.members.add(user_id)
        self.emit("user_added", {"user": user.to_api()})
        return user

    def add_channel(self, channel_id: str, name: str, *, members: list[str] | None = None) -> Channel:
        channel = Channel(channel_id, name, set(members or []), created=int(self.clock()))
        self.channels[channel_id] = channel
        return channel

    @property
    def support_channel(self) -> Channel:
        return self.channels[self.config.channel_id]

    def is_member(self, user_id: str) -> bool:
        user = self.users.get(user_id)
        return user is not None and not user.deleted

    def user_name(self, user_id: str) -> str | None:
        user = self.users.get(user_id)
        return user.name if user else None

    def dm_with(self, user_id: str) -> Channel:
        """The bot's direct-message conversation with a user (created on first use, as Slack does)."""
        for channel in self.channels.values():
            if channel.is_im and channel.im_user == user_id:
                return channel
        channel = Channel(
            f"D{user_id[1:]}", user_id, {user_id, self.config.bot_user_id}, True, user_id, int(self.clock())
        )
        self.channels[channel.id] = channel
        return channel

    def resolve_channel(self, ref: str) -> Channel | None:
        """A channel by id, `#name`, name, or a user id (which posts to the DM with that user)."""
        if ref in self.channels:
            return self.channels[ref]
        name = ref.removeprefix("#")
        for channel in self.channels.values():
            if not channel.is_im and channel.name == name:
                return channel
        if ref in self.users:
            return self.dm_with(ref)
        return None

    # -- messages -------------------------------------------------------------------------------

    def top_level(self, channel: str) -> list[Message]:
        return [m for (c, _), m in self.messages.items() if c == channel and not m.is_reply and not m.deleted]

    def replies(self, channel: str, thread_ts: str) -> list[Message]:
        return [
            m
            for (c, _), m in self.messages.items()
            if c == channel and m.thread_ts == thread_ts and m.is_reply and not m.deleted
        ]

    def render(self, text: str, blocks: list[dict[str, Any]]) -> str:
        parts = [text] if text else []
        parts += [t for _, t in mrkdwn.iter_mrkdwn(blocks)]
        return "\n".join(mrkdwn.render(p, self.user_name) for p in parts)

    # -- violations and events ------------------------------------------------------------------

    def violate(self, kind: str, method: str, error: str, **details: Any) -> Violation:
        violation = Violation(kind, method, error, details, self.clock())
        self.violations.append(violation)
        self.emit("violation", violation.to_json())
        return violation

    def check_mrkdwn(self, method: str, text: str, blocks: Any, pointer: str = "/blocks") -> None:
        """Record (not refuse: Slack accepts them) pings, foreign mentions and disguised links."""
        found = [("/text", u) for u in mrkdwn.find_unsafe(text or "", self.is_member)]
        for ptr, value in mrkdwn.iter_mrkdwn(blocks, pointer):
            found += [(ptr, u) for u in mrkdwn.find_unsafe(value, self.is_member)]
        found += list(mrkdwn.find_unsafe_rich_text(blocks, self.is_member, pointer))
        for ptr, unsafe in found:
            self.violate("unsafe_mrkdwn", method, unsafe.kind, token=unsafe.token, detail=unsafe.detail, pointer=ptr)

    def emit(self, kind: str, data: dict[str, Any]) -> None:
        event = {"type": kind, "at": self.clock(), **data}
        for queue in self._subscribers:
            queue.put_nowait(event)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        """A queue receiving every state change while the context is open."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._subscribers.append(queue)
        try:
            yield queue
        finally:
            self._subscribers.remove(queue)

    # -- activity, so the driver knows when the bot has gone quiet --------------------------------

    def begin_call(self) -> None:
        self._inflight += 1
        self._last_activity = time.monotonic()

    def end_call(self) -> None:
        self._inflight -= 1
        self._last_activity = time.monotonic()

    async def wait_quiet(self, quiet: float = 0.15, limit: float = 5.0) -> bool:
        """Wait until no Web API call is running and none started for `quiet` seconds."""
        start = time.monotonic()
        deadline = start + limit
        while time.monotonic() < deadline:
            # Count from the later of the last call and now: a bot that has not started yet is not quiet.
            idle = time.monotonic() - max(self._last_activity, start)
            if self._inflight == 0 and idle >= quiet:
                return True
            await asyncio.sleep(min(0.02, max(quiet - idle, 0.005)))
        return False

    # -- snapshots for the page ---------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Everything the page shows, as JSON-ready data."""
        return {
            "team": {"id": self.config.team_id, "name": self.config.team_name},
            "users": [u.to_api() for u in self.users.values()],
            "channels": [c.to_api(self.config.bot_user_id) for c in self.channels.values()],
            "messages": [
                {**m.to_api(), "channel": m.channel, "rendered": m.rendered, "edits": m.edits}
                for m in self.messages.values()
                if not m.deleted
            ],
            "ephemerals": [vars(e) for e in self.ephemerals],
            "views": {u: [self.views[v].to_api() for v in stack] for u, stack in self.stacks.items()},
            "homes": {u: v.to_api() for u, v in self.homes.items()},
            "violations": [v.to_json() for v in self.violations],
            "deliveries": [
                {"kind": d.kind, "type": d.payload.get("type"), "acked": d.acked, "attempts": len(d.attempts)}
                for d in self.deliverer.log
            ],
        }
