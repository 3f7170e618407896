"""A manager's App Home (issue 12): live figures, escalations decided from it, tickets at risk, contracts
running out; consultants keep the desk's Home."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from bot.domain.types import EscalationStatus, Severity, Tier
from handlers.slack.home_blocks import HOME_BLOCKS
from sandbox.demo import AGENT_MARCO, LAURA_ID, QUALITY_SOFIA
from sandbox.testing import MEXICO, World
from tests.e2e.slack.helpers import audit_actions, open_ticket, parts, ticket


async def _pending_escalation(world: World) -> int:
    """Marco claims a ticket and asks to raise it to quality (P-ESC-2): Sofía decides it."""
    t = await open_ticket(world, severity=Severity.MEDIUM, description="Lento el ERP")
    card = await world.team.card_for(t.number)
    await world.team.click(card, "desk_claim", as_user=AGENT_MARCO)
    await world.team.click(card, "desk_escalate", as_user=AGENT_MARCO)
    modal = await world.team.modal(AGENT_MARCO)
    await world.team.submit(modal, {"reason": {"value": "El cliente reporta pérdidas"}}, as_user=AGENT_MARCO)
    return t.id


async def _contract_ending_soon(world: World) -> str:
    store, services = parts(world)
    today = services.clock().astimezone(MEXICO).date()
    async with store.transaction() as tx:
        await tx.add_contract(
            number="POL-2026-777",
            client_id=world.demo.client_id,
            tier=Tier.BUSINESS,
            starts_on=date(2025, 12, 20),
            ends_on=today + timedelta(days=12),
            minutes_total=40 * 60,
        )
    return "POL-2026-777"


async def test_sofia_sees_figures_escalations_risk_and_contracts_and_approves_from_home(world: World) -> None:
    await world.client(LAURA_ID).send("/start")
    escalated = await _pending_escalation(world)
    urgent = await open_ticket(world, severity=Severity.CRITICAL, description="Todo caído")
    number = await _contract_ending_soon(world)
    # Tue 10:15 + 6 h 01 min of business time: past 75 % of the critical ticket's 8 h, not yet overdue.
    world.clock.set(datetime(2026, 11, 24, 18, 16, tzinfo=MEXICO))

    home = await world.team.open_home(QUALITY_SOFIA)
    assert home is not None and len(home.blocks) <= HOME_BLOCKS
    text = json.dumps(home.blocks, ensure_ascii=False)
    for heading in ("Cifras en vivo", "Abiertos: 2", "SLA de 2026-11", "Escalaciones por decidir",
                    "Vencidos o por vencer", "Pólizas por terminarse"):  # fmt: skip
        assert heading in text, heading
    risk = text[text.index("Vencidos o por vencer") : text.index("Pólizas por terminarse")]
    assert urgent.number in risk
    assert number in text[text.index("Pólizas por terminarse") :]
    assert '"desk_approve"' in text and '"desk_reject"' in text

    await world.team.click_in_view(home, "desk_approve", as_user=QUALITY_SOFIA)
    after = await ticket(world, escalated)
    assert after.escalation_level == 2
    store, _ = parts(world)
    async with store.transaction() as tx:
        [esc] = await tx.list_escalations(escalated)
    assert esc.status is EscalationStatus.APPROVED
    assert "escalation_approved" in await audit_actions(world, escalated)
    await world.team.settle()
    republished = world.team.home(QUALITY_SOFIA)
    assert republished is not None and '"desk_approve"' not in json.dumps(republished.blocks)
    # The DM copy of the request shows the decision too.
    assert any("Decidido por <@U0SOFIA>" in m.text for m in world.team.dms(QUALITY_SOFIA))


async def test_a_consultant_keeps_the_desk_home(world: World) -> None:
    await world.client(LAURA_ID).send("/start")
    await _pending_escalation(world)
    home = await world.team.open_home(AGENT_MARCO)
    assert home is not None
    text = json.dumps(home.blocks, ensure_ascii=False)
    assert "Cifras en vivo" not in text and "desk_approve" not in text and "Tus tickets abiertos" in text


async def test_rechazar_from_home_asks_the_reason_and_decides(world: World) -> None:
    await world.client(LAURA_ID).send("/start")
    escalated = await _pending_escalation(world)
    home = await world.team.open_home(QUALITY_SOFIA)
    assert home is not None
    await world.team.click_in_view(home, "desk_reject", as_user=QUALITY_SOFIA)
    modal = await world.team.modal(QUALITY_SOFIA)
    await world.team.submit(modal, {"reason": {"value": "Aún está en tiempo"}}, as_user=QUALITY_SOFIA)
    store, _ = parts(world)
    async with store.transaction() as tx:
        [esc] = await tx.list_escalations(escalated)
    assert esc.status is EscalationStatus.REJECTED and esc.decision_reason == "Aún está en tiempo"
    assert any("rechazó" in m.text and "Aún está en tiempo" in m.text for m in world.team.dms(AGENT_MARCO))
    await world.team.settle()
    republished = world.team.home(QUALITY_SOFIA)
    assert republished is not None and '"desk_reject"' not in json.dumps(republished.blocks)
