"""Outages the stand-ins can play for fault tests: answer 500, answer 429, or hang, for a while.

There is no fault by default (`StandIn.faults` and `SlackStandIn.faults` are None), so the sandbox page and
every other test never meet one. A fault test sets one for a number of seconds, or until it ends it:

    telegram.faults = Fault.for_seconds("429", 3, retry_after=2)
    slack.faults = fault = Fault.until_ended("hang")
    ...
    fault.end()

Every API call that starts while the fault lasts gets it instead of being handled, so nothing the call asked
for happens: "500" answers 500, "429" answers 429 with the platform's retry-after, and "hang" accepts the
request and answers nothing until the fault is over, then 502 (the proxy in front of a stuck server gives up).
Each stand-in writes these answers in its own platform's format. A faulted call is not a violation (the
platform failed, not the bot); `hits` counts them, so a test can tell the bot really met the outage.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from typing import Literal

__all__ = ["Fault", "FaultMode", "play"]

FaultMode = Literal["500", "429", "hang"]
_MODES = ("500", "429", "hang")


@dataclass
class Fault:
    """One outage: `mode` until `until` (time.monotonic())."""

    mode: FaultMode
    until: float
    retry_after: int = 1  # seconds a "429" asks the caller to wait
    hits: int = 0  # API calls that met the fault

    def __post_init__(self) -> None:
        if self.mode not in _MODES:
            raise ValueError(f"a fault is one of {_MODES}, not {self.mode!r}")
        if self.retry_after < 1:
            raise ValueError("retry_after is at least 1 second")

    @classmethod
    def for_seconds(cls, mode: FaultMode, seconds: float, *, retry_after: int = 1) -> Fault:
        """The fault from now on, for `seconds`."""
        return cls(mode, time.monotonic() + seconds, retry_after)

    @classmethod
    def until_ended(cls, mode: FaultMode, *, retry_after: int = 1) -> Fault:
        """The fault from now on, until `end()` is called."""
        return cls(mode, math.inf, retry_after)

    def end(self) -> None:
        """The outage is over now (hanging calls get their 502 at once)."""
        self.until = min(self.until, time.monotonic())

    @property
    def active(self) -> bool:
        return time.monotonic() < self.until


async def play(fault: Fault | None) -> FaultMode | None:
    """Called as an API call starts: None when no fault is active (handle the call); otherwise the mode to
    answer with, after hanging until the fault ends when the mode is "hang"."""
    if fault is None or not fault.active:
        return None
    fault.hits += 1
    while fault.mode == "hang" and fault.active:  # noqa: ASYNC110 - polls a plain attribute, end() may move
        await asyncio.sleep(min(0.05, max(0.0, fault.until - time.monotonic())))
    return fault.mode
