"""Escalation end to end (P-ESC-1/2): requested by the assignee or the client, decided only by the level's role."""

from __future__ import annotations

from bot.domain.types import EscalationStatus, Severity
from sandbox.demo import AGENT_ANA, AGENT_MARCO, LAURA_ID, OPERATIONS_RICARDO, QUALITY_SOFIA
from sandbox.slack.driver import Card
from sandbox.testing import World
from tests.e2e.slack.helpers import audit_actions, open_ticket, parts, ticket


async def claimed(world: World, severity: Severity = Severity.MEDIUM) -> tuple[int, Card]:
    await world.client(LAURA_ID).send("/start")
    t = await open_ticket(world, severity=severity)
    card = await world.team.card_for(t.number)
    await world.team.click(card, "desk_claim", as_user=AGENT_MARCO)
    return t.id, card


async def escalate(world: World, card: Card, reason: str, severity: str | None = None) -> None:
    await world.team.click(card, "desk_escalate", as_user=AGENT_MARCO)
    modal = await world.team.modal(AGENT_MARCO)
    values: dict[str, dict[str, object]] = {"reason": {"value": reason}}
    if severity is not None:
        values["severity"] = {"value": severity}
    await world.team.submit(modal, values, as_user=AGENT_MARCO)


def dm_card(world: World, user: str) -> Card:
    [message] = [m for m in world.team.dms(user) if m.blocks and any(b["type"] == "actions" for b in m.blocks)]
    return Card(message.channel, message.ts)


async def test_assignee_escalation_goes_to_quality_and_approval_raises_level_severity_deadline(world: World) -> None:
    ticket_id, card = await claimed(world)
    before = await ticket(world, ticket_id)
    await escalate(world, card, "El cliente reporta pérdidas <!here>", severity="2")
    request = dm_card(world, QUALITY_SOFIA)
    assert "Calidad" in world.team.message(request).text and "&lt;!here&gt;" in world.team.message(request).text
    assert world.team.dms(OPERATIONS_RICARDO) == []
    assert "Escalación pendiente a Responsable de Calidad" in str(world.team.message(card).blocks)
    await world.team.click(request, "desk_approve", as_user=QUALITY_SOFIA)
    after = await ticket(world, ticket_id)
    assert after.escalation_level == 2 and after.severity is Severity.HIGH
    assert before.response_due_at is not None and after.response_due_at is not None
    assert after.response_due_at < before.response_due_at  # 10 h instead of 12 h
    assert "escalado a nivel 2 (Responsable de Calidad)" in str(world.team.message(card).blocks)
    assert "Decidido por <@U0SOFIA>" in world.team.message(request).text  # the buttons are gone
    assert any("aprobó escalar" in m.text for m in world.team.dms(AGENT_MARCO))
    await world.client(LAURA_ID).wait_for_text("fue escalado a Calidad")
    assert {"escalation_requested", "escalation_approved"} <= set(await audit_actions(world, ticket_id))


async def test_an_unauthorised_approver_is_refused_and_audited(world: World) -> None:
    ticket_id, card = await claimed(world)
    await escalate(world, card, "Urge")
    request = thread_request(world, card)
    for intruder in (AGENT_ANA, OPERATIONS_RICARDO):  # an agent, and the manager of the other level
        await world.team.click(request, "desk_approve", as_user=intruder)
        assert "Solo el Responsable de Calidad" in world.team.ephemerals(intruder)[-1].text
    assert (await ticket(world, ticket_id)).escalation_level == 1
    assert (await audit_actions(world, ticket_id)).count("escalation_decision_refused") == 2


def thread_request(world: World, card: Card) -> Card:
    """The request as the team sees it in the card's thread, with the same buttons."""
    [message] = [m for m in world.team.thread(card) if m.blocks and any(b["type"] == "actions" for b in m.blocks)][-1:]
    return Card(message.channel, message.ts)


async def test_a_replayed_approval_does_nothing_twice(world: World) -> None:
    ticket_id, card = await claimed(world)
    await escalate(world, card, "Urge")
    delivery = await world.team.click(dm_card(world, QUALITY_SOFIA), "desk_approve", as_user=QUALITY_SOFIA)
    laura_before = len(world.client(LAURA_ID).texts())
    await world.slack.deliverer.replay(delivery, same_bytes=True)
    await world.settle()
    assert (await ticket(world, ticket_id)).escalation_level == 2
    assert (await audit_actions(world, ticket_id)).count("escalation_approved") == 1
    assert len(world.client(LAURA_ID).texts()) == laura_before


