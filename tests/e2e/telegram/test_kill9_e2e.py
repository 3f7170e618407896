"""kill -9 for real: the bot runs as its own process (`python -m bot run`), is killed with SIGKILL in the middle
of an intake, and a new process on the same database takes the client's next answer at the same step.

The in-process restart tests (test_restart_e2e.py) stop the bot cleanly; this one gives it no chance to flush,
close or say goodbye, which is what a crash or an OOM kill does (python-telegram-bot #1864, #1825, #3522).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandbox.demo import LAURA_ID
from sandbox.telegram.driver import TelegramClient
from storage.records import Draft
from tests.e2e.telegram.helpers import DESCRIPTION, TV_PASSWORD, intake_data
from tests.faults.process import Outside, running_outside


@pytest.fixture
async def outside(tmp_path: Path) -> AsyncIterator[Outside]:
    async with running_outside(tmp_path) as world:
        yield world
        assert world.telegram.violations == [], world.telegram.violations
        assert world.slack.violations == [], world.slack.violations


async def test_sigkill_mid_intake_then_a_new_process_continues_at_the_same_step(outside: Outside) -> None:
    telegram = outside.telegram
    laura = TelegramClient(telegram, telegram.create_user("Laura", user_id=LAURA_ID), timeout=20.0)

    async def tap(action: str) -> None:
        # The button of the question being asked now (its seq is the draft's): an older question's button with the
        # same action ("Continuar") is stale, and a stale tap is only a toast.
        async def current() -> str | None:
            saved = await outside.draft(LAURA_ID)
            if saved is None or not _has(laura, action):
                return None
            data = intake_data(laura, action)
            return data if data.split(":")[1] == str(saved.data["intake"]["seq"]) else None

        await laura.tap(await outside.until(current, f"the button {action}"))

    async def step_is(step: str) -> Draft:
        async def check() -> Draft | None:
            saved = await outside.draft(LAURA_ID)
            return saved if saved is not None and saved.step == step else None

        return await outside.until(check, f"the draft at step {step!r}")  # type: ignore[no-any-return]

    await laura.send("/reportar")
    await tap("a.firewall")
    await tap(f"p.{outside.demo.products['fortigate60']}")
    await tap("t.down")
    await tap("t.whole_company")
    before = await step_is("description")
    messages_before = len(laura.bot_messages())

    await outside.bot.kill9()  # no shutdown, no flush: the process is gone
    await outside.bot.start()

    await laura.send(DESCRIPTION)
    after = await step_is("since")  # the new process took the answer at the step the old one had reached
    moving = {"description", "seq", "step", "trail"}  # what answering the description itself changes
    kept = {k: v for k, v in before.data["intake"].items() if k not in moving}
    assert kept["area"] == "firewall" and kept["product_id"] == outside.demo.products["fortigate60"]
    assert {k: v for k, v in after.data["intake"].items() if k not in moving} == kept
    assert after.data["intake"]["description"] == DESCRIPTION
    await outside.until(lambda: len(laura.bot_messages()) > messages_before, "the question after the description")

    # ... and the intake goes on to a ticket in the new process.
    await laura.send("hace 2 horas")  # real clock here: "hoy a las 9" is in the future before 9:00
    await step_is("attachments")
    await laura.send_photo()
    await tap("ok")
    await tap("acc.remote")
    await laura.send("1 234 567 890")
    await step_is("tv_password")
    await laura.send(TV_PASSWORD)
    await tap("n")
    await tap("ok")
    [ticket] = await outside.until(outside.tickets, "the ticket")
    assert ticket.description == DESCRIPTION and ticket.severity == 1
    await outside.until(lambda: any(ticket.number in t for t in laura.texts()), "the ticket number told to Laura")


def _has(client: TelegramClient, action: str) -> bool:
    try:
        intake_data(client, action)
    except AssertionError:
        return False
    return True
