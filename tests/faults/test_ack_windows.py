"""The two moments Telegram forgets an update, each with a kill -9 exactly there: nothing may be lost.

- Webhook: right after the bot answered 200 to the POST of an update. Telegram will never send it again.
- Long polling: right after a getUpdates whose offset moved past the update. Telegram drops it then.

The kill comes from outside: the Telegram stand-in calls back the moment it takes the update as delivered
(sandbox.telegram `on_delivered`), and the test SIGKILLs the process inside that call, before anything else
runs. A client goes through the first six steps of an intake, one kill after each update; a new process is
started after each kill. At each kill the update must already be in the bot's inbox (committed before the bot
said "received"), and in the end each of the six must have been answered: 0 lost of 6.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from bot.clock import utcnow
from sandbox.demo import Demo
from sandbox.slack.standin import StandInConfig
from sandbox.telegram.standin import StandIn
from storage import Tx
from storage.records import InboxEntry, InboxStatus
from tests.faults.figures import unexpected_violations
from tests.faults.people import Client, intake
from tests.faults.process import Outside, running_outside

CLIENT_ID = 5560101
SECRET = "fault-webhook-secret_1"
STEPS = 6


async def seed(tx: Tx, demo: Demo) -> None:
    await tx.add_contact(demo.client_id, "Cliente Ventana", telegram_user_id=CLIENT_ID, at=utcnow())


@pytest.fixture(params=["webhook", "polling"])
async def outside(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Outside]:
    telegram = StandIn(rate_limits=True, callback_answer_timeout=60.0)
    slack = StandInConfig(rate_limits=True)
    options: dict[str, Any] = {"webhook_secret": SECRET} if request.param == "webhook" else {}
    async with running_outside(
        tmp_path, telegram=telegram, slack_config=slack, seed=seed, DELIVERY_PACING="true", **options
    ) as o:
        yield o


def _killed_since(outside: Outside, kills: int) -> bool:
    return outside.bot.kills > kills


async def _entry(outside: Outside, update_id: int) -> InboxEntry | None:
    async def find(tx: Tx) -> InboxEntry | None:
        entries = await tx.list_inbox(tuple(InboxStatus), limit=10_000)
        return next((e for e in entries if e.source == "telegram" and e.key == str(update_id)), None)

    return await outside.read(find)


async def test_a_kill_right_after_telegram_lets_go_of_an_update_loses_nothing(outside: Outside) -> None:
    mode = "webhook" if outside.bot.env.get("TELEGRAM_WEBHOOK_URL") else "polling"
    client = Client(outside.telegram, outside.telegram.create_user("Ventana", user_id=CLIENT_ID), patience=60.0)
    armed = False  # the next update Telegram takes as delivered kills the bot
    killed_at: list[int] = []

    def kill_on_confirmation(update_id: int) -> None:
        nonlocal armed
        if armed:
            armed = False
            outside.bot.kill9_now()  # nothing else runs in between: not the bot, not the stand-in
            killed_at.append(update_id)

    outside.telegram.on_delivered = kill_on_confirmation
    committed = pending_at_kill = answered = 0
    for step in intake(outside.demo.products["fortigate60"], "ventana")[:STEPS]:
        kills = outside.bot.kills
        armed = True
        after, sent = await client.begin(step)
        await outside.until(partial(_killed_since, outside, kills), f"the kill after update {sent.update_id}")
        assert killed_at[-1] == sent.update_id, (killed_at, sent.update_id)
        await outside.bot.reap()
        entry = await _entry(outside, sent.update_id)  # what the dead process left in the database
        if entry is not None:
            committed += 1
            pending_at_kill += entry.status is not InboxStatus.DONE
        await outside.bot.start()
        answered += await client.expect(after, step.answer, f"{step.kind} {step.value!r}") is not None

    outside.telegram.on_delivered = None
    await outside.quiescent()
    lost = (
        STEPS
        - answered
        + sum(1 for query_id, _ in client.taps if not outside.telegram.state.queries[query_id].answered)
    )
    print(
        f"\nack window ({mode}): kills={outside.bot.kills} updates={STEPS} committed_at_kill={committed} "
        f"handled_by_next_process={pending_at_kill} lost={lost}"
    )
    assert outside.bot.kills == STEPS
    assert committed == STEPS, "an update Telegram let go of was not in the inbox when the process died"
    assert lost == 0, [w.what for w in client.waiting]
    assert not unexpected_violations(outside), unexpected_violations(outside)