async def test_rejection_carries_its_reason_back_to_the_requesting_agent(world: World) -> None:
    ticket_id, card = await claimed(world)
    await escalate(world, card, "Urge")
    await world.team.click(dm_card(world, QUALITY_SOFIA), "desk_reject", as_user=QUALITY_SOFIA)
    modal = await world.team.modal(QUALITY_SOFIA)
    await world.team.submit(modal, {"reason": {"value": "Aún está en tiempo"}}, as_user=QUALITY_SOFIA)
    assert any("rechazó" in m.text and "Aún está en tiempo" in m.text for m in world.team.dms(AGENT_MARCO))
    stored = await ticket(world, ticket_id)
    assert stored.escalation_level == 1
    store, _ = parts(world)
    async with store.transaction() as tx:
        [esc] = await tx.list_escalations(ticket_id)
    assert esc.status is EscalationStatus.REJECTED and esc.decision_reason == "Aún está en tiempo"


async def test_client_escalar_reaches_quality_and_the_rejection_reason_reaches_the_client(world: World) -> None:
    ticket_id, _ = await claimed(world)
    laura = world.client(LAURA_ID)
    number = (await ticket(world, ticket_id)).number
    await laura.send(f"/escalar {number}")
    await laura.send("Nadie me ha resuelto y estamos sin sistema")
    await laura.wait_for_text("Pedí escalar tu ticket")
    request = dm_card(world, QUALITY_SOFIA)
    assert "Laura" in world.team.message(request).text
    await world.team.click(request, "desk_reject", as_user=QUALITY_SOFIA)
    modal = await world.team.modal(QUALITY_SOFIA)
    await world.team.submit(modal, {"reason": {"value": "El consultor ya trabaja en ello"}}, as_user=QUALITY_SOFIA)
    await laura.wait_for_text("El consultor ya trabaja en ello")


async def test_level_three_is_decided_by_operations_only(world: World) -> None:
    ticket_id, card = await claimed(world)
    await escalate(world, card, "Urge")
    await world.team.click(dm_card(world, QUALITY_SOFIA), "desk_approve", as_user=QUALITY_SOFIA)
    await escalate(world, card, "Sigue caído")
    request = dm_card(world, OPERATIONS_RICARDO)
    await world.team.click(thread_request(world, card), "desk_approve", as_user=QUALITY_SOFIA)
    assert "Solo el Gerente de Operaciones" in world.team.ephemerals(QUALITY_SOFIA)[-1].text
    await world.team.click(request, "desk_approve", as_user=OPERATIONS_RICARDO)
    assert (await ticket(world, ticket_id)).escalation_level == 3
    await world.client(LAURA_ID).wait_for_text("fue escalado a Operaciones")
    await world.team.click(card, "desk_escalate", as_user=AGENT_MARCO)
    modal = await world.team.modal(AGENT_MARCO)
    await world.team.submit(modal, {"reason": {"value": "Más"}}, as_user=AGENT_MARCO)
    assert "nivel más alto" in world.team.ephemerals(AGENT_MARCO)[-1].text


async def test_only_the_assignee_or_a_manager_may_escalate(world: World) -> None:
    _, card = await claimed(world)
    await world.team.click(card, "desk_escalate", as_user=AGENT_ANA)
    assert world.team.view(AGENT_ANA) is None
    assert "Solo <@U0MARCO>" in world.team.ephemerals(AGENT_ANA)[-1].text


async def test_a_stale_dm_button_after_the_decision_says_so_and_changes_nothing(world: World) -> None:
    ticket_id, card = await claimed(world)
    await escalate(world, card, "Urge")
    dm = dm_card(world, QUALITY_SOFIA)
    [actions] = [b for b in world.team.message(dm).blocks if b["type"] == "actions"]
    escalation_id = actions["elements"][0]["value"]
    await world.team.click(thread_request(world, card), "desk_approve", as_user=QUALITY_SOFIA)
    # Every copy lost its buttons; a Slack client still showing the old ones can press them all the same.
    assert not [b for b in world.team.message(dm).blocks if b["type"] == "actions"]
    await world.team.forge_click(dm, "desk_reject", as_user=QUALITY_SOFIA, value=escalation_id)
    assert world.team.view(QUALITY_SOFIA) is None  # no modal for a request already decided
    assert world.team.ephemerals(QUALITY_SOFIA)[-1].text == "Esta escalación ya fue decidida."
    assert (await ticket(world, ticket_id)).escalation_level == 2
