"""Pacing under the platforms' rate limits: the bot waits its turn instead of collecting 429s.

Each limit is a lane ("at most `count` calls in any `per` seconds", LIMITS.md). A call holds its lane from
the moment it starts until `per` seconds after it *completes*: the platform counts a call when it arrives,
which is after we start it and before we hear the answer, so measuring from the completion can never put
two arrivals closer than the platform allows, whatever the network did to the latency of each.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass

__all__ = ["Deferred", "Limit", "Pacer", "platform_limits"]


@dataclass(frozen=True)
class Limit:
    """At most `count` calls in any `per` seconds."""

    count: int
    per: float

    def __post_init__(self) -> None:
        if self.count < 1 or self.per <= 0:
            raise ValueError(f"a limit needs count >= 1 and per > 0, got {self.count} per {self.per}")


class Deferred(Exception):
    """The lane is busy for longer than a caller should hold a row: try again after `seconds`."""

    def __init__(self, seconds: float, lane: str) -> None:
        super().__init__(f"{lane} is paced: next turn in {seconds:.2f} s")
        self.seconds = seconds
        self.lane = lane


class _Lane:
    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        self.ends: deque[float] = deque()  # completion times of recent calls
        self.in_flight = 0
        self.waiting = 0  # callers waiting in turn() for this lane
        self.blocked_until = 0.0  # a 429 the platform sent anyway: nothing goes before this

    def wait(self, now: float) -> float:
        """Seconds until one more call may start (inf while in-flight calls fill the lane)."""
        while self.ends and self.ends[0] + self.limit.per <= now:
            self.ends.popleft()
        busy = len(self.ends) + self.in_flight
        wait = max(0.0, self.blocked_until - now)
        if busy < self.limit.count:
            return wait
        if len(self.ends) + self.in_flight - self.limit.count >= len(self.ends):
            return float("inf")  # only an in-flight call's completion can free a turn
        # The oldest completions must leave the window to make room.
        index = busy - self.limit.count
        return max(wait, self.ends[index] + self.limit.per - now)


class Pacer:
    """The lanes of one process. `limit_for(key)` names the limit of each lane key (None: not paced)."""

    def __init__(
        self, limit_for: Callable[[str], Limit | None], *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limit_for = limit_for
        self._clock = clock
        self._lanes: dict[str, _Lane] = {}
        self._changed = asyncio.Event()
        self.waits = 0  # calls that had to wait their turn (for the benchmarks and metrics)

    def _lane(self, key: str) -> _Lane | None:
        lane = self._lanes.get(key)
        if lane is None:
            limit = self._limit_for(key)
            if limit is None:
                return None
            lane = self._lanes[key] = _Lane(limit)
        return lane

    def busy_for(self, key: str) -> float:
        """Seconds before the lane `key` can take a call (0 when it can now)."""
        lane = self._lane(key)
        return 0.0 if lane is None else lane.wait(self._clock())

    def busy_lanes(self, longer_than: float) -> set[str]:
        """Lanes that cannot take a call for more than `longer_than` seconds, or whose next turns are already
        awaited by as many callers as the lane takes at once (their rows are left alone: taken now, they would
        only wait and be given back)."""
        now = self._clock()
        return {
            key for key, lane in self._lanes.items() if lane.wait(now) > longer_than or lane.waiting >= lane.limit.count
        }

    def penalize(self, key: str, seconds: float) -> None:
        """The platform said 429 anyway (another process shares the limit): the lane waits as told."""
        lane = self._lane(key)
        if lane is not None:
            lane.blocked_until = max(lane.blocked_until, self._clock() + seconds)

    @contextlib.asynccontextmanager
    async def turn(self, keys: Iterable[str], *, hold: float) -> AsyncIterator[None]:
        """Wait for a turn in every lane of `keys`, then hold them for the call made inside.
        Raises Deferred when the wait would be longer than `hold` seconds, or has lasted `hold` seconds in all:
        the caller holds a leased row meanwhile, and waiters are not served in order, so without a bound on
        the total one could lose every race until its lease ran out and the row was taken (and sent) twice."""
        lanes = [(key, lane) for key in dict.fromkeys(keys) if (lane := self._lane(key)) is not None]
        deadline = self._clock() + hold
        for _, lane in lanes:
            lane.waiting += 1
        try:
            while True:
                now = self._clock()
                worst, wait, per = "", 0.0, 0.0
                for key, lane in lanes:
                    lane_wait = lane.wait(now)
                    if lane_wait > wait:
                        worst, wait, per = key, lane_wait, lane.limit.per
                if wait <= 0:
                    break
                if wait > hold and wait != float("inf"):
                    raise Deferred(wait, worst)
                if now >= deadline:
                    raise Deferred(wait if wait != float("inf") else min(per, hold), worst)
                self.waits += 1
                self._changed.clear()
                # Wake early when an in-flight call of a lane completes (its turn may be ours).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), min(wait, deadline - now))
        finally:
            for _, lane in lanes:
                lane.waiting -= 1
        for _, lane in lanes:
            lane.in_flight += 1
        try:
            yield
        finally:
            end = self._clock()
            for _, lane in lanes:
                lane.in_flight -= 1
                lane.ends.append(end)
            self._changed.set()


def platform_limits(*, slack_post_burst: int = 1) -> Callable[[str], Limit | None]:
    """The limits of LIMITS.md by lane key.

    - `tg:chat:<id>`: about 1 message a second per chat, with a burst of 3.
    - `tg:group:<id>`: 20 a minute per group.
    - `tg:bot`: 30 a second per bot; paced at 25 to leave room for calls in flight from other lanes.
    - `slack:post:<channel>`: chat.postMessage about 1 a second per channel (`slack_post_burst` in a burst).
    - `slack:tier2|3|4`: Slack's per-method tiers, 20, 50 and 100 a minute (kept per method: `slack:tier3:chat.update`).
    """
    tiers = {"tier2": Limit(20, 60.0), "tier3": Limit(50, 60.0), "tier4": Limit(100, 60.0)}
    burst = max(1, slack_post_burst)

    def limit_for(key: str) -> Limit | None:
        kind, _, rest = key.partition(":")
        if kind == "tg":
            scope = rest.split(":", 1)[0]
            if scope == "chat":
                return Limit(3, 3.0)
            if scope == "group":
                return Limit(20, 60.0)
            if scope == "bot":
                return Limit(25, 1.0)
            return None
        if kind == "slack":
            scope = rest.split(":", 1)[0]
            if scope == "post":
                return Limit(burst, float(burst))
            return tiers.get(scope)
        return None

    return limit_for
