"""Slack's Web API rate limits: per-method tiers, and chat.postMessage's one message a second per channel."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

# Calls per minute by tier (Slack's published floors: "20+", "50+", "100+").
TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
METHOD_TIER = {
    "apps.connections.open": 1,
    "conversations.list": 2,
    "users.list": 2,
    "chat.update": 3,
    "chat.delete": 3,
    "conversations.history": 3,
    "conversations.replies": 3,
    "conversations.info": 3,
    "conversations.open": 3,
    "reactions.add": 3,
    "auth.test": 4,
    "chat.postEphemeral": 4,
    "chat.getPermalink": 4,
    "users.info": 4,
    "views.open": 4,
    "views.update": 4,
    "views.push": 4,
    "views.publish": 4,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
}
POST_MESSAGE_PER_SECOND = 1


class RateLimiter:
    """Sliding windows keyed by (method, channel or workspace); answers how long to wait, if at all."""

    def __init__(self, clock: Callable[[], float], post_message_burst: int = 1) -> None:
        self._clock = clock
        # Slack grants chat.postMessage an unpublished burst above 1/s; N posts per N seconds keeps the
        # sustained rate at 1/s and lets tests choose the burst.
        self.post_message_burst = post_message_burst
        self._calls: dict[str, deque[float]] = {}

    def _take(self, key: str, limit: int, window: float) -> int | None:
        now = self._clock()
        calls = self._calls.setdefault(key, deque())
        while calls and calls[0] <= now - window:
            calls.popleft()
        if len(calls) >= limit:
            return max(1, math.ceil(calls[0] + window - now))
        calls.append(now)
        return None

    def check(self, method: str, channel: str | None) -> int | None:
        """Record a call; return Retry-After seconds when Slack would answer 429 instead."""
        if method == "chat.postMessage":
            burst = max(1, self.post_message_burst)
            return self._take(f"{method}:{channel}", burst * POST_MESSAGE_PER_SECOND, float(burst))
        tier = METHOD_TIER.get(method, 3)
        return self._take(method, TIER_PER_MINUTE[tier], 60.0)

    def reset(self) -> None:
        self._calls.clear()
