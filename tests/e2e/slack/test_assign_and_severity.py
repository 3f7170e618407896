"""Who holds a ticket and how urgent it is, end to end: release, (re)assign by a manager, change the severity."""

from __future__ import annotations

from datetime import datetime

from bot.domain.types import Severity, TicketStatus
from sandbox.demo import AGENT_ANA, AGENT_MARCO, LAURA_ID, OPERATIONS_RICARDO, QUALITY_SOFIA
from sandbox.slack.driver import Card
from sandbox.testing import MEXICO, World
from tests.e2e.slack.helpers import audit_actions, open_ticket, ticket


async def opened(world: World, *, claim: bool = True, severity: Severity = Severity.MEDIUM) -> tuple[int, Card]:
    await world.client(LAURA_ID).send("/start")
    t = await open_ticket(world, severity=severity)
    card = await world.team.card_for(t.number)
    if claim:
        await world.team.click(card, "desk_claim", as_user=AGENT_MARCO)
    return t.id, card


def thread_texts(world: World, card: Card) -> list[str]:
    return [m.text for m in world.team.thread(card)]


async def test_the_assignee_releases_the_ticket_back_to_nuevo(world: World) -> None:
    ticket_id, card = await opened(world)
    await world.team.click(card, "desk_release", as_user=AGENT_MARCO)
    stored = await ticket(world, ticket_id)
    assert stored.status is TicketStatus.NEW and stored.assignee_id is None
    assert "Estado: nuevo, sin asignar" in str(world.team.message(card).blocks)
    assert any("<@U0MARCO> soltó el ticket" in t for t in thread_texts(world, card))
    assert "released" in await audit_actions(world, ticket_id)
    await world.client(LAURA_ID).wait_for_text("quedó sin consultor asignado")
    await world.team.click(card, "desk_claim", as_user=AGENT_ANA)  # anyone may take it again
    assert (await ticket(world, ticket_id)).status is TicketStatus.ASSIGNED


async def test_only_the_assignee_releases(world: World) -> None:
    ticket_id, card = await opened(world)
    await world.team.click(card, "desk_release", as_user=AGENT_ANA)
    assert "Solo <@U0MARCO>" in world.team.ephemerals(AGENT_ANA)[-1].text
    assert (await ticket(world, ticket_id)).status is TicketStatus.ASSIGNED


async def test_a_manager_reassigns_to_another_consultant_and_the_client_is_told(world: World) -> None:
    ticket_id, card = await opened(world)
    await world.team.click(card, "desk_reassign", as_user=QUALITY_SOFIA)
    modal = await world.team.modal(QUALITY_SOFIA)
    await world.team.submit(modal, {"agent": {"value": AGENT_ANA}}, as_user=QUALITY_SOFIA)
    stored = await ticket(world, ticket_id)
    assert stored.assignee_id is not None and stored.status is TicketStatus.ASSIGNED
    assert "asignado a <@U0ANA>" in str(world.team.message(card).blocks)
    assert any("<@U0SOFIA> reasignó el ticket de <@U0MARCO> a <@U0ANA>" in t for t in thread_texts(world, card))
    assert any(stored.number in m.text for m in world.team.dms(AGENT_ANA))
    await world.client(LAURA_ID).wait_for_text(f"Ahora Ana atiende tu ticket {stored.number}")
    assert "reassigned" in await audit_actions(world, ticket_id)
    # Ana is the assignee now: her replies reach the client, Marco's stay in Slack.
    await world.team.reply_in_thread(card, "Hola Laura, soy Ana", as_user=AGENT_ANA)
    await world.client(LAURA_ID).wait_for_text("Hola Laura, soy Ana")


async def test_a_manager_assigns_an_unclaimed_ticket(world: World) -> None:
    ticket_id, card = await opened(world, claim=False)
    await world.team.click(card, "desk_reassign", as_user=OPERATIONS_RICARDO)
    modal = await world.team.modal(OPERATIONS_RICARDO)
    await world.team.submit(modal, {"agent": {"value": AGENT_MARCO}}, as_user=OPERATIONS_RICARDO)
    assert (await ticket(world, ticket_id)).status is TicketStatus.ASSIGNED
    assert any("<@U0RICARDO> asignó el ticket a <@U0MARCO>" in t for t in thread_texts(world, card))


async def test_a_consultant_cannot_reassign_and_nobody_gets_a_ticket_without_a_role(world: World) -> None:
    ticket_id, card = await opened(world)
    await world.team.click(card, "desk_reassign", as_user=AGENT_ANA)
    assert world.team.view(AGENT_ANA) is None
    assert "Solo el Responsable de Calidad o el Gerente de Operaciones" in world.team.ephemerals(AGENT_ANA)[-1].text
    await world.team.click(card, "desk_reassign", as_user=QUALITY_SOFIA)
    modal = await world.team.modal(QUALITY_SOFIA)
    await world.team.submit(modal, {"agent": {"value": "U0VISITA"}}, as_user=QUALITY_SOFIA)
    assert "no tiene un rol" in world.team.ephemerals(QUALITY_SOFIA)[-1].text
    assert (await ticket(world, ticket_id)).status is TicketStatus.ASSIGNED
    assert "desk_action_refused" in await audit_actions(world, ticket_id)


async def test_r_severity_the_assignee_lowers_it_the_deadline_moves_and_the_client_is_told(world: World) -> None:
    ticket_id, card = await opened(world, claim=False, severity=Severity.CRITICAL)
    before = await ticket(world, ticket_id)
    await world.team.click(card, "desk_claim", as_user=AGENT_MARCO)
    await world.team.click(card, "desk_severity", as_user=AGENT_MARCO)
    modal = await world.team.modal(AGENT_MARCO)
    options = [o["value"] for o in modal.blocks[0]["element"]["options"]]
    assert options == ["2", "3", "4"]  # every other severity, more or less urgent
    values = {"severity": {"value": "3"}, "reason": {"value": "Solo falla en una sucursal"}}
    await world.team.submit(modal, values, as_user=AGENT_MARCO)
    after = await ticket(world, ticket_id)
    assert after.severity is Severity.MEDIUM
    assert before.response_due_at == datetime(2026, 11, 25, 10, 15, tzinfo=MEXICO)  # 8 business hours
    assert after.response_due_at == datetime(2026, 11, 25, 16, 15, tzinfo=MEXICO)  # 12, from the same start
    assert "Severidad 3" in str(world.team.message(card).blocks)
    assert any("cambió la severidad de 1 a 3" in t for t in thread_texts(world, card))
    told = await world.client(LAURA_ID).wait_for_text("Cambiamos la prioridad de tu ticket")
    assert "severidad 3 (media)" in told["text"] and "Solo falla en una sucursal" in told["text"]
    assert "severity_changed" in await audit_actions(world, ticket_id)


async def test_r_severity_a_manager_may_change_it_another_consultant_may_not(world: World) -> None:
    ticket_id, card = await opened(world)
    await world.team.click(card, "desk_severity", as_user=AGENT_ANA)
    assert world.team.view(AGENT_ANA) is None
    assert "Solo <@U0MARCO>" in world.team.ephemerals(AGENT_ANA)[-1].text
    await world.team.click(card, "desk_severity", as_user=QUALITY_SOFIA)
    modal = await world.team.modal(QUALITY_SOFIA)
    values = {"severity": {"value": "1"}, "reason": {"value": "Ya no factura ninguna sucursal"}}
    await world.team.submit(modal, values, as_user=QUALITY_SOFIA)
    assert (await ticket(world, ticket_id)).severity is Severity.CRITICAL
