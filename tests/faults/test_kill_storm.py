"""kill -9 at random moments while clients report problems on Telegram and consultants work them on Slack.

The real bot runs as its own process (`python -m bot run`) between the stand-ins, with the stand-ins' rate limits
on and the bot's pacing on. Six clients go through complete intakes, over and over; for each ticket a consultant
presses "Tomar", replies in the card's thread, the client answers, and the consultant resolves it. Meanwhile a
killer SIGKILLs the process at random moments (SOAK_KILLS times, 20 by default; `make soak` runs 100) and
starts it again at once. Nobody is told: Telegram keeps the updates the bot has not confirmed for the next
process, Slack retries an event it could not deliver, and a consultant presses again when Slack shows an error.
Once everything is quiet, the figures are counted from what the stand-ins recorded and from the database, and
printed on one line:

- tickets lost (a confirmed intake with no ticket) and tickets twice: 0
- client messages and taps never answered: 0
- cards missing or posted twice, posts of the bot twice in a card's thread: 0
- client messages that never reached the thread, consultant replies that never reached the client: 0
- events Slack gave up on (every attempt met a dead process): 0
- outbox rows given up on: 0 (a modal whose 3 s trigger ran out in a killed process is only printed)
- Telegram messages sent twice: printed (at least once delivery: a send Telegram accepted just before a kill
  is sent again by the next process).

The seed of the random delays is printed (SOAK_SEED=<seed> runs the same kill schedule again; the timing of
two processes is never the same twice, so a failure is replayed by its schedule, not reproduced exactly).
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandbox.slack.standin import StandInConfig
from sandbox.telegram.standin import StandIn
from tests.faults.figures import Figures, count, unexpected_violations
from tests.faults.people import Client, Consultant
from tests.faults.process import Outside, running_outside
from tests.faults.scenario import cast, journey, seeding

KILLS = int(os.environ.get("SOAK_KILLS", "20"))
SEED = int(os.environ.get("SOAK_SEED") or random.SystemRandom().randrange(1, 10**9))
CLIENTS = 4
# The bot lives this long (seconds, uniformly at random) from the moment its HTTP server listens to the next kill:
# from the middle of its start (before its first poll, maybe before its loops run) to a couple of seconds into
# its work.
LIFETIME = (0.05, 2.0)
# No new ticket is started in the storm's last seconds: the ones under way are still in it when it ends.
LAST_TICKETS = 15.0
# How long a person waits for an answer before giving up on it (the final count looks again: no speed is judged).
PATIENCE = 120.0
# Slack retries an event it could not deliver after ~0 s, 1 min and 5 min, so an event that meets a crash loop
# shorter than five minutes gets through. The storm is a crash loop compressed into a minute or two (the bot is
# down a third of the time); Slack's retries are compressed with it: after 1 s, 5 s and, last, just after the
# crash loop is over (the killer keeps that last delay pointing a little past its last kill).
SLACK_RETRIES = (1.0, 5.0, 5.0)
AFTER_THE_LOOP = 5.0


@pytest.fixture
async def outside(tmp_path: Path) -> AsyncIterator[Outside]:
    # Rate limits on both sides, pacing on in the bot. Telegram keeps undelivered updates for the next process;
    # Slack retries an event it could not deliver, and a person presses a button again when Slack shows an error.
    telegram = StandIn(rate_limits=True, callback_answer_timeout=60.0)
    slack = StandInConfig(rate_limits=True, retry_delays=SLACK_RETRIES)
    async with running_outside(
        tmp_path, telegram=telegram, slack_config=slack, seed=seeding(CLIENTS), DELIVERY_PACING="true"
    ) as o:
        yield o


async def test_kill_storm(outside: Outside) -> None:
    rng = random.Random(SEED)
    print(f"\nkill storm: SOAK_SEED={SEED} SOAK_KILLS={KILLS}, {CLIENTS} clients")
    clients, consultants = cast(outside, CLIENTS, PATIENCE)
    storming = True
    schedule = [round(rng.uniform(*LIFETIME), 3) for _ in range(KILLS)]
    loop = asyncio.get_running_loop()
    config = outside.slack.config
    started = loop.time()
    timing: dict[str, float] = {}

    async def killer() -> None:
        nonlocal storming
        starts = outside.bot.start_seconds
        for n, lifetime in enumerate(schedule):
            left = sum(schedule[n:]) + sum(starts) / len(starts) * (KILLS - n)
            config.retry_delays = (*SLACK_RETRIES[:2], left + AFTER_THE_LOOP)
            storming = left > LAST_TICKETS
            await asyncio.sleep(lifetime)
            await outside.bot.kill9()
            await outside.bot.start(healthy=n == KILLS - 1)
        config.retry_delays = SLACK_RETRIES
        storming = False
        timing["storm"] = loop.time() - started

    async def person(client: Client, consultant: Consultant) -> None:
        n = 0
        while storming or n == 0:  # tickets keep coming while the killer works; at least one each
            n += 1
            if not await journey(outside, client, consultant, n):
                return

    async with asyncio.TaskGroup() as group:
        group.create_task(killer())
        for client, consultant in zip(clients, consultants, strict=True):
            group.create_task(person(client, consultant))

    for consultant in consultants:
        await consultant.delivered()
    await outside.quiescent()
    figures: Figures = await count(outside, clients, consultants)
    pressed_again = sum(c.refused for c in consultants)
    starts = outside.bot.start_seconds
    seconds = (
        f"start_seconds_mean={sum(starts) / len(starts):.2f} storm_seconds={timing['storm']:.0f} "
        f"total_seconds={loop.time() - started:.0f}"
    )
    print(f"kill storm: {figures.line()} consultant_presses_refused={pressed_again} {seconds} SOAK_SEED={SEED}")
    problems = figures.nonzero()
    violations = unexpected_violations(outside)
    context = f"SOAK_SEED={SEED} lifetimes={schedule}\n" + "\n".join(figures.details + violations)
    assert figures.kills >= KILLS, context
    assert figures.confirmed >= CLIENTS and figures.replies >= CLIENTS, context  # the storm met real work
    assert not problems and not violations, f"{problems}\n{context}\nbot log:\n{outside.bot.tail()}"
