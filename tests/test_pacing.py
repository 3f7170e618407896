"""Pacing under the platforms' limits (bot.pacing): each lane counts a call from its start until `per` seconds
after it completed, so arrivals at the platform can never be closer than the platform allows."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from bot.pacing import Deferred, Limit, Pacer, platform_limits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limits_of_the_platforms_by_lane() -> None:
    limits = platform_limits(slack_post_burst=3)
    assert limits("tg:chat:42") == Limit(3, 3.0)  # ~1/s per chat, a burst of 3
    assert limits("tg:group:-100") == Limit(20, 60.0)
    assert limits("tg:bot") == Limit(25, 1.0)  # under the 30/s, for calls in flight elsewhere
    assert limits("slack:post:C1") == Limit(3, 3.0)
    assert platform_limits()("slack:post:C1") == Limit(1, 1.0)
    assert limits("slack:tier3:chat.update") == Limit(50, 60.0)
    assert limits("slack:tier4:views.open") == Limit(100, 60.0)
    assert limits("") is None and limits("other:x") is None and limits("tg:unknown") is None
    with pytest.raises(ValueError):
        Limit(0, 1.0)


async def test_a_lane_measures_from_the_completion() -> None:
    clock = Clock()
    pacer = Pacer(lambda key: Limit(1, 1.0), clock=clock)
    async with pacer.turn(["slack:post:C1"], hold=5):
        clock.now += 0.3  # the call took 0.3 s: the platform may have counted it as late as that
        assert pacer.busy_for("slack:post:C1") == float("inf")  # in flight: no turn until it completes
    assert pacer.busy_for("slack:post:C1") == pytest.approx(1.0)
    clock.now += 0.6
    assert pacer.busy_for("slack:post:C1") == pytest.approx(0.4)
    assert pacer.busy_lanes(longer_than=0.3) == {"slack:post:C1"}
    clock.now += 0.4
    assert pacer.busy_for("slack:post:C1") == 0
    assert pacer.busy_for("unpaced") == 0


async def test_a_burst_then_the_sustained_rate() -> None:
    clock = Clock()
    pacer = Pacer(lambda key: Limit(3, 3.0), clock=clock)
    for _ in range(3):
        async with pacer.turn(["tg:chat:1"], hold=5):
            pass
    assert pacer.busy_for("tg:chat:1") == pytest.approx(3.0)
    clock.now += 1.0
    assert pacer.busy_for("tg:chat:1") == pytest.approx(2.0)


async def test_a_long_wait_defers_instead_of_holding() -> None:
    clock = Clock()
    pacer = Pacer(lambda key: Limit(1, 60.0), clock=clock)
    async with pacer.turn(["slack:tier2:x"], hold=1):
        pass
    with pytest.raises(Deferred) as caught:
        async with pacer.turn(["slack:tier2:x"], hold=1):
            raise AssertionError("a deferred call must not run")
    assert caught.value.seconds == pytest.approx(60.0) and caught.value.lane == "slack:tier2:x"


async def test_a_429_anyway_blocks_the_lane_as_told() -> None:
    clock = Clock()
    pacer = Pacer(lambda key: Limit(5, 1.0), clock=clock)
    pacer.penalize("tg:bot", 7)
    assert pacer.busy_for("tg:bot") == pytest.approx(7)
    clock.now += 7
    assert pacer.busy_for("tg:bot") == 0


async def test_a_short_wait_is_waited_and_lanes_are_serialised() -> None:
    """Real time: two calls in a 0.2 s lane start at least 0.2 s after the first completed."""
    pacer = Pacer(lambda key: Limit(1, 0.2))
    loop = asyncio.get_running_loop()
    marks: list[tuple[float, float]] = []

    async def call() -> None:
        async with pacer.turn(["slack:post:C1", "tg:bot"], hold=2):
            start = loop.time()
            await asyncio.sleep(0.05)
            marks.append((start, loop.time()))

    await asyncio.gather(call(), call(), call())
    marks.sort()
    for (_, end), (start, _) in itertools.pairwise(marks):
        assert start - end >= 0.19
    assert pacer.waits >= 2


async def test_the_total_wait_is_bounded_by_hold_even_while_a_call_is_in_flight() -> None:
    """Real time. A turn used to wait on for as long as other calls kept the lane in flight (waiters are not
    served in order either), while the caller held a leased row: past the lease the row was taken again and
    sent twice. The whole wait is bounded by `hold`, then the row is given back (Deferred)."""
    pacer = Pacer(lambda key: Limit(1, 0.05))
    loop = asyncio.get_running_loop()
    in_flight = asyncio.Event()

    async def long_call() -> None:
        async with pacer.turn(["slack:post:C1"], hold=5):
            in_flight.set()
            await asyncio.sleep(0.6)

    other = asyncio.create_task(long_call())
    await in_flight.wait()
    started = loop.time()
    with pytest.raises(Deferred) as caught:
        async with pacer.turn(["slack:post:C1"], hold=0.2):
            raise AssertionError("a deferred call must not run")
    waited = loop.time() - started
    await other
    assert 0.15 < waited < 0.4, f"waited {waited:.2f} s with hold=0.2"
    assert caught.value.lane == "slack:post:C1" and 0 < caught.value.seconds <= 0.2


async def test_a_lane_whose_next_turn_is_awaited_is_left_alone_by_the_claim() -> None:
    """Real time. While a caller waits for a 1-a-second lane's next turn, the dispatcher takes no more of its
    rows: they would only wait too, and be given back."""
    pacer = Pacer(lambda key: Limit(1, 0.3))
    async with pacer.turn(["slack:post:C1"], hold=1):
        pass
    assert pacer.busy_lanes(longer_than=1) == set()  # the next turn is 0.3 s away: worth taking a row for
    waiter = asyncio.create_task(_take_turn(pacer, "slack:post:C1"))
    await asyncio.sleep(0.05)
    assert pacer.busy_lanes(longer_than=1) == {"slack:post:C1"}
    await waiter
    assert pacer.busy_lanes(longer_than=1) == set()


async def _take_turn(pacer: Pacer, key: str) -> None:
    async with pacer.turn([key], hold=1):
        pass
