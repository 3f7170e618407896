"""Pedir información (P-SLA-7, P-CLOSE-3) and Resolver (P-POL-2/4/6, P-CLOSE-1/2), end to end."""

from __future__ import annotations

from datetime import datetime

from bot.domain.types import TicketStatus
from sandbox.demo import AGENT_MARCO, LAURA_ID
from sandbox.slack.driver import Card
from sandbox.testing import MEXICO, World
from tests.e2e.slack.helpers import audit_actions, open_ticket, parts, ticket


async def claimed(world: World) -> tuple[int, Card]:
    await world.client(LAURA_ID).send("/start")
    t = await open_ticket(world)
    card = await world.team.card_for(t.number)
    await world.team.click(card, "desk_claim", as_user=AGENT_MARCO)
    return t.id, card


async def ask(world: World, card: Card, question: str) -> None:
    await world.team.click(card, "desk_ask", as_user=AGENT_MARCO)
    modal = await world.team.modal(AGENT_MARCO)
    await world.team.submit(modal, {"question": {"value": question}}, as_user=AGENT_MARCO)


async def resolve(
    world: World, card: Card, *, remote: str = "", onsite: str = "", billing: str = "charged", reason: str = ""
) -> None:
    await world.team.click(card, "desk_resolve", as_user=AGENT_MARCO)
    modal = await world.team.modal(AGENT_MARCO)
    values = {
        "solution": {"value": "Se reemplazó la fuente <del> firewall"},
        "hours_remote": {"value": remote},
        "hours_onsite": {"value": onsite},
        "billing": {"value": billing},
        "billing_reason": {"value": reason},  # R-WARRANTY: needed when the billing differs from the mark
    }
    await world.team.submit(modal, values, as_user=AGENT_MARCO)


async def minutes_used(world: World) -> int:
    store, _ = parts(world)
    async with store.transaction() as tx:
        contract = await tx.get_contract(world.demo.contract_id)
    assert contract is not None
    return contract.minutes_used


async def test_p_sla_7_asking_pauses_and_p_close_3_three_reminders_then_close(world: World) -> None:
    ticket_id, card = await claimed(world)
    laura = world.client(LAURA_ID)
    await ask(world, card, "¿Nos mandas la foto del panel?")
    await laura.wait_for_text("¿Nos mandas la foto del panel?")
    assert "4 días hábiles" in laura.last_text()
    stored = await ticket(world, ticket_id)
    assert stored.status is TicketStatus.WAITING_CLIENT
    store, _ = parts(world)
    async with store.transaction() as tx:
        assert [p.ended_at for p in await tx.list_pauses(ticket_id)] == [None]
    assert "en espera del cliente" in str(world.team.message(card).blocks)
    # Wed, Thu, Fri: the three attempts, each saying when it closes; Mon (after a weekend): closed.
    for day, attempt, left in ((25, 1, "3 días hábiles"), (26, 2, "2 días hábiles"), (27, 3, "1 día hábil")):
        world.clock.set(datetime(2026, 11, day, 10, 20, tzinfo=MEXICO))
        await world.fire_timers()
        await laura.wait_for_text(f"aviso {attempt} de 3")
        assert left in laura.last_text()
    world.clock.set(datetime(2026, 11, 28, 12, 0, tzinfo=MEXICO))  # Saturday: nothing
    await world.fire_timers()
    assert (await ticket(world, ticket_id)).status is TicketStatus.WAITING_CLIENT
    world.clock.set(datetime(2026, 11, 30, 10, 20, tzinfo=MEXICO))
    await world.fire_timers()
    closed = await ticket(world, ticket_id)
    assert closed.status is TicketStatus.CLOSED
    await laura.wait_for_text("no recibimos la información")
    assert any("cerrado" in m.text and "3 avisos" in m.text for m in world.team.dms(AGENT_MARCO))
    async with store.transaction() as tx:
        assert await tx.get_credentials(ticket_id) == []  # erased at close
    # P-CLOSE-2: the client can reopen.
    await laura.tap(f"desk:reopen:{ticket_id}")
    assert (await ticket(world, ticket_id)).status is TicketStatus.ASSIGNED
    assert "reopened" in await audit_actions(world, ticket_id)


async def test_the_client_answer_resumes_the_ticket_and_stops_the_reminders(world: World) -> None:
    ticket_id, card = await claimed(world)
    laura = world.client(LAURA_ID)
    await ask(world, card, "¿Qué modelo es?")
    world.clock.advance(hours=1)
    await laura.send("Es un FortiGate 60F")
    stored = await ticket(world, ticket_id)
    assert stored.status is TicketStatus.ASSIGNED
    store, _ = parts(world)
    async with store.transaction() as tx:
        assert all(p.ended_at is not None for p in await tx.list_pauses(ticket_id))
    world.clock.set(datetime(2026, 12, 2, 12, 0, tzinfo=MEXICO))
    await world.fire_timers()
    assert not [t for t in laura.texts() if "Seguimos esperando" in t]
    assert (await ticket(world, ticket_id)).status is TicketStatus.ASSIGNED


