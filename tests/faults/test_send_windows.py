"""kill -9 right after Slack carried out a post, before the bot heard the answer: nothing is posted twice.

The dead process could not record that its card, thread message or file reached Slack, so the next one takes the
row again. A card carries its ticket, and a thread message its outbox row, in Slack's message metadata; a file is
the one of its name in the thread that no attachment has recorded: the new process looks before it posts.

The kill comes from outside: the Slack stand-in calls back the moment a Web API call is carried out (sandbox.slack
`on_accepted`), and the test SIGKILLs the process inside that call. One client and one consultant go through a
whole ticket's life; the first card, the first thread message and the first file are each followed by a kill.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.slack.standin import StandInConfig
from sandbox.telegram.standin import StandIn
from tests.faults.figures import count, unexpected_violations
from tests.faults.process import Outside, running_outside
from tests.faults.scenario import cast, journey, seeding

PATIENCE = 60.0


@pytest.fixture
async def outside(tmp_path: Path) -> AsyncIterator[Outside]:
    telegram = StandIn(rate_limits=True, callback_answer_timeout=60.0)
    # Slack retries an event after ~0 s, 1 min and 5 min; here after 1, 5 and 15 s: well after a restart.
    slack = StandInConfig(rate_limits=True, retry_delays=(1.0, 5.0, 15.0))
    async with running_outside(
        tmp_path, telegram=telegram, slack_config=slack, seed=seeding(1), DELIVERY_PACING="true"
    ) as o:
        yield o


def _kind(method: str, args: dict[str, Any]) -> str | None:
    """What the bot posted in the support channel ("card", "thread", "file"), or None for any other call."""
    if method == "files.completeUploadExternal":
        return "file"
    if method == "chat.postMessage" and args.get("channel") == "C0SUPPORT":
        return "thread" if args.get("thread_ts") else "card"
    return None


async def test_a_kill_right_after_slack_took_a_post_posts_nothing_twice(outside: Outside) -> None:
    [client], [consultant] = cast(outside, 1, PATIENCE)
    killed: Counter[str] = Counter()
    restarts: list[asyncio.Future[None]] = []

    async def restart() -> None:
        await outside.bot.reap()
        await outside.bot.start()

    def kill_after_first_post(method: str, args: dict[str, Any]) -> None:
        kind = _kind(method, args)
        if kind is None or killed[kind] or not outside.bot.alive:
            return
        outside.bot.kill9_now()  # Slack has it; the bot never hears so
        killed[kind] += 1
        restarts.append(asyncio.ensure_future(restart()))

    outside.slack.on_accepted = kill_after_first_post
    finished = await journey(outside, client, consultant, 1)
    await consultant.delivered()
    await outside.quiescent()  # the resolution's thread note comes after the client has read it
    while restarts:
        await restarts.pop()
    outside.slack.on_accepted = None
    figures = await count(outside, [client], [consultant])
    print(f"\nsend windows: kills={dict(killed)} {figures.line()}")
    details = "\n".join(figures.details)
    assert finished, details
    assert killed == {"card": 1, "thread": 1, "file": 1}, killed
    assert not figures.nonzero(), f"{figures.nonzero()}\n{details}\nbot log:\n{outside.bot.tail()}"
    assert not unexpected_violations(outside), unexpected_violations(outside)
