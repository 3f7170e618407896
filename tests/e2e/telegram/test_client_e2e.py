"""Identity, refusals and what a client does after the ticket exists, end to end over both stand-ins."""

from __future__ import annotations

from sandbox.demo import KEVIN_ID, LAURA_ID, NORTE_ID, SPARE_INVITE, STRANGER_ID
from sandbox.testing import World
from tests.e2e.telegram.helpers import DESCRIPTION, draft, store, tap, tickets, to_summary_remote

NEWCOMER = 5550100


async def test_identity_invite_shared_contact_and_unknown_user(world: World) -> None:
    stranger = world.client(STRANGER_ID)
    await stranger.send("/start")
    assert "invitación" in stranger.last_text() and "soporte@intecnia.com.mx" in stranger.last_text()
    assert stranger.reply_keyboard() == [["Compartir mi número"]]
    await stranger.send("/reportar")  # nothing else for an unknown user (P-CONTACT-1)
    assert "invitación" in stranger.last_text()
    await stranger.share_contact("+52 222 999 9999", own=False, contact_user_id=123)
    assert "tu propio contacto" in stranger.last_text()

    newcomer = world.client(NEWCOMER)
    await newcomer.send(f"/start {SPARE_INVITE}")
    assert "Ya quedó tu registro como contacto de Comercializadora del Valle" in newcomer.last_text()
    marta = world.client(NEWCOMER + 1)
    await marta.share_contact("+52 222 555 0101")
    assert "¡Listo, Marta!" in marta.last_text()
    # setMyCommands ran at start-up in both languages.
    assert [c["command"] for c in world.telegram.commands(marta.user)][:2] == ["reportar", "mis_tickets"]
    kevin = world.client(KEVIN_ID)
    descriptions = {c["command"]: c["description"] for c in world.telegram.commands(kevin.user)}
    assert descriptions["reportar"] != "Reportar un problema"


async def test_p_pol_3_expired_contract_is_refused_and_sales_hears_of_it(world: World) -> None:
    jorge = world.client(NORTE_ID)
    await jorge.send("/reportar")
    assert "vencida" in jorge.last_text() and "ventas@intecnia.com.mx" in jorge.last_text()  # R-CONTACT
    assert await draft(world, NORTE_ID) is None and await tickets(world) == []
    await world.settle()
    posted = [m.text for m in world.slack.top_level(world.slack.config.channel_id)]
    assert any("Ferretería del Norte" in text for text in posted)


async def test_p_scope_2_and_p_pol_7_paths_open_no_ticket(world: World) -> None:
    laura = world.client(LAURA_ID)
    await laura.send("/reportar")
    await tap(laura, "a.other")
    await tap(laura, "x.development")
    assert "Fábrica de Software" in laura.last_text()
    await laura.send("/reportar")
    await tap(laura, "a.maintenance")
    await tap(laura, f"p.{world.demo.products['conmutador']}")
    assert "descontinuado" in laura.last_text()  # P-POL-7
    await laura.send("/reportar")
    await tap(laura, "a.software")
    await tap(laura, f"p.{world.demo.products['facturacion']}")
    await tap(laura, "t.down")
    await tap(laura, "t.my_area")
    assert "en garantía" in laura.last_text()  # P-POL-4: free support
    assert await tickets(world) == []


async def test_after_the_ticket_commands_bridge_and_escalation(world: World) -> None:
    laura = world.client(LAURA_ID)
    await to_summary_remote(laura, world)
    await tap(laura, "ok")
    [ticket] = await tickets(world)
    await laura.send("/mis_tickets")
    assert ticket.number in laura.last_text() and "recibido" in laura.last_text()
    await laura.send(f"/ticket {ticket.number}")
    assert "Respuesta a más tardar" in laura.last_text() and "sin asignar" in laura.last_text()
    await laura.send("/poliza")
    assert "POL-2026-0042" in laura.last_text()
    await laura.send("/contacto")
    assert "222 248 3734" in laura.last_text()
    # A message while the ticket is open goes to its thread (escaped for Slack).
    await laura.send("Olvidé decir: <!channel> también falla el wifi & el teléfono")
    assert "Le envié tu respuesta" in laura.last_text()
    card = await world.team.card_for(ticket.number)
    thread = [m.text for m in world.team.thread(card)]
    assert any("también falla el wifi" in t and "<!channel>" not in t for t in thread)
    await laura.send("/escalar 1")
    assert "¿Por qué quieres escalarlo?" in laura.last_text()
    await laura.send("Es urgente, no hay internet en toda la oficina")
    assert "Pedí escalar tu ticket" in laura.last_text()
    async with store(world).transaction() as tx:
        [escalation] = await tx.list_escalations(ticket.id)
    assert escalation.requested_by_kind == "client" and escalation.to_level == 2


async def test_abandoned_draft_expires_with_a_message(world: World) -> None:
    laura = world.client(LAURA_ID)
    await laura.send("/reportar")
    await tap(laura, "a.firewall")
    world.clock.advance(hours=25)
    await world.fire_timers()
    await laura.wait_for_text("se venció después de 24 horas")
    assert await draft(world, LAURA_ID) is None


async def test_start_offers_to_resume_an_unfinished_report(world: World) -> None:
    laura = world.client(LAURA_ID)
    await laura.send("/reportar")
    await tap(laura, "a.firewall")
    await laura.send("/start")
    assert "Tienes un reporte sin terminar" in laura.last_text()
    await laura.tap("r:go")
    assert laura.last_text() == "¿Qué equipo o sistema?"
    await laura.send("/start")  # the question was answered (its buttons are gone): asked again
    await laura.tap("r:new")
    assert laura.last_text() == "¿Sobre qué servicio es tu reporte?"
    d = await draft(world, LAURA_ID)
    assert d is not None and d.step == "area" and d.data["intake"]["area"] is None
    assert DESCRIPTION not in laura.last_text()
