"""Telegram and Slack down for a while: answering 500, answering 429 with a retry-after, and hanging. Everything
owed is delivered once they are back.

The real bot runs as its own process between the stand-ins (rate limits on, the bot's pacing on). Two clients
go through a whole ticket's life each (intake, claim, a consultant's reply, the client's answer, resolved)
while both stand-ins play an outage schedule, from the first confirmed intake on: 500 for a while, then 429
for a while, then hang for a while, with short recoveries in between (sandbox.faults); each outage lasts
until the bot has met it on both stand-ins. People do what they do during an outage: a client waits for
the bot's answer, a consultant whose modal never came presses again. Once everything is quiet:

- each stand-in met each kind of outage (the bot really called it while it was down),
- no ticket lost, nothing unanswered, every card and every reply there, nothing posted twice, nothing sent twice
  to a client (a refused call was never handled),
- no outbox row given up on (a modal whose 3 s trigger ran out during the outage is only printed: Slack
  refuses it to anyone, and the consultant pressed again).

Telegram reaches the bot by long polling: getUpdates itself meets each outage, and the bot's sends to
clients (a claim, a consultant's reply, a resolution) meet it too.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandbox.faults import Fault, FaultMode
from sandbox.slack.standin import StandInConfig
from sandbox.telegram.standin import StandIn
from tests.faults.figures import count, unexpected_violations
from tests.faults.process import Outside, running_outside
from tests.faults.scenario import cast, journey, seeding

CLIENTS = 2
PATIENCE = 120.0
# Each outage lasts at least this long (seconds), and on until the bot has met it on both stand-ins.
SCHEDULE: tuple[tuple[FaultMode, float], ...] = (("500", 2.5), ("429", 2.5), ("hang", 3.5))
RECOVERY = 1.5  # seconds of service between two outages
LONGEST = 30.0  # an outage the bot never meets on both sides ends here (and the test fails)


@pytest.fixture
async def outside(tmp_path: Path) -> AsyncIterator[Outside]:
    telegram = StandIn(rate_limits=True, callback_answer_timeout=60.0)
    slack = StandInConfig(rate_limits=True)
    async with running_outside(
        tmp_path, telegram=telegram, slack_config=slack, seed=seeding(CLIENTS), DELIVERY_PACING="true"
    ) as o:
        yield o


async def test_after_500s_429s_and_hangs_everything_is_delivered(outside: Outside) -> None:
    clients, consultants = cast(outside, CLIENTS, PATIENCE)
    played: list[tuple[str, int, int]] = []  # (mode, Telegram calls that met it, Slack calls that met it)
    loop = asyncio.get_running_loop()
    started = loop.time()
    timing: dict[str, float] = {}

    async def outages() -> None:
        # Once the first ticket is confirmed, work flows both ways: Telegram and Slack each get calls.
        await outside.until(lambda: any(c.confirmed for c in clients), "a confirmed intake", PATIENCE)
        timing["first_outage"] = loop.time() - started
        for kind, seconds in SCHEDULE:
            on_telegram = outside.telegram.faults = Fault.until_ended(kind, retry_after=2)
            on_slack = outside.slack.faults = Fault.until_ended(kind, retry_after=2)
            began = loop.time()
            while loop.time() - began < seconds or not (on_telegram.hits and on_slack.hits):
                if loop.time() - began > LONGEST:
                    break
                await asyncio.sleep(0.05)
            on_telegram.end()
            on_slack.end()
            outside.telegram.faults = outside.slack.faults = None
            played.append((kind, on_telegram.hits, on_slack.hits))
            await asyncio.sleep(RECOVERY)
        timing["outages_over"] = loop.time() - started

    async with asyncio.TaskGroup() as group:
        group.create_task(outages())
        for n, (client, consultant) in enumerate(zip(clients, consultants, strict=True), 1):
            group.create_task(journey(outside, client, consultant, n))

    timing["journeys_over"] = loop.time() - started
    for consultant in consultants:
        await consultant.delivered()
    await outside.quiescent()
    timing["quiet"] = loop.time() - started
    figures = await count(outside, clients, consultants)
    seconds = " ".join(f"{k}_at={v:.0f}s" for k, v in timing.items())
    print(f"\noutages: {played} {figures.line()} {seconds}")
    details = "\n".join(figures.details)
    for kind, telegram_hits, slack_hits in played:
        assert telegram_hits > 0 and slack_hits > 0, f"the bot did not meet the {kind} outage on both: {played}"
    assert figures.confirmed == CLIENTS and figures.replies == CLIENTS, details
    assert not figures.nonzero(), f"{figures.nonzero()}\n{details}\nbot log:\n{outside.bot.tail()}"
    assert figures.telegram_twice == 0, details  # a refused call was never handled: nothing to send again
    assert not unexpected_violations(outside), unexpected_violations(outside)
