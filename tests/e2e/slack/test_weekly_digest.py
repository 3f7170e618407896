"""The managers' weekly digest (issue 12), with the fake clock: Monday 09:00 business time (the next opening
when that Monday is a holiday), the week's figures and charts, and "Avisar a ventas" (audited, once)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.types import Severity, Tier
from bot.services import digest
from sandbox.demo import AGENT_MARCO, LAURA_ID, QUALITY_SOFIA
from sandbox.slack.driver import Card
from sandbox.testing import MEXICO, World, running_world
from tests.e2e.slack.helpers import open_ticket, parts

MANAGERS, SALES = "C0GERENCIA", "C0VENTAS"


@pytest.fixture
async def managed(tmp_path: Path) -> AsyncIterator[World]:
    async with running_world(tmp_path, slack_managers_channel=MANAGERS, slack_sales_channel=SALES) as w:
        bot_user = w.slack.config.bot_user_id
        w.slack.add_channel(MANAGERS, "gerencia", members=[bot_user, QUALITY_SOFIA, AGENT_MARCO])
        w.slack.add_channel(SALES, "ventas", members=[bot_user])
        yield w
        w.assert_no_violations()


async def _contract_ending_soon(world: World) -> int:
    store, services = parts(world)
    today = services.clock().astimezone(MEXICO).date()
    async with store.transaction() as tx:
        contract = await tx.add_contract(
            number="POL-2026-777", client_id=world.demo.client_id, tier=Tier.BUSINESS,
            starts_on=date(2025, 12, 20), ends_on=today + timedelta(days=20), minutes_total=40 * 60,
        )  # fmt: skip
    return contract.id


def _digests(world: World) -> list[str]:
    return [m.ts for m in world.slack.top_level(MANAGERS) if "Resumen semanal" in m.text]


async def test_monday_digest_posts_figures_charts_and_contracts_then_the_next_monday(managed: World) -> None:
    world = managed
    await world.client(LAURA_ID).send("/start")
    await open_ticket(world, severity=Severity.MEDIUM, description="Lento el ERP")
    await _contract_ending_soon(world)
    world.clock.set(datetime(2026, 11, 30, 8, 59, tzinfo=MEXICO))
    await world.fire_timers()
    assert _digests(world) == []  # not before 09:00
    world.clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=MEXICO))
    await world.fire_timers()
    [ts] = _digests(world)
    [message] = [m for m in world.slack.top_level(MANAGERS) if m.ts == ts]
    assert "2026-11-23 a 2026-11-29" in message.text and "POL-2026-777" in str(message.blocks)
    assert "Tickets abiertos: 1 " in message.text and "Respuesta a tiempo" in message.text  # the week's figures
    names = sorted(f.name for f in world.slack.files.values() if any(c == MANAGERS for c, _ in f.shared_in))
    assert names == sorted(f"2026-11-30-{chart}" for chart in digest.CHARTS)
    assert all((f.content or b"")[:8] == b"\x89PNG\r\n\x1a\n" for f in world.slack.files.values())
    await world.fire_timers()
    assert len(_digests(world)) == 1  # once per Monday
    world.clock.set(datetime(2026, 12, 7, 9, 0, tzinfo=MEXICO))
    await world.fire_timers()
    assert len(_digests(world)) == 2  # the timer armed itself for the next Monday


async def test_avisar_a_ventas_notifies_sales_once_and_is_audited(managed: World) -> None:
    world = managed
    contract_id = await _contract_ending_soon(world)
    world.clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=MEXICO))
    await world.fire_timers()
    [ts] = _digests(world)
    card = Card(MANAGERS, ts)
    block = f"digest_contract:{contract_id}"
    await world.team.click(card, digest.ACTION_ID, as_user=AGENT_MARCO, block_id=block)  # a consultant: refused
    assert not [m for m in world.slack.top_level(SALES)]
    for _ in range(2):
        await world.team.click(card, digest.ACTION_ID, as_user=QUALITY_SOFIA, block_id=block)
    [notice] = world.slack.top_level(SALES)
    assert "POL-2026-777" in notice.text and "<@U0SOFIA>" in notice.text
    said = [e.text for e in world.team.ephemerals(QUALITY_SOFIA)]
    assert "Listo: ventas fue avisado." in said and "Ventas ya había sido avisado de esta póliza." in said
    store, _ = parts(world)
    async with store.transaction() as tx:
        rows = await tx.audit_since(0, [digest.SALES_NOTIFIED])
        refused = await tx.audit_since(0, ["desk_action_refused"])
    assert [(r.actor_id, r.data["contract_id"]) for r in rows] == [(QUALITY_SOFIA, contract_id)]
    assert any(r.actor_id == AGENT_MARCO and r.data["attempted"] == digest.NOTIFY_SALES for r in refused)


async def test_a_holiday_monday_sends_at_the_next_opening(managed: World) -> None:
    _, services = parts(managed)
    # 16 Nov 2026 is the Revolution Day holiday: the digest waits for Tuesday's opening.
    assert digest.digest_due(services, date(2026, 11, 16)) == datetime(2026, 11, 17, 9, 0, tzinfo=MEXICO)
    assert digest.digest_due(services, date(2026, 11, 30)) == datetime(2026, 11, 30, 9, 0, tzinfo=MEXICO)
