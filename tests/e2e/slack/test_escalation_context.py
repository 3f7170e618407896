"""Managers keep context, end to end: a decided escalation keeps the ticket, who asked, why and the decision in
every copy of the request (each manager's DM and the card's thread), and none keeps live buttons."""

from __future__ import annotations

from sandbox.demo import AGENT_MARCO, LAURA_ID, QUALITY_SOFIA
from sandbox.slack.driver import Card
from sandbox.slack.model import Message
from sandbox.testing import World
from tests.e2e.slack.helpers import open_ticket


async def escalated(world: World, reason: str) -> tuple[str, Card, Card, Card]:
    """A claimed ticket Marco asked to escalate: (number, card, Sofía's DM, the thread's copy)."""
    await world.client(LAURA_ID).send("/start")
    t = await open_ticket(world)
    card = await world.team.card_for(t.number)
    await world.team.click(card, "desk_claim", as_user=AGENT_MARCO)
    await world.team.click(card, "desk_escalate", as_user=AGENT_MARCO)
    modal = await world.team.modal(AGENT_MARCO)
    await world.team.submit(modal, {"reason": {"value": reason}}, as_user=AGENT_MARCO)
    [dm] = [m for m in world.team.dms(QUALITY_SOFIA) if _live(m)]
    [copy] = [m for m in world.team.thread(card) if _live(m)]
    return t.number, card, Card(dm.channel, dm.ts), Card(copy.channel, copy.ts)


def _live(message: Message) -> bool:
    return any(b["type"] == "actions" for b in message.blocks)


def _all_text(message: Message) -> str:
    return message.text + " ".join(str(b.get("text", {}).get("text", "")) for b in message.blocks)


async def test_an_approved_request_keeps_its_context_in_every_copy(world: World) -> None:
    number, _, dm, copy = await escalated(world, "El firewall del fabricante no responde")
    await world.team.click(dm, "desk_approve", as_user=QUALITY_SOFIA)
    for place in (dm, copy):
        message = world.team.message(place)
        shown = _all_text(message)
        assert not _live(message), "a decided request keeps no buttons"
        for expected in (
            number,
            "<@U0MARCO>",
            "El firewall del fabricante no responde",
            "Decidido por <@U0SOFIA>: aprobada",
        ):
            assert expected in shown, (expected, shown)


async def test_a_rejection_pressed_in_the_thread_updates_the_dm_too_with_its_reason(world: World) -> None:
    number, _, dm, copy = await escalated(world, "Lo pide el cliente")
    await world.team.click(copy, "desk_reject", as_user=QUALITY_SOFIA)
    modal = await world.team.modal(QUALITY_SOFIA)
    await world.team.submit(modal, {"reason": {"value": "Aún está en tiempo"}}, as_user=QUALITY_SOFIA)
    for place in (dm, copy):
        message = world.team.message(place)
        shown = _all_text(message)
        assert not _live(message)
        assert number in shown and "Lo pide el cliente" in shown
        assert "Decidido por <@U0SOFIA>: rechazada" in shown and "Motivo del rechazo: Aún está en tiempo" in shown


async def test_a_request_dropped_by_the_resolution_says_so_and_loses_its_buttons(world: World) -> None:
    number, card, dm, copy = await escalated(world, "Urge")
    await world.team.click(card, "desk_resolve", as_user=AGENT_MARCO)
    modal = await world.team.modal(AGENT_MARCO)
    await world.team.submit(
        modal, {"solution": {"value": "Listo"}, "hours_remote": {"value": "1"}}, as_user=AGENT_MARCO
    )
    for place in (dm, copy):
        message = world.team.message(place)
        assert not _live(message)
        assert number in _all_text(message) and "Sin decisión: el ticket se resolvió antes." in _all_text(message)