async def test_resolve_deducts_hours_and_the_client_confirms_and_rates(world: World) -> None:
    ticket_id, card = await claimed(world)
    before = await minutes_used(world)
    await resolve(world, card, remote="1.5")
    assert await minutes_used(world) == before + 90
    laura = world.client(LAURA_ID)
    await laura.wait_for_text("Se reemplazó la fuente <del> firewall")
    labels = [label for label, _ in laura.last_buttons()]
    assert "Resuelto" in labels and "Reabrir" in labels and "⭐⭐⭐⭐⭐" in labels
    assert (await ticket(world, ticket_id)).status is TicketStatus.RESOLVED
    await laura.tap(f"desk:rate:{ticket_id}:5")
    await laura.tap(f"desk:ok:{ticket_id}")
    stored = await ticket(world, ticket_id)
    assert stored.status is TicketStatus.CLOSED and stored.rating == 5
    store, _ = parts(world)
    async with store.transaction() as tx:
        assert await tx.get_credentials(ticket_id) == []
    assert "actions" not in str([b["type"] for b in world.team.message(card).blocks])
    # Once answered the question lost its button; a second tap (a replay, an old app) changes nothing, says so.
    solution = next(m for m in laura.bot_messages() if "Se reemplazó la fuente" in m["text"])
    assert not [b for row in solution["buttons"] for b in row if b["callback_data"] == f"desk:ok:{ticket_id}"]
    again = await laura.forge_tap(solution["message_id"], f"desk:ok:{ticket_id}")
    answer = laura.callback_answer(again)
    assert answer is not None and "ya no aplica" in str(answer.get("text"))


async def test_low_hours_warning_when_a_contract_falls_below_20_percent(world: World) -> None:
    _, card = await claimed(world)
    await resolve(world, card, remote="10")  # 12.5 h left -> 2.5 h (12.5 %)
    notices = [m.text for m in world.slack.top_level(world.slack.support_channel.id) if "POL-2026-0042" in m.text]
    assert notices and "2.5 de 20 h" in notices[0]


async def test_warranty_work_is_recorded_but_not_charged(world: World) -> None:
    ticket_id, card = await claimed(world)
    before = await minutes_used(world)
    await resolve(world, card, remote="2", billing="warranty", reason="Falla de fábrica confirmada")
    assert await minutes_used(world) == before
    store, _ = parts(world)
    async with store.transaction() as tx:
        entries = [e for e in await tx.list_hours(world.demo.contract_id) if e.ticket_id == ticket_id]
    assert [(e.minutes, e.charged) for e in entries] == [(120, False)]


async def test_on_site_hours_beyond_the_included_are_billed_and_said(world: World) -> None:
    """P-POL-6: Empresarial includes no advice hours, so on-site time is billed extra, not taken from the 20 h."""
    _, card = await claimed(world)
    before = await minutes_used(world)
    await resolve(world, card, onsite="3")
    assert await minutes_used(world) == before
    assert any("se facturan" in m.text and "3" in m.text for m in world.team.thread(card))


async def test_bad_hours_are_refused_in_the_modal(world: World) -> None:
    ticket_id, card = await claimed(world)
    await world.team.click(card, "desk_resolve", as_user=AGENT_MARCO)
    modal = await world.team.modal(AGENT_MARCO)
    await world.team.submit(
        modal, {"solution": {"value": "listo"}, "hours_remote": {"value": "dos"}}, as_user=AGENT_MARCO
    )
    view = world.team.view(AGENT_MARCO)
    assert view is not None and "hours_remote" in view.errors
    assert (await ticket(world, ticket_id)).status is TicketStatus.ASSIGNED


async def test_resolved_without_answer_closes_after_the_configured_business_days(world: World) -> None:
    ticket_id, card = await claimed(world)
    await resolve(world, card, remote="1")
    world.clock.set(datetime(2026, 11, 26, 12, 0, tzinfo=MEXICO))  # two business days: still resolved
    await world.fire_timers()
    assert (await ticket(world, ticket_id)).status is TicketStatus.RESOLVED
    world.clock.set(datetime(2026, 11, 27, 10, 30, tzinfo=MEXICO))  # three business days
    await world.fire_timers()
    assert (await ticket(world, ticket_id)).status is TicketStatus.CLOSED
    await world.client(LAURA_ID).wait_for_text("no recibimos respuesta sobre la solución")
