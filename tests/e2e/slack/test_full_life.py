"""One full life of a ticket, Telegram and Slack together: opened -> claimed -> first reply -> info asked ->
client answers -> escalated -> approved -> resolved -> client reopens -> resolved -> closed; then the audit trail,
the SLA record and the contract hours are checked."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.types import TicketStatus
from sandbox.demo import AGENT_MARCO, LAURA_ID, QUALITY_SOFIA
from sandbox.slack.driver import Card
from sandbox.testing import MEXICO, World
from tests.e2e.slack.helpers import parts, ticket
from tests.e2e.telegram.helpers import TV_PASSWORD, tap, tickets, to_summary_remote

ORDER = [
    "opened",
    "claimed",
    "first_response",
    "info_requested",
    "client_answered",
    "escalation_requested",
    "escalation_approved",
    "resolved",
    "reopened",
    "resolved",
    "rated",
    "client_confirmed",
]


def in_order(actions: list[str], expected: list[str]) -> bool:
    position = 0
    for action in actions:
        if position < len(expected) and action == expected[position]:
            position += 1
    return position == len(expected)


async def resolve(world: World, card: Card, hours: str, solution: str) -> None:
    await world.team.click(card, "desk_resolve", as_user=AGENT_MARCO)
    modal = await world.team.modal(AGENT_MARCO)
    values = {"solution": {"value": solution}, "hours_remote": {"value": hours}, "billing": {"value": "charged"}}
    await world.team.submit(modal, values, as_user=AGENT_MARCO)


async def test_one_full_life(world: World) -> None:
    laura = world.client(LAURA_ID)
    await laura.send("/start")
    # Opened on Telegram through the real intake (issue 4).
    await to_summary_remote(laura, world)
    await tap(laura, "ok")
    [opened] = await tickets(world)
    card = await world.team.card_for(opened.number)
    assert TV_PASSWORD not in str(world.team.message(card).blocks)

    # Claimed 30 minutes later (assigned, not yet a response: R-RESPONSE), then the first reply reaches Laura
    # 10 minutes after that: the first response (P-SLA-6).
    world.clock.advance(minutes=30)
    await world.team.click(card, "desk_claim", as_user=AGENT_MARCO)
    await laura.wait_for_text("Marco tomó tu ticket")
    world.clock.advance(minutes=10)
    replied_at = world.clock()
    await world.team.reply_in_thread(card, "Hola Laura, ya estoy revisando el firewall.", as_user=AGENT_MARCO)
    await laura.wait_for_text("ya estoy revisando")

    # Information asked; the client answers an hour later (P-SLA-7: the wait is a pause).
    await world.team.click(card, "desk_ask", as_user=AGENT_MARCO)
    modal = await world.team.modal(AGENT_MARCO)
    await world.team.submit(modal, {"question": {"value": "¿Qué luz está encendida?"}}, as_user=AGENT_MARCO)
    await laura.wait_for_text("¿Qué luz está encendida?")
    world.clock.advance(hours=1)
    await laura.send("La luz ALARM en rojo")
    assert any("La luz ALARM en rojo" in m.text for m in world.team.thread(card))
    assert (await ticket(world, opened.id)).status is TicketStatus.ASSIGNED

    # Escalated by the assignee, approved by Quality (P-ESC-2).
    await world.team.click(card, "desk_escalate", as_user=AGENT_MARCO)
    modal = await world.team.modal(AGENT_MARCO)
    await world.team.submit(modal, {"reason": {"value": "Falla de hardware probable"}}, as_user=AGENT_MARCO)
    [request] = [m for m in world.team.dms(QUALITY_SOFIA) if m.blocks]
    await world.team.click(Card(request.channel, request.ts), "desk_approve", as_user=QUALITY_SOFIA)
    await laura.wait_for_text("fue escalado a Calidad")

    # Resolved with 1.5 h; the client reopens (P-CLOSE-2); resolved again with 0.5 h; the client confirms.
    world.clock.advance(minutes=30)
    await resolve(world, card, "1.5", "Se reinició el equipo")
    await laura.wait_for_text("Se reinició el equipo")
    await laura.tap(f"desk:reopen:{opened.id}")
    await laura.wait_for_text("Reabrí tu ticket")
    assert (await ticket(world, opened.id)).status is TicketStatus.ASSIGNED
    world.clock.advance(minutes=30)
    await resolve(world, card, "0.5", "Se reemplazó la fuente de poder")
    await laura.tap(f"desk:rate:{opened.id}:4")
    await laura.tap(f"desk:ok:{opened.id}")

    final = await ticket(world, opened.id)
    assert final.status is TicketStatus.CLOSED and final.rating == 4 and final.escalation_level == 2
    assert final.solution == "Se reemplazó la fuente de poder"
    # The SLA record: first response at the first reply, within the 8 business hours; the wait is one pause.
    assert final.first_response_at == replied_at and final.response_met is True
    store, _ = parts(world)
    async with store.transaction() as tx:
        pauses = await tx.list_pauses(opened.id)
        audit = [e.action for e in await tx.list_audit(opened.id)]
        contract = await tx.get_contract(world.demo.contract_id)
        ledger = [e for e in await tx.list_hours(world.demo.contract_id) if e.ticket_id == opened.id]
        credentials = await tx.get_credentials(opened.id)
    assert [(p.ended_at - p.started_at) for p in pauses if p.ended_at] == [timedelta(hours=1)]
    assert in_order(audit, ORDER), audit
    # The contract: 7.5 h used before, 1.5 + 0.5 h now -> 9.5 of 20 h.
    assert contract is not None and contract.minutes_used == 570
    assert [(e.minutes, e.charged) for e in ledger] == [(90, True), (30, True)]
    assert credentials == []
    assert "cerrado" in str(world.team.message(card).blocks)
    assert final.closed_at is not None and final.closed_at > datetime(2026, 11, 24, 10, 15, tzinfo=MEXICO)
